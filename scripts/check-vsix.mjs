// Checks that the VSIX holds only what runs: the bundles, media, the task manifest, package.json, README,
// LICENSE. Reads the zip's central directory itself (no unzip on a fresh machine) and cross-checks `vsce ls`.
// Usage: node scripts/check-vsix.mjs speedrun-workbench.vsix
import { readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

const file = process.argv[2] ?? 'speedrun-workbench.vsix';
const ALLOWED = [
  /^dist\/(extension|cli|server|mcp)\.js$/,
  /^media\/.+/,
  /^tasks\/.+\.(json|md)$/,
  /^package\.json$/,
  /^(readme|changelog)\.md$/i,
  /^license(\.txt)?$/i,
];
const REQUIRED = ['dist/extension.js', 'dist/cli.js', 'dist/server.js', 'dist/mcp.js', 'media/dashboard.js', 'media/transcript.js', 'package.json', /^readme\.md$/i, /^license(\.txt)?$/i];
const FORBIDDEN = [/^(src|test|out|webview-ui|scripts|bench|node_modules|\.cs|\.tmp)\//, /\.ts$/, /\.map$/, /^media\/screenshots\//];

/** File names in a zip, from its central directory. */
function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt central directory');
    const n = buf.readUInt16LE(p + 28), extra = buf.readUInt16LE(p + 30), comment = buf.readUInt16LE(p + 32);
    names.push(buf.toString('utf8', p + 46, p + 46 + n));
    p += 46 + n + extra + comment;
  }
  return names;
}

const problems = [];
const inVsix = zipEntries(readFileSync(file))
  .filter((n) => n.startsWith('extension/'))
  .map((n) => n.slice('extension/'.length));
const listed = execFileSync('npx', ['vsce', 'ls', '--no-dependencies'], { encoding: 'utf8' }).split('\n').filter(Boolean);

for (const [where, names] of [['VSIX', inVsix], ['vsce ls', listed]]) {
  for (const n of names) {
    if (FORBIDDEN.some((re) => re.test(n))) problems.push(`${where}: must not contain ${n}`);
    else if (!ALLOWED.some((re) => re.test(n))) problems.push(`${where}: unexpected file ${n}`);
  }
}
for (const r of REQUIRED) {
  if (!inVsix.some((n) => (typeof r === 'string' ? n === r : r.test(n)))) problems.push(`VSIX: missing ${r}`);
}

const kb = (statSync(file).size / 1024).toFixed(1);
console.log(`${file}: ${inVsix.length} files, ${kb} KB`);
for (const n of inVsix) console.log(`  ${n}`);
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
