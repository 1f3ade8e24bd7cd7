// `wirecat probe`: check a server against the RFC of echo (862), discard (863), chargen (864),
// qotd (865), daytime (867) or time (868), over TCP (or TLS, Unix) and UDP: the bytes, the
// line pattern, sizes, the epoch, half-close handling, UDP reply bounds and loop safety.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { WirecatError } from '../errors.js';
import { dialStream } from '../transport/dial.js';
import { type Endpoint, formatEndpoint, parseEndpoint } from '../transport/endpoint.js';
import type { TlsClientConfig } from '../transport/tls.js';
import {
  chargenProblem,
  DEFAULT_MAX_CLOCK_SKEW_S,
  daytimeProblem,
  nonPrintable,
  timeProblem,
} from './probe-checks.js';

/** The services the probe knows, with their RFC. */
export const PROBE_SERVICES = {
  echo: 'RFC 862',
  discard: 'RFC 863',
  chargen: 'RFC 864',
  qotd: 'RFC 865',
  daytime: 'RFC 867',
  time: 'RFC 868',
} as const;
export type ProbeService = keyof typeof PROBE_SERVICES;

/** How long each step waits for the server. */
export const DEFAULT_PROBE_TIMEOUT_MS = 2_000;
/** RFC 864/865: a UDP reply (and a quote) carries at most 512 characters. */
export const MAX_UDP_REPLY = 512;
/** Bytes read from a stream before the probe stops reading (chargen never stops). */
export const PROBE_READ_LIMIT = 65_536;
/** Source ports tried for the loop checks: well-known service ports, then wirecat's. */
export const LOOP_PRIVILEGED_PORTS = [19, 7, 13, 37, 17];
export const LOOP_SERVICE_PORTS = [10019, 10007, 10013, 10037, 10017, 10009, 10023, 10100, 10101];

export interface ProbeCheck {
  transport: string;
  name: string;
  status: 'pass' | 'fail' | 'skip';
  detail: string;
}

export interface ProbeOptions {
  service: ProbeService;
  timeoutMs?: number;
  /** Our clock (tests pin it); the server's time is compared with it. */
  now?: () => Date;
  maxClockSkewS?: number;
  /** For tls:// endpoints. */
  tls?: TlsClientConfig;
}

export interface ProbeReport {
  endpoint: string;
  service: ProbeService;
  rfc: string;
  checks: ProbeCheck[];
  /** True when no check failed (skips do not count). */
  passed: boolean;
  /** True when every check failed because nothing answered (refused / no route). */
  unreachable: boolean;
}

interface StreamOutcome {
  data: Buffer;
  /** How the server's side ended: FIN, reset, or still open when we stopped. */
  end: 'fin' | 'reset' | 'open';
  /** Milliseconds until the server's FIN or reset. */
  endMs?: number;
}

/**
 * One stream exchange: send `send`, optionally half-close, read until the server closes,
 * `readLimit` bytes arrive, or `timeoutMs` passes.
 */
async function streamExchange(
  endpoint: Endpoint,
  o: {
    send?: Buffer;
    halfClose: boolean;
    readLimit?: number;
    timeoutMs: number;
    tls?: TlsClientConfig;
  },
): Promise<StreamOutcome> {
  const socket = await dialStream(endpoint, o.timeoutMs, o.tls);
  const started = performance.now();
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (end: StreamOutcome['end']) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const endMs = end === 'open' ? undefined : performance.now() - started;
      socket.destroy();
      resolve({ data: Buffer.concat(parts, size), end, endMs });
    };
    const timer = setTimeout(() => finish('open'), o.timeoutMs);
    socket.on('data', (d: Buffer) => {
      parts.push(d);
      size += d.length;
      if (o.readLimit !== undefined && size >= o.readLimit) finish('open');
    });
    socket.on('end', () => finish('fin'));
    socket.on('error', () => finish('reset'));
    if (o.send) socket.write(o.send);
    if (o.halfClose) socket.end();
  });
}

/** Send one datagram from `bindPort` (0 = any) and wait for a reply. */
async function datagramExchange(
  address: string,
  port: number,
  payload: Buffer,
  timeoutMs: number,
  bindPort = 0,
): Promise<Buffer | undefined | 'refused'> {
  const socket = dgram.createSocket(net.isIP(address) === 6 ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: bindPort, address: net.isIP(address) === 6 ? '::' : '0.0.0.0' }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      socket.on('message', (msg, rinfo) => {
        if (rinfo.port !== port) return;
        clearTimeout(timer);
        resolve(msg);
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(err.code === 'ECONNREFUSED' ? 'refused' : undefined);
      });
      socket.connect(port, address, () => socket.send(payload));
    });
  } finally {
    socket.close();
  }
}

const REFUSED = 'no answer: connection refused';

class Checks {
  readonly list: ProbeCheck[] = [];
  constructor(private readonly transport: string) {}
  add(name: string, problem: string | undefined, okDetail: string): void {
    this.list.push({
      transport: this.transport,
      name,
      status: problem === undefined ? 'pass' : 'fail',
      detail: problem ?? okDetail,
    });
  }
  skip(name: string, why: string): void {
    this.list.push({ transport: this.transport, name, status: 'skip', detail: why });
  }
}

