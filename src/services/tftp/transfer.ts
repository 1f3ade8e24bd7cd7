// The two TFTP state machines, shared by the server and the client: a Sender (server RRQ,
// client WRQ) and a Receiver (server WRQ, client RRQ). RFC 1350 lock-step, RFC 2347 OACK,
// RFC 7440 windows. They never touch a socket or a real timer: packets come in through
// `receive`, go out through `env.send`, and time comes from an injectable Clock.
//
// Rules kept here (see RFC 1123 §4.2.3.1 for the Sorcerer's Apprentice):
// - the Sender never answers a duplicate ACK: only its timer retransmits;
// - the Receiver answers a duplicate DATA at most once per position, and a gap once;
// - block numbers wrap 65535 → 0 (tftpd-hpa's and atftpd's choice; RFC 1350 is silent);
// - a packet from another address or port gets ERROR 5 and changes nothing.

import { WirecatError } from '../../errors.js';
import type { BlockSink, BlockSource } from './blocks.js';
import { isRefusal, type Refusal, type TransferParams } from './options.js';
import {
  decodePacket,
  encodeAck,
  encodeError,
  MAX_BLKSIZE,
  MalformedPacketError,
  OP,
  opName,
  type Packet,
  TFTP_ERROR,
} from './packet.js';

/** Time for the state machines, in milliseconds. Tests pass a fake one. */
export interface Clock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** The real clock. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Retransmissions of one packet or window before a transfer gives up. */
export const DEFAULT_TFTP_RETRIES = 5;
/** Retransmission timeout when none is negotiated (tftpd-hpa's first timeout is 1 s too). */
export const DEFAULT_TFTP_TIMEOUT_MS = 1_000;

/** Counters of one transfer. */
export interface TransferStats {
  /** Payload bytes moved (on the wire, before netascii decoding). */
  bytes: number;
  /** DATA blocks delivered or acknowledged. */
  blocks: number;
  /** Packets sent again by the timer or after a gap. */
  retransmits: number;
  params: TransferParams;
  /** Milliseconds from start to the last ACK. */
  durationMs: number;
}

/** How a transfer ended. */
export type TransferOutcome =
  | { ok: true; stats: TransferStats }
  | { ok: false; error: WirecatError; stats: TransferStats };

/** What a state machine needs from its owner. */
export interface TransferEnv {
  clock: Clock;
  /** Send one datagram. */
  send(packet: Buffer, port: number, address: string): void;
  /** Called once, when the transfer succeeds or fails. */
  done(outcome: TransferOutcome): void;
  /** Max retransmissions of one packet (default DEFAULT_TFTP_RETRIES). */
  retries?: number;
  /** Whether a stray source may be answered with ERROR 5 (the server's UDP guard). */
  mayAnswer?(address: string, port: number): boolean;
  /** Who the peer is (for messages): "the server" or "the client". */
  peerName?: string;
}

/** How a machine starts. */
export type TransferStart =
  /** Server: the peer's TID is known; `first` is the OACK to send, or absent (no options). */
  | { peer: { address: string; port: number }; oack?: Buffer }
  /** Client: send `request` to address:port; the peer's TID is learned from the first reply. */
  | {
      request: Buffer;
      address: string;
      port: number;
      /** Check the server's OACK; returns the parameters or a refusal (sent as ERROR 8). */
      onOack(options: Map<string, string>): TransferParams | Refusal;
    };

/** Past this many blocks behind the expected one, a wire number means "old", not "ahead". */
const HALF = 0x8000;

abstract class Machine {
  protected peerAddress: string;
  protected peerPort: number;
  /** True until the client's first reply fixes the peer's port. */
  protected awaitingPeer: boolean;
  protected pending: Buffer | undefined;
  protected params: TransferParams;
  protected finished = false;
  private timer: unknown;
  private deadline = 0;
  private tries = 0;
  protected readonly retries: number;
  protected readonly started: number;
  protected readonly stats = { bytes: 0, blocks: 0, retransmits: 0 };
  protected readonly onOack:
    | ((options: Map<string, string>) => TransferParams | Refusal)
    | undefined;

  constructor(
    protected readonly env: TransferEnv,
    params: TransferParams,
    start: TransferStart,
  ) {
    this.params = params;
    this.retries = env.retries ?? DEFAULT_TFTP_RETRIES;
    this.started = env.clock.now();
    if ('request' in start) {
      this.peerAddress = start.address;
      this.peerPort = start.port;
      this.awaitingPeer = true;
      this.pending = start.request;
      this.onOack = start.onOack;
    } else {
      this.peerAddress = start.peer.address;
      this.peerPort = start.peer.port;
      this.awaitingPeer = false;
      this.pending = start.oack;
      this.onOack = undefined;
    }
  }

