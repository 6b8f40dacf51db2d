// The operations an outside agent may call (MCP server, VS Code language model tools, the @speedrun chat
// participant): list tasks, read a task, check the rules, start/follow/cancel a run, compare. Each face only
// registers these specs; the logic and the guard rails live here. Level 0 (the ground-truth diff) and record
// i+1's script never leave through a tool: hints come only from loadAgentHints, and `compare` returns numbers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { listHints, loadManifest } from '../benchmark/catalog';
import { validateClone, BenchmarkLayoutError } from '../benchmark/clone';
import { readTaskFile, renderTaskBrief, SCRIPT_NAME } from '../benchmark/openTask';
import type { TaskFile } from '../benchmark/types';
import { compareTask, CompareError } from '../compare/load';
import { loadAgentHints } from '../agent/hints';
import { checkScript, RULE_TEXT } from '../rules';
import { preRunCheck, readBaseline } from '../rules/preRun';
import { AGENT_HINT_LEVELS, type AgentHintLevel } from '../agent/types';
import { CONSOLE, RunStore } from '../runs/store';
import { TERMINAL_STATES, type RunMeta } from '../runs/types';

/** A problem the caller can fix (bad task folder, unknown run, no target): shown as a tool error, no stack. */
export class ToolError extends Error {}

/** How a face starts and follows runs (the editor's run controller, or a RunManager of its own). */
export interface ToolRuns {
  /** Queue a run of the task's script; `target` undefined = the only configured target. */
  start(taskDir: string, target: string | undefined): Promise<RunMeta>;
  cancel(taskDir: string, runId: string): Promise<RunMeta>;
  /** The run's latest state (live when this process follows it, else as stored). */
  get(taskDir: string, runId: string): RunMeta | undefined;
  list(taskDir: string): RunMeta[];
}

export interface ToolHost {
  /** The benchmark clone, when one is configured (list_tasks falls back to the manifest's facts). */
  benchmarkPath(): string | undefined;
  /** Hint levels the user lets agents read; level 0 can never be one of them. */
  hintLevels(): readonly AgentHintLevel[];
  /** The task folder a call without `taskDir` means (the open task, or the server's --task-dir). */
  defaultTaskDir(): string | undefined;
  /** The script as the user sees it (an open editor's unsaved text); undefined = read the file. */
  readScript?(taskDir: string): string | undefined;
  runs: ToolRuns;
}

const taskDirArg = z.string().min(1).optional().describe('Task folder (holds train_gpt2.py and .speedrun/task.json). Default: the open task.');
const runIdArg = z.string().regex(/^\d{8}-\d{6}-[0-9a-f]{4}$/, 'a run id looks like 20261201-041500-a3f9').describe('Run id, as returned by start_run.');

export interface ToolSpec<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: S;
  /** Reads only (no run started or cancelled). */
  readOnly: boolean;
  run(host: ToolHost, args: z.infer<z.ZodObject<S>>): Promise<unknown>;
}

function spec<S extends z.ZodRawShape>(s: ToolSpec<S>): ToolSpec<S> {
  return s;
}

/** Validates raw arguments against a tool's schema; throws a ToolError naming the bad field. */
export function parseArgs<S extends z.ZodRawShape>(tool: ToolSpec<S>, raw: unknown): z.infer<z.ZodObject<S>> {
  const r = z.strictObject(tool.input).safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length ? `'${issue.path.join('.')}'` : 'arguments';
  throw new ToolError(`${tool.name}: ${where}: ${issue.message}`);
}

function resolveTaskDir(host: ToolHost, dir: string | undefined): { taskDir: string; task: TaskFile } {
  const taskDir = dir ? path.resolve(dir) : host.defaultTaskDir();
  if (!taskDir) throw new ToolError('No task is open: pass taskDir, the folder that holds train_gpt2.py and .speedrun/task.json.');
  try {
    return { taskDir, task: readTaskFile(taskDir) };
  } catch (e) {
    throw new ToolError((e as Error).message);
  }
}

