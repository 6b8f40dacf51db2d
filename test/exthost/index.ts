// Mocha runner inside the extension host (the module VS Code loads as `extensionTestsPath`).
// Bundled by scripts/build.mjs to dist/test/exthost/index.js, next to one bundle per suite (<name>.test.js).
// Configured through the environment, which code-server's extension host inherits:
//   SPEEDRUN_EXTHOST_SUITES   comma-separated suite names to load (empty: all *.test.js here)
//   SPEEDRUN_EXTHOST_GREP     mocha grep over full titles
//   SPEEDRUN_EXTHOST_TIMEOUT  per-test timeout in ms (default 30000)
//   SPEEDRUN_EXTHOST_RESULTS  where to write the JSON results that test/support/codeServer.ts waits for
import * as fs from 'node:fs';
import * as path from 'node:path';
// External to the bundle: resolved from the repository's node_modules.
import Mocha = require('mocha');

interface TestResult {
  fullTitle: string;
  file?: string;
  state: 'passed' | 'failed';
  durationMs: number;
  error?: string;
}

export async function run(): Promise<void> {
  const env = process.env;
  const wanted = (env.SPEEDRUN_EXTHOST_SUITES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const available = fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort();
  const tests: TestResult[] = [];
  let error: string | undefined;

  const missing = wanted.filter((w) => !available.includes(`${w}.test.js`));
  const files = wanted.length ? wanted.map((w) => `${w}.test.js`) : available;
  if (missing.length) error = `no such suite(s): ${missing.join(', ')} (have: ${available.join(', ')})`;
  else if (!files.length) error = `no suites in ${__dirname}`;

  if (!error) {
    const mocha = new Mocha({ ui: 'tdd', color: false, timeout: Number(env.SPEEDRUN_EXTHOST_TIMEOUT || 30_000) });
    if (env.SPEEDRUN_EXTHOST_GREP) mocha.grep(env.SPEEDRUN_EXTHOST_GREP);
    for (const f of files) mocha.addFile(path.join(__dirname, f));
    try {
      await new Promise<void>((resolve) => {
        const runner = mocha.run(() => resolve());
        const record = (t: Mocha.Runnable, state: TestResult['state'], err?: Error) => tests.push({
          fullTitle: t.fullTitle(),
          file: t.file ? path.basename(t.file) : undefined,
          state,
          durationMs: t.duration ?? 0,
          error: err ? String(err.stack ?? err) : undefined,
        });
        runner.on('pass', (t) => record(t, 'passed'));
        runner.on('fail', (t, err) => record(t, 'failed', err));
      });
    } catch (e) {
      // A suite that throws while loading ends up here.
      error = String((e as Error)?.stack ?? e);
    }
  }

  const failures = tests.filter((t) => t.state === 'failed');
  const results = { passed: tests.length - failures.length, failed: failures.length, tests, failures, error };
  if (env.SPEEDRUN_EXTHOST_RESULTS) {
    // Write then rename, so the waiting driver never reads a half-written file.
    fs.writeFileSync(`${env.SPEEDRUN_EXTHOST_RESULTS}.part`, JSON.stringify(results, null, 2));
    fs.renameSync(`${env.SPEEDRUN_EXTHOST_RESULTS}.part`, env.SPEEDRUN_EXTHOST_RESULTS);
  }
  if (error) throw new Error(error);
  if (failures.length) throw new Error(`${failures.length} extension-host test(s) failed`);
}
