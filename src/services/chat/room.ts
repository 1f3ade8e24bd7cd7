// The chat room's shared state: who is here under which nickname, and delivery of lines to
// them. One Room per chat service instance, so one room per `chat` listener (each endpoint
// given to `wirecat serve` is its own room). Lines go out as CRLF text (telnet and nc both
// show it); each line is encoded once and the same bytes written to everyone.

import type { ChatLimits, ChatOperator } from './options.js';

/** Someone in the room: a connection, or the operator's seat. */
export interface Participant {
  /** The nickname, once chosen. */
  nick: string | undefined;
  /** Deliver one line (without ending). `wire` is the same line, encoded with CRLF. */
  tell(line: string, wire?: Buffer): void;
  /** Remove from the room now (flood, slow reader, /quit). */
  kick(reason: string): void;
}

const NICK = /^[\p{L}\p{N}_-]+$/u;
const RESERVED = new Set(['operator', 'server', 'wirecat', 'nobody']);

/** The key nicknames are unique under: compatibility-folded and lower-cased. */
export function nickKey(nick: string): string {
  return nick.normalize('NFKC').toLowerCase();
}

export class Room {
  private readonly named = new Map<string, Participant>();
  /** Everyone connected, named or not (for the user cap). */
  private readonly everyone = new Set<Participant>();
  private readonly operatorSeat: Participant | undefined;

  constructor(
    readonly limits: ChatLimits,
    operator?: ChatOperator,
  ) {
    if (operator) {
      this.operatorSeat = { nick: 'operator', tell: (line) => operator.show(line), kick: () => {} };
      this.named.set('operator', this.operatorSeat);
    }
  }

  /** The operator's seat, when there is one (commands.ts runs its lines). */
  get operator(): Participant | undefined {
    return this.operatorSeat;
  }

  /** Nicknames present, in joining order. */
  get nicks(): string[] {
    return [...this.named.values()].map((p) => p.nick as string);
  }

  /** Let someone in (before they have a name). False when the room is full. */
  enter(p: Participant): boolean {
    if (this.everyone.size >= this.limits.maxUsers) return false;
    this.everyone.add(p);
    return true;
  }

  /** Why `nick` cannot be taken (by `p`), or undefined when it can. */
  checkNick(nick: string, p?: Participant): string | undefined {
    if (nick === '') return 'a nickname cannot be empty';
    if ([...nick].length > this.limits.maxNickLength)
      return `at most ${this.limits.maxNickLength} characters, please`;
    if (!NICK.test(nick)) return 'use letters, digits, _ and - only';
    const key = nickKey(nick);
    if (RESERVED.has(key)) return `"${nick}" is reserved`;
    const holder = this.named.get(key);
    if (holder && holder !== p) return `"${nick}" is taken`;
    return undefined;
  }

  /** Give `p` its first nickname (checked with checkNick first) and announce it. */
  join(p: Participant, nick: string): void {
    p.nick = nick;
    this.named.set(nickKey(nick), p);
    this.broadcast(`*** ${nick} joined (${this.named.size} here)`, p);
  }

  /** Change `p`'s nickname (checked first) and announce it. */
  rename(p: Participant, nick: string): void {
    const old = p.nick as string;
    this.named.delete(nickKey(old));
    p.nick = nick;
    this.named.set(nickKey(nick), p);
    this.broadcast(`*** ${old} is now known as ${nick}`);
  }

  /** `p` is gone (closed, quit, kicked): forget it and, if it had a name, say why. */
  leave(p: Participant, why: string): void {
    if (!this.everyone.delete(p)) return;
    if (p.nick === undefined || this.named.get(nickKey(p.nick)) !== p) return;
    this.named.delete(nickKey(p.nick));
    this.broadcast(`*** ${p.nick} ${why}`);
  }

  /** The participant with this nickname. */
  find(nick: string): Participant | undefined {
    return this.named.get(nickKey(nick));
  }

  /** Send one line to every named participant except `except`. */
  broadcast(line: string, except?: Participant): void {
    const wire = Buffer.from(`${line}\r\n`);
    for (const p of this.named.values()) if (p !== except) p.tell(line, wire);
  }
}
