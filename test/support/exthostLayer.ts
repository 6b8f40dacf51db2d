// The extension-host layer of `npm test`: every suite in dist/test/exthost/*.test.js runs in its own fresh
// code-server session (one crashing or reloading suite can't take the others down, and no state leaks).
// Default session: an empty temporary workspace folder and `speedrun.benchmarkPath` = the fixture clone.
// A suite can change that with a sidecar
// `test/exthost/<name>.session.json`: { "workspace": "empty" | "none", "settings": {...}, "env": {...} }
// (settings/env are merged over the defaults). Usage: node out/test/support/exthostLayer.js [suite ...]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURE_BENCHMARK, REPO_ROOT, runExtHostSuites, type ExtHostResults } from './codeServer';

interface SessionFile {
  workspace?: 'empty' | 'none';
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
}

/** The session a suite runs in: the defaults, with its sidecar file merged over them. */
export function sessionFor(suite: string): Required<SessionFile> {
  const sidecar = path.join(REPO_ROOT, 'test/exthost', `${suite}.session.json`);
  const custom: SessionFile = fs.existsSync(sidecar) ? JSON.parse(fs.readFileSync(sidecar, 'utf8')) : {};
  return {
    workspace: custom.workspace ?? 'empty',
    settings: { 'speedrun.benchmarkPath': FIXTURE_BENCHMARK, ...custom.settings },
    env: { ...custom.env },
  };
}

/** Suite names found in dist/test/exthost (built by scripts/build.mjs). */
export function allSuites(): string[] {
  const dir = path.join(REPO_ROOT, 'dist/test/exthost');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.test.js')).map((f) => f.slice(0, -8)).sort() : [];
}

async function main(args: string[]): Promise<number> {
  const suites = args.length ? args : allSuites();
  let passes = 0;
  let failures = 0;
  for (const suite of suites) {
    const session = sessionFor(suite);
    const workspace = session.workspace === 'empty' ? fs.mkdtempSync(path.join(os.tmpdir(), `speedrun-ws-${suite}-`)) : undefined;
    const started = Date.now();
    process.stdout.write(`\n  ${suite} (extension host)\n`);
    let r: ExtHostResults;
    try {
      r = await runExtHostSuites({
        workspace,
        suites: [suite],
        settings: session.settings,
        env: session.env,
      });
    } catch (e) {
      r = { passed: 0, failed: 0, tests: [], failures: [], error: String((e as Error)?.stack ?? e) };
    } finally {
      if (workspace) fs.rmSync(workspace, { recursive: true, force: true });
    }
    for (const t of r.tests) {
      process.stdout.write(`    ${t.state === 'passed' ? '✔' : '✘'} ${t.fullTitle}${t.durationMs > 100 ? ` (${t.durationMs} ms)` : ''}\n`);
      if (t.error) process.stdout.write(`${indent(t.error, 8)}\n`);
    }
    if (r.error) process.stdout.write(`    ✘ ${suite}: runner error\n${indent(r.error, 8)}\n`);
    passes += r.passed;
    failures += r.failed + (r.error || r.tests.length === 0 ? 1 : 0);
    process.stdout.write(`    ${r.passed} passed, ${r.failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  if (!suites.length) {
    process.stdout.write('no extension-host suites in dist/test/exthost (run node scripts/build.mjs)\n');
    failures++;
  }
  process.stdout.write(`\n  ${passes} passing\n  ${failures} failing\n`);
  if (process.env.SPEEDRUN_STATS_FILE) fs.writeFileSync(process.env.SPEEDRUN_STATS_FILE, JSON.stringify({ passes, failures, pending: 0 }));
  return failures ? 1 : 0;
}

const indent = (s: string, n: number) => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n');

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
    console.error(e);
    process.exit(1);
  });
}
