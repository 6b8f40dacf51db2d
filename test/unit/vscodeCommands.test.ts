import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMAND_IDS, CONTEXT_KEYS, runIdOf } from '../../src/vscode/commands';

const root = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

/** Every .ts file under a folder, with its text. */
function sources(dir: string): { file: string; text: string }[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: path.join(dir, f), text: fs.readFileSync(path.join(dir, f), 'utf8') }));
}
const vscodeSources = sources(path.join(root, 'src/vscode'));

/** The `speedrun.*` names in every `when` clause of the manifest that are not view ids. */
function contextNamesInWhenClauses(): Set<string> {
  const views = new Set<string>(Object.values(contributes.views).flat().map((v) => (v as { id: string }).id));
  const whens: string[] = [];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) {
        if (k === 'when' && typeof v === 'string') whens.push(v);
        else walk(v);
      }
    }
  };
  walk(contributes);
  const names = whens.flatMap((w) => w.match(/\bspeedrun(\.[A-Za-z]+)+/g) ?? []);
  return new Set(names.filter((n) => !views.has(n)));
}

suite('vscode: command and context key registry', () => {
  test('package.json contributes exactly the commands of the registry', () => {
    const declared = contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepEqual(declared, [...COMMAND_IDS].sort());
  });

  test('every menu, welcome link and walkthrough names a registered command', () => {
    const known = new Set<string>(COMMAND_IDS);
    const inMenus: string[] = Object.values(contributes.menus).flat().map((m) => (m as { command: string }).command);
    assert.ok(inMenus.length > 10, 'menus were read');
    for (const id of inMenus) assert.ok(known.has(id), `menu entry ${id} is not in the registry`);
    const text = JSON.stringify([contributes.viewsWelcome, contributes.walkthroughs]);
    const links = [...text.matchAll(/(?:command:|onCommand:)(speedrun\.[A-Za-z]+)/g)].map((m) => m[1]);
    assert.ok(links.length >= 5, 'links were read');
    for (const id of links) assert.ok(known.has(id), `link to ${id} is not in the registry`);
  });

  test('when clauses use only the typed context keys, and every key is used', () => {
    const used = contextNamesInWhenClauses();
    const onContext = [...JSON.stringify(contributes.walkthroughs).matchAll(/onContext:(speedrun\.[A-Za-z.]+)/g)].map((m) => m[1]);
    for (const k of [...used, ...onContext]) assert.ok((CONTEXT_KEYS as string[]).includes(k), `${k} is not a typed context key`);
    for (const k of CONTEXT_KEYS) assert.ok(used.has(k), `context key ${k} is set but no when clause reads it`);
  });

  test('every command of the registry is registered, every key set, both only through register.ts', () => {
    const all = vscodeSources.map((s) => s.text).join('\n');
    for (const id of COMMAND_IDS) assert.match(all, new RegExp(`registerCommand\\('${id.replace('.', '\\.')}'`), `${id} is never registered`);
    for (const k of CONTEXT_KEYS) assert.match(all, new RegExp(`setContext\\('${k.replace(/\./g, '\\.')}'`), `${k} is never set`);
    for (const s of vscodeSources) {
      if (s.file.endsWith('register.ts')) continue;
      assert.doesNotMatch(s.text, /vscode\.commands\.registerCommand\(|'setContext'/, `${s.file} bypasses register.ts`);
      assert.doesNotMatch(s.text, /vscode\.commands\.executeCommand\('speedrun\./, `${s.file} runs a speedrun command untyped`);
    }
  });

  test('runIdOf finds the run in ids, metas and tree items, and nothing else', () => {
    const id = '20261201-041500-ab12';
    assert.equal(runIdOf(id), id);
    assert.equal(runIdOf({ runId: id, state: 'queued' }), id);
    assert.equal(runIdOf({ meta: { runId: id } }), id);
    assert.equal(runIdOf('r1'), 'r1', 'any name that is safe as a directory');
    assert.equal(runIdOf({ runId: '../etc' }), undefined);
    assert.equal(runIdOf('a/b'), undefined);
    assert.equal(runIdOf('..'), undefined);
    assert.equal(runIdOf(42), undefined);
    assert.equal(runIdOf(null), undefined);
  });
});