function describeEnd(o: StreamOutcome): string {
  return o.end === 'fin'
    ? `closed after ${Math.round(o.endMs ?? 0)} ms`
    : o.end === 'reset'
      ? 'reset the connection'
      : 'still open';
}

async function probeStream(
  endpoint: Endpoint,
  service: ProbeService,
  o: Required<Pick<ProbeOptions, 'timeoutMs' | 'maxClockSkewS'>> & ProbeOptions,
): Promise<ProbeCheck[]> {
  const c = new Checks(endpoint.transport);
  const x = (send: Buffer | undefined, halfClose: boolean, readLimit?: number) =>
    streamExchange(endpoint, { send, halfClose, readLimit, timeoutMs: o.timeoutMs, tls: o.tls });
  const now = o.now ?? (() => new Date());
  switch (service) {
    case 'echo': {
      const payload = randomBytes(PROBE_READ_LIMIT);
      const big = await x(payload, false, payload.length);
      c.add(
        'echoes 64 KiB of binary exactly',
        big.data.equals(payload)
          ? undefined
          : `got ${big.data.length} of ${payload.length} bytes back${big.data.equals(payload.subarray(0, big.data.length)) ? '' : ', and they differ'}`,
        `${payload.length} B back, identical`,
      );
      const small = await x(Buffer.from('half-close\r\n'), true);
      c.add(
        "answers after the client's FIN, then closes",
        small.data.toString() === 'half-close\r\n' && small.end === 'fin'
          ? undefined
          : `after our FIN: ${small.data.length} B back, server ${describeEnd(small)} (not half-close capable?)`,
        `reply after our FIN, ${describeEnd(small)}`,
      );
      break;
    }
    case 'discard': {
      const out = await x(randomBytes(4096), false, 1);
      c.add(
        'sends nothing back',
        out.data.length === 0 ? undefined : `sent ${out.data.length} B`,
        'nothing came back',
      );
      const fin = await x(Buffer.from('bye'), true);
      c.add(
        "closes after the client's FIN",
        fin.end === 'fin' && fin.data.length === 0 ? undefined : `server ${describeEnd(fin)}`,
        describeEnd(fin),
      );
      break;
    }
    case 'chargen': {
      const out = await x(undefined, false, PROBE_READ_LIMIT);
      c.add(
        'streams at least 64 KiB',
        out.data.length >= PROBE_READ_LIMIT
          ? undefined
          : `only ${out.data.length} B, server ${describeEnd(out)}`,
        `${out.data.length} B`,
      );
      c.add(
        '72-character rotating lines with CRLF (RFC 864)',
        chargenProblem(out.data.subarray(0, PROBE_READ_LIMIT - 1024)),
        `${Math.floor(out.data.length / 74)} lines follow the pattern`,
      );
      break;
    }
    case 'qotd':
    case 'daytime':
    case 'time': {
      const out = await x(undefined, false, PROBE_READ_LIMIT);
      c.add(
        'replies, then closes without waiting for input',
        out.end === 'fin' && out.data.length > 0
          ? undefined
          : `${out.data.length} B, server ${describeEnd(out)}`,
        `${out.data.length} B, ${describeEnd(out)}`,
      );
      replyChecks(c, service, out.data, now(), o.maxClockSkewS, false);
      break;
    }
  }
  return c.list;
}

/** The content checks shared by the stream and datagram forms of qotd, daytime and time. */
function replyChecks(
  c: Checks,
  service: ProbeService,
  data: Buffer,
  now: Date,
  maxSkew: number,
  datagram: boolean,
): void {
  if (service === 'time') {
    c.add(
      '4 bytes: seconds since 1900 (RFC 868), near our clock',
      timeProblem(data, now, maxSkew),
      `${data.length === 4 ? data.readUInt32BE(0) : '?'}`,
    );
  } else if (service === 'qotd') {
    c.add(
      'at most 512 characters',
      data.length <= MAX_UDP_REPLY ? undefined : `${data.length} characters`,
      `${data.length} characters`,
    );
    c.add('printable ASCII text', nonPrintable(data), 'printable');
  } else if (service === 'daytime') {
    c.add(
      'printable ASCII text',
      data.length === 0 ? 'empty reply' : nonPrintable(data),
      JSON.stringify(data.toString().trim()),
    );
    const problem = daytimeProblem(data.toString('latin1'), now, maxSkew);
    if (problem === 'unknown-format')
      c.skip('the date is now', 'format not recognised (RFC 867 fixes no syntax)');
    else c.add('the date is now', problem, 'within the allowed clock skew');
  } else if (service === 'chargen' && datagram) {
    c.add(
      'reply of 0-512 characters to an empty datagram (RFC 864)',
      data.length <= MAX_UDP_REPLY
        ? undefined
        : `${data.length} bytes: over 512, an amplification risk`,
      `${data.length} bytes`,
    );
    c.add(
      'lines of the rotating pattern',
      data.length === 0 ? undefined : chargenProblem(data, { wholeLines: true }),
      'pattern kept',
    );
  }
}

