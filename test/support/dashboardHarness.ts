// Loads the bundled dashboard (media/dashboard.js + .css) in headless Chromium outside VS Code: a local
// HTTP server serves the same HTML shell and CSP as the extension, a fake `acquireVsCodeApi` records what the
// webview posts, and a small stylesheet stands in for VS Code's theme variables. Used by the harness e2e test
// and bench/dashboard.ts; it needs `node scripts/build.mjs` to have run.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { dashboardHtml } from '../../src/shared/dashboardHtml';
import type { HostMessage } from '../../src/shared/protocol';
import type { DashboardMessage } from '../../src/shared/webviewMessages';
import { CHROMIUM, CHROMIUM_ARGS, REPO_ROOT } from './codeServer';

export type HarnessTheme = 'dark' | 'light' | 'high-contrast';

// A handful of VS Code theme variables with the default themes' values (what the dashboard reads).
const THEME_CSS = `
body { --vscode-font-family: system-ui, 'Ubuntu', 'Droid Sans', sans-serif; --vscode-font-size: 13px;
  --vscode-editor-font-family: 'Droid Sans Mono', 'monospace', monospace; }
body.vscode-dark { --vscode-foreground:#cccccc; --vscode-editor-background:#1f1f1f; --vscode-descriptionForeground:#9d9d9d;
  --vscode-charts-foreground:#cccccc; --vscode-charts-lines:rgba(204,204,204,0.15); --vscode-charts-blue:#3794ff;
  --vscode-charts-red:#f14c4c; --vscode-charts-green:#89d185; --vscode-charts-yellow:#cca700; --vscode-charts-orange:#d18616;
  --vscode-charts-purple:#b180d7; --vscode-button-background:#0078d4; --vscode-button-foreground:#ffffff;
  --vscode-button-hoverBackground:#026ec1; --vscode-button-secondaryBackground:#313131; --vscode-button-secondaryForeground:#cccccc;
  --vscode-badge-background:#616161; --vscode-badge-foreground:#f8f8f8; --vscode-panel-border:#2b2b2b;
  --vscode-editorWidget-background:#202020; --vscode-textLink-foreground:#4daafc; --vscode-focusBorder:#0078d4;
  --vscode-list-hoverBackground:#2a2d2e; --vscode-list-inactiveSelectionBackground:#37373d;
  --vscode-testing-iconPassed:#73c991; --vscode-testing-iconFailed:#f14c4c; --vscode-errorForeground:#f85149; }
body.vscode-light { --vscode-foreground:#3b3b3b; --vscode-editor-background:#ffffff; --vscode-descriptionForeground:#717171;
  --vscode-charts-foreground:#616161; --vscode-charts-lines:rgba(97,97,97,0.15); --vscode-charts-blue:#1a85ff;
  --vscode-charts-red:#e51400; --vscode-charts-green:#388a34; --vscode-charts-yellow:#bf8803; --vscode-charts-orange:#d18616;
  --vscode-charts-purple:#652d90; --vscode-button-background:#005fb8; --vscode-button-foreground:#ffffff;
  --vscode-button-hoverBackground:#0258a8; --vscode-button-secondaryBackground:#e5e5e5; --vscode-button-secondaryForeground:#3b3b3b;
  --vscode-badge-background:#cccccc; --vscode-badge-foreground:#3b3b3b; --vscode-panel-border:#e5e5e5;
  --vscode-editorWidget-background:#f8f8f8; --vscode-textLink-foreground:#005fb8; --vscode-focusBorder:#005fb8;
  --vscode-list-hoverBackground:#f2f2f2; --vscode-list-inactiveSelectionBackground:#e4e6f1;
  --vscode-testing-iconPassed:#388a34; --vscode-testing-iconFailed:#e51400; --vscode-errorForeground:#e51400; }
body.vscode-high-contrast { --vscode-foreground:#ffffff; --vscode-editor-background:#000000; --vscode-descriptionForeground:#ffffffb3;
  --vscode-charts-foreground:#ffffff; --vscode-charts-lines:rgba(255,255,255,0.3); --vscode-charts-blue:#3794ff;
  --vscode-charts-red:#f14c4c; --vscode-charts-green:#89d185; --vscode-charts-yellow:#ffd700; --vscode-charts-orange:#d18616;
  --vscode-charts-purple:#b180d7; --vscode-button-background:#000000; --vscode-button-foreground:#ffffff; --vscode-button-border:#6fc3df;
  --vscode-contrastBorder:#6fc3df; --vscode-badge-background:#000000; --vscode-badge-foreground:#ffffff; --vscode-panel-border:#6fc3df;
  --vscode-editorWidget-background:#0c141f; --vscode-textLink-foreground:#21a6ff; --vscode-focusBorder:#f38518;
  --vscode-testing-iconPassed:#73c991; --vscode-testing-iconFailed:#f14c4c; --vscode-errorForeground:#f48771; }
`;

