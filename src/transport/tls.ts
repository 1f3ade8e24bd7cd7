// TLS (RFC 8446) for every stream endpoint: server credentials from PEM files or a throwaway
// self-signed certificate, and client options that verify the server by default (system CAs
// or --ca, host name checked per RFC 6125, SNI from the host name).

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type tls from 'node:tls';
import { WirecatError } from '../errors.js';
import { lazyTls } from '../lazy-modules.js';
import { type Endpoint, formatEndpoint } from './endpoint.js';
import { createSelfSignedCertificate } from './self-signed.js';

export { SELF_SIGNED_VALIDITY_DAYS } from './self-signed.js';

/** A TLS server gives up on a client that has not finished its handshake after this long. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** Oldest protocol version either side accepts. */
export const TLS_MIN_VERSION = 'TLSv1.2';

/** What a TLS server presents: a certificate chain and its private key, both PEM. */
export interface TlsServerConfig {
  cert: string | Buffer;
  key: string | Buffer;
}

/** How a TLS client checks the server. Verification is on unless `insecure` is set. */
export interface TlsClientConfig {
  /** PEM certificates to trust instead of the system CAs (a CA, or the server's own certificate). */
  ca?: string | Buffer;
  /** Skip certificate and name checks. Unsafe: anyone on the path can read and change the traffic. */
  insecure?: boolean;
  /** The name sent as SNI and checked against the certificate (default: the endpoint's host). */
  servername?: string;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new WirecatError(
      'WIRECAT_BAD_CONFIG',
      `cannot read the ${what} ${path}: ${(err as Error).message}`,
    );
  }
}

/** Read a certificate and key from PEM files and check that they belong together. */
export function loadServerCredentials(certPath: string, keyPath: string): TlsServerConfig {
  const config = { cert: readPem(certPath, 'certificate'), key: readPem(keyPath, 'key') };
  try {
    lazyTls().createSecureContext(config);
  } catch (err) {
    throw new WirecatError(
      'WIRECAT_BAD_CONFIG',
      `${certPath} and ${keyPath} are not a usable certificate and key (${(err as Error).message})`,
    );
  }
  return config;
}

/** Read a CA file for a client (PEM, one or more certificates). */
export function loadCa(path: string): Buffer {
  return readPem(path, 'CA file');
}

/**
 * A throwaway self-signed certificate for `names` plus localhost, for local testing. Print
 * its fingerprint so a client can check it, or hand its PEM to the client as `ca`.
 */
export function selfSignedCredentials(
  names: readonly string[] = [],
): TlsServerConfig & { fingerprint256: string } {
  return createSelfSignedCertificate(names);
}

/**
 * node:tls server options for a config (bounded handshake). Not half-open yet: a client that
 * gives up mid-handshake (say, it did not trust us) must close at once; the caller makes the
 * socket half-open capable once it is secure.
 */
export function tlsServerOptions(config: TlsServerConfig): tls.TlsOptions {
  return {
    cert: config.cert,
    key: config.key,
    handshakeTimeout: DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
    minVersion: TLS_MIN_VERSION,
  };
}

/** node:tls connect options for dialling `endpoint` (host and port are added by the caller). */
export function tlsConnectOptions(
  host: string,
  config: TlsClientConfig = {},
): tls.ConnectionOptions {
  const name = config.servername ?? host;
  // tls.connect honours allowHalfOpen (our FIN is close_notify, and we still read after it);
  // @types/node does not list it, hence the widened type.
  const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
    // SNI carries names only (RFC 6066 section 3); an IP address is checked but not sent.
    servername: isIP(name) ? undefined : name,
    checkServerIdentity: (_host, cert) => lazyTls().checkServerIdentity(name, cert),
    ca: config.ca,
    rejectUnauthorized: !config.insecure,
    minVersion: TLS_MIN_VERSION,
    allowHalfOpen: true,
  };
  return options;
}

// OpenSSL's verification results, and Node's name-mismatch code.
const VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** A handshake failure as a WirecatError, or undefined when `err` is not about TLS. */
export function tlsFailure(
  err: NodeJS.ErrnoException,
  endpoint: Endpoint,
): WirecatError | undefined {
  const where = formatEndpoint(endpoint);
  const code = err.code ?? '';
  if (VERIFY_CODES.has(code)) {
    return new WirecatError(
      'WIRECAT_TLS_VERIFY',
      `the certificate of ${where} is not trusted (${code}: ${err.message}); pass --ca FILE with the server's CA or certificate, or --insecure to skip the check (unsafe)`,
      { cause: err },
    );
  }
  if (code.startsWith('ERR_SSL') || code === 'EPROTO' || code.startsWith('ERR_TLS')) {
    return new WirecatError(
      'WIRECAT_IO',
      `TLS handshake with ${where} failed (${code}): is it a TLS server, speaking TLS 1.2 or newer?`,
      { cause: err },
    );
  }
  return undefined;
}
