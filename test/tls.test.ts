// TLS endpoints (RFC 8446): verification by default, --ca, --insecure, SNI/name checks,
// half-close over TLS, the self-signed certificate, and interop with openssl and socat.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { connect, isWirecatError } from '../src/index.js';
import { createSelfSignedCertificate } from '../src/transport/self-signed.js';
import { portOf, requirePeer, runCli, spawnCli, startHost, tempDir, waitFor } from './helpers.js';

const credentials = createSelfSignedCertificate();

async function tlsEcho(t: import('node:test').TestContext) {
  const host = await startHost(t, ['echo=tls://127.0.0.1:0'], { tls: credentials });
  return portOf(host, 'echo', 'tls');
}

test('the self-signed certificate is a valid X.509 v3 cert for localhost and the loopback addresses', () => {
  const x = new X509Certificate(credentials.cert);
  assert.ok(x.verify(x.publicKey), 'self-signature verifies');
  assert.match(x.subjectAltName ?? '', /DNS:localhost/);
  assert.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
  assert.equal(x.fingerprint256, credentials.fingerprint256);
  assert.ok(new Date(x.validTo).getTime() > Date.now() + 6 * 86_400_000);
});

test('a client refuses a self-signed server by default, with WIRECAT_TLS_VERIFY', async (t) => {
  const port = await tlsEcho(t);
  await assert.rejects(
    connect(`tls://127.0.0.1:${port}`, { input: 'hi' }),
    (err) => isWirecatError(err, 'WIRECAT_TLS_VERIFY') && /--ca FILE/.test(err.message),
  );
});

test('with the certificate as --ca the exchange works, half-close included', async (t) => {
  const port = await tlsEcho(t);
  const result = await connect(`tls://127.0.0.1:${port}`, {
    input: 'hello over tls\n',
    tls: { ca: credentials.cert },
  });
  // The server answered after our FIN (close_notify) and then closed: half-close over TLS.
  assert.equal(result.received?.toString(), 'hello over tls\n');
  assert.equal(result.closedFirstBy, 'us');
});

test('the name is checked: a servername the certificate does not carry fails', async (t) => {
  const port = await tlsEcho(t);
  await assert.rejects(
    connect(`tls://127.0.0.1:${port}`, {
      input: 'x',
      tls: { ca: credentials.cert, servername: 'other.example' },
    }),
    (err) => isWirecatError(err, 'WIRECAT_TLS_VERIFY') && /ALTNAME/.test(err.message),
  );
});

test('tls:// without a certificate is a usage error naming the options', async (t) => {
  await assert.rejects(
    startHost(t, ['echo=tls://127.0.0.1:0']),
    (err) => isWirecatError(err, 'WIRECAT_BAD_USAGE') && /--self-signed/.test(err.message),
  );
});

test('CLI: serve --self-signed prints the fingerprint; connect fails without --ca, works with it, --insecure is announced', async (t) => {
  const dir = tempDir(t);
  const certFile = join(dir, 'cert.pem');
  const server = spawnCli(t, [
    'serve',
    'echo=tls://127.0.0.1:0',
    '--self-signed',
    '--save-cert',
    certFile,
  ]);
  const address = await waitFor(
    () => /tls:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())?.[0],
    'the listening line',
  );
  const fingerprint = /SHA-256 ([0-9A-F:]+)/.exec(server.errors())?.[1];
  // The printed fingerprint is the one of the saved certificate.
  const saved = new X509Certificate((await import('node:fs')).readFileSync(certFile));
  assert.equal(fingerprint, saved.fingerprint256);

  const refused = await runCli(['connect', address], { input: 'hi\n' });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /not trusted.*--ca FILE/);

  const ok = await runCli(['connect', address, '--ca', certFile], { input: 'hi\n' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.toString(), 'hi\n');

  const insecure = await runCli(['connect', address, '--insecure'], { input: 'hi\n' });
  assert.equal(insecure.code, 0);
  assert.equal(insecure.stdout.toString(), 'hi\n');
  assert.match(insecure.stderr, /--insecure: the server's certificate is NOT verified/);
});

test("interop: openssl s_client verifies wirecat's certificate and talks to it", async (t) => {
  if (!requirePeer(t, 'openssl')) return;
  const port = await tlsEcho(t);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'ca.pem'), credentials.cert);
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-CAfile',
      join(dir, 'ca.pem'),
      '-verify_return_error',
      '-verify_ip',
      '127.0.0.1',
      '-no_ign_eof',
    ]);
    let text = '';
    child.stdout.on('data', (d) => {
      text += d;
      // s_client has no half-close: it quits at stdin's end, so end stdin once echoed.
      if (text.includes('ping-through-openssl')) child.stdin.end();
    });
    child.stderr.on('data', (d) => {
      text += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    child.on('error', reject);
    child.stdin.write('ping-through-openssl\n');
  });
  assert.match(out, /Verify return code: 0 \(ok\)/);
  assert.match(out, /ping-through-openssl/);
});

test('interop: socat OPENSSL client to wirecat, and wirecat connect to socat OPENSSL-LISTEN', async (t) => {
  if (!requirePeer(t, 'socat')) return;
  const dir = tempDir(t);
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  writeFileSync(certFile, credentials.cert);
  writeFileSync(keyFile, credentials.key);
  const port = await tlsEcho(t);
  const viaSocat = await new Promise<string>((resolve, reject) => {
    execFile(
      'socat',
      ['-t', '2', '-', `OPENSSL:127.0.0.1:${port},cafile=${certFile},verify=1`],
      { timeout: 8000 },
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ).stdin?.end('from socat\n');
  });
  assert.equal(viaSocat, 'from socat\n');

  // socat as the TLS server (it answers with what it reads, via SYSTEM:cat-like echo).
  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const socat = spawn('socat', [
    `OPENSSL-LISTEN:${free},bind=127.0.0.1,reuseaddr,cert=${certFile},key=${keyFile},verify=0`,
    'EXEC:cat',
  ]);
  t.after(() => {
    if (socat.exitCode === null) socat.kill('SIGKILL');
  });
  const deadline = Date.now() + 5000;
  for (;;) {
    const result = await connect(`tls://127.0.0.1:${free}`, {
      input: 'to socat\n',
      tls: { ca: credentials.cert },
    }).catch((err) => err as Error);
    if (!(result instanceof Error)) {
      assert.equal(result.received?.toString(), 'to socat\n');
      break;
    }
    if (!isWirecatError(result, 'WIRECAT_CONNECT_REFUSED') || Date.now() > deadline) throw result;
    await new Promise((r) => setTimeout(r, 100));
  }
});
