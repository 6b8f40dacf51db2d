// Which parts of a document an agent turn changed, followed through later edits by the agent and the user, so
// that rejecting the turn puts back exactly what the agent replaced and never overwrites what the user typed.
// Offsets are UTF-16 code units, as in VS Code's TextDocument.

export interface Change {
  /** Range in the text before the change. */
  start: number;
  end: number;
  text: string;
}

export interface Region {
  /** Range in the current text. */
  start: number;
  end: number;
  /** What the range held before the turn. */
  original: string;
  /** The user edited inside it, so undoing it would lose their edit. */
  touched: boolean;
}

export class TurnRegions {
  private regions: Region[] = [];
  /** The user changed the document during the turn (anywhere). */
  userEdited = false;

  list(): readonly Region[] {
    return this.regions;
  }

  /** An agent change; `before` is the whole text before it. Overlapping or adjacent regions merge. */
  agentChange(before: string, c: Change): void {
    const hit = this.regions.filter((r) => r.start <= c.end && c.start <= r.end);
    const u0 = Math.min(c.start, ...hit.map((r) => r.start));
    const u1 = Math.max(c.end, ...hit.map((r) => r.end));
    // The original of the merged range: earlier regions' originals, and the text between them as it is now
    // (untouched by the turn so far).
    let original = '';
    let pos = u0;
    for (const r of hit) {
      original += before.slice(pos, r.start) + r.original;
      pos = r.end;
    }
    original += before.slice(pos, u1);
    const delta = c.text.length - (c.end - c.start);
    const merged: Region = { start: u0, end: u1 + delta, original, touched: hit.some((r) => r.touched) };
    const rest = this.regions.filter((r) => !hit.includes(r));
    this.regions = [
      ...rest.filter((r) => r.end < c.start),
      merged,
      ...rest.filter((r) => r.start > c.end).map((r) => ({ ...r, start: r.start + delta, end: r.end + delta })),
    ];
  }

  /** A user change: regions after it move, regions it reaches into are marked touched. */
  userChange(c: Change): void {
    this.userEdited = true;
    const delta = c.text.length - (c.end - c.start);
    this.regions = this.regions.map((r) => {
      const insertAtEdge = c.start === c.end && (c.start === r.start || c.start === r.end);
      if (c.end < r.start || (insertAtEdge && c.start === r.start)) return { ...r, start: r.start + delta, end: r.end + delta };
      if (c.start > r.end || (insertAtEdge && c.start === r.end)) return r;
      return { start: Math.min(r.start, c.start), end: Math.max(r.end, c.end) + delta, original: r.original, touched: true };
    });
  }

  /** Edits (last first) that undo the agent's regions the user did not touch, and the regions left alone. */
  revertEdits(): { edits: Change[]; skipped: Region[] } {
    const edits = this.regions
      .filter((r) => !r.touched)
      .map((r) => ({ start: r.start, end: r.end, text: r.original }))
      .sort((a, b) => b.start - a.start);
    return { edits, skipped: this.regions.filter((r) => r.touched) };
  }
}
