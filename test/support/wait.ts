// Polling for a condition in tests that run inside the extension host (no Playwright there).

/** Resolves with what `get` returns once it is truthy; fails after `ms`, naming what it waited for. */
export async function waitFor<T>(what: string, get: () => T | undefined | false, ms = 60_000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
