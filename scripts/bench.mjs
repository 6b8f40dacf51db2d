// `npm run bench [name ...]`: builds, compiles, then runs bench/<name>.ts programs one after another (all by
// default). They print figures and assert nothing; each one's output is also kept in bench-results/<name>.txt.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';

const names = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync('bench').filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).sort();
execFileSync('node', ['scripts/build.mjs'], { stdio: 'inherit' });
// Type errors elsewhere must not stop the figures; the typecheck layer of npm test reports them.
spawnSync('npx', ['tsc', '-p', 'tsconfig.test.json'], { stdio: 'ignore' });
mkdirSync('bench-results', { recursive: true });
let failed = 0;
for (const name of names) {
  console.log(`\n===== bench/${name} =====`);
  const r = spawnSync('node', [`out/bench/${name}.js`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  process.stdout.write(r.stdout ?? '');
  writeFileSync(`bench-results/${name}.txt`, r.stdout ?? '');
  if (r.status !== 0) {
    failed++;
    console.log(`bench/${name} exited with ${r.status}`);
  }
}
process.exit(failed ? 1 : 0);
