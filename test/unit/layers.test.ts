// The layer rules of docs/ARCHITECTURE.md, checked over every import in the source tree (type-only ones too).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../../..');

interface Import {
  from: string;
  /** A repository path (src/core/...) for relative imports, else the package name as written. */
  to: string;
  typeOnly: boolean;
}

function tsFiles(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => path.posix.join(dir, f.split(path.sep).join('/')));
}

function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
  const out: Import[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    const to = spec.startsWith('.') ? path.posix.normalize(path.posix.join(path.posix.dirname(file), spec)) : spec;
    out.push({ from: file, to, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = !!c && (c.isTypeOnly || (!c.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.arguments.length === 1 && ts.isStringLiteral(node.arguments[0])
      && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      add(node.arguments[0].text, false);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      add(node.argument.literal.text, true);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const under = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);
const isVscode = (i: Import) => i.to === 'vscode';
const into = (...dirs: string[]) => (i: Import) => dirs.some((d) => under(i.to, d));

function violations(dir: string, bad: (i: Import) => boolean): string[] {
  return tsFiles(dir).flatMap(importsOf).filter(bad).map((i) => `${i.from} imports ${i.to}`);
}

suite('layers: import rules over the source tree', () => {
  test('the checker sees imports of every kind', () => {
    const seen = importsOf('src/vscode/dashboard/dashboardPanel.ts');
    assert.ok(seen.some((i) => i.to === 'vscode' && !i.typeOnly));
    assert.ok(seen.some((i) => i.to === 'src/shared/protocol' && i.typeOnly));
    assert.ok(seen.some((i) => i.to === 'src/core/runs/store' && !i.typeOnly));
    assert.ok(tsFiles('src/core').length > 30 && tsFiles('webview-ui').length >= 5);
  });

  test('core imports neither vscode nor any face, nor src/shared', () => {
    assert.deepEqual(violations('src/core', (i) => isVscode(i) || into('src/shared', 'src/vscode', 'src/server', 'src/cli', 'webview-ui')(i)), []);
  });

  test('src/shared imports no vscode and no face, and core only as types (webview bundles stay free of it)', () => {
    assert.deepEqual(violations('src/shared', (i) => isVscode(i) || into('src/vscode', 'src/server', 'src/cli', 'webview-ui')(i)
      || (into('src/core')(i) && !i.typeOnly)), []);
  });

  test('webview-ui imports only itself, src/shared and its chart libraries', () => {
    const allowed = (i: Import) => into('webview-ui', 'src/shared')(i) || /^chart(\.js|js-plugin-zoom)$/.test(i.to);
    assert.deepEqual(violations('webview-ui', (i) => !allowed(i)), []);
  });

  test('the faces do not import each other; only the editor face imports vscode', () => {
    const editor = [...tsFiles('src/vscode'), 'src/extension.ts'].flatMap(importsOf).filter(into('src/server', 'src/cli'));
    assert.deepEqual(editor.map((i) => `${i.from} imports ${i.to}`), []);
    assert.deepEqual(violations('src/server', (i) => isVscode(i) || into('src/vscode', 'src/cli')(i)), []);
    assert.deepEqual(violations('src/cli', (i) => isVscode(i) || into('src/vscode', 'src/server')(i)), []);
    assert.deepEqual(importsOf('src/cli.ts').filter((i) => isVscode(i) || into('src/vscode', 'src/server')(i)), []);
  });
});
