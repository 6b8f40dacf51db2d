/**
 * Real VS Code for tests: code-server 4.99.4 (installed in `.cs/` by scripts/ensure-deps.sh) driven by
 * Playwright + Debian Chromium. Used by e2e suites (test/e2e) and the extension-host layer.
 *
 * ## UI sessions
 * ```ts
 * const cs = await startCodeServer({ workspace: dir, settings: { 'speedrun.benchmarkPath': FIXTURE_BENCHMARK }, theme: 'light' });
 * await cs.runCommand('Speedrun: Open Task…');     // F1 palette; picks the row whose label is exactly this title
 * await cs.page.locator('.monaco-workbench .part.sidebar').waitFor();
 * await cs.webview().locator('#chart').waitFor(); // the active webview's content (two nested iframes)
 * await cs.screenshot('dashboard-light');         // -> test-results/dashboard-light.png
 * await cs.stop();                                // closes Chromium, kills code-server's process group
 * ```
 * Options (all optional):
 * - `workspace`  folder to open (absolute path); none = empty window.
 * - `settings`   user settings merged over quiet defaults into `<userDataDir>/User/settings.json`.
 * - `env`        extra environment for code-server and so for the extension host (e.g. PATH with test/sim).
 * - `theme`      'dark' (default) | 'light' → `workbench.colorTheme` "Default Dark Modern" / "Default Light Modern".
 * - `extensionDevelopmentPath` the extension folder loaded in development mode (default: the repo root, i.e.
 *   whatever `node scripts/build.mjs` last put in dist/). If `vsix` is given instead (or the env
 *   `SPEEDRUN_TEST_VSIX` is set and no dev path is given), that VSIX is installed into the session's own
 *   extensions dir, as a user would install it. `npm test` sets SPEEDRUN_TEST_VSIX for the e2e layer.
 * - `extensionTestsPath` a module whose `run()` the extension host runs (mocha runner); see runExtHostSuites.
 * - `viewport`   browser size, default 1400x900.
 * Each session gets a free port, a fresh user-data-dir, extensions dir and Chromium profile under one temp
 * folder (`tmpDir`, removed at stop unless `SPEEDRUN_KEEP_TMP=1`). code-server's log: `<tmpDir>/code-server.log`.
 *
 * ## Extension-host mocha suites
 * ```ts
 * const r = await runExtHostSuites({ workspace, settings, env, suites: ['foundation'] });
 * // r = { passed, failed, tests: [{ fullTitle, state, durationMs, error? }], failures: [...] }
 * ```
 * Opens code-server with the `payload` URL (extensionDevelopmentPath = repo root, extensionTestsPath =
 * dist/test/exthost/index.js). The runner there loads `dist/test/exthost/<suite>.test.js` for each name in
 * `suites` (all `*.test.js` when omitted), runs them with mocha (tdd UI) and writes a JSON results file, which
 * this function waits for. The suite list, results path and mocha options travel in code-server's process env
 * (SPEEDRUN_EXTHOST_*), because `extensionEnvironment` in the payload does not reach the remote extension host.
 * Build first (`node scripts/build.mjs`): suites are the esbuild bundles in dist/test/exthost/.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type FrameLocator, type Page } from 'playwright-core';

/** Repository root (the folder whose package.json is this extension's). */
export const REPO_ROOT = findRepoRoot(__dirname);
export const CODE_SERVER_BIN = path.join(REPO_ROOT, '.cs/node_modules/.bin/code-server');
export const CHROMIUM = process.env.SPEEDRUN_CHROMIUM || '/usr/bin/chromium';
export const RESULTS_DIR = path.join(REPO_ROOT, 'test-results');
/** The miniature benchmark clone written for tests. */
export const FIXTURE_BENCHMARK = path.join(REPO_ROOT, 'test/fixtures/benchmark');
/** Chromium flags that work as root in a container with no GPU and no network. */
export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

export type Theme = 'dark' | 'light';

export interface CodeServerOptions {
  workspace?: string;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  theme?: Theme;
  extensionDevelopmentPath?: string;
  extensionTestsPath?: string;
  vsix?: string;
  viewport?: { width: number; height: number };
}

export interface CodeServerSession {
  url: string;
  port: number;
  page: Page;
  context: BrowserContext;
  userDataDir: string;
  tmpDir: string;
  /** Everything code-server printed so far. */
  log(): string;
  /** Writes test-results/<name>.png and returns its path. */
  screenshot(name: string): Promise<string>;
  /** Runs a command from the F1 palette by its full title, e.g. 'Speedrun: Locate Benchmark…'. */
  runCommand(title: string): Promise<void>;
  /** The content frame of the visible webview (the inner of its two nested iframes). */
  webview(): FrameLocator;
  stop(): Promise<void>;
}

