// The `tftp` service (RFC 1350, options RFC 2347/2348/2349/7440): takes over the Host's UDP
// socket, answers RRQ/WRQ, and runs each transfer on its own ephemeral socket (a new TID, as
// RFC 1350 requires) with the Sender/Receiver state machines. Read-only unless allowWrite.

import type dgram from 'node:dgram';
import { isIP } from 'node:net';
import { WirecatError } from '../../errors.js';
import { channels, publish } from '../../observe/channels.js';
import { formatHostPort } from '../../transport/endpoint.js';
import { createDatagramSocket } from '../../transport/listen.js';
import { type FileRoot, fileRootFor } from '../file-root.js';
import type { DatagramContext, Service, ServiceDefinition, ServiceSettings } from '../service.js';
import { type BlockSink, FileSource, NetasciiSink, NetasciiSource } from './blocks.js';
import { openForWrite, refusalFor, type TempFileSink } from './files.js';
import { isRefusal, negotiateServer, parseMode, type Refusal } from './options.js';
import {
  decodePacket,
  encodeError,
  encodeOack,
  MAX_BLKSIZE,
  OP,
  type RequestPacket,
  TFTP_ERROR,
} from './packet.js';
import {
  type Clock,
  DEFAULT_TFTP_RETRIES,
  DEFAULT_TFTP_TIMEOUT_MS,
  Receiver,
  Sender,
  systemClock,
  type TransferOutcome,
} from './transfer.js';

/** Settings of the tftp service (HostOptions.tftp, ServiceSettings.tftp). */
export interface TftpServerOptions {
  /** Accept WRQ uploads (default false: read-only). */
  allowWrite?: boolean;
  /** Let an upload replace an existing file (default false: ERROR 6). */
  allowOverwrite?: boolean;
  /** Largest upload in bytes (default: ServiceSettings.maxFileBytes if set, else DEFAULT_TFTP_MAX_FILE_SIZE). */
  maxFileSize?: number;
  /** Transfers at once, all clients (DEFAULT_TFTP_MAX_TRANSFERS). */
  maxTransfers?: number;
  /** Transfers at once from one address (DEFAULT_TFTP_MAX_TRANSFERS_PER_CLIENT). */
  maxTransfersPerClient?: number;
  /** Retransmission timeout when the client negotiates none (DEFAULT_TFTP_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Retransmissions before a transfer is given up (DEFAULT_TFTP_RETRIES). */
  retries?: number;
  /** Largest blksize granted; larger requests are clamped (65464, the RFC 2348 maximum). */
  maxBlksize?: number;
  /** Largest windowsize granted (DEFAULT_TFTP_MAX_WINDOWSIZE). */
  maxWindowsize?: number;
  /** The clock of the state machines (tests). */
  clock?: Clock;
}

/** Uploads larger than this are refused (ERROR 3), before (tsize) or during the transfer. */
export const DEFAULT_TFTP_MAX_FILE_SIZE = 256 * 1_048_576;
/** Transfers running at once; the next request gets ERROR 0 "server busy". */
export const DEFAULT_TFTP_MAX_TRANSFERS = 64;
/** Transfers running at once from one client address. */
export const DEFAULT_TFTP_MAX_TRANSFERS_PER_CLIENT = 8;
/** Largest windowsize granted (RFC 7440 allows 65535; 64 already fills the pipe on loopback). */
export const DEFAULT_TFTP_MAX_WINDOWSIZE = 64;
/** windowsize × blksize is capped to this: the window is held in memory and in socket buffers. */
export const TFTP_MAX_WINDOW_BYTES = 2 * 1_048_576;

interface Running {
  key: string;
  address: string;
  machine: Sender | Receiver;
  socket: dgram.Socket;
  cleanup(): void;
  ended: Promise<void>;
}

class TftpService implements Service {
  readonly name = 'tftp';
  private readonly root: FileRoot;
  private readonly opts: Required<TftpServerOptions>;
  private readonly running = new Map<string, Running>();
  private readonly perClient = new Map<string, number>();
  private closing = false;

  constructor(private readonly settings: ServiceSettings) {
    const o = settings.tftp ?? {};
    this.root = fileRootFor('tftp', settings);
    this.opts = {
      allowWrite: o.allowWrite ?? false,
      allowOverwrite: o.allowOverwrite ?? false,
      maxFileSize: o.maxFileSize ?? settings.maxFileBytes ?? DEFAULT_TFTP_MAX_FILE_SIZE,
      maxTransfers: o.maxTransfers ?? DEFAULT_TFTP_MAX_TRANSFERS,
      maxTransfersPerClient: o.maxTransfersPerClient ?? DEFAULT_TFTP_MAX_TRANSFERS_PER_CLIENT,
      timeoutMs: o.timeoutMs ?? DEFAULT_TFTP_TIMEOUT_MS,
      retries: o.retries ?? DEFAULT_TFTP_RETRIES,
      maxBlksize: Math.min(o.maxBlksize ?? MAX_BLKSIZE, MAX_BLKSIZE),
      maxWindowsize: o.maxWindowsize ?? DEFAULT_TFTP_MAX_WINDOWSIZE,
      clock: o.clock ?? systemClock,
    };
  }

