// Webview HTML shells with their Content Security Policy: the dashboard's (shared by the extension host and
// the standalone test harness, so both load the bundle under the same policy) and the agent transcript's.

export interface DashboardHtmlOptions {
  /** `webview.cspSource` (or the harness server's origin). */
  cspSource: string;
  /** Fresh random value per render; only scripts carrying it run. */
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** A webview page under the strict policy: only the nonce'd script runs; styles, fonts and images from `cspSource`. */
export function webviewShell(o: DashboardHtmlOptions & { title: string; body: string }): string {
  // No connect-src: webviews talk to the host only through postMessage.
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${o.nonce}'`,
    `style-src ${o.cspSource}`,
    `font-src ${o.cspSource}`,
    `img-src ${o.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(o.styleUri)}">
<title>${o.title}</title>
</head>
<body>
${o.body}
<script nonce="${escapeAttr(o.nonce)}" src="${escapeAttr(o.scriptUri)}"></script>
</body>
</html>
`;
}

/** The dashboard page: its script (webview-ui/main.ts) builds everything inside #app. */
export const DASHBOARD_PAGE = { title: 'Speedrun Dashboard', body: '<main id="app" aria-busy="true"></main>' };

export function dashboardHtml(o: DashboardHtmlOptions): string {
  return webviewShell({ ...o, ...DASHBOARD_PAGE });
}

/** A 32-character nonce from a cryptographically strong source (Node and browsers both have Web Crypto). */
export function makeNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
