// What the webviews may post to the extension host, as zod schemas: the host parses every message with these
// before using it (a webview is untrusted input), and the message types are inferred from them. The webviews
// import only the types, so zod stays out of their bundles.
import { z } from 'zod';

/** Run ids become directory names on the host: no separators, no dot-only names. */
const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);
const sessionId = z.string().max(99);
const exportFormat = z.enum(['png', 'csv']);
const ready = z.object({ type: z.literal('ready') });

/** Largest export the host accepts from the dashboard (a PNG data URL of a few charts is well below). */
export const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

export const dashboardMessage = z.discriminatedUnion('type', [
  ready,
  /** Open the shown run's train_gpt2.py at a 1-based line. */
  z.object({ type: z.literal('openLine'), line: z.number().int().min(1) }),
  z.object({ type: z.literal('openRun'), runId }),
  z.object({ type: z.literal('compareRuns'), runId }),
  z.object({ type: z.literal('setOverlays'), runIds: z.array(runId).max(32) }),
  /** Keep the shown run (true) or follow the task's newest run (false). */
  z.object({ type: z.literal('pin'), pinned: z.boolean() }),
  /** Export from a toolbar button (no requestId: the host asks where to save) or in answer to requestExport. */
  z.object({ type: z.literal('exportData'), format: exportFormat, data: z.string().max(MAX_EXPORT_CHARS), requestId: z.string().max(64).optional() }),
]);
export type DashboardMessage = z.infer<typeof dashboardMessage>;
export type ExportFormat = z.infer<typeof exportFormat>;

export const transcriptMessage = z.discriminatedUnion('type', [
  ready,
  z.object({ type: z.literal('openDiff'), sessionId, turn: z.number().int() }),
  z.object({ type: z.literal('openRun'), runId }),
  z.object({ type: z.literal('openPrompt'), sessionId, turn: z.number().int(), round: z.number().int() }),
  z.object({ type: z.literal('accept') }),
  z.object({ type: z.literal('reject') }),
  z.object({ type: z.literal('stop') }),
]);
export type TranscriptMessage = z.infer<typeof transcriptMessage>;