  /** True once done() was called. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Negotiated (or default) parameters. */
  get parameters(): TransferParams {
    return this.params;
  }

  /** Payload bytes delivered (receiver) or acknowledged (sender) so far. */
  get bytesDone(): number {
    return this.stats.bytes;
  }

  /** Called when a client accepts the server's OACK, with the parameters now in force. */
  onParams: ((params: TransferParams) => void) | undefined;

  /** Feed one datagram from address:port. */
  receive(buf: Buffer, address: string, port: number): void {
    if (this.awaitingPeer) {
      if (address !== this.peerAddress) return void this.strayTid(address, port);
      this.peerPort = port;
      this.awaitingPeer = false;
    } else if (port !== this.peerPort || address !== this.peerAddress) {
      return void this.strayTid(address, port);
    }
    if (this.finished) return void this.afterFinish(buf);
    if (this.fastPath(buf)) return;
    let packet: Packet;
    try {
      packet = decodePacket(buf);
    } catch (err) {
      if (!(err instanceof MalformedPacketError)) throw err;
      return void this.fail(err, TFTP_ERROR.ILLEGAL_OPERATION, err.message);
    }
    if (packet.op === OP.ERROR) {
      return void this.fail(
        new WirecatError(
          'WIRECAT_TFTP_REMOTE_ERROR',
          `${this.env.peerName ?? 'the peer'} ended the transfer: ${packet.message || ERROR_NAMES[packet.code] || 'no message'} (TFTP error ${packet.code})`,
        ),
      );
    }
    this.onPacket(packet);
  }

  /** Send the first packet (the request, the OACK, or DATA 1 / ACK 0) and start the timer. */
  abstract start(): void;
  protected abstract onPacket(packet: Packet): void;
  /**
   * Handle the one packet a transfer mostly sees (ACK for a sender, DATA for a receiver)
   * straight from the bytes, without a decoded Packet object; false: decode it the long way.
   * Only packets decodePacket would accept unchanged take this path.
   */
  protected abstract fastPath(buf: Buffer): boolean;
  protected abstract retransmit(): void;
  /** A packet from the peer after the end (the receiver's dally answers a lost final ACK). */
  protected afterFinish(_buf: Buffer): void {}

  private strayTid(address: string, port: number): void {
    if (this.env.mayAnswer && !this.env.mayAnswer(address, port)) return;
    this.env.send(encodeError(TFTP_ERROR.UNKNOWN_TID, 'Unknown transfer ID'), port, address);
  }

  protected send(packet: Buffer): void {
    this.env.send(packet, this.peerPort, this.peerAddress);
  }

  /** Restart the retransmission timer after progress. */
  protected progress(): void {
    this.tries = 0;
    this.arm();
  }

  protected arm(): void {
    this.deadline = this.env.clock.now() + this.params.timeoutMs;
    // One timer per transfer, re-armed lazily: no clear/set per packet on the hot path.
    this.timer ??= this.env.clock.setTimer(this.onTimer, this.params.timeoutMs);
  }

  /** True while the machine holds back on purpose (a full sink): the timer does not count. */
  protected holding(): boolean {
    return false;
  }

  private readonly onTimer = (): void => {
    this.timer = undefined;
    if (this.finished) return;
    const left = this.deadline - this.env.clock.now();
    if (left > 0) {
      this.timer = this.env.clock.setTimer(this.onTimer, left);
      return;
    }
    if (this.holding()) return void this.arm();
    if (++this.tries > this.retries) {
      const what = this.awaitingPeer
        ? `no answer from ${this.peerAddress} port ${this.peerPort}: is a TFTP server running there?`
        : `${this.env.peerName ?? 'the peer'} went quiet`;
      return void this.fail(
        new WirecatError(
          this.awaitingPeer ? 'WIRECAT_NO_REPLY' : 'WIRECAT_IDLE_TIMEOUT',
          `${what} (${this.retries + 1} tries, ${this.params.timeoutMs} ms apart)`,
        ),
      );
    }
    this.stats.retransmits++;
    this.retransmit();
    this.arm();
  };

  private stopTimer(): void {
    if (this.timer !== undefined) this.env.clock.clearTimer(this.timer);
    this.timer = undefined;
  }

  protected snapshot(): TransferStats {
    return {
      ...this.stats,
      params: this.params,
      durationMs: this.env.clock.now() - this.started,
    };
  }

