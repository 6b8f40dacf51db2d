// Public surface of the benchmark core: the task manifest, the user's clone, task workspaces.
export * from './types';
export {
  BenchmarkFileError,
  ManifestError,
  getRecord,
  getTask,
  groundTruthHint,
  hintLabel,
  hintsDir,
  listHints,
  loadManifest,
  readResults,
  recordDir,
  referenceMetrics,
  resultsPath,
  scriptPath,
  validateManifest,
  type HintFile,
  type ResultsFile,
} from './catalog';
export { BenchmarkLayoutError, checkLayout, sha256, validateClone, type CloneReport, type RecordReport, type TaskReport } from './clone';
export {
  OpenTaskError,
  SCRIPT_NAME,
  SPEEDRUN_DIR,
  TASK_BRIEF,
  TASK_FILE,
  TaskFileError,
  formatDuration,
  openTask,
  readTaskFile,
  renderTaskBrief,
  type OpenTaskOptions,
  type OpenTaskResult,
} from './openTask';
