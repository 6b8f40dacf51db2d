// Messages from the extension host to the agent transcript webview; the other direction is in
// webviewMessages.ts. The webview imports its types from here only (the layer rule: webview-ui sees src/shared).
import type { AgentEvent } from '../core/agent/types';

export type { AgentEvent };

export type ToTranscript =
  /** `caption`: what the status line says instead of the agent's state (a search node's read-only transcript). */
  | { type: 'init'; events: AgentEvent[]; running: boolean; pendingTurn: number | null; caption?: string }
  | { type: 'event'; event: AgentEvent }
  | { type: 'state'; running: boolean; pendingTurn: number | null };

const isEvent = (e: unknown): e is AgentEvent =>
  typeof e === 'object' && e !== null && typeof (e as AgentEvent).type === 'string' && typeof (e as AgentEvent).sessionId === 'string';
const isPending = (v: unknown) => v === null || (typeof v === 'number' && Number.isInteger(v));

/** Guard for what the transcript webview receives: the envelope and each event's type and session. */
export function isToTranscript(m: unknown): m is ToTranscript {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  switch (o.type) {
    case 'init':
      return Array.isArray(o.events) && o.events.every(isEvent) && typeof o.running === 'boolean' && isPending(o.pendingTurn) && (o.caption === undefined || typeof o.caption === 'string');
    case 'event':
      return isEvent(o.event);
    case 'state':
      return typeof o.running === 'boolean' && isPending(o.pendingTurn);
    default:
      return false;
  }
}
