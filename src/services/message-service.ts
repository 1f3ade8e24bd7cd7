// The shape shared by reverse, ack and stamp: each message gets one answer. A message is a
// line (LF or CRLF), or — for clients that send without a newline and wait — whatever has
// arrived when the client half-closes or has been quiet for the flush delay.

import { isWirecatError } from '../errors.js';
import { LineDecoder, splitEnding } from '../framing/line-decoder.js';
import type { Conn, StreamHandler } from '../transport/conn.js';
import type { Service, ServiceSettings } from './service.js';

/** Turns one message into its answer. `ending` is LF, CRLF or empty (a flushed partial). */
export type Answer = (content: Buffer, ending: Buffer) => Buffer | string;

class MessageSession implements StreamHandler {
  private readonly lines: LineDecoder;
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly conn: Conn,
    private readonly answer: Answer,
    private readonly flushDelayMs: number,
    maxLineBytes: number,
  ) {
    this.lines = new LineDecoder(maxLineBytes);
  }

  private readonly onLine = (line: Buffer): void => {
    const { content, ending } = splitEnding(line);
    this.conn.write(this.answer(content, ending));
  };

  data(conn: Conn, chunk: Buffer): void {
    try {
      this.lines.push(chunk, this.onLine);
    } catch (err) {
      if (!isWirecatError(err, 'WIRECAT_LINE_TOO_LONG')) throw err;
      this.stopTimer();
      conn.refuse(err.code, `error: ${err.message}; closing\r\n`);
      return;
    }
    if (this.lines.pending === 0) this.stopTimer();
    else if (this.flushTimer) this.flushTimer.refresh();
    else this.flushTimer = setTimeout(this.flush, this.flushDelayMs);
  }

  private readonly flush = (): void => {
    this.flushTimer = undefined;
    const partial = this.lines.takePartial();
    if (partial && !this.conn.isClosed) this.conn.write(this.answer(partial, EMPTY));
  };

  end(conn: Conn): void {
    this.stopTimer();
    this.flush();
    conn.end();
  }

  /** On server shutdown, answer a partial line at once rather than lose it, then FIN. */
  shutdown(conn: Conn): void {
    this.end(conn);
  }

  close(): void {
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
  }
}

const EMPTY = Buffer.alloc(0);

/** A per-message service; over UDP each datagram is one message. */
export function messageService(name: string, settings: ServiceSettings, answer: Answer): Service {
  const { flushDelayMs, maxLineBytes } = settings.limits;
  return {
    name,
    openStream: (conn) => new MessageSession(conn, answer, flushDelayMs, maxLineBytes),
    answerDatagram(request) {
      const { content, ending } = splitEnding(request);
      const reply = answer(content, ending);
      return typeof reply === 'string' ? Buffer.from(reply) : reply;
    },
  };
}
