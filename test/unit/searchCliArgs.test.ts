// The argv of a search started or resumed from the editor (core/search/cliArgs.ts), read back by the CLI's own
// parser: hostile values (spaces, quotes, a leading dash, `--help`) stay one value of their option. Also the rule
// for what Resume Search does in each state.
import * as assert from 'node:assert/strict';
import { command as searchCommand } from '../../src/cli/search';
import { backendConfig } from '../../src/cli/backend';
import { parseCommandArgs, isHelpRequest } from '../../src/cli/common';
import { splitCommand } from '../../src/core/agent/backends/acp';
import { SearchArgsError, hintLevelArg, resumePlan, resumeSearchArgv, startSearchArgv, type SearchChoices } from '../../src/core/search/cliArgs';

const inv = { cli: '/ext/dist/cli.js', taskDir: '/tmp/my task "q"/task-12', targetsFile: '/tmp/x/targets.json', timeLimitMinutes: 45 };
const choices = (o: Partial<SearchChoices> = {}): SearchChoices => ({ scaffold: 'aide', hintLevels: [], writer: { kind: 'replay' }, targets: ['sim'], maxNodes: 20, ...o });
const parse = (argv: string[]) => {
  assert.equal(argv[0], inv.cli);
  assert.equal(argv[1], 'search');
  assert.equal(isHelpRequest(argv.slice(2)), false, 'no value reads as --help');
  return parseCommandArgs(searchCommand, argv.slice(2)).values;
};

suite('search: the argv of a search started from the editor', () => {
  test('a new search: every choice is one --flag=value the CLI reads back', () => {
    const argv = startSearchArgv(inv, choices({ scaffold: 'multi-aide', hintLevels: [3, 1, 2], writer: { kind: 'openai', model: 'o3-mini', baseUrl: 'http://127.0.0.1:9/v1' }, targets: ['box1', 'box2'], maxNodes: 7, seed: 3 }));
    const v = parse(argv);
    assert.equal(v['task-dir'], inv.taskDir);
    assert.equal(v['targets-file'], inv.targetsFile);
    assert.equal(v.scaffold, 'multi-aide');
    assert.equal(v.backend, 'openai');
    assert.equal(v.model, 'o3-mini');
    assert.equal(v['base-url'], 'http://127.0.0.1:9/v1');
    assert.equal(v['hint-level'], '1+2+3');
    assert.equal(v.target, 'box1,box2');
    assert.equal(v['max-nodes'], '7');
    assert.equal(v.seed, '3');
    assert.equal(v['time-limit'], '45');
    assert.equal(v.resume, undefined);
  });

  test('hostile values: a target and a model with spaces, quotes, a leading dash or --help stay single values', () => {
    const target = `box "one" 'two' $(rm -rf ~) --help`;
    const model = '--json';
    const argv = startSearchArgv(inv, choices({ writer: { kind: 'openai', model, baseUrl: 'https://x/v1' }, targets: [target, '-dash'] }));
    assert.equal(argv.filter((a) => a.includes(target)).length, 1);
    const v = parse(argv);
    assert.equal(v.target, `${target},-dash`);
    assert.equal(v.model, '--json');
    assert.equal(v.json, false, '--json stayed the model, not the flag');
  });

  test('an ACP agent command with spaces and quotes is one --agent-command value, split by the CLI as the setting says', () => {
    const cmd = `my-agent --flag "a b" 'c' --help`;
    const argv = startSearchArgv(inv, choices({ writer: { kind: 'acp', command: cmd }, hintLevels: [2] }));
    assert.equal(argv.filter((a) => a.includes('my-agent')).length, 1);
    const v = parse(argv);
    assert.deepEqual(backendConfig(v), { kind: 'acp', command: cmd });
    assert.deepEqual(splitCommand(cmd), ['my-agent', '--flag', 'a b', 'c', '--help']);
    assert.equal(v['hint-level'], '2');
  });

  test('replay plays the answer: no hint level is passed; hints none is the word none', () => {
    const v = parse(startSearchArgv(inv, choices({ hintLevels: [1] })));
    assert.equal(v.backend, 'replay');
    assert.equal(v['hint-level'], 'none', 'the CLI default, nothing passed');
    assert.ok(!startSearchArgv(inv, choices()).some((a) => a.startsWith('--hint-level')));
    assert.equal(hintLevelArg([]), 'none');
    assert.equal(hintLevelArg([2, 2]), '2');
  });

  test('choices the CLI would refuse are refused before anything runs', () => {
    assert.throws(() => hintLevelArg([0]), SearchArgsError, 'level 0 is the answer');
    assert.throws(() => startSearchArgv(inv, choices({ targets: ['a,b'] })), /comma/);
    assert.throws(() => startSearchArgv(inv, choices({ targets: [] })), /no target/);
    assert.throws(() => startSearchArgv(inv, choices({ maxNodes: 0 })), /max nodes/);
    assert.throws(() => startSearchArgv(inv, choices({ maxNodes: 2.5 })), /max nodes/);
    assert.throws(() => startSearchArgv(inv, choices({ scaffold: 'beam' as never })), /unknown scaffold/);
    assert.throws(() => startSearchArgv(inv, choices({ writer: { kind: 'openai', model: ' ', baseUrl: 'x' } })), /no model/);
    assert.throws(() => startSearchArgv(inv, choices({ writer: { kind: 'acp', command: '' } })), /acpCommand/);
  });

  test('resume: the id, the same task and targets file, nothing else', () => {
    const v = parse(resumeSearchArgv(inv, '20261201-041500-a3f9'));
    assert.equal(v.resume, '20261201-041500-a3f9');
    assert.equal(v['task-dir'], inv.taskDir);
    assert.equal(v['targets-file'], inv.targetsFile);
    assert.equal(v.scaffold, undefined, 'the search keeps its own settings');
    assert.throws(() => resumeSearchArgv(inv, '../../etc'), /not a search id/);
  });
});

suite('search: what Resume Search does', () => {
  test('by state and whether a task of this window runs the search', () => {
    const plans = (['running', 'paused', 'stopped', 'interrupted', 'done'] as const).map((s) => [s, resumePlan(s, false), resumePlan(s, true)]);
    assert.deepEqual(plans, [
      ['running', 'confirm-start', 'show-task'],
      ['paused', 'unpause-or-start', 'unpause'],
      ['stopped', 'start', 'show-task'],
      ['interrupted', 'start', 'show-task'],
      ['done', 'done', 'done'],
    ]);
    // A search that says running, not ours: its owner process decides.
    assert.deepEqual((['alive', 'gone', 'unknown'] as const).map((o) => resumePlan('running', false, o)), ['running-elsewhere', 'start', 'confirm-start']);
    assert.equal(resumePlan('running', true, 'gone'), 'show-task');
  });
});
