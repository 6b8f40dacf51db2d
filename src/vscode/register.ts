// Typed wrappers around vscode.commands for the ids and context keys of commands.ts: a handler's parameters and
// a caller's arguments are checked against the one map.
import * as vscode from 'vscode';
import type { CommandArgs, CommandId, ContextKey, ContextKeys } from './commands';

export function registerCommand<K extends CommandId>(id: K, handler: (...args: CommandArgs[K]) => unknown): vscode.Disposable {
  return vscode.commands.registerCommand(id, handler as (...args: unknown[]) => unknown);
}

export function executeCommand<K extends CommandId>(id: K, ...args: CommandArgs[K]): Thenable<unknown> {
  return vscode.commands.executeCommand(id, ...args);
}

/** A command for a tree item, status bar item or code lens. */
export function commandLink<K extends CommandId>(id: K, title: string, ...args: CommandArgs[K]): vscode.Command {
  return { command: id, title, arguments: args.length ? args : undefined };
}

export function setContext<K extends ContextKey>(key: K, value: ContextKeys[K]): void {
  void vscode.commands.executeCommand('setContext', key, value);
}
