// Listening sockets: TCP (IPv4/IPv6), TLS and Unix stream servers, and UDP sockets. Knows
// addresses and sockets, nothing about protocols.

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { existsSync, lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { WirecatError } from '../errors.js';
import { lazyTls } from '../lazy-modules.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { type TlsServerConfig, tlsServerOptions } from './tls.js';

/** Where a listener binds when the endpoint names no host: loopback only. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
/** Pending connections the kernel may queue before we accept them. */
export const DEFAULT_BACKLOG = 4096;

/** True for the "every interface" addresses. */
export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** True for addresses that only this machine can reach. */
export function isLoopback(host: string): boolean {
  return (
    host === '::1' ||
    host.startsWith('127.') ||
    host === 'localhost' ||
    host.startsWith('::ffff:127.')
  );
}

function listenError(err: NodeJS.ErrnoException, endpoint: Endpoint): WirecatError {
  const where = formatEndpoint(endpoint);
  if (err.code === 'EADDRINUSE') {
    return new WirecatError(
      'WIRECAT_ADDRESS_IN_USE',
      `${where} is already in use: stop the other program or pick another port`,
      { cause: err },
    );
  }
  if (err.code === 'EACCES') {
    return new WirecatError(
      'WIRECAT_IO',
      `not allowed to listen on ${where}: ports below 1024 need privileges; pick a higher port`,
      { cause: err },
    );
  }
  if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') {
    return new WirecatError(
      'WIRECAT_BAD_ENDPOINT',
      `cannot listen on ${where}: no such local address`,
      { cause: err },
    );
  }
  return new WirecatError('WIRECAT_IO', `cannot listen on ${where}: ${err.message}`, {
    cause: err,
  });
}

/** A Unix socket path left behind by a process that died: remove it so we can listen. */
async function clearStaleUnixSocket(path: string): Promise<void> {
  if (!existsSync(path)) return;
  if (!lstatSync(path).isSocket()) {
    throw new WirecatError(
      'WIRECAT_ADDRESS_IN_USE',
      `unix:${path} exists and is not a socket; choose another path`,
    );
  }
  const alive = await new Promise<boolean>((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
  if (alive)
    throw new WirecatError('WIRECAT_ADDRESS_IN_USE', `unix:${path} is in use by a running server`);
  unlinkSync(path);
}

/** How accepted plain sockets arrive. */
export interface AcceptOptions {
  /** Arrive paused, so the caller can adopt the handle (the shared-read-buffer path). */
  pauseOnConnect: boolean;
  /** Disable Nagle: for request/response traffic; one-reply-and-close services skip the syscall. */
  noDelay: boolean;
}

/**
 * Listen for stream connections on a TCP, TLS or Unix endpoint. Accepted TCP and Unix sockets
 * arrive paused by default (`pauseOnConnect`) so the caller can adopt their handles; TLS sockets arrive
 * after a successful handshake (they need `tlsConfig`). Every socket is half-open capable.
 * Resolves with the server once it listens; the bound endpoint has the real port.
 */
export async function listenStream(
  endpoint: Endpoint,
  onConnection: (socket: net.Socket, server: net.Server) => void,
  backlog = DEFAULT_BACKLOG,
  tlsConfig?: TlsServerConfig,
  accept: AcceptOptions = { pauseOnConnect: true, noDelay: true },
): Promise<{ server: net.Server; bound: Endpoint }> {
  if (endpoint.transport === 'udp') throw new TypeError('listenStream takes a stream endpoint');
  if (endpoint.transport === 'unix') await clearStaleUnixSocket(endpoint.path);
  let server: net.Server;
  if (endpoint.transport === 'tls') {
    if (!tlsConfig) {
      throw new WirecatError(
        'WIRECAT_BAD_USAGE',
        `${formatEndpoint(endpoint)} needs a certificate: give --cert FILE --key FILE, or --self-signed for local testing`,
      );
    }
    const tlsServer = lazyTls().createServer(tlsServerOptions(tlsConfig));
    tlsServer.on('secureConnection', (socket) => {
      socket.allowHalfOpen = true; // see tlsServerOptions
      socket.setNoDelay(true);
      onConnection(socket, tlsServer);
    });
    server = tlsServer;
  } else {
    server = net.createServer({ allowHalfOpen: true, ...accept });
    server.on('connection', (socket) => onConnection(socket, server));
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenError(err, endpoint)));
    if (endpoint.transport === 'unix') server.listen({ path: endpoint.path, backlog }, resolve);
    else {
      const host = endpoint.host ?? DEFAULT_LISTEN_HOST;
      server.listen({ host, port: endpoint.port, backlog, ipv6Only: false }, resolve);
    }
  });
  const address = server.address();
  const bound: Endpoint =
    endpoint.transport === 'unix' || typeof address === 'string' || address === null
      ? endpoint
      : {
          transport: endpoint.transport,
          host: endpoint.host ?? DEFAULT_LISTEN_HOST,
          port: address.port,
        };
  return { server, bound };
}

