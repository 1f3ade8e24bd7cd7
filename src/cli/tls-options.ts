// The TLS options verbs share: --cert/--key/--self-signed/--save-cert for listening on
// tls:// endpoints, --ca/--insecure/--servername for dialling them. --insecure is announced.

import { writeFileSync } from 'node:fs';
import type { Endpoint } from '../transport/endpoint.js';
import {
  loadCa,
  loadServerCredentials,
  SELF_SIGNED_VALIDITY_DAYS,
  selfSignedCredentials,
  type TlsClientConfig,
  type TlsServerConfig,
} from '../transport/tls.js';
import { usageError } from './args.js';

export const TLS_SERVER_OPTIONS = {
  cert: { type: 'string' },
  key: { type: 'string' },
  'self-signed': { type: 'boolean' },
  'save-cert': { type: 'string' },
} as const;

export const TLS_CLIENT_OPTIONS = {
  ca: { type: 'string' },
  insecure: { type: 'boolean' },
  servername: { type: 'string' },
} as const;

export const TLS_SERVER_HELP = `  --cert FILE --key FILE  tls:// listeners: certificate chain and private key (PEM)
  --self-signed        tls:// listeners: a throwaway certificate for localhost, 127.0.0.1, ::1
                       and the endpoints' hosts (valid ${SELF_SIGNED_VALIDITY_DAYS} days); SHA-256 fingerprint on stderr
  --save-cert FILE     with --self-signed: write the certificate there, for a client's --ca`;

export const TLS_CLIENT_HELP = `  --ca FILE            tls://: trust these PEM certificates instead of the system CAs
  --insecure           tls://: do not verify the server's certificate (unsafe; announced)
  --servername NAME    tls://: the name sent as SNI and checked (default: the host)`;

type ServerValues = { cert?: string; key?: string; 'self-signed'?: boolean; 'save-cert'?: string };
type ClientValues = { ca?: string; insecure?: boolean; servername?: string };

/**
 * The certificate for tls:// listeners, from --cert/--key or --self-signed (whose fingerprint
 * is announced on stderr). `hosts` are the listeners' hosts, added to a self-signed cert.
 */
export function serverTlsFrom(
  values: ServerValues,
  hosts: readonly string[],
  verb: string,
): TlsServerConfig | undefined {
  if (values['self-signed'] && (values.cert || values.key))
    throw usageError('give either --cert/--key or --self-signed, not both', verb);
  if (values['save-cert'] && !values['self-signed'])
    throw usageError('--save-cert saves the --self-signed certificate; add --self-signed', verb);
  if (values.cert || values.key) {
    if (!values.cert || !values.key) throw usageError('--cert and --key go together', verb);
    return loadServerCredentials(values.cert, values.key);
  }
  if (!values['self-signed']) return undefined;
  const names = hosts.filter((h) => h !== '::' && h !== '0.0.0.0');
  const credentials = selfSignedCredentials(names);
  const saved = values['save-cert'];
  if (saved) writeFileSync(saved, credentials.cert);
  process.stderr.write(
    `wirecat ${verb}: self-signed certificate (local testing only), SHA-256 ${credentials.fingerprint256}${
      saved
        ? `; saved to ${saved} (clients: --ca ${saved})`
        : '; clients need --ca (see --save-cert) or --insecure'
    }\n`,
  );
  return credentials;
}

/** The hosts of the tls:// endpoints among `endpoints`. */
export function tlsHosts(endpoints: readonly (Endpoint | string)[]): string[] {
  return endpoints.flatMap((e) =>
    typeof e !== 'string' && e.transport === 'tls' && e.host ? [e.host] : [],
  );
}

/** How to verify a tls:// server; --insecure is said out loud on stderr. */
export function clientTlsFrom(values: ClientValues, verb: string): TlsClientConfig {
  if (values.insecure && values.ca)
    throw usageError('--insecure skips the check --ca is for; give one of them', verb);
  if (values.insecure) {
    process.stderr.write(
      `wirecat ${verb}: --insecure: the server's certificate is NOT verified; anyone on the path can read and change this traffic\n`,
    );
  }
  return {
    ca: values.ca ? loadCa(values.ca) : undefined,
    insecure: values.insecure,
    servername: values.servername,
  };
}
