// Every command the extension contributes, with the arguments it accepts, and every context key it sets.
// package.json must list exactly these (test/unit/vscodeCommands.test.ts checks it). Type imports only, so the
// unit tests can load this file without VS Code; register.ts holds the typed wrappers around the vscode API.
import type { Uri } from 'vscode';
import type { AgentHintLevel, BackendConfig, Budget } from '../core/agent/types';
import { isRunId } from '../core/compare';
import type { ScaffoldName } from '../core/search/presets';

/** Names a run: its id, its meta (a Runs view item), or anything carrying one of those. */
export type RunRef = string | { runId: string } | { meta: RunRef };

/** `speedrun.openTask` from code, tests and links. */
export interface OpenTaskArgs {
  taskId: number;
  dest?: string;
  force?: boolean;
  /** false: write the workspace but do not switch the window to it. */
  openFolder?: boolean;
}

/** `speedrun.startAgent` from code and tests: skips the pickers; any missing part is asked for. */
export interface StartAgentArgs {
  backend?: BackendConfig;
  hintLevels?: AgentHintLevel[];
  target?: string;
  budget?: Partial<Budget>;
}

/** `speedrun.runRepeated` (Run x K) from code and tests: skips the prompts; any missing part is asked for. */
export interface RunRepeatedArgs {
  repeats?: number;
  interleaveBaseline?: boolean;
  target?: string;
}

/** `speedrun.calibrateTask` / `speedrun.calibrateAll` from code and tests. */
export interface CalibrateArgs {
  task?: number;
  /** Finished runs per record. */
  runs?: number;
  target?: string;
  /** Skip the cost confirmation. */
  confirmed?: boolean;
}

/**
 * `speedrun.startSearch` from code and tests: the choices that skip the pickers. Once any of scaffold, writer or
 * targets is given, hints default to none and max nodes to 20 instead of being asked.
 */
export interface StartSearchArgs {
  scaffold?: ScaffoldName;
  writer?: 'openai' | 'acp' | 'replay';
  /** With writer openai; default the speedrun.agent.model / baseUrl settings. */
  model?: string;
  baseUrl?: string;
  hintLevels?: number[];
  /** Several are pooled (`--target a,b`). */
  targets?: string[];
  maxNodes?: number;
  seed?: number;
}

/**
 * `speedrun.resumeSearch`: a Search view item, or a search id from code (`confirmed`: resume a search that says
 * running though no task of this window runs it, without asking).
 */
export type ResumeSearchArg = string | { searchId: string; confirmed?: boolean } | object;

/** Command id → the arguments it takes. Every argument is optional: menus and the palette pass none. */
export interface CommandArgs {
  'speedrun.locateBenchmark': [dir?: string | Uri];
  'speedrun.cloneBenchmark': [];
  'speedrun.openTask': [task?: number | OpenTaskArgs];
  'speedrun.showTaskBrief': [];
  'speedrun.refreshTasks': [];
  'speedrun.openHint': [hint?: number | { level: number } | { path: string }];
  'speedrun.revealGroundTruth': [opts?: { confirmed?: boolean }];
  'speedrun.run': [target?: string];
  'speedrun.cancelRun': [run?: RunRef];
  'speedrun.removeQueuedRun': [run?: RunRef];
  'speedrun.showRunOutput': [run?: RunRef];
  'speedrun.configureTargets': [];
  'speedrun.openDashboard': [run?: RunRef];
  'speedrun.exportDashboard': [format?: 'png' | 'csv', targetPath?: string];
  'speedrun.compareWithReference': [opts?: { confirmed?: boolean }];
  'speedrun.showMyChanges': [];
  /** From the Runs view: (clicked item, selected items); from code: (idA, idB); from the dashboard: (id, id). */
  'speedrun.compareRuns': [a?: RunRef | RunRef[], b?: RunRef | RunRef[]];
  /** A path to write to, a Runs view item, or both as an object. */
  'speedrun.exportPatch': [arg?: string | RunRef | { runId?: string; target?: string }];
  'speedrun.startAgent': [args?: StartAgentArgs];
  'speedrun.stopAgent': [];
  'speedrun.acceptTurn': [];
  'speedrun.rejectTurn': [];
  'speedrun.showTranscript': [];
  'speedrun.restoreCheckpoint': [checkpoint?: number | { n: number }];
  'speedrun.setApiKey': [key?: string];
  /** Search view: items are the view's own node or search items. */
  'speedrun.refreshSearches': [];
  'speedrun.diffSearchNode': [item?: unknown];
  'speedrun.diffSearchNodeWithStart': [item?: unknown];
  'speedrun.diffSearchNodeWithReference': [item?: unknown];
  'speedrun.openSearchNodeDashboard': [item?: unknown];
  'speedrun.useSearchNode': [item?: unknown];
  'speedrun.showSearchCurves': [item?: unknown];
  /** A node item (its live view), a search item (follows its nodes being written; none: the newest search). */
  'speedrun.watchNodeEdits': [item?: unknown];
  'speedrun.watchSearchEdits': [item?: unknown];
  'speedrun.showNodeTranscript': [item?: unknown];
  'speedrun.pauseSearch': [item?: unknown];
  'speedrun.startSearch': [args?: StartSearchArgs];
  'speedrun.resumeSearch': [search?: ResumeSearchArg];
  'speedrun.stopSearch': [item?: unknown];
  'speedrun.openSweepReport': [file?: string | Uri];
  'speedrun.runRepeated': [args?: RunRepeatedArgs];
  /** A task number, a Tasks view item, or the arguments as an object. */
  'speedrun.calibrateTask': [task?: number | { report: { id: number } } | CalibrateArgs];
  'speedrun.calibrateAll': [args?: CalibrateArgs];
}
export type CommandId = keyof CommandArgs;