function script(host: ToolHost, taskDir: string): string {
  const open = host.readScript?.(taskDir);
  if (open !== undefined) return open;
  try {
    return fs.readFileSync(path.join(taskDir, SCRIPT_NAME), 'utf8');
  } catch {
    throw new ToolError(`No ${SCRIPT_NAME} in ${taskDir}.`);
  }
}

/** The interpreter for the syntax check (as the language server: SPEEDRUN_PYTHON, else python3). */
const python = () => process.env.SPEEDRUN_PYTHON || undefined;

/** What an agent needs to know about a run; no remote paths. */
export function runSummary(m: RunMeta, logBytes?: number) {
  return {
    runId: m.runId,
    taskId: m.taskId,
    target: m.target,
    state: m.state,
    ended: TERMINAL_STATES.includes(m.state),
    createdAt: m.createdAt,
    startedAt: m.startedAt ?? null,
    endedAt: m.endedAt ?? null,
    step: m.step ?? null,
    totalSteps: m.totalSteps ?? null,
    valLoss: m.valLoss ?? null,
    trainTimeMs: m.trainTimeMs ?? null,
    final: m.final ?? null,
    exitCode: m.exitCode ?? null,
    failure: m.failure ?? null,
    error: m.error ?? null,
    simulated: m.simulated ?? false,
    logBytes: logBytes ?? null,
  };
}

function knownRun(host: ToolHost, taskDir: string, runId: string): RunMeta {
  const m = host.runs.get(taskDir, runId);
  if (!m) throw new ToolError(`No run ${runId} in ${taskDir}; run_status without runId lists the task's runs.`);
  return m;
}

/** At most this much log per get_run_log call, so a tool result stays readable. */
export const LOG_CHUNK_BYTES = 32 * 1024;

/** The largest length <= n that does not cut the last UTF-8 character of buf[0, n) in two. */
function utf8Boundary(buf: Buffer, n: number): number {
  let i = n - 1;
  while (i > 0 && (buf[i] & 0xc0) === 0x80) i--;
  const lead = buf[i];
  const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + len > n && i > 0 ? i : n;
}

/** A piece of a run's console.log from a byte offset, ending at a line break when one is near. */
export function readLogChunk(taskDir: string, runId: string, offset: number, max = LOG_CHUNK_BYTES) {
  const file = path.join(new RunStore(taskDir).dir(runId), CONSOLE);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { text: '', offset, nextOffset: offset, size: 0 };
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.min(offset, size);
    const buf = Buffer.alloc(Math.min(max, size - start));
    const n = fs.readSync(fd, buf, 0, buf.length, start);
    let end = n;
    if (start + n < size) {
      // Stop after the last full line (or a whole UTF-8 character) so the next call starts cleanly.
      const nl = buf.lastIndexOf(0x0a, n - 1);
      if (nl >= 0) end = nl + 1;
      else end = utf8Boundary(buf, n);
    }
    return { text: buf.subarray(0, end).toString('utf8'), offset: start, nextOffset: start + end, size };
  } finally {
    fs.closeSync(fd);
  }
}

