// The seams between the VS Code adapters. Each area implements one of these; extension.ts wires them.
import type * as vscode from 'vscode';
import type { TaskFile } from '../core/benchmark/types';
import type { RunEvent, RunMeta } from '../core/runs/types';

/** The task workspace open in this window, if any (src/vscode/benchmark/taskWorkspace.ts). */
export interface TaskContext {
  /** Folder holding train_gpt2.py and .speedrun/. */
  taskDir: string;
  scriptPath: string;
  task: TaskFile;
}

export interface Workspace {
  current(): TaskContext | undefined;
  readonly onDidChange: vscode.Event<TaskContext | undefined>;
  /** The validated benchmark clone, if located. */
  benchmarkPath(): string | undefined;
}

/** The run engine as the UI sees it (src/vscode/runs/runController.ts). */
export interface Runs {
  /** Queue a run of the task's current script. Resolves once queued. Asks for a target when none is given. */
  start(opts: { taskDir: string; target?: string; origin?: 'user' | 'agent' }): Promise<RunMeta | undefined>;
  cancel(runId: string): Promise<void>;
  /** Resolves with the final meta when the run reaches a terminal state. */
  waitForEnd(runId: string): Promise<RunMeta>;
  list(taskDir: string): RunMeta[];
  get(runId: string): RunMeta | undefined;
  /** Directory of a run's stored files. */
  runDir(taskDir: string, runId: string): string;
  readonly onDidEvent: vscode.Event<RunEvent>;
  /**
   * The benchmark rules before a user's run (core/rules/preRun.ts). Resolves false when the run must not start
   * (the user saw the violations and did not override them); `answer` stands in for the user's reply (tests).
   */
  checkBeforeRun(taskDir: string, answer?: () => Promise<boolean>): Promise<boolean>;
}

/** The dashboard panel (src/vscode/dashboard/dashboardPanel.ts). */
export interface Dashboard {
  show(runId?: string): void;
}
