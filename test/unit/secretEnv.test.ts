// Model keys stay with the process that read them: a local target's run (a script an agent may have written)
// does not inherit them, whatever the CLI or editor was started with.
import * as assert from 'node:assert/strict';
import { LocalExecutor } from '../../src/core/remote/executor';
import { withoutKeys } from '../../src/core/secretEnv';

suite('secrets: model keys are not passed on', () => {
  test('a local target script sees neither key, and every other variable', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { SPEEDRUN_AGENT_API_KEY: 'sk-ours', OPENAI_API_KEY: 'sk-openai', SPEEDRUN_TEST_OTHER: 'kept' });
    const x = new LocalExecutor();
    try {
      const r = await x.exec('printf "%s|%s|%s" "${SPEEDRUN_AGENT_API_KEY-unset}" "${OPENAI_API_KEY-unset}" "${SPEEDRUN_TEST_OTHER-unset}"');
      assert.equal(r.stdout, 'unset|unset|kept');
    } finally {
      x.close();
      for (const k of ['SPEEDRUN_AGENT_API_KEY', 'OPENAI_API_KEY', 'SPEEDRUN_TEST_OTHER']) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test('withoutKeys drops only the names given and leaves its input alone', () => {
    const env = { A: '1', SPEEDRUN_AGENT_API_KEY: 'k', OPENAI_API_KEY: 'o' };
    assert.deepEqual(withoutKeys(env, ['SPEEDRUN_AGENT_API_KEY']), { A: '1', OPENAI_API_KEY: 'o' });
    assert.deepEqual(withoutKeys(env), { A: '1' });
    assert.equal(env.SPEEDRUN_AGENT_API_KEY, 'k');
  });
});
