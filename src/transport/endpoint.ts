// The one endpoint syntax used everywhere: tcp://h:p, udp://h:p, tls://h:p, unix:/path, h:p, [::1]:p, :p, p.

import { isIP } from 'node:net';
import { WirecatError } from '../errors.js';

/** A stream or datagram transport over IP. */
export type IpTransport = 'tcp' | 'udp' | 'tls';
/** Every transport an endpoint can name. */
export type Transport = IpTransport | 'unix';

/** Where to listen or dial. `host` undefined means "the caller's default" (loopback). */
export type Endpoint =
  | { transport: IpTransport; host: string | undefined; port: number }
  | { transport: 'unix'; path: string };

const SCHEMES: Record<string, Transport> = {
  'tcp:': 'tcp',
  'udp:': 'udp',
  'tls:': 'tls',
  'unix:': 'unix',
};

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;

function bad(text: string, why: string): WirecatError {
  return new WirecatError(
    'WIRECAT_BAD_ENDPOINT',
    `bad endpoint "${text}": ${why} (forms: tcp://HOST:PORT, udp://HOST:PORT, tls://HOST:PORT, unix:/PATH, HOST:PORT, [IPv6]:PORT, :PORT, PORT)`,
  );
}

/**
 * Parse an endpoint string. `defaultTransport` applies when no scheme is given.
 *
 * @example
 * parseEndpoint('udp://[::1]:7')   // { transport: 'udp', host: '::1', port: 7 }
 * parseEndpoint(':7')              // { transport: 'tcp', host: '::', port: 7 } (all interfaces)
 * parseEndpoint('9000')            // { transport: 'tcp', host: undefined, port: 9000 }
 * parseEndpoint('unix:/tmp/e.sock') // { transport: 'unix', path: '/tmp/e.sock' }
 */
export function parseEndpoint(text: string, defaultTransport: IpTransport = 'tcp'): Endpoint {
  if (typeof text !== 'string' || text.trim() === '') throw bad(String(text), 'it is empty');
  const source = text.trim();
  let rest = source;
  let transport: Transport = defaultTransport;
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(rest);
  if (scheme && SCHEMES[scheme[1].toLowerCase()]) {
    transport = SCHEMES[scheme[1].toLowerCase()];
    rest = rest.slice(scheme[1].length);
    if (transport === 'unix') {
      // Accept unix:/p, unix:rel/p and unix:///p (URL style).
      const path = rest.startsWith('///') ? rest.slice(2) : rest.replace(/^\/\/(?=[^/])/, '');
      if (path === '' || path === '//')
        throw bad(source, 'a unix endpoint needs a path, like unix:/tmp/echo.sock');
      if (path.includes('\0')) throw bad(source, 'the path contains a NUL byte');
      return { transport: 'unix', path };
    }
    if (!rest.startsWith('//')) throw bad(source, `write ${scheme[1]}//HOST:PORT`);
    rest = rest.slice(2);
    if (rest.endsWith('/')) rest = rest.slice(0, -1);
  } else if (scheme && !/^\d/.test(scheme[1]) && rest.includes('://')) {
    throw bad(source, `unknown scheme "${scheme[1].slice(0, -1)}" (known: tcp, udp, tls, unix)`);
  }
  if (/^\d+$/.test(rest)) return { transport, host: undefined, port: parsePort(rest, source) };

  let host: string;
  let portText: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw bad(source, 'missing "]" after the IPv6 address');
    host = rest.slice(1, close);
    if (isIP(host) !== 6) throw bad(source, `"${host}" is not an IPv6 address`);
    if (rest[close + 1] !== ':') throw bad(source, 'a port must follow the address, like [::1]:7');
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) throw bad(source, 'no port given');
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host.includes(':')) throw bad(source, 'an IPv6 address needs brackets, like [::1]:7');
    if (host === '')
      host = '::'; // ":7" means every interface, IPv4 and IPv6.
    else if (isIP(host) === 0 && /^[\d.]+$/.test(host))
      throw bad(source, `"${host}" is not a valid IPv4 address`);
    else if (isIP(host) === 0 && !HOSTNAME.test(host))
      throw bad(source, `"${host}" is not a valid host name or address`);
  }
  return { transport, host, port: parsePort(portText, source) };
}

function parsePort(text: string, source: string): number {
  if (text === '') throw bad(source, 'no port given');
  if (!/^\d{1,5}$/.test(text)) throw bad(source, `"${text}" is not a port number`);
  const port = Number(text);
  if (port > 65535) throw bad(source, `port ${port} is above 65535`);
  return port;
}

/** Format an endpoint the way parseEndpoint reads it, e.g. `udp://[::1]:7`. */
export function formatEndpoint(endpoint: Endpoint): string {
  if (endpoint.transport === 'unix') return `unix:${endpoint.path}`;
  return `${endpoint.transport}://${formatHostPort(endpoint.host ?? 'localhost', endpoint.port)}`;
}

/** `host:port`, with brackets around IPv6 addresses. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Fold an IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) to plain IPv4, so limits see one source. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
