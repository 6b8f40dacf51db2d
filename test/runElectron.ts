// The same extension-host suites under desktop VS Code via @vscode/test-electron, for machines that can download
// VS Code (this CI cannot: update.code.visualstudio.com does not resolve, so CI uses code-server; see README).
// Each suite gets the session exthostLayer.ts gives it in code-server: a fresh user-data-dir with its settings,
// an empty workspace folder, its env. Usage: node scripts/build.mjs && npx tsc -p tsconfig.test.json &&
//   node out/test/runElectron.js [suite ...]      (VSCODE_VERSION=1.99.3 by default; needs a display or xvfb-run)
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';
import { REPO_ROOT } from './support/codeServer';
import { allSuites, sessionFor } from './support/exthostLayer';

async function main(args: string[]): Promise<number> {
  let failed = 0;
  for (const suite of args.length ? args : allSuites()) {
    const session = sessionFor(suite);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `speedrun-electron-${suite}-`));
    const userData = path.join(tmp, 'user-data');
    fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
    fs.writeFileSync(path.join(userData, 'User/settings.json'), JSON.stringify(session.settings, null, 2));
    const workspace = path.join(tmp, 'workspace');
    if (session.workspace === 'empty') fs.mkdirSync(workspace);
    const resultsFile = path.join(tmp, 'results.json');
    try {
      await runTests({
        version: process.env.VSCODE_VERSION ?? '1.99.3',
        extensionDevelopmentPath: REPO_ROOT,
        extensionTestsPath: path.join(REPO_ROOT, 'dist/test/exthost/index.js'),
        launchArgs: [...(session.workspace === 'empty' ? [workspace] : []), '--user-data-dir', userData, '--disable-extensions', '--disable-workspace-trust'],
        extensionTestsEnv: { ...session.env, SPEEDRUN_EXTHOST_SUITES: suite, SPEEDRUN_EXTHOST_RESULTS: resultsFile },
      });
      console.log(`${suite}: passed`);
    } catch (e) {
      failed++;
      console.error(`${suite}: FAILED (${(e as Error).message})`);
      if (fs.existsSync(resultsFile)) console.error(fs.readFileSync(resultsFile, 'utf8'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => {
  console.error(e);
  process.exit(1);
});
