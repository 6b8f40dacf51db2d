import * as assert from 'node:assert/strict';
import { checkRules, checkScript, describeViolations, type RuleId, type Violation } from '../../src/core/rules';
import { fallbackCheck } from '../../src/core/rules/syntax';
import { applyEdits, mutate, recordScript } from './agentHelpers';

// Record 12 of our fixture clone is the starting script; each test breaks one rule in a copy of it.
const BASE = recordScript(12);
const VAL_PRINT = 'print0(f"step:{step}/{args.num_iterations} val_loss:{val_loss:.4f}';
const TRAIN_PRINT_LINE = /\n {4}print0\(f"step:\{step\+1\}.*\n/;

function only(violations: Violation[], rule: RuleId): Violation {
  assert.equal(violations.length, 1, `expected one violation, got: ${describeViolations(violations, '')}`);
  assert.equal(violations[0].rule, rule);
  return violations[0];
}

/** Applying the violation's quick fix clears every violation and gives back the starting script. */
function fixRestoresBaseline(script: string, v: Violation) {
  assert.ok(v.fix, `no quick fix for: ${v.message}`);
  const fixed = applyEdits(script, v.fix.edits);
  assert.deepEqual(checkRules(fixed, BASE), []);
  assert.equal(fixed, BASE);
}

// python3 starts in a child process for the syntax check; on a busy machine that takes seconds.
const PYTHON_TIMEOUT = 60_000;

suite('agent rules: a starting script and harmless edits', function () {
  this.timeout(PYTHON_TIMEOUT);
  test('the starting script of every fixture record breaks no rule against itself', async () => {
    for (const r of [1, 3, 8, 12, 18, 19, 21]) {
      const s = recordScript(r);
      const report = await checkScript(s, s);
      assert.deepEqual(report.violations, [], `record ${r}`);
      assert.match(report.syntaxMethod, /^python3 3\./);
    }
  });

  test('reformatting the protected lines (spaces, quotes, comments) is not a violation', () => {
    let s = mutate(BASE, 'val_files = os.environ["NANOGPT_VAL_FILES"]', "val_files=os.environ[ 'NANOGPT_VAL_FILES' ]  # validation shards");
    s = mutate(s, 'save_checkpoint : bool = False', 'save_checkpoint: bool = False  # never')
    s = mutate(s, VAL_PRINT, 'print0( f"step:{step}/{args.num_iterations} val_loss:{val_loss:.4f}');
    assert.deepEqual(checkRules(s, BASE), []);
  });

  test('a faster schedule (the kind of change an attempt makes) is not a violation', () => {
    const s = mutate(BASE, 'num_iterations : int = 1875', 'num_iterations : int = 1750');
    assert.deepEqual(checkRules(s, BASE), []);
  });
});

suite('agent rules: data files and val_tokens', () => {
  test('a changed val_tokens is flagged on its line, and the fix restores the line', () => {
    const s = mutate(BASE, 'val_tokens = int(os.environ["NANOGPT_VAL_TOKENS"])', 'val_tokens = 1048576');
    const v = only(checkRules(s, BASE), 'data-files');
    assert.equal(v.severity, 'error');
    assert.equal(v.range.start.line, s.split('\n').findIndex((l) => l.includes('val_tokens = 1048576')));
    assert.match(v.message, /val_tokens/);
    assert.match(v.message, /NANOGPT_VAL_TOKENS/);
    fixRestoresBaseline(s, v);
  });

  test('train files read from a hard-coded path instead of the environment are flagged', () => {
    const s = mutate(BASE, 'train_files = os.environ["NANOGPT_TRAIN_FILES"]', 'train_files = "/data/fineweb_train_*.bin"');
    const v = only(checkRules(s, BASE), 'data-files');
    assert.match(v.message, /train_files/);
    fixRestoresBaseline(s, v);
  });

  test('a removed val_files line is flagged and the fix puts it back in place', () => {
    const s = mutate(BASE, /\n {4}val_files = os\.environ\["NANOGPT_VAL_FILES"\]/, '');
    const v = only(checkRules(s, BASE), 'data-files');
    assert.match(v.message, /removed/);
    fixRestoresBaseline(s, v);
  });

  test('overriding the setting later in the script is flagged, with a fix that removes the override', () => {
    const s = mutate(BASE, 'args = Hyperparameters()\n', 'args = Hyperparameters()\nargs.val_tokens = args.val_tokens // 4\n');
    const v = only(checkRules(s, BASE), 'data-files');
    assert.match(v.message, /overrides/);
    fixRestoresBaseline(s, v);
  });

  test('without the starting script, dropping an environment variable is still caught', () => {
    const s = mutate(BASE, 'os.environ["NANOGPT_VAL_FILES"]', '"val.bin"');
    const v = only(checkRules(s), 'data-files');
    assert.match(v.message, /NANOGPT_VAL_FILES/);
  });
});

suite('agent rules: save_checkpoint', () => {
  test('save_checkpoint = True is flagged and the fix sets it back to False', () => {
    const s = mutate(BASE, 'save_checkpoint : bool = False', 'save_checkpoint : bool = True');
    const v = only(checkRules(s, BASE), 'save-checkpoint');
    assert.match(v.message, /False/);
    fixRestoresBaseline(s, v);
  });

  test('turning it on later (args.save_checkpoint = 1) is flagged too', () => {
    const s = mutate(BASE, 'args = Hyperparameters()\n', 'args = Hyperparameters()\nargs.save_checkpoint = 1\n');
    const v = only(checkRules(s, BASE), 'save-checkpoint');
    assert.equal(v.range.start.line, s.split('\n').indexOf('args.save_checkpoint = 1'));
  });

  test('removing the setting is flagged and the fix restores it', () => {
    const s = mutate(BASE, /\n {4}save_checkpoint : bool = False/, '');
    fixRestoresBaseline(s, only(checkRules(s, BASE), 'save-checkpoint'));
  });
});

suite('agent rules: logging calls', () => {
  test('a changed validation print is flagged on the call, and the fix restores it', () => {
    const s = mutate(BASE, 'val_loss:{val_loss:.4f}', 'loss:{val_loss:.3f}');
    const v = only(checkRules(s, BASE), 'logging');
    const line = s.split('\n').findIndex((l) => l.includes('loss:{val_loss:.3f}'));
    assert.equal(v.range.start.line, line);
    assert.match(v.message, /val_loss/);
    fixRestoresBaseline(s, v);
  });

  test('a removed training-step print is flagged and the fix inserts it again', () => {
    const s = mutate(BASE, TRAIN_PRINT_LINE, '\n');
    const v = only(checkRules(s, BASE), 'logging');
    assert.match(v.message, /removed/);
    fixRestoresBaseline(s, v);
  });

  test('a print commented out counts as removed', () => {
    const s = mutate(BASE, `        ${VAL_PRINT}`, `        # ${VAL_PRINT}`);
    assert.equal(only(checkRules(s, BASE), 'logging').rule, 'logging');
  });

  test('other prints (not steps or losses) may change', () => {
    const s = mutate(BASE, 'print0(f"Running pytorch {torch_version()}")', 'print0(f"torch {torch_version()}")');
    assert.deepEqual(checkRules(s, BASE), []);
  });
});

suite('agent rules: plain torchrun', () => {
  test('reading a command-line argument is flagged', () => {
    const s = mutate(BASE, 'args = Hyperparameters()\n', 'args = Hyperparameters()\nargs.learning_rate = float(sys.argv[1])\n');
    const v = only(checkRules(s, BASE), 'torchrun');
    assert.match(v.message, /no arguments/);
  });

  test('a required argparse argument is flagged, an optional one is not', () => {
    const add = (arg: string) => mutate(BASE, 'args = Hyperparameters()\n', `import argparse\np = argparse.ArgumentParser()\np.add_argument(${arg})\nargs = Hyperparameters()\n`);
    assert.equal(only(checkRules(add('"lr"'), BASE), 'torchrun').rule, 'torchrun');
    assert.equal(only(checkRules(add('"--lr", required=True'), BASE), 'torchrun').rule, 'torchrun');
    assert.deepEqual(checkRules(add('"--lr", type=float, default=0.1'), BASE), []);
  });

  test('a main() that is never called is flagged and the fix adds the entry point', () => {
    const s = `${BASE}\ndef main():\n    pass\n`;
    const v = only(checkRules(s, BASE), 'torchrun');
    const fixed = applyEdits(s, v.fix!.edits);
    assert.match(fixed, /if __name__ == "__main__":\n {4}main\(\)\n$/);
    assert.deepEqual(checkRules(fixed, BASE), []);
  });

  test('no longer reading RANK from the environment is flagged and the fix restores the line', () => {
    const s = mutate(BASE, 'master_process = int(os.environ.get("RANK", "0")) == 0', 'master_process = True');
    fixRestoresBaseline(s, only(checkRules(s, BASE), 'torchrun'));
  });

  test('removing init_process_group is flagged where the starting script has it, and the fix restores it', () => {
    const base = 'import os\nimport torch.distributed as dist\ndist.init_process_group(backend="nccl")\nrank = int(os.environ["RANK"])\n';
    const broken = base.replace('dist.init_process_group(backend="nccl")\n', '');
    const v = only(checkRules(broken, base), 'torchrun');
    assert.match(v.message, /init_process_group/);
    assert.equal(applyEdits(broken, v.fix!.edits), base);
  });
});

suite('agent rules: syntax', function () {
  this.timeout(PYTHON_TIMEOUT);
  const broken = mutate(BASE, 'tokens_per_step = args.batch_size * args.sequence_length', 'tokens_per_step = (args.batch_size * args.sequence_length');

  test('python3 finds a syntax error, with its position, and says it checked with python3', async () => {
    const report = await checkScript(broken, BASE);
    const v = report.violations.find((x) => x.rule === 'syntax');
    assert.ok(v, 'syntax violation');
    assert.equal(v.range.start.line, broken.split('\n').findIndex((l) => l.startsWith('tokens_per_step = (')));
    assert.match(v.message, /never closed/);
    assert.match(v.message, /python3 3\./);
  });

  test('python3 also catches errors ast.parse would let through (return outside a function)', async () => {
    const report = await checkScript(`${BASE}return 1\n`, BASE);
    assert.ok(report.violations.some((v) => v.rule === 'syntax' && /outside function/.test(v.message)));
  });

  test('without python3 the bracket/indent check still catches it and says so', async () => {
    const report = await checkScript(broken, BASE, { python: '/nonexistent/python3' });
    assert.match(report.syntaxMethod, /bracket\/indent check.*unavailable: ENOENT/);
    assert.ok(report.violations.some((v) => v.rule === 'syntax'));
  });

  test('the fallback check: brackets, strings, indentation', () => {
    assert.equal(fallbackCheck(BASE).ok, true);
    const cases: [string, RegExp][] = [
      ['x = [1, 2\n', /never closed/],
      ['x = (1]\n', /does not match/],
      ['s = "abc\n', /unterminated string/],
      ['s = """abc\n', /triple-quoted/],
      ['if x:\ny = 1\n', /expected an indented block/],
      ['x = 1\n    y = 2\n', /unexpected indent/],
      ['if x:\n        a = 1\n    b = 2\n', /unindent/],
    ];
    for (const [src, re] of cases) {
      const r = fallbackCheck(src);
      assert.equal(r.ok, false, src);
      if (!r.ok) assert.match(r.message, re, src);
    }
  });
});