// dgram resolves even literal addresses through dns.lookup, one tick per send. Every address
// we send to came from a received datagram, so it is already a literal: answer at once.
// dgram passes the socket's family (4 or 6), which saves an address-parsing regex per send.
function literalLookup(
  address: string,
  family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, typeof family === 'number' ? family : net.isIP(address) || 4);
}

/** A UDP socket that never looks a name up (for replies to literal source addresses). */
export function createDatagramSocket(family: 4 | 6): dgram.Socket {
  return dgram.createSocket({
    type: family === 6 ? 'udp6' : 'udp4',
    lookup: literalLookup as never,
  });
}

/**
 * The unicast addresses a wildcard UDP bind should cover. Binding each address rather than
 * 0.0.0.0 means datagrams sent to a broadcast or multicast address never reach us (the Fraggle
 * and loop defence): the kernel only delivers what was addressed to that very address.
 */
export function unicastAddresses(host: string): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      if (info.family === 'IPv4') out.push(info.address);
      else if (host === '::' && !info.address.startsWith('fe80')) out.push(info.address);
    }
  }
  return out;
}

function bindOne(socket: dgram.Socket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    socket.once('error', onError);
    socket.bind({ address: host, port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

/**
 * Bind UDP socket(s) for an endpoint: one socket, or for a wildcard host one per unicast
 * address, all on the same port. Resolves with the sockets and the bound endpoint.
 */
export async function listenDatagram(
  endpoint: Endpoint,
): Promise<{ sockets: dgram.Socket[]; bound: Endpoint }> {
  if (endpoint.transport !== 'udp') throw new TypeError('listenDatagram takes a udp endpoint');
  let host = endpoint.host ?? DEFAULT_LISTEN_HOST;
  if (net.isIP(host) === 0) {
    try {
      host = (await lookup(host)).address;
    } catch (err) {
      throw listenError(err as NodeJS.ErrnoException, endpoint);
    }
  }
  const hosts = isWildcard(host) ? unicastAddresses(host) : [host];
  // With port 0 the first bind picks the port and the others must get the same one; another
  // program can take it in between, so try a few times.
  for (let attempt = 0; ; attempt++) {
    const sockets: dgram.Socket[] = [];
    let port = endpoint.port;
    try {
      for (const address of hosts) {
        const socket = createDatagramSocket(net.isIP(address) === 6 ? 6 : 4);
        sockets.push(socket);
        port = await bindOne(socket, address, port);
      }
      return { sockets, bound: { transport: 'udp', host, port } };
    } catch (err) {
      for (const s of sockets) s.close();
      const e = err as NodeJS.ErrnoException;
      if (endpoint.port === 0 && e.code === 'EADDRINUSE' && attempt < 5) continue;
      throw listenError(e, endpoint);
    }
  }
}
