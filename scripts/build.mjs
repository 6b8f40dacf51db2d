// Bundles the extension, the CLI, the language server, the MCP server and the two webviews (dashboard, transcript)
// with esbuild.
import * as esbuild from 'esbuild';
import { readdirSync, existsSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  // Watch mode logs "[watch] build finished", which .vscode/tasks.json waits for.
  logLevel: watch ? 'info' : 'warning',
};
const node = {
  ...common,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ssh2's native helpers are optional; without them it falls back to pure JS.
  external: ['vscode', 'cpu-features', '*.node', 'mocha'],
};

const builds = [
  { ...node, entryPoints: { extension: 'src/extension.ts', cli: 'src/cli.ts', server: 'src/server/server.ts', mcp: 'src/mcp/server.ts' }, outdir: 'dist' },
  // Inline map in dev builds: a separate media/*.map would be packaged (media/** goes into the VSIX).
  { ...common, sourcemap: production ? false : 'inline', platform: 'browser', format: 'iife', target: 'es2022', entryPoints: { dashboard: 'webview-ui/main.ts', transcript: 'webview-ui/transcript.ts' }, outdir: 'media' },
];
// Extension-host test suites (not packaged): one bundle per suite so the runner can load them by name.
if (!production && existsSync('test/exthost')) {
  const suites = readdirSync('test/exthost').filter((f) => f.endsWith('.ts')).map((f) => `test/exthost/${f}`);
  builds.push({ ...node, sourcemap: 'inline', entryPoints: suites, outdir: 'dist/test/exthost' });
}

// A production build (npm run package) must not leave a dev build's source maps where .vscodeignore ships them.
if (production) {
  for (const dir of ['dist', 'media']) {
    for (const f of existsSync(dir) ? readdirSync(dir) : []) if (f.endsWith('.map')) rmSync(`${dir}/${f}`);
  }
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