  /** End with an error; tell the peer with ERROR `code` when given. */
  protected fail(error: WirecatError, code?: number, message?: string): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTimer();
    if (code !== undefined && !this.awaitingPeer)
      this.send(encodeError(code, message ?? error.message));
    this.env.done({ ok: false, error, stats: this.snapshot() });
  }

  protected succeed(): void {
    if (this.finished) return;
    this.finished = true;
    this.stopTimer();
    this.env.done({ ok: true, stats: this.snapshot() });
  }

  /** Stop from outside (shutdown, a local error): send ERROR `code` to the peer and end. */
  abort(
    code: number,
    message: string,
    errorCode: 'WIRECAT_SHUTDOWN' | 'WIRECAT_IO' | 'WIRECAT_ABORTED' = 'WIRECAT_ABORTED',
  ): void {
    this.fail(new WirecatError(errorCode, message), code, message);
  }

  protected illegal(packet: Packet): void {
    const message = `unexpected ${opName(packet.op)} packet`;
    this.fail(
      new WirecatError(
        'WIRECAT_TFTP_MALFORMED',
        `${this.env.peerName ?? 'the peer'} sent an ${message}`,
      ),
      TFTP_ERROR.ILLEGAL_OPERATION,
      message,
    );
  }

  /** Apply the server's OACK (client side); false when refused (the machine has failed). */
  protected acceptOack(options: Map<string, string>): boolean {
    const result = this.onOack?.(options);
    if (result === undefined || isRefusal(result)) {
      const message = result?.message ?? 'unexpected OACK';
      this.fail(
        new WirecatError('WIRECAT_TFTP_REMOTE_ERROR', `option negotiation failed: ${message}`),
        TFTP_ERROR.OPTION_REFUSED,
        message,
      );
      return false;
    }
    this.params = result;
    this.onParams?.(result);
    return true;
  }
}

const ERROR_NAMES: Record<number, string> = {
  0: 'not defined',
  1: 'file not found',
  2: 'access violation',
  3: 'disk full or allocation exceeded',
  4: 'illegal TFTP operation',
  5: 'unknown transfer ID',
  6: 'file already exists',
  7: 'no such user',
  8: 'option negotiation refused',
};

/**
 * Sends a source as DATA blocks and waits for ACKs, a window at a time. Phases: `request`
 * (client: WRQ sent, waiting for ACK 0 or an OACK), `oack` (server: OACK sent, waiting for
 * ACK 0), `data`.
 */
export class Sender extends Machine {
  private phase: 'request' | 'oack' | 'data';
  /** Highest block acknowledged (a plain number; the wire carries it modulo 65536). */
  private acked = 0;
  /** The last block, once the source ran short; Infinity before. */
  private lastBlock = Number.POSITIVE_INFINITY;
  /** Packets of blocks acked+1 … acked+window.length, with their lengths. */
  private readonly window: Buffer[] = [];
  private readonly lengths: number[] = [];
  private readonly spare: Buffer[] = [];
  /**
   * The packet of the next block not yet in the window, read after the last send (like
   * tftpd-hpa's read-ahead) so that the file read is not between an ACK and the next DATA.
   */
  private ahead: Buffer | undefined;
  private aheadLength = 0;
  /** A read error met while reading ahead: reported when that block is due, not before. */
  private aheadError: unknown;

  constructor(
    env: TransferEnv,
    params: TransferParams,
    start: TransferStart,
    private readonly source: BlockSource,
  ) {
    super(env, params, start);
    this.phase = 'request' in start ? 'request' : start.oack ? 'oack' : 'data';
  }

  start(): void {
    if (this.phase === 'data') this.sendWindow();
    else this.send(this.pending!);
    this.arm();
  }

  protected fastPath(buf: Buffer): boolean {
    if (buf.length !== 4 || buf[0] !== 0 || buf[1] !== OP.ACK || this.phase !== 'data')
      return false;
    this.onAck((buf[2] << 8) | buf[3]);
    return true;
  }

  private onAck(block: number): void {
    const delta = (block - (this.acked & 0xffff)) & 0xffff;
    // delta 0: a duplicate (Sorcerer's Apprentice: never answer it); beyond what we sent: stale.
    if (delta === 0 || delta > this.window.length) return;
    this.advance(delta);
    if (this.acked === this.lastBlock) return void this.succeed();
    this.progress();
    this.sendWindow();
  }