export const TOOLS = [
  spec({
    name: 'list_tasks',
    title: 'List speedrun tasks',
    description:
      'The tasks of the Automated LLM Speedrunning Benchmark: task i starts from NanoGPT speedrun record i and must reach val loss <= 3.28 as fast as record i+1. Gives reference train times, the gap to recover and which hint levels exist.',
    input: {},
    readOnly: true,
    // No manifest summary: it says what record i+1 changed, which is the answer.
    async run(host) {
      const bench = host.benchmarkPath();
      if (!bench) {
        const m = loadManifest();
        return {
          benchmark: null,
          note: 'No benchmark clone configured: facts from the task manifest only.',
          tasks: m.tasks.map((t) => ({ id: t.id, fromRecord: t.fromRecord, toRecord: t.toRecord, gapMs: t.gapMs })),
        };
      }
      let report;
      try {
        report = validateClone(bench);
      } catch (e) {
        if (e instanceof BenchmarkLayoutError) throw new ToolError(e.message);
        throw e;
      }
      return {
        benchmark: report.root,
        tasks: report.tasks.map((t) => ({
          id: t.id,
          fromRecord: t.fromRecord,
          toRecord: t.toRecord,
          baseline: t.baseline ?? null,
          target: t.target ?? null,
          gapMs: t.gapMs,
          hintLevels: t.hintLevels.filter((l) => (AGENT_HINT_LEVELS as readonly number[]).includes(l)),
          complete: t.complete,
        })),
      };
    },
  }),
  spec({
    name: 'get_task',
    title: 'Read the open speedrun task',
    description:
      "The task's brief (goal, reference times, the rules a run must keep) and the hints the user allowed (level 1 pseudocode, 2 description, 3 mini-paper). The script to edit is train_gpt2.py in the task folder.",
    input: { taskDir: taskDirArg },
    readOnly: true,
    async run(host, args) {
      const { taskDir, task } = resolveTaskDir(host, args.taskDir);
      const allowed = host.hintLevels().filter((l) => (AGENT_HINT_LEVELS as readonly number[]).includes(l));
      const present = task.benchmarkPath ? listHints(task.benchmarkPath, task.fromRecord).map((h) => h.level) : [];
      const levels = allowed.filter((l) => present.includes(l));
      return {
        taskDir,
        scriptPath: path.join(taskDir, SCRIPT_NAME),
        taskId: task.taskId,
        fromRecord: task.fromRecord,
        toRecord: task.toRecord,
        baseline: task.baseline,
        target: task.target,
        brief: renderTaskBrief(task),
        rules: RULE_TEXT,
        hintLevelsAllowed: allowed,
        hints: levels.length ? loadAgentHints(task.benchmarkPath, task.fromRecord, levels) : [],
      };
    },
  }),
  spec({
    name: 'check_rules',
    title: 'Check the benchmark rules',
    description:
      "Checks train_gpt2.py (or `text`, a proposed version of it) against the rules a benchmark run must keep: data settings from the environment, save_checkpoint False, the scored print0 lines, torchrun entry point, valid Python. Empty `violations` = ok.",
    input: {
      taskDir: taskDirArg,
      text: z.string().optional().describe('Check this script text instead of the file.'),
    },
    readOnly: true,
    async run(host, args) {
      const { taskDir } = resolveTaskDir(host, args.taskDir);
      const text = args.text ?? script(host, taskDir);
      const base = readBaseline(taskDir);
      const report = await checkScript(text, 'text' in base ? base.text : undefined, { python: python() });
      return {
        ok: !report.violations.some((v) => v.severity === 'error'),
        violations: report.violations.map((v) => ({
          rule: v.rule,
          severity: v.severity,
          line: v.range.start.line + 1,
          endLine: v.range.end.line + 1,
          message: v.message,
          fix: v.fix?.title ?? null,
        })),
        syntaxMethod: report.syntaxMethod,
        comparedWithBaseline: 'text' in base,
      };
    },
  }),
  spec({
    name: 'start_run',
    title: 'Start a training run',
    description:
      "Runs the task's train_gpt2.py (as saved now) on a GPU target: uploads it and starts torchrun detached. Refused while the script breaks a rule. Returns the run id at once; follow it with run_status and get_run_log.",
    input: {
      taskDir: taskDirArg,
      target: z.string().min(1).optional().describe('Target name; may be left out when exactly one target is configured.'),
    },
    readOnly: false,
    async run(host, args) {
      const { taskDir } = resolveTaskDir(host, args.taskDir);
      const pre = await preRunCheck(taskDir, { script: script(host, taskDir), python: python() });
      if (pre.errors.length) throw new ToolError(`Not started: ${pre.summary}\n${pre.details}`);
      const meta = await host.runs.start(taskDir, args.target);
      return runSummary(meta);
    },
  }),
  spec({
    name: 'run_status',
    title: 'Run status',
    description: "A run's state, step, validation loss and train time, and its final result once ended. Without runId: the task's runs, newest first.",
    input: { taskDir: taskDirArg, runId: runIdArg.optional() },
    readOnly: true,
    async run(host, args) {
      const { taskDir } = resolveTaskDir(host, args.taskDir);
      const store = new RunStore(taskDir);
      if (args.runId) return runSummary(knownRun(host, taskDir, args.runId), store.consoleSize(args.runId));
      return { runs: host.runs.list(taskDir).reverse().slice(0, 20).map((m) => runSummary(m, store.consoleSize(m.runId))) };
    },
  }),
  spec({
    name: 'get_run_log',
    title: 'Read a run log',
    description: `A run's console output (torchrun's stdout and stderr) from a byte offset, at most ${LOG_CHUNK_BYTES / 1024} KiB per call. Call again with nextOffset for more; size is the log's length so far.`,
    input: {
      taskDir: taskDirArg,
      runId: runIdArg,
      offset: z.number().int().min(0).optional().describe('Byte offset to start from (default 0).'),
    },
    readOnly: true,
    async run(host, args) {
      const { taskDir } = resolveTaskDir(host, args.taskDir);
      const m = knownRun(host, taskDir, args.runId);
      return { runId: m.runId, state: m.state, ...readLogChunk(taskDir, m.runId, args.offset ?? 0) };
    },
  }),
  spec({
    name: 'cancel_run',
    title: 'Cancel a run',
    description: 'Stops a queued or running run: SIGTERM to its process group on the box, SIGKILL after a grace period.',
    input: { taskDir: taskDirArg, runId: runIdArg },
    readOnly: false,
    async run(host, args) {
      const { taskDir } = resolveTaskDir(host, args.taskDir);
      const m = knownRun(host, taskDir, args.runId);
      if (TERMINAL_STATES.includes(m.state)) return { ...runSummary(m), note: `Run ${m.runId} had already ${m.state === 'finished' ? 'finished' : `ended (${m.state})`}.` };
      return runSummary(await host.runs.cancel(taskDir, args.runId));
    },
  }),
  spec({
    name: 'compare',
    title: 'Score an attempt',
    description:
      "FSR (fraction of the speedup from record i to record i+1 recovered) of a run, and reproduction coverage: the share of the reference change's lines the attempt also made. Numbers only. Without runId: coverage of the working script.",
    input: { taskDir: taskDirArg, runId: runIdArg.optional() },
    readOnly: true,
    async run(host, args) {
      const { taskDir } = resolveTaskDir(host, args.taskDir);
      if (args.runId) knownRun(host, taskDir, args.runId);
      let c;
      try {
        c = compareTask({ taskDir, runId: args.runId });
      } catch (e) {
        if (e instanceof CompareError) throw new ToolError(e.message);
        throw e;
      }
      const r = c.result;
      const count = (s: string) => r.hunks.filter((h) => h.status === s).length;
      const ended = c.results?.status === 'COMPLETED';
      return {
        runId: c.runId ?? null,
        status: c.results?.status ?? null,
        trainTimeMs: c.results?.metrics.train_time ?? null,
        valLoss: c.results?.metrics.val_loss ?? null,
        // A failed or cancelled run has no score, whatever its last train time was.
        fsr: ended ? c.fsr : null,
        valid: c.valid,
        coverage: r.coverage,
        extraneous: r.extraneous,
        referenceHunks: { matched: count('matched'), partial: count('partial'), missed: count('missed') },
        extraHunks: r.extraHunks.length,
      };
    },
  }),
];

/** A tool's input as JSON Schema: what package.json's languageModelTools must declare (a unit test checks it). */
export function inputJsonSchema(tool: ToolSpec): Record<string, unknown> {
  const { $schema: _, ...schema } = z.toJSONSchema(z.strictObject(tool.input)) as Record<string, unknown>;
  return schema;
}

/** Runs one tool with raw arguments; user errors come back as ToolError. */
export async function callTool(host: ToolHost, name: string, raw: unknown): Promise<unknown> {
  const tool = TOOLS.find((t) => t.name === name) as ToolSpec | undefined;
  if (!tool) throw new ToolError(`Unknown tool '${name}'; tools are ${TOOLS.map((t) => t.name).join(', ')}.`);
  return tool.run(host, parseArgs(tool, raw));
}

