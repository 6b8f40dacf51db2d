// Comparing an attempt with the reference record: coverage, hunks, patch export, loading from a task.
export * from './coverage';
export * from './patch';
export * from './load';
