// What an MCP client waits for: starting `node dist/mcp.js` until the tool list arrives, and the round trip of
// the read-only tools an agent calls most (get_task, check_rules, run_status) on a task of the fixture clone.
// Target: start under 1 s, tool calls well under the 100 ms an agent's own model step takes. Prints medians.
// Run: node scripts/build.mjs && npx tsc -p tsconfig.test.json && node out/bench/mcp.js [rounds, default 20]
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { openTask } from '../src/core/benchmark/openTask';

const rounds = Number(process.argv[2] ?? 20);
const REPO = path.resolve(__dirname, '../..');
const FIXTURE = path.join(REPO, 'test/fixtures/benchmark');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = () => Number(process.hrtime.bigint()) / 1e6;

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-bench-mcp-'));
  try {
    const taskDir = openTask({ benchmarkPath: FIXTURE, taskId: 12, dest: path.join(dir, 'task') }).taskDir;
    const starts: number[] = [];
    let client: Client | undefined;
    for (let i = 0; i < Math.min(rounds, 5); i++) {
      const t = ms();
      const c = new Client({ name: 'bench', version: '1' });
      await c.connect(new StdioClientTransport({ command: process.execPath, args: [path.join(REPO, 'dist/mcp.js'), '--task-dir', taskDir, '--hint-levels', '1,2,3'], stderr: 'ignore' }));
      await c.listTools();
      starts.push(ms() - t);
      if (client) await c.close();
      else client = c;
    }
    console.log(`start + initialize + tools/list: median ${median(starts).toFixed(0)} ms over ${starts.length}`);
    for (const [name, args] of [['get_task', {}], ['check_rules', {}], ['run_status', {}], ['list_tasks', {}]] as const) {
      const xs: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t = ms();
        await client!.callTool({ name, arguments: args });
        xs.push(ms() - t);
      }
      console.log(`${name.padEnd(12)} median ${median(xs).toFixed(1)} ms over ${rounds} calls`);
    }
    await client!.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