const THEMES: Record<Theme, string> = { dark: 'Default Dark Modern', light: 'Default Light Modern' };
/** The class the workbench element gets once a theme is applied (the first paint uses a built-in default). */
const THEME_CLASS: Record<string, string> = {
  'Default Dark Modern': 'vscode-theme-defaults-themes-dark_modern-json',
  'Default Light Modern': 'vscode-theme-defaults-themes-light_modern-json',
};

/** Defaults that keep the workbench quiet and screenshots stable; tests may override any of them. */
const QUIET_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'chat.commandCenter.enabled': false,
  'git.enabled': false,
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  // VS Code in a browser saves after 1 s by default (desktop: off); tests that hold unsaved edits (a tool reading
  // the open document, a turn's reject keeping the user's typing) must not race that save on a loaded machine.
  'files.autoSave': 'off',
};

const live = new Set<ChildProcess>();
// A crashed test process must not leave code-server (and its extension hosts) behind.
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

export async function startCodeServer(opts: CodeServerOptions = {}): Promise<CodeServerSession> {
  if (!fs.existsSync(CODE_SERVER_BIN)) {
    throw new Error(`code-server not found at ${CODE_SERVER_BIN}; run scripts/ensure-deps.sh (npm test does)`);
  }
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-cs-'));
  const userDataDir = path.join(tmpDir, 'user-data');
  const extensionsDir = path.join(tmpDir, 'extensions');
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.mkdirSync(extensionsDir);
  const settings = { ...QUIET_SETTINGS, 'workbench.colorTheme': THEMES[opts.theme ?? 'dark'], ...opts.settings };
  fs.writeFileSync(path.join(userDataDir, 'User/settings.json'), JSON.stringify(settings, null, 2));

  const port = await freePort();
  const config = path.join(tmpDir, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const baseArgs = ['--config', config, '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const env = { ...process.env, ...opts.env };

  const devPath = opts.extensionDevelopmentPath ?? (opts.vsix || process.env.SPEEDRUN_TEST_VSIX ? undefined : REPO_ROOT);
  const vsix = devPath ? undefined : opts.vsix ?? process.env.SPEEDRUN_TEST_VSIX;
  if (vsix) {
    const r = spawnSync(CODE_SERVER_BIN, [...baseArgs, '--install-extension', path.resolve(REPO_ROOT, vsix)], { env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`installing ${vsix} failed:\n${r.stdout}${r.stderr}`);
  }

  const logFile = path.join(tmpDir, 'code-server.log');
  const out = fs.openSync(logFile, 'a');
  // detached: own process group, so stop() can kill the extension hosts it forks too.
  const child = spawn(
    CODE_SERVER_BIN,
    [...baseArgs, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
      '--disable-getting-started-override', ...(opts.workspace ? [opts.workspace] : [])],
    { env, detached: true, stdio: ['ignore', out, out] },
  );
  fs.closeSync(out);
  live.add(child);
  const readLog = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');

  let context: BrowserContext | undefined;
  const stop = async () => {
    await context?.close().catch(() => undefined);
    context = undefined;
    if (live.has(child)) {
      live.delete(child);
      await stopGroup(child);
    }
    if (process.env.SPEEDRUN_KEEP_TMP !== '1') fs.rmSync(tmpDir, { recursive: true, force: true });
  };

  try {
    await waitForHealth(port, child, readLog);
    const viewport = opts.viewport ?? { width: 1400, height: 900 };
    context = await chromium.launchPersistentContext(path.join(tmpDir, 'chromium'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport, colorScheme: opts.theme ?? 'dark',
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const url = workbenchUrl(port, opts.workspace, devPath, opts.extensionTestsPath);
    await page.goto(url);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // Theme extensions are registered only after the remote extension scan, seconds after the first paint.
    // (Not for test runs: the suites start regardless, and a slow machine should not fail them on looks.)
    const themeClass = THEME_CLASS[String(settings['workbench.colorTheme'])];
    if (themeClass && !opts.extensionTestsPath) await page.locator(`.monaco-workbench.${themeClass}`).waitFor({ timeout: 60_000 });

    return {
      url, port, page, context, userDataDir, tmpDir,
      log: readLog,
      stop,
      screenshot: async (name) => {
        fs.mkdirSync(RESULTS_DIR, { recursive: true });
        const file = path.join(RESULTS_DIR, `${name}.png`);
        await page.screenshot({ path: file });
        return file;
      },
      runCommand: (title) => runCommand(page, title),
      webview: () => page.locator('iframe.webview.ready').filter({ visible: true }).first().contentFrame()
        .locator('iframe#active-frame').contentFrame(),
    };
  } catch (e) {
    const tail = readLog().split('\n').slice(-30).join('\n');
    await stop();
    throw new Error(`${(e as Error).message}\n--- code-server log (tail) ---\n${tail}`, { cause: e });
  }
}

/** Runs a palette command by its full title ("Category: Title"), failing clearly if it does not exist. */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.locator('.monaco-workbench').click({ position: { x: 1, y: 1 }, force: true }).catch(() => undefined);
  await page.keyboard.press('F1');
  // Plain '.quick-input-widget input' also matches the list's checkboxes.
  const input = page.locator('.quick-input-widget input.input[type=text]');
  await input.waitFor();
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row').filter({
    has: page.locator('.label-name', { hasText: new RegExp(`^${escapeRegExp(title)}$`) }),
  }).first();
  try {
    await row.waitFor({ timeout: 15_000 });
  } catch {
    const offered = await page.locator('.quick-input-list .monaco-list-row .label-name').allTextContents();
    await page.keyboard.press('Escape');
    throw new Error(`command "${title}" not in the palette; it offers: ${JSON.stringify(offered.slice(0, 10))}`);
  }
  await row.click();
}

export interface ExtHostTestResult {
  fullTitle: string;
  file?: string;
  state: 'passed' | 'failed';
  durationMs: number;
  error?: string;
}

export interface ExtHostResults {
  passed: number;
  failed: number;
  tests: ExtHostTestResult[];
  failures: ExtHostTestResult[];
  /** Set when the runner itself failed (e.g. a suite did not load). */
  error?: string;
}

export interface ExtHostRunOptions {
  workspace?: string;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Suite names: `foo` loads dist/test/exthost/foo.test.js. Default: every *.test.js there. */
  suites?: string[];
  /** mocha `grep` over full test titles. */
  grep?: string;
  /** Per-test mocha timeout in ms (default 30 s). */
  testTimeoutMs?: number;
  /** How long to wait for the whole run (default 10 min). */
  timeoutMs?: number;
}

export async function runExtHostSuites(opts: ExtHostRunOptions = {}): Promise<ExtHostResults> {
  const runner = path.join(REPO_ROOT, 'dist/test/exthost/index.js');
  if (!fs.existsSync(runner)) throw new Error(`${runner} missing; run node scripts/build.mjs first`);
  const resultsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-exthost-')), 'results.json');
  const cs = await startCodeServer({
    workspace: opts.workspace,
    settings: opts.settings,
    env: {
      ...opts.env,
      SPEEDRUN_EXTHOST_RESULTS: resultsFile,
      SPEEDRUN_EXTHOST_SUITES: (opts.suites ?? []).join(','),
      SPEEDRUN_EXTHOST_GREP: opts.grep ?? '',
      SPEEDRUN_EXTHOST_TIMEOUT: String(opts.testTimeoutMs ?? 30_000),
    },
    extensionDevelopmentPath: REPO_ROOT,
    extensionTestsPath: runner,
  });
  try {
    const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
    while (!fs.existsSync(resultsFile)) {
      if (Date.now() > deadline) {
        await cs.screenshot(`exthost-timeout-${(opts.suites ?? ['all']).join('-')}`).catch(() => undefined);
        throw new Error(`extension-host tests wrote no results within ${(opts.timeoutMs ?? 600_000) / 1000} s\n` +
          `--- code-server log (tail) ---\n${cs.log().split('\n').slice(-30).join('\n')}`);
      }
      await sleep(200);
    }
    return JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as ExtHostResults;
  } finally {
    await cs.stop();
    fs.rmSync(path.dirname(resultsFile), { recursive: true, force: true });
  }
}

// ---- helpers ----

function workbenchUrl(port: number, workspace?: string, devPath?: string, testsPath?: string): string {
  const q = new URLSearchParams();
  if (workspace) q.set('folder', workspace);
  const payload: [string, string][] = [];
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${path.resolve(p)}`;
  // The installed copy is overridden by a development path; a VSIX session passes none.
  if (devPath) payload.push(['extensionDevelopmentPath', remote(devPath)]);
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  if (payload.length) q.set('payload', JSON.stringify(payload));
  return `http://127.0.0.1:${port}/?${q.toString()}`;
}

/** A port that was free a moment ago (listen on 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForHealth(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`code-server did not answer on port ${port} within 60 s\n${log()}`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

/** SIGTERM the group, SIGKILL what is left after 5 s. Zombies (state Z) count as gone: PID 1 may not reap. */
async function stopGroup(child: ChildProcess): Promise<void> {
  const pgid = child.pid!;
  killGroup(child, 'SIGTERM');
  const deadline = Date.now() + 5_000;
  while (liveGroupMembers(pgid) > 0 && Date.now() < deadline) await sleep(100);
  if (liveGroupMembers(pgid) > 0) {
    killGroup(child, 'SIGKILL');
    while (liveGroupMembers(pgid) > 0 && Date.now() < deadline + 5_000) await sleep(100);
  }
}

function liveGroupMembers(pgid: number): number {
  let n = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the parenthesised command name: state ppid pgrp ...
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') n++;
  }
  return n;
}

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'speedrun-workbench') return dir;
    if (path.dirname(dir) === dir) throw new Error(`no speedrun-workbench package.json above ${from}`);
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
