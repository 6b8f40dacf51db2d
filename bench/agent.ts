// Costs on the editor's hot paths of the agent: the rule check the language server runs as the user types
// (without and with python3), applying a response's SEARCH/REPLACE blocks, and following a streamed edit
// (one region update per ~100 ms frame). Prints medians; asserts nothing.
// Run: npx tsc -p tsconfig.test.json && node out/bench/agent.js [rounds, default 25]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyBlocks, parseBlocks } from '../src/core/agent/editFormat';
import { checkSyntax } from '../src/core/rules/syntax';
import { TurnRegions } from '../src/core/agent/regions';
import { checkRules } from '../src/core/rules';

const rounds = Number(process.argv[2] ?? 25);
const FIXTURES = path.resolve(__dirname, '../../test/fixtures/benchmark/workspace_templates/nanogpt_speedrun');
const base = fs.readFileSync(path.join(FIXTURES, 'record_12/train_gpt2.py'), 'utf8');

// Real record scripts run to 20-40 KB; pad the fixture with our own filler functions to about 40 KB.
let big = base;
for (let i = 0; big.length < 40_000; i++) big += `\ndef helper_${i}(x, y=${i}):\n    z = (x * y + ${i}) / (1 + abs(x))\n    return [z, {"k": "${i}"}]\n`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
function time(fn: () => void, n = rounds): number {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    fn();
    xs.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(xs);
}

async function main() {
  const edited = big.replace('num_iterations : int = 1875', 'num_iterations : int = 1750').replace('val_loss:{val_loss:.4f}', 'loss:{val_loss:.4f}');
  console.log(`script: ${(big.length / 1024).toFixed(1)} KB, ${big.split('\n').length} lines; ${rounds} rounds, medians`);
  console.log(`rule check (no python), unchanged script:   ${time(() => checkRules(big, big)).toFixed(2)} ms`);
  console.log(`rule check (no python), 2 lines changed:     ${time(() => checkRules(edited, big)).toFixed(2)} ms`);

  const py: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = Date.now();
    await checkSyntax(`${big}\n# ${i} ${Date.now()}\n`); // a new text each time: no cache hit
    py.push(Date.now() - t);
  }
  console.log(`syntax check with python3 (child process):   ${median(py)} ms (5 runs; machine load matters)`);
  const fb: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t = process.hrtime.bigint();
    await checkSyntax(big, { python: false });
    fb.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  console.log(`syntax check, bracket/indent fallback:       ${median(fb).toFixed(2)} ms`);

  const lines = big.split('\n');
  const blocks: string[] = [];
  for (const at of [20, 200, 400, 600, 800]) {
    const search = lines.slice(at, at + 4).join('\n');
    blocks.push(`train_gpt2.py\n<<<<<<< SEARCH\n${search.replace(/^ {4}/gm, '')}\n=======\n${search.toUpperCase()}\n>>>>>>> REPLACE\n`);
  }
  const parsed = parseBlocks(blocks.join('\n'));
  let applied = 0;
  const apply = time(() => (applied = applyBlocks(big, parsed.blocks).applied.length));
  console.log(`apply 5 blocks (indentation drift):          ${apply.toFixed(2)} ms (${applied} applied)`);
  const miss = parseBlocks(`<<<<<<< SEARCH\n${lines.slice(300, 306).join('\n')}X\n=======\nx\n>>>>>>> REPLACE\n`);
  console.log(`a block that matches nowhere (error text):   ${time(() => applyBlocks(big, miss.blocks)).toFixed(2)} ms`);

  // A 40-line rewrite streamed in 20 frames: the region bookkeeping per frame.
  const frameCost = time(() => {
    const r = new TurnRegions();
    let text = big;
    const start = big.indexOf('MODEL = dict(');
    let end = big.indexOf('\n)\n', start) + 2;
    const newText = big.slice(start, end).toUpperCase();
    for (let f = 1; f <= 20; f++) {
      const frame = newText.slice(0, Math.ceil((f * newText.length) / 20)) + big.slice(start + Math.ceil((f * newText.length) / 20), big.indexOf('\n)\n', start) + 2);
      r.agentChange(text, { start, end, text: frame });
      text = text.slice(0, start) + frame + text.slice(end);
      end = start + frame.length;
    }
    r.revertEdits();
  });
  console.log(`20 streamed frames + undo bookkeeping:       ${frameCost.toFixed(3)} ms in all`);
}

void main();
