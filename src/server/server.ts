// Speedrun Workbench language server. Started by the extension over IPC for train_gpt2.py in task workspaces,
// or standalone (`node dist/server.js --stdio`) for any LSP editor. It reports the rules a benchmark run must
// keep as diagnostics with quick fixes, offers code lenses (in VS Code), and hosts the agent loop.
import { fileURLToPath } from 'node:url';
import * as path from 'node:path';
import {
  CodeActionKind, type CodeAction, type CodeLens, type Diagnostic, DiagnosticSeverity, ProposedFeatures, TextDocumentSyncKind,
  TextDocuments, createConnection,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { type Violation, checkScript } from '../core/rules';
import { takeSealKey } from '../core/seal';
import { AgentSessions } from './agentSession';
import { watchFrames } from './frames';
import { baselineText, findTaskDir, loadTask } from './taskLookup';

/** Options the client may pass in `initializationOptions`. */
export interface ServerInitOptions {
  /** Offer code lenses that run Speedrun Workbench commands (only the VS Code extension has them). */
  codeLens?: boolean;
  /** Interpreter for the syntax check; false = never start one. Default: python3. */
  python?: string | false;
}

const SOURCE = 'speedrun';
const SCRIPT = 'train_gpt2.py';

// Over stdio a broken frame would leave the server alive but deaf: exit with the reason so the client restarts it.
if (process.argv.includes('--stdio')) {
  watchFrames(process.stdin, (reason) => {
    process.stderr.write(`speedrun language server: the client sent a broken message frame: ${reason}. Exiting so the client can restart the server.\n`);
    process.exit(2);
  });
}
const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let options: ServerInitOptions = {};
const reports = new Map<string, { version: number; violations: Violation[] }>();
const timers = new Map<string, NodeJS.Timeout>();

connection.onInitialize((params) => {
  options = (params.initializationOptions ?? {}) as ServerInitOptions;
  if (options.python === undefined && process.env.SPEEDRUN_PYTHON) options.python = process.env.SPEEDRUN_PYTHON;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
      codeLensProvider: options.codeLens ? { resolveProvider: false } : undefined,
    },
    serverInfo: { name: 'speedrun-workbench' },
  };
});

function scriptFile(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  const file = fileURLToPath(uri);
  return path.basename(file) === SCRIPT ? file : undefined;
}

function schedule(doc: TextDocument): void {
  clearTimeout(timers.get(doc.uri));
  timers.set(
    doc.uri,
    setTimeout(() => {
      timers.delete(doc.uri);
      validate(doc).catch((e) => connection.console.error(`rule check failed: ${(e as Error).stack ?? e}`));
    }, 250),
  );
}

async function validate(doc: TextDocument): Promise<void> {
  const file = scriptFile(doc.uri);
  const taskDir = file && findTaskDir(file);
  const info = taskDir ? loadTask(taskDir) : undefined;
  if (!info) {
    reports.delete(doc.uri);
    await connection.sendDiagnostics({ uri: doc.uri, diagnostics: [] });
    return;
  }
  const version = doc.version;
  const report = await checkScript(doc.getText(), baselineText(info), { python: options.python });
  if (documents.get(doc.uri)?.version !== version) return; // a newer check is on its way
  reports.set(doc.uri, { version, violations: report.violations });
  const diagnostics: Diagnostic[] = report.violations.map((v, index) => ({
    range: v.range,
    severity: v.severity === 'error' ? DiagnosticSeverity.Error : DiagnosticSeverity.Warning,
    source: SOURCE,
    code: v.rule,
    message: v.message,
    data: { index, version },
  }));
  if ('error' in info.baseline) {
    diagnostics.push({
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      severity: DiagnosticSeverity.Information,
      source: SOURCE,
      message: `The starting script of record ${info.task.fromRecord} is unavailable (${info.baseline.error}); only the checks that need no comparison are on.`,
    });
  }
  await connection.sendDiagnostics({ uri: doc.uri, version, diagnostics });
}

documents.onDidOpen((e) => schedule(e.document));
documents.onDidChangeContent((e) => schedule(e.document));
documents.onDidClose((e) => {
  clearTimeout(timers.get(e.document.uri));
  reports.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onCodeAction((params) => {
  const report = reports.get(params.textDocument.uri);
  const doc = documents.get(params.textDocument.uri);
  if (!report || !doc || doc.version !== report.version) return [];
  const actions: CodeAction[] = [];
  for (const d of params.context.diagnostics) {
    const data = d.data as { index?: number; version?: number } | undefined;
    if (d.source !== SOURCE || data?.version !== report.version || data.index === undefined) continue;
    const fix = report.violations[data.index]?.fix;
    if (!fix) continue;
    actions.push({
      title: fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { documentChanges: [{ textDocument: { uri: doc.uri, version: doc.version }, edits: fix.edits }] },
    });
  }
  return actions;
});

connection.onCodeLens((params): CodeLens[] => {
  const file = scriptFile(params.textDocument.uri);
  if (!options.codeLens || !file || !findTaskDir(file)) return [];
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  return [
    { range, command: { title: '$(play) Run', command: 'speedrun.run' } },
    { range, command: { title: '$(diff) Compare with Reference Record', command: 'speedrun.compareWithReference' } },
    { range, command: { title: '$(sparkle) Ask Agent', command: 'speedrun.startAgent' } },
  ];
});

new AgentSessions(connection, () => options.python, takeSealKey()).register();

documents.listen(connection);
connection.listen();
