// The two ends a relay joins, behind one small interface: a stream connection (TCP, TLS,
// Unix, through a Conn), a UDP peer (one datagram per chunk), or stdin/stdout.

import type dgram from 'node:dgram';
import type { Readable, Writable } from 'node:stream';
import { channels, publish } from '../observe/channels.js';
import type { Conn, StreamHandler } from '../transport/conn.js';
import { resetOrDestroy } from '../transport/reset.js';

/** What a side tells the relay. */
export interface SideEvents {
  data(chunk: Buffer): void;
  /** The side will send nothing more (FIN, end of stdin, a datagram side lingering out). */
  end(): void;
  /** The side can take more after write() returned false. */
  drain(): void;
  /** The side is gone; `failure` is why when it was not a normal close (ECONNRESET, …). */
  close(failure: string | undefined): void;
}

/** One end of a relay. Chunks handed to `events.data` are the relay's to keep. */
export interface Side {
  /** 'client' (A) or 'upstream' (B): the summary and the trace use it. */
  readonly role: string;
  /** True when every chunk is one datagram (UDP): boundaries matter, there is no FIN. */
  readonly datagrams: boolean;
  /** Start delivering events to the relay (what arrived before is delivered first). */
  attach(events: SideEvents): void;
  /** Send; false when the caller should wait for `drain`. */
  write(chunk: Buffer): boolean;
  /** We will send nothing more (FIN). */
  end(): void;
  pause(): void;
  resume(): void;
  /** Abort with a TCP RST where the transport has one; a plain close otherwise. */
  reset(): void;
  destroy(): void;
  /** Bytes written but not yet taken by the kernel. */
  readonly unsent: number;
  readonly closed: boolean;
  /** Publish an event about this side (fault injected, session limit) for --trace. */
  note(reason: string, message: string): void;
}

/** Hand events to the relay, holding what arrives before it has attached (bounded: one read). */
class Early {
  private held: Buffer[] = [];
  private ended = false;
  private failure: string | undefined | null = null;
  events: SideEvents | undefined;
  data(chunk: Buffer): void {
    if (this.events) this.events.data(chunk);
    else this.held.push(chunk);
  }
  end(): void {
    if (this.events) this.events.end();
    else this.ended = true;
  }
  close(failure: string | undefined): void {
    if (this.events) this.events.close(failure);
    else this.failure = failure;
  }
  attach(events: SideEvents): void {
    this.events = events;
    for (const chunk of this.held) events.data(chunk);
    this.held = [];
    if (this.ended) events.end();
    if (this.failure !== null) events.close(this.failure);
  }
}

/** A stream connection as a side. Returns the handler to start the Conn with. */
export function connSide(conn: Conn, role: string): { side: Side; handler: StreamHandler } {
  const early = new Early();
  const side: Side = {
    role,
    datagrams: false,
    attach: (events) => early.attach(events),
    write: (chunk) => conn.write(chunk),
    end: () => conn.end(),
    pause: () => conn.pauseReading(),
    resume: () => conn.resumeReading(),
    reset() {
      conn.failure ??= 'WIRECAT_RESET';
      resetOrDestroy(conn.socket); // TLS and Unix sockets have no RST: they close
    },
    destroy: () => conn.abort(conn.failure ?? 'WIRECAT_RELAY_PEER_GONE'),
    get unsent() {
      return conn.unsentBytes;
    },
    get closed() {
      return conn.isClosed;
    },
    note: (reason, message) => conn.emit('limit-hit', reason, message),
  };
  const handler: StreamHandler = {
    data: (c, chunk) => early.data(c.keep(chunk)),
    end: () => early.end(),
    drain: () => early.events?.drain(),
    close: (c) => early.close(c.failure),
  };
  return { side, handler };
}

/** Options for a datagram side. */
export interface DatagramSideOptions {
  role: string;
  /** Send one datagram to the peer. */
  send(chunk: Buffer): void;
  /** Release the socket or the peer-table entry. */
  release(): void;
  /** Close after this long with no datagram either way (UDP has no FIN). */
  idleTimeoutMs: number;
  /** After the other side's FIN, wait this long for late replies, then close. */
  lingerMs: number;
  /** For events: our endpoint and the peer. */
  local: string;
  remote: string;
}

/** A UDP peer as a side: each chunk is one datagram. Call `deliver` with each datagram received. */
export function datagramSide(o: DatagramSideOptions): Side & { deliver(msg: Buffer): void } {
  const early = new Early();
  let closed = false;
  let ending = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    const ms = ending ? o.lingerMs : o.idleTimeoutMs;
    if (ms > 0) timer = setTimeout(finish, ms, ending ? undefined : 'WIRECAT_IDLE_TIMEOUT');
  };
  const finish = (failure?: string) => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    o.release();
    early.end();
    early.close(failure);
  };
  arm();
  return {
    role: o.role,
    datagrams: true,
    attach: (events) => early.attach(events),
    deliver(msg) {
      if (closed) return;
      arm();
      early.data(msg);
    },
    write(chunk) {
      if (closed) return true;
      arm();
      o.send(chunk);
      return true; // the kernel drops what it cannot queue: UDP has no backpressure
    },
    end() {
      ending = true;
      arm();
    },
    pause() {},
    resume() {},
    reset: () => finish('WIRECAT_RESET'),
    destroy: () => finish('WIRECAT_RELAY_PEER_GONE'),
    unsent: 0,
    get closed() {
      return closed;
    },
    note(reason, message) {
      if (channels['limit-hit'].hasSubscribers) {
        publish({
          type: 'limit-hit',
          id: 0,
          service: 'relay',
          transport: 'udp',
          local: o.local,
          remote: o.remote,
          reason,
          message,
        });
      }
    },
  };
}

/** Bind a connected UDP socket's messages and errors to a datagram side. */
export function connectedDatagramSide(
  socket: dgram.Socket,
  options: Omit<DatagramSideOptions, 'send' | 'release'>,
): Side {
  const side = datagramSide({
    ...options,
    send: (chunk) => socket.send(chunk),
    release: () => socket.close(),
  });
  socket.on('message', (msg) => side.deliver(msg));
  socket.on('error', () => {}); // ICMP port unreachable: the idle timeout ends the session
  return side;
}

/** stdin and stdout (or any readable and writable) as a side. */
export function stdioSide(input: Readable, output: Writable, role: string): Side {
  const early = new Early();
  let inputDone = false;
  let outputDone = false;
  let closed = false;
  const maybeClose = (failure?: string) => {
    if (closed || (!failure && !(inputDone && outputDone))) return;
    closed = true;
    early.close(failure);
  };
  input.on('data', (chunk: Buffer) => early.data(chunk));
  input.on('end', () => {
    inputDone = true;
    early.end();
    maybeClose();
  });
  input.on('error', () => maybeClose('WIRECAT_IO'));
  output.on('drain', () => early.events?.drain());
  output.on('error', () => maybeClose('OUTPUT_CLOSED'));
  return {
    role,
    datagrams: false,
    attach: (events) => early.attach(events),
    write: (chunk) => output.write(chunk),
    end() {
      outputDone = true;
      // process.stdout must stay open for the summary; other writables end normally.
      if (output !== process.stdout) output.end();
      maybeClose();
    },
    pause: () => input.pause(),
    resume: () => input.resume(),
    reset() {
      input.destroy();
      maybeClose('WIRECAT_RESET');
    },
    destroy() {
      input.destroy();
      maybeClose('WIRECAT_RELAY_PEER_GONE');
    },
    get unsent() {
      return output.writableLength;
    },
    get closed() {
      return closed;
    },
    note() {},
  };
}