  protected onPacket(packet: Packet): void {
    if (packet.op === OP.ACK) {
      if (this.phase !== 'data') {
        if (packet.block !== 0) return; // a stray ACK before the transfer started
        this.phase = 'data';
        this.pending = undefined;
        this.progress();
        this.sendWindow();
        return;
      }
      return void this.onAck(packet.block);
    }
    if (packet.op === OP.OACK) {
      if (this.phase === 'request') {
        if (!this.acceptOack(packet.options)) return;
        this.phase = 'data';
        this.pending = undefined;
        this.progress();
        this.sendWindow();
      }
      // A repeated OACK after we started means our first window was lost; the timer resends.
      return;
    }
    this.illegal(packet);
  }

  private advance(count: number): void {
    for (let i = 0; i < count; i++) {
      const buf = this.window.shift()!;
      this.stats.bytes += this.lengths.shift()! - 4;
      if (buf.length === this.params.blksize + 4) this.spare.push(buf);
    }
    this.acked += count;
    this.stats.blocks += count;
  }

  /** Send blocks acked+1 … acked+windowsize: resend the ones held, read the rest. */
  private sendWindow(): void {
    const size = this.params.windowsize;
    for (let i = 0; i < size; i++) {
      const block = this.acked + i + 1;
      if (block > this.lastBlock) break;
      if (i >= this.window.length && !this.addToWindow(block)) return;
      const buf = this.window[i];
      this.send(buf.length === this.lengths[i] ? buf : buf.subarray(0, this.lengths[i]));
    }
    // The peer now has work to do before it answers: read the next block meanwhile.
    this.readAhead(this.acked + this.window.length + 1);
  }

  /** Put the packet of `block` (the one after the window) into the window; false: failed. */
  private addToWindow(block: number): boolean {
    let buf = this.ahead;
    let n = this.aheadLength;
    this.ahead = undefined;
    if (buf === undefined) {
      if (this.aheadError !== undefined) return this.failRead(this.aheadError);
      buf = this.spare.pop() ?? Buffer.allocUnsafe(this.params.blksize + 4);
      try {
        n = this.readBlock(buf, block);
      } catch (err) {
        return this.failRead(err);
      }
    }
    buf.writeUInt16BE(OP.DATA, 0);
    buf.writeUInt16BE(block & 0xffff, 2);
    this.window.push(buf);
    this.lengths.push(n + 4);
    return true;
  }

  private readAhead(block: number): void {
    if (this.ahead !== undefined || this.aheadError !== undefined) return;
    if (block > this.lastBlock || this.finished) return;
    const buf = this.spare.pop() ?? Buffer.allocUnsafe(this.params.blksize + 4);
    try {
      this.aheadLength = this.readBlock(buf, block);
      this.ahead = buf;
    } catch (err) {
      this.aheadError = err;
      this.spare.push(buf);
    }
  }

  /** Read block `block`'s bytes into `buf` after its header; a short block is the last. */
  private readBlock(buf: Buffer, block: number): number {
    const blksize = this.params.blksize;
    const n = this.source.read(buf, 4, blksize);
    if (n < blksize) this.lastBlock = block;
    return n;
  }

  private failRead(err: unknown): false {
    this.fail(
      new WirecatError('WIRECAT_IO', `cannot read the file: ${(err as Error).message}`),
      TFTP_ERROR.NOT_DEFINED,
      'read error',
    );
    return false;
  }

  protected retransmit(): void {
    if (this.phase === 'data') this.sendWindow();
    else this.send(this.pending!);
  }
}

/** Receives DATA blocks into a sink and acknowledges them, a window at a time. */
export class Receiver extends Machine {
  private phase: 'request' | 'data';
  /** The next block we want (a plain number; the wire carries it modulo 65536). */
  private expected = 1;
  private sinceAck = 0;
  private answeredDuplicate = false;
  private answeredGap = false;
  private paused = false;
  private final: Buffer | undefined;
  private dallyAnswers = 0;

  constructor(
    env: TransferEnv,
    params: TransferParams,
    start: TransferStart,
    private readonly sink: BlockSink,
    /** Bytes accepted at most; past this the transfer fails with ERROR 3. */
    private readonly maxBytes = Number.POSITIVE_INFINITY,
  ) {
    super(env, params, start);
    this.phase = 'request' in start ? 'request' : 'data';
    // Server side: the first packet is the OACK, or ACK 0 when no option was accepted.
    if (!('request' in start) && !start.oack) this.pending = encodeAck(0);
  }

  start(): void {
    this.send(this.pending!);
    this.arm();
  }

  /** The sink can take more: send the ACK that was held back. */
  resume(): void {
    if (!this.paused || this.finished) return;
    this.paused = false;
    if (this.sinceAck > 0) this.ack();
  }

  private ack(): void {
    this.sinceAck = 0;
    this.pending = encodeAck(this.expected - 1);
    this.send(this.pending);
  }