  openStream(): never {
    throw new WirecatError('WIRECAT_UNSUPPORTED_TRANSPORT', 'tftp runs over UDP only');
  }

  serveDatagrams(socket: dgram.Socket, context: DatagramContext): void {
    socket.on('message', (msg, rinfo) => {
      if (this.closing || context.refuse(rinfo.address, rinfo.port)) return;
      this.onRequest(socket, context, msg, rinfo).catch(() => {});
    });
  }

  private async onRequest(
    listener: dgram.Socket,
    context: DatagramContext,
    msg: Buffer,
    rinfo: dgram.RemoteInfo,
  ): Promise<void> {
    const op = msg.length >= 2 ? msg.readUInt16BE(0) : 0;
    if (op !== OP.RRQ && op !== OP.WRQ) return; // not a request: stray or spoofed, stay silent
    const reply = (code: number, message: string) =>
      listener.send(encodeError(code, message), rinfo.port, rinfo.address);
    let request: RequestPacket;
    try {
      request = decodePacket(msg) as RequestPacket;
    } catch (err) {
      return reply(TFTP_ERROR.ILLEGAL_OPERATION, (err as Error).message);
    }
    const key = formatHostPort(rinfo.address, rinfo.port);
    if (this.running.has(key)) return; // the client resent its request: the transfer is on
    if (this.running.size >= this.opts.maxTransfers)
      return reply(TFTP_ERROR.NOT_DEFINED, 'server busy: too many transfers, try again later');
    const fromClient = this.perClient.get(rinfo.address) ?? 0;
    if (fromClient >= this.opts.maxTransfersPerClient)
      return reply(
        TFTP_ERROR.NOT_DEFINED,
        'server busy: too many transfers from your address, try again later',
      );
    const mode = parseMode(request.mode);
    if (typeof mode !== 'string') return reply(mode.code, mode.message);
    if (op === OP.WRQ && !this.opts.allowWrite)
      return reply(TFTP_ERROR.ACCESS_VIOLATION, 'uploads are disabled on this server');

    // Reserve the slot before any await, so a burst cannot overshoot the limits.
    this.perClient.set(rinfo.address, fromClient + 1);
    const slot: Running = { key, address: rinfo.address } as Running;
    this.running.set(key, slot);
    const release = () => {
      this.running.delete(key);
      const n = (this.perClient.get(rinfo.address) ?? 1) - 1;
      if (n <= 0) this.perClient.delete(rinfo.address);
      else this.perClient.set(rinfo.address, n);
    };
    try {
      const started = await this.start(listener, context, request, mode, rinfo, slot);
      if (!started) release();
      else started.ended.then(release);
    } catch (err) {
      release();
      reply(TFTP_ERROR.NOT_DEFINED, `server error: ${(err as Error).message}`);
    }
  }

