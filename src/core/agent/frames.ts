// The frames of a live edit: how a change from one text to another is shown being written. Each changed hunk
// (from `diff`'s line diff) is rewritten top to bottom, one new line per step, with the old lines of the hunk
// that are not yet rewritten still there below the written ones; earlier hunks are already new, later ones
// still old. The live edit view (src/vscode/agent/liveEdit.ts) plays an agent's edits with them, the Search
// view's Watch Edits a search node's rewrites.
import { diffLines } from 'diff';

export interface EditFrame {
  /** The whole intermediate text. */
  text: string;
  /** The line (0-based) written last: the one to highlight. */
  line: number;
  /** Lines [start, end) of old text not yet rewritten: the ones to dim (none when start === end). */
  dimmed: { start: number; end: number };
}

interface Hunk {
  /** Where the hunk starts: character offset in the old text, line in the new text. */
  oldOffset: number;
  newLine: number;
  removed: string[];
  added: string[];
}

const lines = (s: string) => (s ? s.split(/(?<=\n)/) : []);

function hunks(oldText: string, newText: string): Hunk[] {
  const out: Hunk[] = [];
  let oldOffset = 0;
  let newLine = 0;
  let open: Hunk | undefined;
  for (const c of diffLines(oldText, newText)) {
    if (!c.added && !c.removed) {
      open = undefined;
      oldOffset += c.value.length;
      newLine += lines(c.value).length;
      continue;
    }
    if (!open) out.push((open = { oldOffset, newLine, removed: [], added: [] }));
    if (c.removed) {
      open.removed.push(...lines(c.value));
      oldOffset += c.value.length;
    } else {
      open.added.push(...lines(c.value));
      newLine += lines(c.value).length;
    }
  }
  return out;
}

/**
 * The frames from `oldText` to `newText`, at most `maxFrames` of them (steps are skipped evenly when there are
 * more); the last one is `newText` with nothing dimmed. No frames when the texts are equal.
 */
export function editFrames(oldText: string, newText: string, maxFrames = 20): EditFrame[] {
  const hs = hunks(oldText, newText);
  // A step writes one new line of a hunk; a hunk that only deletes is one step.
  const steps: { hunk: number; written: number }[] = [];
  hs.forEach((h, i) => {
    if (!h.added.length) steps.push({ hunk: i, written: 0 });
    for (let k = 1; k <= h.added.length; k++) steps.push({ hunk: i, written: k });
  });
  const n = Math.min(Math.max(1, maxFrames), steps.length);
  const frames: EditFrame[] = [];
  for (let f = 1; f <= n; f++) {
    const { hunk, written } = steps[Math.ceil((f * steps.length) / n) - 1];
    frames.push(frameAt(oldText, hs, hunk, written));
  }
  return frames;
}

/** Hunks before `at` done, hunk `at` with `written` new lines (done when that is all of them), the rest old. */
function frameAt(oldText: string, hs: Hunk[], at: number, written: number): EditFrame {
  let text = '';
  let from = 0;
  for (let i = 0; i < at; i++) {
    text += oldText.slice(from, hs[i].oldOffset) + hs[i].added.join('');
    from = hs[i].oldOffset + hs[i].removed.join('').length;
  }
  const h = hs[at];
  const done = written === h.added.length;
  const unwritten = done ? [] : h.removed.slice(written);
  text += oldText.slice(from, h.oldOffset) + h.added.slice(0, written).join('') + unwritten.join('') + oldText.slice(h.oldOffset + h.removed.join('').length);
  const end = h.newLine + written;
  return { text, line: Math.max(0, written ? end - 1 : h.newLine - 1), dimmed: { start: end, end: end + unwritten.length } };
}
