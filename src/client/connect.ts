// The one-shot stream client (`wirecat connect`): input goes to the socket; at the input's
// end we half-close (FIN) and keep reading until the peer closes; what arrives goes to the
// output unchanged. Binary-safe, with backpressure both ways (the session is session.ts).

import type net from 'node:net';
import { monotonicMs } from '../monotonic.js';
import { Conn } from '../transport/conn.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, dialStream } from '../transport/dial.js';
import { type Endpoint, parseEndpoint } from '../transport/endpoint.js';
import type { TlsClientConfig } from '../transport/tls.js';
import { runSession, type SessionOptions, type SessionResult } from './session.js';

export { DEFAULT_MAX_COLLECT_BYTES } from './session.js';

/** The client's idle timeout when none is given: no traffic either way for this long ends it. */
export const DEFAULT_CLIENT_IDLE_TIMEOUT_MS = 300_000;
/** Options for `connect`: the session's (input, output, half-close, line mode) plus dialling. */
export interface ConnectOptions extends SessionOptions {
  connectTimeoutMs?: number;
  /** No traffic either way for this long ends the connection with WIRECAT_IDLE_TIMEOUT. 0 disables. */
  idleTimeoutMs?: number;
  /** For tls:// endpoints: how to verify the server (default: system CAs, name checked). */
  tls?: TlsClientConfig;
  /** The name the trace and events give this connection (default `connect`). */
  label?: string;
}

/** What happened on the connection. */
export type ConnectResult = SessionResult;

/**
 * Connect, send, half-close, read to the end.
 *
 * @example
 * const { received } = await connect('tcp://127.0.0.1:10007', { input: 'hello\n' });
 * received?.toString(); // 'hello\n'
 */
export async function connect(
  target: string | Endpoint,
  options: ConnectOptions = {},
): Promise<ConnectResult> {
  const endpoint = typeof target === 'string' ? parseEndpoint(target) : target;
  const started = monotonicMs();
  const socket = await dialStream(
    endpoint,
    options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    options.tls,
  );
  const conn = clientConn(socket, endpoint, options.label ?? 'connect', options.idleTimeoutMs);
  return runSession(conn, options, started);
}

/**
 * A Conn for a client-side socket (dialled by `connect` or accepted by `listen`): it keeps
 * reading while our writes wait (or both sides can block), and never cuts for buffering.
 */
export function clientConn(
  socket: net.Socket,
  endpoint: Endpoint,
  service: string,
  idleTimeoutMs = DEFAULT_CLIENT_IDLE_TIMEOUT_MS,
): Conn {
  const transport = endpoint.transport === 'udp' ? 'tcp' : endpoint.transport;
  return Conn.wrap(socket, transport, {
    service,
    idleTimeoutMs,
    maxBufferedBytes: Number.POSITIVE_INFINITY,
    readWhileBlocked: true,
  });
}
