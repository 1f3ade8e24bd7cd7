// One connection in the chat room: reads lines (bounded), makes them safe, applies flood
// control, asks for a nickname, runs commands; delivers the room's lines with a bounded
// queue — a client that stops reading is dropped, never waited for.

import { isWirecatError, type WirecatErrorCode } from '../../errors.js';
import { LineDecoder, splitEnding } from '../../framing/line-decoder.js';
import type { Conn, StreamHandler } from '../../transport/conn.js';
import { describeDeadline, requestDeadline } from '../request-deadline.js';
import { runLine } from './commands.js';
import { FloodControl } from './flood.js';
import type { Participant, Room } from './room.js';
import { sanitizeLine } from './sanitize.js';

export class Member implements StreamHandler, Participant {
  nick: string | undefined;
  private readonly lines: LineDecoder;
  private readonly flood: FloodControl;
  private readonly maxQueueBytes: number;
  private gone = false;
  private cancelNickDeadline: () => void = () => {};

  constructor(
    private readonly room: Room,
    private readonly conn: Conn,
    maxBufferedBytes: number,
    nickTimeoutMs = 0,
  ) {
    const l = room.limits;
    this.lines = new LineDecoder(l.maxLineBytes);
    this.flood = new FloodControl(l.linesPerSecond, l.burst, l.floodStrikes);
    // Stay under the Host's own cut-off so a slow reader always gets the room's notice.
    this.maxQueueBytes = Math.min(l.maxQueueBytes, maxBufferedBytes);
    if (!room.enter(this)) {
      this.gone = true;
      conn.refuse('WIRECAT_ROOM_FULL', `! the room is full (${l.maxUsers} people); try later\r\n`);
      return;
    }
    const here = room.nicks.length;
    this.tell(`*** welcome to the wirecat chat room (${here} here). /help lists the commands.`);
    this.askNick();
    // Someone who never picks a name still holds a place in the room (maxUsers).
    this.cancelNickDeadline = requestDeadline(nickTimeoutMs, () => {
      if (this.nick === undefined)
        this.kick(
          `no nickname within ${describeDeadline(nickTimeoutMs)}`,
          'WIRECAT_REQUEST_TIMEOUT',
        );
    });
  }

  private askNick(): void {
    this.tell(
      `*** choose a nickname (letters, digits, _ or -, up to ${this.room.limits.maxNickLength}):`,
    );
  }

  tell(line: string, wire?: Buffer): void {
    if (this.gone) return;
    this.conn.write(wire ?? `${line}\r\n`);
    if (this.conn.unsentBytes > this.maxQueueBytes) {
      // Drop after the current delivery loop, so everyone else gets this line first.
      this.gone = true;
      queueMicrotask(() =>
        this.remove(`was dropped: not reading (over ${this.maxQueueBytes} bytes waiting)`, () =>
          this.conn.abort('WIRECAT_BUFFER_LIMIT', 'chat client not reading'),
        ),
      );
    }
  }

  kick(reason: string, code: WirecatErrorCode = 'WIRECAT_FLOOD'): void {
    if (this.gone) return;
    this.gone = true;
    this.remove(`was disconnected: ${reason}`, () =>
      this.conn.refuse(code, `! disconnected: ${reason}\r\n`),
    );
  }

  private remove(why: string, cut: () => void): void {
    this.room.leave(this, why);
    cut();
  }

  data(_conn: Conn, chunk: Buffer): void {
    if (this.gone) return;
    try {
      this.lines.push(chunk, this.onLine);
    } catch (err) {
      if (!isWirecatError(err, 'WIRECAT_LINE_TOO_LONG')) throw err;
      this.kick(`line longer than ${this.room.limits.maxLineBytes} bytes`, err.code);
    }
  }

  private readonly onLine = (line: Buffer): void => {
    if (this.gone) return;
    const verdict = this.flood.take();
    if (verdict === 'disconnect') {
      const l = this.room.limits;
      this.kick(`flooding (over ${l.linesPerSecond} lines per second)`);
      return;
    }
    if (verdict === 'warn') {
      const l = this.room.limits;
      this.tell(
        `! slow down: at most ${l.linesPerSecond} lines per second (bursts of ${l.burst}); lines over that are dropped, and more will disconnect you`,
      );
      return;
    }
    if (verdict === 'drop') return;
    const text = sanitizeLine(splitEnding(line).content).trim();
    if (text === '') return;
    if (this.nick === undefined) {
      this.chooseNick(text);
      return;
    }
    const quit = runLine(this.room, this, text);
    if (quit) {
      this.gone = true;
      this.remove(quit.quit ? `left (${quit.quit})` : 'left', () => this.conn.end('*** bye\r\n'));
    }
  };

  private chooseNick(nick: string): void {
    const why = this.room.checkNick(nick, this);
    if (why) {
      this.tell(`! ${why}`);
      this.askNick();
      return;
    }
    this.cancelNickDeadline();
    this.room.join(this, nick);
    const others = this.room.nicks.filter((n) => n !== nick);
    this.tell(
      `*** hello ${nick}; ${others.length === 0 ? 'no one else is here yet' : `here: ${others.join(', ')}`}`,
    );
  }

  /** The peer half-closed: it has left. */
  end(conn: Conn): void {
    this.lines.takePartial();
    if (!this.gone) {
      this.gone = true;
      this.room.leave(this, 'left');
    }
    conn.end();
  }

  close(): void {
    this.cancelNickDeadline();
    this.gone = true;
    this.room.leave(this, 'left');
  }
}