  protected fastPath(buf: Buffer): boolean {
    if (buf.length < 4 || buf[0] !== 0 || buf[1] !== OP.DATA || this.phase !== 'data') return false;
    if (buf.length - 4 > MAX_BLKSIZE) return false; // decodePacket refuses it
    this.onData((buf[2] << 8) | buf[3], buf.subarray(4));
    return true;
  }

  private onData(block: number, data: Buffer): void {
    const delta = (block - (this.expected & 0xffff)) & 0xffff;
    if (delta === 0) return void this.take(data);
    if (this.paused) return;
    if (delta >= HALF) {
      // Old block: our ACK was lost. Answer once per position, never in a loop.
      if (!this.answeredDuplicate && this.expected > 1) {
        this.answeredDuplicate = true;
        this.stats.retransmits++;
        this.ack();
      }
    } else if (!this.answeredGap) {
      // RFC 7440: a gap in the window: ACK the last block in order so the sender restarts there.
      this.answeredGap = true;
      this.stats.retransmits++;
      this.ack();
    }
  }

  protected onPacket(packet: Packet): void {
    if (packet.op === OP.DATA) {
      if (this.phase === 'request') {
        this.phase = 'data'; // the server took no option: RFC 1350 defaults stand
      }
      return void this.onData(packet.block, packet.data);
    }
    if (packet.op === OP.OACK && this.phase === 'request') {
      if (!this.acceptOack(packet.options)) return;
      this.phase = 'data';
      this.progress();
      this.sendAck0();
      return;
    }
    if (packet.op === OP.OACK && this.expected === 1 && this.onOack) {
      this.send(encodeAck(0)); // the server resent its OACK: our ACK 0 was lost
      return;
    }
    this.illegal(packet);
  }

  private sendAck0(): void {
    this.pending = encodeAck(0);
    this.send(this.pending);
  }

  private take(data: Buffer): void {
    if (data.length > this.params.blksize) {
      return void this.fail(
        new WirecatError(
          'WIRECAT_TFTP_MALFORMED',
          `a DATA block of ${data.length} bytes exceeds the block size ${this.params.blksize}`,
        ),
        TFTP_ERROR.ILLEGAL_OPERATION,
        'block larger than the negotiated blksize',
      );
    }
    if (this.stats.bytes + data.length > this.maxBytes) {
      return void this.fail(
        new WirecatError(
          'WIRECAT_BUFFER_LIMIT',
          `the file exceeds the size limit of ${this.maxBytes} bytes`,
        ),
        TFTP_ERROR.DISK_FULL,
        `file too large: the limit is ${this.maxBytes} bytes`,
      );
    }
    let more: boolean;
    try {
      more = data.length === 0 || this.sink.write(data);
    } catch (err) {
      return void this.fail(
        new WirecatError('WIRECAT_IO', `cannot write: ${(err as Error).message}`, { cause: err }),
        TFTP_ERROR.DISK_FULL,
        'write error',
      );
    }
    this.stats.bytes += data.length;
    this.stats.blocks++;
    this.expected++;
    this.sinceAck++;
    this.answeredDuplicate = false;
    this.answeredGap = false;
    if (data.length < this.params.blksize) {
      try {
        this.sink.finish?.();
      } catch (err) {
        const e = err as Error & { tftpCode?: number };
        return void this.fail(
          err instanceof WirecatError
            ? err
            : new WirecatError('WIRECAT_IO', e.message, { cause: err }),
          e.tftpCode ?? TFTP_ERROR.NOT_DEFINED,
          e.message,
        );
      }
      this.ack();
      this.final = this.pending;
      return void this.succeed();
    }
    this.progress();
    if (!more || this.paused) this.paused = true;
    else if (this.sinceAck >= this.params.windowsize) this.ack();
  }

  // A full sink holds ACKs on purpose (backpressure): that is not a silent peer.
  protected override holding(): boolean {
    return this.paused;
  }

  protected retransmit(): void {
    if (this.phase === 'data' && this.expected > 1) this.ack();
    else this.send(this.pending!);
  }

  /** After the final ACK: a resent last block means that ACK was lost; answer a few times. */
  protected override afterFinish(buf: Buffer): void {
    if (!this.final || this.dallyAnswers >= this.retries + 1) return;
    if (buf.length >= 4 && buf.readUInt16BE(0) === OP.DATA) {
      if (buf.readUInt16BE(2) === ((this.expected - 1) & 0xffff)) {
        this.dallyAnswers++;
        this.send(this.final);
      }
    }
  }
}