async function probeDatagram(
  endpoint: Endpoint & { host: string | undefined; port: number },
  service: ProbeService,
  o: Required<Pick<ProbeOptions, 'timeoutMs' | 'maxClockSkewS'>> & ProbeOptions,
): Promise<ProbeCheck[]> {
  const c = new Checks('udp');
  let address: string;
  try {
    const host = endpoint.host ?? 'localhost';
    address = net.isIP(host) ? host : (await lookup(host)).address;
  } catch {
    c.add('resolves the host', 'cannot resolve the host', '');
    return c.list;
  }
  const now = o.now ?? (() => new Date());
  const ask = (payload: Buffer, bindPort = 0) =>
    datagramExchange(address, endpoint.port, payload, o.timeoutMs, bindPort);
  const request = service === 'echo' ? randomBytes(100) : Buffer.alloc(0);
  const reply = await ask(request);
  if (reply === 'refused') {
    c.add('answers a datagram', REFUSED, '');
    return c.list;
  }
  if (service === 'discard') {
    c.add(
      'sends no reply',
      reply === undefined ? undefined : `replied with ${reply.length} B`,
      `nothing within ${o.timeoutMs} ms`,
    );
    return c.list;
  }
  if (reply === undefined) {
    c.add('answers a datagram', `no reply within ${o.timeoutMs} ms`, '');
    return c.list;
  }
  if (service === 'echo') {
    c.add(
      'echoes the datagram exactly',
      reply.equals(request) ? undefined : `${reply.length} B back, different`,
      `${reply.length} B back, identical`,
    );
  } else replyChecks(c, service, reply, now(), o.maxClockSkewS, true);
  await loopChecks(c, ask, request, endpoint.port);
  return c.list;
}

/** No reply to datagrams from service ports: the echo/chargen loop (CVE-1999-0103, CVE-2024-2169). */
async function loopChecks(
  c: Checks,
  ask: (payload: Buffer, bindPort: number) => Promise<Buffer | undefined | 'refused'>,
  request: Buffer,
  targetPort: number,
): Promise<void> {
  const tries: [string, number[]][] = [
    ['no reply to a privileged source port (loop safety)', LOOP_PRIVILEGED_PORTS],
    ['no reply to a service source port (loop safety)', LOOP_SERVICE_PORTS],
  ];
  for (const [name, ports] of tries) {
    let result: string | undefined | null = null;
    let used = 0;
    let why = 'no such port was free';
    for (const port of ports.filter((p) => p !== targetPort)) {
      try {
        const reply = await ask(request, port);
        used = port;
        result =
          reply instanceof Buffer
            ? `answered source port ${port} with ${reply.length} B: a loop or reflection risk`
            : undefined;
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES') {
          why = 'needs root to send from a port below 1024';
          break;
        }
      }
    }
    if (result === null) c.skip(name, why);
    else c.add(name, result, `no reply to source port ${used}`);
  }
}

/**
 * Probe a server. A bare HOST:PORT probes TCP and UDP; tcp://, tls://, unix: or udp:// one
 * transport. Never rejects for a failing server: the report says what failed.
 *
 * @example
 * const report = await probe('127.0.0.1:10037', { service: 'time' });
 * report.passed; // true against wirecat serve
 */
export async function probe(target: string, options: ProbeOptions): Promise<ProbeReport> {
  const service = options.service;
  if (!(service in PROBE_SERVICES)) {
    throw new WirecatError(
      'WIRECAT_UNKNOWN_SERVICE',
      `the probe knows ${Object.keys(PROBE_SERVICES).join(', ')}; not "${service}"`,
    );
  }
  const explicit = /^[a-z]+:/i.test(target.trim());
  const endpoint = parseEndpoint(target);
  const o = {
    ...options,
    timeoutMs: options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
    maxClockSkewS: options.maxClockSkewS ?? DEFAULT_MAX_CLOCK_SKEW_S,
  };
  const checks: ProbeCheck[] = [];
  if (endpoint.transport !== 'udp') {
    try {
      checks.push(...(await probeStream(endpoint, service, o)));
    } catch (err) {
      const e = err as WirecatError;
      checks.push({
        transport: endpoint.transport,
        name: 'accepts a connection',
        status: 'fail',
        detail: e.code === 'WIRECAT_CONNECT_REFUSED' ? REFUSED : e.message,
      });
    }
  }
  if (endpoint.transport === 'udp' || (!explicit && endpoint.transport === 'tcp')) {
    checks.push(...(await probeDatagram({ ...endpoint, transport: 'udp' }, service, o)));
  }
  const failed = checks.filter((x) => x.status === 'fail');
  return {
    endpoint: explicit ? formatEndpoint(endpoint) : target,
    service,
    rfc: PROBE_SERVICES[service],
    checks,
    passed: failed.length === 0,
    unreachable:
      failed.length > 0 &&
      failed.length === checks.length &&
      failed.every((x) => x.detail === REFUSED),
  };
}
