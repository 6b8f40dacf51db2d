// Typed messages between the VS Code client (src/vscode/agent/) and the language server that hosts the
// agent (src/server/); the transcript webview's are in transcriptProtocol.ts and webviewMessages.ts. Edits themselves travel as standard LSP
// `workspace/applyEdit` requests whose label starts with AGENT_EDIT_LABEL (see AgentEditLabel).
import { NotificationType, RequestType } from 'vscode-languageserver-protocol';
import type { PermissionQuestion } from '../core/agent/backends/acp';
import type {
  AgentEvent, AgentHintLevel, BackendConfig, Budget, ChatMessage, RunOutcome, Usage,
} from '../core/agent/types';

// ---- client -> server ----

export interface StartAgentParams {
  /** Task folder (holds train_gpt2.py and .speedrun/). */
  taskDir: string;
  /** file: URI of the script, as the client names it. */
  scriptUri: string;
  hintLevels: AgentHintLevel[];
  backend: BackendConfig;
  /**
   * OpenAI-compatible backends only: the key from SecretStorage, sealed with the key the client gave the server
   * at spawn (src/core/seal.ts), so a verbose trace of this request shows no secret.
   */
  sealedApiKey?: string;
  target?: string;
  budget: Budget;
}
export const StartAgentRequest = new RequestType<StartAgentParams, { sessionId: string }, void>('speedrun/agent/start');
export const StopAgentNotification = new NotificationType<{ reason?: string }>('speedrun/agent/stop');

// ---- server -> client ----

/** Every session event, as it happens. */
export const AgentEventNotification = new NotificationType<AgentEvent>('speedrun/agent/event');

/** The live text of the script (opened by the client if needed) and its document version. */
export const ReadScriptRequest = new RequestType<{ uri: string }, { text: string; version: number }, void>('speedrun/agent/readScript');

/** Ask the user (or the auto-accept setting) to accept or reject the turn's edits. Reject restores the file. */
export const ReviewTurnRequest = new RequestType<{ turn: number; summary: string }, { decision: 'accept' | 'reject'; by: 'user' | 'auto' }, void>(
  'speedrun/agent/review',
);

/** Undo the turn's edits without asking (the agent gave up on the turn). */
export const RevertTurnRequest = new RequestType<{ turn: number; reason: string }, { restored: boolean; message?: string }, void>(
  'speedrun/agent/revertTurn',
);

/** Run the saved script on a target and resolve when the run ends. Cancelling the request cancels the run. */
export const RunScriptRequest = new RequestType<{ taskDir: string; turn: number; target?: string }, RunOutcome, void>(
  'speedrun/agent/run',
);
/** Sent by the client as soon as the run is queued, so the transcript can show it before it ends. */
export const RunStartedNotification = new NotificationType<{ turn: number; runId: string; target?: string }>('speedrun/agent/runStarted');

/** One chat completion from a VS Code language model (vscode.lm), proxied by the client. */
export interface LmChatParams {
  requestId: string;
  selector: { id?: string; vendor?: string; family?: string };
  messages: ChatMessage[];
}
export const LmChatRequest = new RequestType<LmChatParams, { text: string; usage: Usage }, void>('speedrun/agent/lmChat');
export const LmDeltaNotification = new NotificationType<{ requestId: string; text: string }>('speedrun/agent/lmDelta');

/** An ACP agent asks before a tool call (core/agent/backends/acp.ts); the client shows the diff and asks the user. */
export const AcpPermissionRequest = new RequestType<PermissionQuestion, { optionId?: string }, void>('speedrun/agent/acpPermission');

// ---- agent edits (workspace/applyEdit labels) ----

export const AGENT_EDIT_LABEL = 'speedrun-agent:';

export interface AgentEditLabel {
  turn: number;
  /** Checkpoint holding the script as it was before the turn (left side of the live diff). */
  checkpoint: number;
  /**
   * 'edit': the model's change (animated); 'restore': back to an earlier attempt at the start of a turn (instant);
   * 'final': back to the best attempt when the session ends (instant, saved at once, not reviewed).
   */
  kind: 'edit' | 'restore' | 'final';
}

export function encodeEditLabel(l: AgentEditLabel): string {
  return AGENT_EDIT_LABEL + JSON.stringify(l);
}

export function decodeEditLabel(label: string | undefined): AgentEditLabel | undefined {
  if (!label?.startsWith(AGENT_EDIT_LABEL)) return undefined;
  try {
    const l = JSON.parse(label.slice(AGENT_EDIT_LABEL.length)) as Partial<AgentEditLabel>;
    if (typeof l.turn !== 'number' || typeof l.checkpoint !== 'number' || !['edit', 'restore', 'final'].includes(l.kind as string)) return undefined;
    return { turn: l.turn, checkpoint: l.checkpoint, kind: l.kind as AgentEditLabel['kind'] };
  } catch {
    return undefined;
  }
}