// A record (not an array) so the compiler insists on every id of CommandArgs, and on no other.
const IDS: Record<CommandId, true> = {
  'speedrun.locateBenchmark': true,
  'speedrun.cloneBenchmark': true,
  'speedrun.openTask': true,
  'speedrun.showTaskBrief': true,
  'speedrun.refreshTasks': true,
  'speedrun.openHint': true,
  'speedrun.revealGroundTruth': true,
  'speedrun.run': true,
  'speedrun.cancelRun': true,
  'speedrun.removeQueuedRun': true,
  'speedrun.showRunOutput': true,
  'speedrun.configureTargets': true,
  'speedrun.openDashboard': true,
  'speedrun.exportDashboard': true,
  'speedrun.compareWithReference': true,
  'speedrun.showMyChanges': true,
  'speedrun.compareRuns': true,
  'speedrun.exportPatch': true,
  'speedrun.startAgent': true,
  'speedrun.stopAgent': true,
  'speedrun.acceptTurn': true,
  'speedrun.rejectTurn': true,
  'speedrun.showTranscript': true,
  'speedrun.restoreCheckpoint': true,
  'speedrun.setApiKey': true,
  'speedrun.refreshSearches': true,
  'speedrun.diffSearchNode': true,
  'speedrun.diffSearchNodeWithStart': true,
  'speedrun.diffSearchNodeWithReference': true,
  'speedrun.openSearchNodeDashboard': true,
  'speedrun.useSearchNode': true,
  'speedrun.showSearchCurves': true,
  'speedrun.watchNodeEdits': true,
  'speedrun.watchSearchEdits': true,
  'speedrun.showNodeTranscript': true,
  'speedrun.pauseSearch': true,
  'speedrun.startSearch': true,
  'speedrun.resumeSearch': true,
  'speedrun.stopSearch': true,
  'speedrun.openSweepReport': true,
  'speedrun.runRepeated': true,
  'speedrun.calibrateTask': true,
  'speedrun.calibrateAll': true,
};
export const COMMAND_IDS = Object.keys(IDS) as CommandId[];

/** Context key → its value type; `when` clauses in package.json read these. */
export interface ContextKeys {
  'speedrun.benchmarkReady': boolean;
  'speedrun.taskOpen': boolean;
  'speedrun.compare.ready': boolean;
  /** Paths (Uri.path) of the scripts that get the compare buttons: `resourcePath in speedrun.compare.scripts`. */
  'speedrun.compare.scripts': string[];
  'speedrun.agent.running': boolean;
  'speedrun.agent.turnPending': boolean;
}
export type ContextKey = keyof ContextKeys;

const KEYS: Record<ContextKey, true> = {
  'speedrun.benchmarkReady': true,
  'speedrun.taskOpen': true,
  'speedrun.compare.ready': true,
  'speedrun.compare.scripts': true,
  'speedrun.agent.running': true,
  'speedrun.agent.turnPending': true,
};
export const CONTEXT_KEYS = Object.keys(KEYS) as ContextKey[];

/**
 * The run id in a command argument (see RunRef), or undefined when there is none. Arguments are untrusted: an id
 * must be usable as a directory name (tests and the CLI may name runs freely).
 */
export function runIdOf(x: unknown): string | undefined {
  if (typeof x === 'string') return isRunId(x) ? x : undefined;
  if (!x || typeof x !== 'object') return undefined;
  const o = x as { runId?: unknown; meta?: unknown };
  return runIdOf(o.runId) ?? runIdOf(o.meta);
}
