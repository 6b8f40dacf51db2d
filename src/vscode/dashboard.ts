// PLACEHOLDER: replaced by the helper that owns this area.
import * as vscode from 'vscode';
export class DashboardController implements vscode.Disposable {
  constructor(..._args: unknown[]) {}
  dispose() {}
}
