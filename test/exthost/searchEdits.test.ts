// Watch Edits in a real VS Code (code-server): a search on disk as `speedrun search` lays it out, with nodes
// being written; this test plays the writer (atomic rewrites of v_<n>/train_gpt2.py, then meta.json's status)
// and checks what the live view shows, that focus never moves, and that following moves to the next node.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeAtomic } from '../../src/core/files';
import { resolveScaffold } from '../../src/core/search/presets';
import { newSearchId, SearchStore, type NodeMeta, type NodeStatus } from '../../src/core/search/tree';
import type { Workspace } from '../../src/vscode/services';
import type { SearchTree } from '../../src/vscode/search/searchView';
import type { EditWatch } from '../../src/vscode/search/watchEdits';
import { openTaskHere } from '../support/exthostTask';
import { waitFor } from '../support/waitFor';


type TreeEl = { kind: string; node?: NodeMeta };

suite('search: Watch Edits', function () {
  this.timeout(120_000);
  let tree: SearchTree;
  let store: SearchStore;
  let root: string;
  let userEditor: vscode.TextEditor;

  const meta = (id: number, status: NodeStatus): NodeMeta => ({
    id, parent: 0, children: [], bugDepth: 0, hypothesis: `node ${id}`, createdAt: new Date().toISOString(), status, round: 1, debug: false, idea: 'model',
  });
  /** What the writer does when a child starts: the parent's script at once, status writing. */
  const startNode = (id: number) => {
    store.writeScript(id, root);
    store.writeMeta(meta(id, 'writing'));
  };
  const rewrite = (id: number, text: string) => writeAtomic(path.join(store.nodeDir(id), 'train_gpt2.py'), text);
  const setStatus = (id: number, status: NodeStatus) => store.writeMeta(meta(id, status));
  /** `count` consecutive lines of the root from line `from`, each with a comment: a change of many lines. */
  const edit = (text: string, from: number, count: number, note: string) =>
    text.split('\n').map((l, i) => (i >= from && i < from + count ? `${l}  # ${note}` : l)).join('\n');

  const liveDoc = (uri: vscode.Uri) => vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  const diffTabs = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.scheme === 'speedrun-node-live');
  const nodeItem = (id: number): unknown => {
    const [search] = tree.getChildren();
    const [start] = tree.getChildren(search as never);
    return tree.getChildren(start as never).find((el) => (el as TreeEl).node?.id === id);
  };
  const searchItem = (): unknown => tree.getChildren()[0];

  /** Every text the live document passes through until it equals `final`. */
  async function framesUntil(uri: vscode.Uri, final: () => string): Promise<string[]> {
    const seen: string[] = [];
    const sub = vscode.workspace.onDidChangeTextDocument((e) => e.document.uri.toString() === uri.toString() && seen.push(e.document.getText()));
    try {
      await waitFor('the live view to reach the file', () => liveDoc(uri)?.getText() === final());
    } finally {
      sub.dispose();
    }
    return seen;
  }

  const assertFocusStayed = () => {
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), userEditor.document.uri.toString(), 'focus stayed in the user\'s editor');
    assert.equal(vscode.window.activeTextEditor?.viewColumn, vscode.ViewColumn.One);
    assert.ok(userEditor.selection.isEqual(new vscode.Selection(5, 3, 5, 3)), 'the cursor did not move');
  };

  suiteSetup(async () => {
    const { api, taskDir } = await openTaskHere<{ workspace: Workspace; search: SearchTree }>(12);
    tree = api.search;
    const scriptPath = path.join(taskDir, 'train_gpt2.py');
    root = fs.readFileSync(scriptPath, 'utf8');
    store = new SearchStore(taskDir, newSearchId());
    store.create(
      {
        version: 1, searchId: store.searchId, taskId: 12, fromRecord: 12, toRecord: 13, baselineMs: 1000, targetMs: 900,
        scaffold: resolveScaffold('forest'), seed: 1, hintLevels: [], backend: 'openai', model: 'fake', targets: ['sim'], budget: { nodes: 6 }, createdAt: new Date().toISOString(),
      },
      root,
      { valLoss: 3.28, nSteps: 1875 },
    );
    for (const id of [1, 2, 3]) startNode(id);
    // The user works in the script, cursor somewhere in it.
    userEditor = await vscode.window.showTextDocument(vscode.Uri.file(scriptPath), { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(5, 3, 5, 3) });
    await waitFor('the search in the Search view', () => nodeItem(3));
  });

  test('a node being written opens on click; each rewrite plays in frames; the end shows the final text; focus never moves', async () => {
    const item = nodeItem(1);
    const ti = tree.getTreeItem(item as never);
    assert.equal(ti.command?.command, 'speedrun.watchNodeEdits', 'clicking a writing node watches its edits');
    assert.equal(ti.contextValue, 'searchNode.writing');

    const watch = (await vscode.commands.executeCommand<EditWatch>(ti.command!.command, ...(ti.command!.arguments ?? [])))!;
    assert.ok(watch.uri);
    const uri = watch.uri;
    const tab = await waitFor('the live diff tab', () => diffTabs().find((t) => (t.input as vscode.TabInputTextDiff).modified.toString() === uri.toString()));
    assert.equal((tab.input as vscode.TabInputTextDiff).original.fsPath, path.join(store.nodeDir(0), 'train_gpt2.py'), 'against the parent\'s script');
    assert.match(tab.label, new RegExp(`^v_1 being written \\(from v_0\\) · search ${store.searchId}$`));
    assert.notEqual(tab.group.viewColumn, vscode.ViewColumn.One, 'beside the user\'s editor');
    await waitFor('the live document', () => liveDoc(uri)?.getText() === root);
    assertFocusStayed();

    // Two model rounds: each lands as one atomic rewrite.
    const first = edit(root, 40, 12, 'round 1');
    rewrite(1, first);
    const seen1 = await framesUntil(uri, () => first);
    const between1 = new Set(seen1.filter((t) => t !== root && t !== first));
    assert.ok(between1.size >= 3, `the first rewrite showed intermediate frames (${between1.size} of ${seen1.length} versions)`);
    // Each intermediate frame: some of the 12 lines rewritten from the top, the rest still old.
    for (const t of between1) {
      const done = t.split('\n').slice(40, 52).map((l) => l.endsWith('# round 1'));
      assert.ok(done.indexOf(false) > 0 && !done.slice(done.indexOf(false)).includes(true), 'written top to bottom');
    }
    assertFocusStayed();

    const second = edit(first, 80, 8, 'round 2');
    rewrite(1, second);
    const seen2 = await framesUntil(uri, () => second);
    const between2 = seen2.filter((t) => t !== first && t !== second);
    assert.ok(between2.length >= 2, `the second rewrite played too (${between2.length} of ${seen2.length} versions; lines ${JSON.stringify(second.split('\n').slice(80, 88))})`);
    assert.match(watch.label, /v_1 being written/);

    // Writing ends: the final script in place, then the status.
    const final = edit(second, 100, 2, 'final');
    rewrite(1, final);
    setStatus(1, 'running');
    await waitFor('the end to be told', () => /v_1 written · running/.test(watch.label) && watch.label);
    await framesUntil(uri, () => fs.readFileSync(path.join(store.nodeDir(1), 'train_gpt2.py'), 'utf8'));
    assert.match(liveDoc(uri)!.getText(), /# final/, 'the live view ends equal to the final file');
    assertFocusStayed();
  });

  test('following a search moves to its next node being written, closing the finished one\'s view', async () => {
    const watch = (await vscode.commands.executeCommand<EditWatch>('speedrun.watchSearchEdits', searchItem()))!;
    assert.equal(watch.nodeId, 2, 'the first node being written (v_1 is done)');
    const v2 = watch.uri!;
    const tab2 = await waitFor('v_2\'s live view', () => diffTabs().find((t) => (t.input as vscode.TabInputTextDiff).modified.toString() === v2.toString()));
    assert.match(tab2.label, /^v_2 being written \(from v_0\) · search \S+ \(following\)$/);

    const text2 = edit(root, 90, 6, 'v_2');
    rewrite(2, text2);
    await framesUntil(v2, () => text2);
    setStatus(2, 'written');

    await waitFor('following to move on to v_3', () => watch.nodeId === 3);
    const v3 = watch.uri!;
    const tab3 = await waitFor('v_3\'s live view', () => diffTabs().find((t) => (t.input as vscode.TabInputTextDiff).modified.toString() === v3.toString()));
    assert.match(tab3.label, /^v_3 being written \(from v_0\)/, 'the title names the node now followed');
    await waitFor('v_2\'s view to close', () => !diffTabs().some((t) => (t.input as vscode.TabInputTextDiff).modified.toString() === v2.toString()));
    assert.match(watch.label, /v_3 being written/);

    const text3 = edit(root, 60, 10, 'v_3');
    rewrite(3, text3);
    const seen3 = await framesUntil(v3, () => text3);
    assert.ok(seen3.filter((t) => t !== root && t !== text3).length >= 3, 'v_3\'s rewrite played in frames');
    // v_3 fails: the writer puts the parent's script back.
    rewrite(3, root);
    setStatus(3, 'failed');
    await waitFor('v_3\'s end', () => /v_3 failed/.test(watch.label));
    await framesUntil(v3, () => root);
    assertFocusStayed();
  });

  test('Show Node Transcript opens the node\'s transcript.jsonl in a panel of its own beside the editor; a node without one opens nothing', async () => {
    const at = new Date().toISOString();
    const sessionId = `${store.searchId}/v_1`;
    const events = [
      { type: 'prompt', turn: 1, round: 1, messages: [{ role: 'user', content: 'Make it faster.' }], sessionId, at },
      { type: 'response', turn: 1, round: 1, text: 'Comment the model.', usage: { promptTokens: 10, completionTokens: 5 }, tokensUsed: 15, sessionId, at },
      { type: 'edit', turn: 1, round: 1, applied: [1], failures: [], linesAdded: 12, linesRemoved: 12, sessionId, at },
    ];
    fs.writeFileSync(path.join(store.nodeDir(1), 'transcript.jsonl'), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const panels = () => vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('speedrun.nodeTranscript'));

    await vscode.commands.executeCommand('speedrun.showNodeTranscript', nodeItem(2));
    assert.equal(panels().length, 0, 'v_2 has no transcript: nothing opens');
    await vscode.commands.executeCommand('speedrun.showNodeTranscript', nodeItem(1));
    const tab = await waitFor('the node transcript panel', () => panels()[0]);
    assert.equal(tab.label, `Transcript: v_1 · search ${store.searchId}`);
    assert.notEqual(tab.group.viewColumn, vscode.ViewColumn.One, 'beside the user\'s editor');
  });
});