export interface DashboardHarness {
  page: Page;
  /** Deliver a host message to the webview synchronously (as VS Code's message event would). */
  post(msg: HostMessage): Promise<void>;
  /** Everything the webview posted so far. */
  posted(): Promise<DashboardMessage[]>;
  /** What the webview last passed to setState. */
  persisted(): Promise<any>;
  /** The parsed `#test-state` JSON, after the next animation frame has rendered. */
  testState(): Promise<any>;
  setTheme(theme: HarnessTheme): Promise<void>;
  /** Page errors and console errors so far (testState fails on any), cleared. */
  takeErrors(): string[];
  /** A fresh page load (new webview state), as when VS Code recreates a hidden webview. */
  reload(): Promise<void>;
  close(): Promise<void>;
}

export async function openDashboardHarness(opts: { theme?: HarnessTheme; width?: number; height?: number } = {}): Promise<DashboardHarness> {
  const media = path.join(REPO_ROOT, 'media');
  if (!fs.existsSync(path.join(media, 'dashboard.js'))) throw new Error('media/dashboard.js missing: run node scripts/build.mjs');
  let origin = '';
  const server = http.createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const files: Record<string, [string, string]> = {
      '/dashboard.js': [path.join(media, 'dashboard.js'), 'text/javascript'],
      '/dashboard.css': [path.join(media, 'dashboard.css'), 'text/css'],
    };
    if (url === '/') {
      const html = dashboardHtml({ cspSource: origin, nonce: 'harness0nonce', scriptUri: `${origin}/dashboard.js`, styleUri: `${origin}/dashboard.css` })
        .replace('</head>', `<link rel="stylesheet" href="${origin}/theme.css">\n</head>`)
        .replace('<body>', `<body class="vscode-${opts.theme ?? 'dark'}">`);
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else if (url === '/theme.css') {
      res.writeHead(200, { 'content-type': 'text/css' }).end(THEME_CSS);
    } else if (url === '/favicon.ico') {
      res.writeHead(204).end();
    } else if (files[url] && fs.existsSync(files[url][0])) {
      res.writeHead(200, { 'content-type': files[url][1] }).end(fs.readFileSync(files[url][0]));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-dash-'));
  let context: BrowserContext | undefined;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
      viewport: { width: opts.width ?? 1200, height: opts.height ?? 1000 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    // Page-side code is passed as strings: this project compiles without the DOM library.
    await page.addInitScript(`(() => {
      let state;
      window.__posted = [];
      window.__state = () => state;
      window.acquireVsCodeApi = () => ({
        postMessage: (m) => window.__posted.push(JSON.parse(JSON.stringify(m))),
        getState: () => state,
        setState: (s) => { state = s; },
      });
    })()`);
    const load = async () => {
      errors.length = 0;
      await page.goto(origin + '/');
      await page.waitForFunction(`window.__posted.some((m) => m.type === 'ready')`);
    };
    await load();
    const ctx = context;
    return {
      page,
      post: async (msg) => {
        // JSON round trip, as VS Code serialises webview messages (nan becomes null).
        await page.evaluate(`window.dispatchEvent(new MessageEvent('message', { data: ${JSON.stringify(msg)} }))`);
      },
      posted: () => page.evaluate('window.__posted') as Promise<DashboardMessage[]>,
      persisted: () => page.evaluate('window.__state()'),
      testState: async () => {
        await page.evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))');
        if (errors.length) throw new Error(`dashboard page errors:\n${errors.join('\n')}`);
        const text = await page.locator('#test-state').textContent();
        return text ? JSON.parse(text) : null;
      },
      setTheme: async (theme) => {
        await page.evaluate(`document.body.className = ${JSON.stringify(`vscode-${theme}`)}`);
      },
      takeErrors: () => errors.splice(0),
      reload: load,
      close: async () => {
        await ctx.close();
        server.close();
        fs.rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await context?.close();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}
