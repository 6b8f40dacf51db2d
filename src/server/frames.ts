// A watch on the server's stdio framing (`Content-Length: N\r\n\r\n` + N bytes). The JSON-RPC reader stops
// reading for good on a bad header (a length that is not a number, a missing length) and waits forever when a
// length is larger than its body, so the server would live on, silent and deaf. This check sees the same bytes
// first and reports the first broken frame, so the server can exit with a message and be restarted.
const HEADER_END = Buffer.from('\r\n\r\n');
const MAX_HEADER = 8192;
/** The start of the next frame's header inside a body: valid JSON cannot hold it (see `inBody`). */
const HEADER_IN_BODY = /Content-Length:[ \t]*\d+\r\n/i;

export class FrameCheck {
  private header = Buffer.alloc(0);
  /** Bytes of the current body still to come; -1 while reading a header. */
  private remaining = -1;
  private length = 0;
  /** The body's last bytes, so a header split across chunks is still found. */
  private tail = '';

  /** Feeds the next chunk; returns what is wrong with the stream, or undefined while it is well framed. */
  push(chunk: Buffer): string | undefined {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining < 0) {
        this.header = Buffer.concat([this.header, chunk.subarray(at)]);
        const end = this.header.indexOf(HEADER_END);
        if (end < 0) {
          return this.header.length > MAX_HEADER ? `a header of more than ${MAX_HEADER} bytes without an end` : undefined;
        }
        const problem = this.parseHeader(this.header.subarray(0, end).toString('latin1'));
        if (problem) return problem;
        at = chunk.length - (this.header.length - end - HEADER_END.length);
        this.header = Buffer.alloc(0);
        this.tail = '';
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - at);
      const problem = this.inBody(chunk.subarray(at, at + take));
      if (problem) return problem;
      this.remaining -= take;
      at += take;
      if (this.remaining === 0) this.remaining = -1;
    }
    return undefined;
  }

  /** True while part of a frame has arrived and the rest has not. */
  get partial(): boolean {
    return this.remaining > 0 || this.header.length > 0;
  }

  private parseHeader(text: string): string | undefined {
    let length: string | undefined;
    for (const line of text.split('\r\n')) {
      const m = /^([!-9;-~]+):[ \t]*(.*?)[ \t]*$/.exec(line);
      if (!m) return `a header line that is not "Name: value" (${JSON.stringify(line.slice(0, 80))})`;
      if (m[1].toLowerCase() === 'content-length') length = m[2];
    }
    if (length === undefined) return `a frame without a Content-Length header (${JSON.stringify(text.slice(0, 80))})`;
    if (!/^\d{1,10}$/.test(length)) return `Content-Length ${JSON.stringify(length)} is not a byte count`;
    this.length = Number(length);
    this.remaining = this.length > 0 ? this.length : -1;
    return undefined;
  }

  /**
   * A raw CR/LF cannot stand inside a JSON string, and `Content-Length` cannot stand outside one, so a header
   * in a body means the body's length was larger than what the client sent as this message.
   */
  private inBody(bytes: Buffer): string | undefined {
    const text = this.tail + bytes.toString('latin1');
    if (HEADER_IN_BODY.test(text)) return `Content-Length ${this.length} is larger than the message that followed it (the next header arrived inside its body)`;
    this.tail = text.slice(-40);
    return undefined;
  }
}

/**
 * Watches `input` (the server's stdin) ahead of the JSON-RPC reader; calls `broken` once on the first broken
 * frame, or when a frame stays incomplete for `stallMs`.
 */
export function watchFrames(input: NodeJS.ReadableStream, broken: (reason: string) => void, stallMs = 30_000): void {
  const check = new FrameCheck();
  let timer: NodeJS.Timeout | undefined;
  let done = false;
  const fail = (reason: string) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    broken(reason);
  };
  input.prependListener('data', (chunk: Buffer | string) => {
    if (done) return;
    const problem = check.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (problem) return fail(problem);
    clearTimeout(timer);
    if (check.partial) {
      timer = setTimeout(() => fail(`a frame stayed incomplete for ${stallMs / 1000} s (its Content-Length is larger than what was sent)`), stallMs);
      timer.unref();
    }
  });
}
