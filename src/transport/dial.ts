// Dialling: open a TCP, TLS or Unix stream connection, or a connected UDP socket, with a
// connect timeout and errors a user can act on.

import type dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { WirecatError } from '../errors.js';
import { lazyTls } from '../lazy-modules.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { createDatagramSocket } from './listen.js';
import { type TlsClientConfig, tlsConnectOptions, tlsFailure } from './tls.js';

/** Where a dial goes when the endpoint names no host. */
export const DEFAULT_DIAL_HOST = 'localhost';
/** How long a connect may take before we give up. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Translate a connect failure into a WirecatError with a stable code. */
export function dialError(err: NodeJS.ErrnoException, endpoint: Endpoint): WirecatError {
  const where = formatEndpoint(endpoint);
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOENT': // unix socket path missing
      return new WirecatError(
        'WIRECAT_CONNECT_REFUSED',
        `connection refused by ${where}: is a server listening there?`,
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new WirecatError('WIRECAT_CONNECT_REFUSED', `cannot resolve the host of ${where}`, {
        cause: err,
      });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new WirecatError('WIRECAT_CONNECT_REFUSED', `no route to ${where}`, { cause: err });
    case 'ETIMEDOUT':
      return new WirecatError('WIRECAT_CONNECT_TIMEOUT', `connecting to ${where} timed out`, {
        cause: err,
      });
    case 'ECONNRESET':
      return new WirecatError('WIRECAT_RESET', `${where} reset the connection`, { cause: err });
    default:
      return new WirecatError('WIRECAT_IO', `${where}: ${err.message}`, { cause: err });
  }
}

/**
 * Open a half-open-capable stream connection to a TCP, TLS or Unix endpoint. A TLS socket
 * resolves once the handshake is done and (unless `tlsConfig.insecure`) the server verified.
 * With `onread` (TCP and Unix only) reads go to that buffer and callback, and the socket
 * resolves paused: nothing is read before its owner resumes it.
 */
export function dialStream(
  endpoint: Endpoint,
  timeoutMs = DEFAULT_CONNECT_TIMEOUT_MS,
  tlsConfig?: TlsClientConfig,
  onread?: net.OnReadOpts,
): Promise<net.Socket> {
  if (endpoint.transport === 'udp') {
    return Promise.reject(
      new WirecatError(
        'WIRECAT_UNSUPPORTED_TRANSPORT',
        `dialStream cannot dial ${formatEndpoint(endpoint)}`,
      ),
    );
  }
  const host = endpoint.transport === 'unix' ? '' : (endpoint.host ?? DEFAULT_DIAL_HOST);
  const port = endpoint.transport === 'unix' ? 0 : endpoint.port;
  if (endpoint.transport === 'tls') onread = undefined;
  const socket =
    endpoint.transport === 'unix'
      ? net.connect({ path: endpoint.path, allowHalfOpen: true, onread })
      : endpoint.transport === 'tls'
        ? lazyTls()
            .connect({ ...tlsConnectOptions(host, tlsConfig), host, port })
            .setNoDelay(true)
        : net.connect({ host, port, allowHalfOpen: true, noDelay: true, onread });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new WirecatError(
          'WIRECAT_CONNECT_TIMEOUT',
          `no connection to ${formatEndpoint(endpoint)} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    socket.once(endpoint.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      // Emitted before net starts the first read: pausing here means none is started.
      if (onread) socket.pause();
      clearTimeout(timer);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      reject(tlsFailure(err, endpoint) ?? dialError(err, endpoint));
    };
    socket.once('error', onError);
  });
}

/** A UDP socket connected to the endpoint (it only hears that peer). */
export async function dialDatagram(endpoint: Endpoint): Promise<dgram.Socket> {
  if (endpoint.transport !== 'udp')
    throw new WirecatError('WIRECAT_UNSUPPORTED_TRANSPORT', 'dialDatagram takes a udp endpoint');
  const host = endpoint.host ?? DEFAULT_DIAL_HOST;
  let address: string;
  let family: number;
  try {
    ({ address, family } = net.isIP(host)
      ? { address: host, family: net.isIP(host) }
      : await lookup(host));
  } catch (err) {
    throw dialError(err as NodeJS.ErrnoException, endpoint);
  }
  const socket = createDatagramSocket(family === 6 ? 6 : 4);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (err) => reject(dialError(err as NodeJS.ErrnoException, endpoint)));
    socket.connect(endpoint.port, address, () => resolve());
  });
  socket.removeAllListeners('error');
  return socket;
}
