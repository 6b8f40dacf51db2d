// The MCP face: the tools of src/core/tools over the Model Context Protocol on stdio, for Claude Code, VS Code
// (registered by the extension), or any MCP client. `node dist/mcp.js --help` lists the options. Stdout carries
// the protocol only; messages for people go to stderr.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { AGENT_HINT_LEVELS, type AgentHintLevel } from '../core/agent/types';
import { connectTarget } from '../core/remote/connect';
import { loadTargetFiles } from '../core/remote/targetFiles';
import { parseTargets, type Target } from '../core/remote/targets';
import { RunManager } from '../core/runs/manager';
import { managerRuns } from '../core/tools/managerRuns';
import { TOOLS, ToolError, type ToolHost, type ToolSpec } from '../core/tools/tools';

const INSTRUCTIONS =
  'Speedrun Workbench: tasks of the Automated LLM Speedrunning Benchmark. Read the task with get_task, edit train_gpt2.py in the task folder, ' +
  'check it with check_rules, then start_run and follow it with run_status / get_run_log; compare scores a finished run. Runs use real GPU time.';

/** Tool results as MCP content: JSON text; every failure is a tool error with one sentence, never a stack. */
export function createMcpServer(host: ToolHost, version: string): McpServer {
  const server = new McpServer({ name: 'speedrun-workbench', version }, { instructions: INSTRUCTIONS });
  for (const tool of TOOLS as ToolSpec[]) {
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: tool.input,
        annotations: { readOnlyHint: tool.readOnly, openWorldHint: !tool.readOnly, idempotentHint: tool.readOnly },
      },
      async (args: Record<string, unknown>): Promise<CallToolResult> => {
        try {
          const result = await tool.run(host, args);
          return { content: [{ type: 'text', text: JSON.stringify(result, null, 2) }] };
        } catch (e) {
          const msg = e instanceof ToolError ? e.message : `${tool.name} failed: ${(e as Error)?.message ?? e}`;
          return { isError: true, content: [{ type: 'text', text: msg }] };
        }
      },
    );
  }
  return server;
}

const USAGE = `Usage: node dist/mcp.js [--task-dir DIR] [--benchmark DIR] [--hint-levels none|1,2,3] [--targets-file JSON] [--ssh-config FILE]

Serves the Speedrun Workbench tools over MCP on stdin/stdout.
  --task-dir DIR       the task a call without taskDir means (default: the current folder, if it is a task folder)
  --benchmark DIR      your llm-speedrunner clone, for list_tasks (default: $SPEEDRUN_BENCHMARK)
  --hint-levels L      hint levels agents may read: none (default) or a list of 1, 2, 3. Level 0 never.
  --targets-file JSON  where runs go (default: as the CLI: $SPEEDRUN_TARGETS_FILE, else ~/.config/speedrun/targets.json;
                       a task folder's own targets.json is not used); $SPEEDRUN_TARGETS_JSON may hold the list itself
  --ssh-config FILE    an ssh config file instead of ~/.ssh/config
Unknown host keys are refused: connect once with ssh (or speedrun run --accept-new-host-key) first.
`;

export function parseHintLevels(v: string | undefined): AgentHintLevel[] {
  if (v === undefined || v === 'none' || v === '') return [];
  const levels = v.split(',').map((x) => Number(x.trim()));
  const bad = levels.find((l) => !(AGENT_HINT_LEVELS as readonly number[]).includes(l));
  if (bad !== undefined) throw new Error(`--hint-levels takes none or a comma-separated list of 1, 2 and 3 (level 0 is never given to an agent), not '${v}'`);
  return [...new Set(levels)] as AgentHintLevel[];
}

function isTaskDir(dir: string): boolean {
  return fs.existsSync(path.join(dir, '.speedrun', 'task.json'));
}

async function main(argv: string[]): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        'task-dir': { type: 'string' },
        benchmark: { type: 'string' },
        'hint-levels': { type: 'string' },
        'targets-file': { type: 'string' },
        'ssh-config': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    }));
  } catch (e) {
    process.stderr.write(`speedrun mcp: ${(e as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const version: string = require('../../package.json').version;
  if (values.help) return void process.stdout.write(USAGE);
  if (values.version) return void process.stdout.write(`${version}\n`);
  let hintLevels: AgentHintLevel[];
  try {
    hintLevels = parseHintLevels(values['hint-levels']);
  } catch (e) {
    process.stderr.write(`speedrun mcp: ${(e as Error).message}\n`);
    process.exitCode = 2;
    return;
  }
  const taskDir = values['task-dir'] ? path.resolve(values['task-dir']) : isTaskDir(process.cwd()) ? process.cwd() : undefined;
  if (values['task-dir'] && !isTaskDir(taskDir!)) {
    process.stderr.write(`speedrun mcp: ${taskDir} is not a task folder (no .speedrun/task.json)\n`);
    process.exitCode = 3;
    return;
  }
  const log = (msg: string) => process.stderr.write(`[speedrun mcp] ${msg}\n`);

  // Targets are read at each run, so an edited targets file counts without a restart.
  const targets = (): Target[] => {
    const inline = process.env.SPEEDRUN_TARGETS_JSON;
    if (inline) {
      let raw: unknown;
      try {
        raw = JSON.parse(inline);
      } catch {
        throw new ToolError('SPEEDRUN_TARGETS_JSON is not valid JSON.');
      }
      const { targets: list, errors } = parseTargets(raw);
      errors.forEach(log);
      return list;
    }
    try {
      // A task folder's own targets.json is never used here: its `setup` would run on your box unasked.
      const l = loadTargetFiles({ taskDir: taskDir ?? process.cwd(), file: values['targets-file'] });
      l.warnings.forEach(log);
      return l.targets;
    } catch (e) {
      throw new ToolError((e as Error).message);
    }
  };
  const manager = new RunManager({
    targets: () => {
      try {
        return targets();
      } catch {
        return [];
      }
    },
    connect: (t) =>
      connectTarget(t, {
        confirmHostKey: async (p) => {
          log(`refused the unknown ${p.keyType} host key of ${p.name} (${p.fingerprint}); connect once with ssh, or speedrun run --accept-new-host-key, to trust it`);
          return false;
        },
        resolve: values['ssh-config'] ? { configFile: values['ssh-config'] } : undefined,
      }),
    timeLimitMs: () => 60 * 60_000,
    cancelGraceMs: () => 10_000,
    log,
  });
  const host: ToolHost = {
    benchmarkPath: () => values.benchmark ?? process.env.SPEEDRUN_BENCHMARK ?? undefined,
    hintLevels: () => hintLevels,
    defaultTaskDir: () => taskDir,
    runs: managerRuns(manager, targets),
  };
  const server = createMcpServer(host, version);
  const transport = new StdioServerTransport();
  // Runs go on on their boxes when the client goes away; only this process stops watching them.
  transport.onclose = () => manager.dispose();
  process.stdin.on('end', () => {
    manager.dispose();
    void server.close();
  });
  await server.connect(transport);
  log(`ready: ${TOOLS.length} tools${taskDir ? `, task ${taskDir}` : ''}, hint levels ${hintLevels.join(',') || 'none'}`);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`speedrun mcp: ${(e as Error)?.message ?? e}\n`);
    process.exitCode = 1;
  });
}
