// A throwaway self-signed X.509 certificate (RFC 5280) for local TLS testing, built with
// node:crypto only: an ECDSA P-256 key, a DER-encoded certificate signed with it.
// Node 20 has no certificate generator; this file encodes the few ASN.1 shapes needed
// instead of pulling in a large dependency tree for one certificate.

import { isIP } from 'node:net';
import { lazyCrypto } from '../lazy-modules.js';

/** How long a generated certificate is valid (it is meant to live as long as one test run). */
export const SELF_SIGNED_VALIDITY_DAYS = 7;
/** The names a generated certificate always carries (subjectAltName). */
export const SELF_SIGNED_DEFAULT_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

/** A certificate and its private key, both PEM, and the certificate's SHA-256 fingerprint. */
export interface SelfSignedCertificate {
  cert: string;
  key: string;
  /** SHA-256 of the DER certificate, as colon-separated hex (what browsers and openssl show). */
  fingerprint256: string;
}

// --- the DER encoding subset a certificate needs (X.690) ---

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  if (n < 0x80) return Buffer.concat([Buffer.from([tag, n]), content]);
  const length: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) length.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | length.length, ...length]), content]);
}
const sequence = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octetString = (content: Buffer) => tlv(0x04, content);
const bitString = (content: Buffer) => tlv(0x03, Buffer.concat([Buffer.from([0]), content]));
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, 'utf8'));

function integer(bytes: Buffer): Buffer {
  // DER integers are signed: a leading 1 bit needs a zero byte in front to stay positive.
  return tlv(0x02, bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [40 * a + b];
  for (const arc of rest) {
    const base128 = [arc & 0x7f];
    for (let v = arc >>> 7; v > 0; v >>>= 7) base128.unshift((v & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Buffer.from(out));
}

function time(date: Date): Buffer {
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after.
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  // Expand "::" and write eight 16-bit groups.
  const [head, tail] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  return out;
}

// Built on use, not at load: every `wirecat connect` loads this file.
const ecdsaWithSha256 = () => sequence(oid('1.2.840.10045.4.3.2'));
const COMMON_NAME = '2.5.4.3';

/**
 * Make a self-signed certificate for `names` (host names and IP addresses; localhost,
 * 127.0.0.1 and ::1 are always included). Good for local testing only: nobody else trusts it.
 *
 * @example
 * const { cert, key, fingerprint256 } = createSelfSignedCertificate(['myhost.test']);
 */
export function createSelfSignedCertificate(
  names: readonly string[] = [],
  now = new Date(),
): SelfSignedCertificate {
  const { generateKeyPairSync, randomBytes, sign, X509Certificate } = lazyCrypto();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const all = [...new Set([...SELF_SIGNED_DEFAULT_NAMES, ...names])];
  const generalNames = all.map((name) =>
    isIP(name) ? tlv(0x87, ipBytes(name)) : tlv(0x82, Buffer.from(name, 'ascii')),
  );
  const name = sequence(set(sequence(oid(COMMON_NAME), utf8String(all[0]))));
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x7f) | 0x01; // positive and never zero (RFC 5280 4.1.2.2)
  const extensions = sequence(
    // subjectAltName: what TLS clients check the host name against (RFC 6125).
    sequence(oid('2.5.29.17'), octetString(sequence(...generalNames))),
    // basicConstraints, critical, cA=false: it can only ever be a server's own certificate.
    sequence(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), octetString(sequence())),
    // extKeyUsage: serverAuth.
    sequence(oid('2.5.29.37'), octetString(sequence(oid('1.3.6.1.5.5.7.3.1')))),
  );
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ecdsaWithSha256(),
    name, // issuer = subject: self-signed
    sequence(
      time(new Date(now.getTime() - 3_600_000)), // an hour back, for clock skew
      time(new Date(now.getTime() + SELF_SIGNED_VALIDITY_DAYS * 86_400_000)),
    ),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const der = sequence(tbs, ecdsaWithSha256(), bitString(signature));
  const base64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  const cert = `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
  return {
    cert,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    fingerprint256: new X509Certificate(cert).fingerprint256,
  };
}
