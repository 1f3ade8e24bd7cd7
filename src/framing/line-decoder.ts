// Bounded incremental line decoder: splits a byte stream at LF (keeping CRLF/LF endings),
// never holding more than `maxLineBytes` of an unfinished line, whatever the peer sends.

import { WirecatError } from '../errors.js';

const LF = 0x0a;

/** Called for each complete line, ending included. `line` is only valid during the call. */
export type LineCallback = (line: Buffer) => void;

/**
 * Splits bytes into lines. Lines that arrive whole inside one chunk are passed as views of
 * that chunk (no copy); only an unfinished tail is copied, and at most `maxLineBytes` of it.
 *
 * @example
 * const lines = new LineDecoder(8192);
 * lines.push(Buffer.from('he'), print);       // nothing yet
 * lines.push(Buffer.from('llo\nwor'), print); // print(<'hello\n'>)
 * lines.takePartial();                        // <'wor'>
 */
export class LineDecoder {
  /** The longest line accepted, not counting its ending. */
  readonly maxLineBytes: number;
  private parts: Buffer[] = [];
  private partLength = 0;

  constructor(maxLineBytes: number) {
    if (!(maxLineBytes > 0)) throw new RangeError('maxLineBytes must be positive');
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes of an unfinished line held now (never above maxLineBytes + 1). */
  get pending(): number {
    return this.partLength;
  }

  /**
   * Feed a chunk; calls `onLine` for every line it completes. Throws WIRECAT_LINE_TOO_LONG
   * (and forgets the partial line) when a line exceeds the limit.
   */
  push(chunk: Buffer, onLine: LineCallback): void {
    let start = 0;
    let lf = chunk.indexOf(LF, start);
    while (lf !== -1) {
      if (this.partLength > 0) {
        const tail = chunk.subarray(start, lf + 1);
        this.check(this.partLength + tail.length - endingLength(tail, this.parts));
        this.parts.push(tail);
        const line = Buffer.concat(this.parts, this.partLength + tail.length);
        this.parts = [];
        this.partLength = 0;
        onLine(line);
      } else {
        const line = chunk.subarray(start, lf + 1);
        this.check(line.length - endingLength(line));
        onLine(line);
      }
      start = lf + 1;
      lf = chunk.indexOf(LF, start);
    }
    if (start < chunk.length) {
      const rest = chunk.length - start;
      // A trailing CR may be the first half of CRLF, so allow one byte over while waiting.
      this.check(this.partLength + rest - (chunk[chunk.length - 1] === 0x0d ? 1 : 0));
      this.parts.push(Buffer.from(chunk.subarray(start)));
      this.partLength += rest;
    }
  }

  /** Take the unfinished line (for a flush on quiet or half-close); undefined when empty. */
  takePartial(): Buffer | undefined {
    if (this.partLength === 0) return undefined;
    const partial =
      this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.partLength);
    this.parts = [];
    this.partLength = 0;
    return partial;
  }

  private check(contentLength: number): void {
    if (contentLength > this.maxLineBytes) {
      this.parts = [];
      this.partLength = 0;
      throw new WirecatError(
        'WIRECAT_LINE_TOO_LONG',
        `line longer than ${this.maxLineBytes} bytes`,
      );
    }
  }
}

/** Length of the line ending (LF or CRLF) at the end of `line`, looking into `before` for a split CRLF. */
function endingLength(line: Buffer, before?: Buffer[]): number {
  if (line.length === 0 || line[line.length - 1] !== LF) return 0;
  if (line.length >= 2) return line[line.length - 2] === 0x0d ? 2 : 1;
  const last = before?.[before.length - 1];
  return last && last[last.length - 1] === 0x0d ? 2 : 1;
}

/** Split a complete line into its content and its ending (LF, CRLF or none). */
export function splitEnding(line: Buffer): { content: Buffer; ending: Buffer } {
  const n = endingLength(line);
  return { content: line.subarray(0, line.length - n), ending: line.subarray(line.length - n) };
}