  /** Open the file, negotiate, start the machine. Resolves with its end, or undefined if refused. */
  private async start(
    listener: dgram.Socket,
    context: DatagramContext,
    request: RequestPacket,
    mode: 'octet' | 'netascii',
    rinfo: dgram.RemoteInfo,
    slot: Running,
  ): Promise<{ ended: Promise<void> } | undefined> {
    const refuse = (r: Refusal) => {
      listener.send(encodeError(r.code, r.message), rinfo.port, rinfo.address);
      return undefined;
    };
    const limits = {
      maxBlksize: this.opts.maxBlksize,
      maxWindowsize: this.opts.maxWindowsize,
      maxWindowBytes: TFTP_MAX_WINDOW_BYTES,
      defaultTimeoutMs: this.opts.timeoutMs,
      maxFileSize: this.opts.maxFileSize,
    };
    const peer = { address: rinfo.address, port: rinfo.port };
    let machineFor: (env: ConstructorParameters<typeof Sender>[0]) => Sender | Receiver;
    let cleanup: (ok: boolean) => void;
    if (request.op === OP.RRQ) {
      let file: Awaited<ReturnType<FileRoot['open']>>;
      try {
        file = await this.root.open(request.filename);
      } catch (err) {
        return refuse(refusalFor(err, request.filename));
      }
      const closeFile = () => {
        file.handle.close().catch(() => {});
      };
      const negotiated = negotiateServer(request, mode, file.size, limits);
      if (isRefusal(negotiated)) {
        closeFile();
        return refuse(negotiated);
      }
      const raw = new FileSource(file.handle.fd, file.size);
      const source = mode === 'netascii' ? new NetasciiSource(raw) : raw;
      const oack = negotiated.oack.length > 0 ? encodeOack(negotiated.oack) : undefined;
      machineFor = (env) => new Sender(env, negotiated.params, { peer, oack }, source);
      cleanup = closeFile;
    } else {
      const negotiated = negotiateServer(request, mode, undefined, limits);
      if (isRefusal(negotiated)) return refuse(negotiated);
      const file = await openForWrite(this.root, request.filename, this.opts.allowOverwrite);
      if (isRefusal(file)) return refuse(file);
      const sink: BlockSink = mode === 'netascii' ? new NetasciiSink(file) : file;
      const oack = negotiated.oack.length > 0 ? encodeOack(negotiated.oack) : undefined;
      machineFor = (env) =>
        new Receiver(env, negotiated.params, { peer, oack }, sink, this.opts.maxFileSize);
      cleanup = (ok) => {
        if (!ok) (file as TempFileSink).abort();
      };
    }

    if (this.closing) {
      cleanup(false);
      return undefined;
    }
    const family = isIP(rinfo.address) === 6 ? 6 : 4;
    const socket = createDatagramSocket(family);
    socket.on('error', () => {}); // ICMP errors from a vanished client: the timer handles it
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, listener.address().address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      cleanup(false);
      socket.close();
      throw err;
    }
    let resolveEnded!: () => void;
    const ended = new Promise<void>((resolve) => {
      resolveEnded = resolve;
    });
    const local = `udp://${formatHostPort(listener.address().address, socket.address().port)}`;
    const remote = formatHostPort(rinfo.address, rinfo.port);
    const machine = machineFor({
      clock: this.opts.clock,
      retries: this.opts.retries,
      peerName: 'the client',
      send: (packet, port, address) => socket.send(packet, port, address),
      mayAnswer: (address, port) => context.refuse(address, port) === undefined,
      done: (outcome: TransferOutcome) => {
        cleanup(outcome.ok);
        if (channels.close.hasSubscribers)
          publish({
            type: 'close',
            id: 0,
            service: 'tftp',
            transport: 'udp',
            local,
            remote,
            bytes: outcome.stats.bytes,
            reason: outcome.ok ? 'done' : outcome.error.code,
            message: outcome.ok ? undefined : outcome.error.message,
          });
        // A receiver lingers one timeout to repeat a lost final ACK; a sender is done at once.
        const linger = machine instanceof Receiver && outcome.ok ? machine.parameters.timeoutMs : 0;
        const close = () => {
          socket.close();
          resolveEnded();
        };
        if (linger > 0) this.opts.clock.setTimer(close, linger);
        else close();
      },
    });
    socket.on('message', (msg, r) => machine.receive(msg, r.address, r.port));
    sizeSocketBuffers(socket, machine.parameters);
    slot.machine = machine;
    slot.socket = socket;
    slot.ended = ended;
    if (channels.accept.hasSubscribers)
      publish({
        type: 'accept',
        id: 0,
        service: 'tftp',
        transport: 'udp',
        local,
        remote,
        message: `${request.op === OP.RRQ ? 'RRQ' : 'WRQ'} ${request.filename} ${mode}`,
      });
    machine.start();
    return { ended };
  }

  async close(): Promise<void> {
    this.closing = true;
    const waits = [...this.running.values()].map((r) => r.ended).filter(Boolean);
    if (waits.length === 0) return;
    const drain = this.settings.limits.drainTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(waits),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, drain);
      }),
    ]);
    clearTimeout(timer);
    for (const r of this.running.values())
      r.machine?.abort(TFTP_ERROR.NOT_DEFINED, 'server shutting down', 'WIRECAT_SHUTDOWN');
    await Promise.all([...this.running.values()].map((r) => r.ended).filter(Boolean));
  }
}

/** Linux's default socket buffer (net.core.rmem_default): smaller windows need nothing more. */
const DEFAULT_SOCKET_BUFFER = 212_992;

/**
 * Make room for a whole window in the socket buffers (twice, for a retransmitted window in
 * flight): a window larger than the buffer is dropped by the kernel, and then every window
 * waits for a timeout (atftpd collapses to ~1 MB/s that way). The kernel caps it at rmem_max.
 */
export function sizeSocketBuffers(
  socket: dgram.Socket,
  params: { blksize: number; windowsize: number },
): void {
  const want = 2 * params.windowsize * (params.blksize + 32);
  if (want <= DEFAULT_SOCKET_BUFFER) return;
  try {
    socket.setRecvBufferSize(want);
    socket.setSendBufferSize(want);
  } catch {
    // Not allowed or not bound yet: the default buffers still work, only slower under bursts.
  }
}

/** The tftp ServiceDefinition: UDP only, needs `tftp.root`. */
export const tftp: ServiceDefinition = {
  name: 'tftp',
  summary: 'TFTP file server, read-only unless --allow-write (needs --root DIR)',
  spec: 'RFC 1350, 2347, 2348, 2349, 7440',
  defaultPort: 10_069,
  udp: true,
  tcp: false,
  optIn: true,
  create: (settings) => new TftpService(settings),
};
