// `wirecat get` and `get()` against real servers: every HTTP framing (Content-Length, chunked
// with trailers, close-delimited), bodies dribbled in tiny slow pieces (the "short read" bug),
// -i/-I, redirects and their limit, timeouts, exit codes by status class, https with a
// certificate made by openssl in the test.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { get } from '../src/client/get.js';
import { isWirecatError } from '../src/index.js';
import { requirePeer, runCli, tempDir } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Listen on 127.0.0.1:0 and close (cutting open connections) when the test ends. */
async function listening(t: TestContext, server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return (server.address() as net.AddressInfo).port;
}

/** A node:http server with the routes the tests use. */
async function httpServer(t: TestContext): Promise<string> {
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (url === '/cl') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '20' });
      res.end('content-length body\n');
    } else if (url === '/chunked') {
      res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Sum' });
      for (const piece of ['chunk one, ', 'chunk two, ', 'the end\n']) {
        res.write(piece);
        await sleep(10);
      }
      res.addTrailers({ 'X-Sum': '42' });
      res.end();
    } else if (url.startsWith('/status/')) {
      const status = Number(url.slice(8));
      res.writeHead(status, status === 302 ? { Location: '/cl' } : {});
      res.end(`status ${status}\n`);
    } else if (url === '/loop') {
      res.writeHead(302, { Location: '/loop' });
      res.end();
    } else if (url === '/hop') {
      res.writeHead(301, { Location: '/status/302' });
      res.end();
    } else if (url === '/echo-headers') {
      res.end(JSON.stringify(req.headers));
    } else if (url === '/never') {
      // no answer at all: the client's idle timeout must end it
    } else {
      res.writeHead(404);
      res.end('not here\n');
    }
  });
  return `http://127.0.0.1:${await listening(t, server)}`;
}

/** A raw server that answers every connection with `respond(socket)` (close-delimited etc.). */
async function rawServer(
  t: TestContext,
  respond: (s: net.Socket) => Promise<void>,
): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      respond(socket).catch(() => socket.destroy());
    });
  });
  return `http://127.0.0.1:${await listening(t, server)}`;
}

/** Write `bytes` in pieces of `size`, `delayMs` apart. */
async function dribble(socket: net.Socket, bytes: string, size: number, delayMs: number) {
  for (let i = 0; i < bytes.length; i += size) {
    if (socket.destroyed) return;
    socket.write(bytes.slice(i, i + size));
    await sleep(delayMs);
  }
}

const LONG_BODY = Array.from({ length: 60 }, (_, i) => `line ${i} of a body sent slowly\n`).join(
  '',
);

test('Content-Length and chunked (with trailers) bodies arrive whole; -i shows the head', async (t) => {
  const base = await httpServer(t);
  const cl = await runCli(['get', `${base}/cl`]);
  assert.equal(cl.code, 0, cl.stderr);
  assert.equal(cl.stdout.toString(), 'content-length body\n');
  const chunked = await runCli(['get', '-i', `${base}/chunked`]);
  assert.equal(chunked.code, 0, chunked.stderr);
  const text = chunked.stdout.toString();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\nTransfer-Encoding: chunked\r\n/i);
  assert.ok(text.endsWith('\r\n\r\nchunk one, chunk two, the end\n'), text);
});

test('a close-delimited body in many tiny slow pieces arrives whole (no "short read" end)', async (t) => {
  const base = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
    await dribble(s, LONG_BODY, 7, 3);
    s.end();
  });
  const r = await runCli(['get', base], { timeoutMs: 20_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.toString(), LONG_BODY);
});

test('head and chunked framing split at every awkward place, byte by byte, still parse', async (t) => {
  const pieces = ['hello', ', this arrived byte by b', 'yte\r\n'];
  const wire = `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${pieces
    .map((p) => `${p.length.toString(16)}\r\n${p}\r\n`)
    .join('')}0\r\nX-Trailer: yes\r\n\r\n`;
  const base = await rawServer(t, async (s) => {
    await dribble(s, wire, 1, 1);
    // no close: the chunked framing alone must end the body
  });
  const result = await get(base, { maxTimeMs: 10_000 });
  assert.equal(result.status, 200);
  assert.equal(result.body?.toString(), 'hello, this arrived byte by byte\r\n');
});

test('a body cut short (Content-Length not reached) is an error, not a success', async (t) => {
  const base = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b');
    await sleep(20);
    s.end();
  });
  const r = await runCli(['get', base]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /closed in the middle of the body, after 10 bytes of 100/);
  const bad = await rawServer(t, async (s) => {
    s.end('NOT HTTP AT ALL\r\n\r\n');
  });
  const garbage = await runCli(['get', bad]);
  assert.equal(garbage.code, 1);
  assert.match(garbage.stderr, /not a valid HTTP\/1\.x response/);
});

test('exit codes by status class: 0 for 2xx and 3xx, 7 for 4xx, 8 for 5xx', async (t) => {
  const base = await httpServer(t);
  for (const [path, code] of [
    ['/status/200', 0],
    ['/status/302', 0],
    ['/status/404', 7],
    ['/status/410', 7],
    ['/status/500', 8],
    ['/status/503', 8],
  ] as const) {
    const r = await runCli(['get', `${base}${path}`]);
    assert.equal(r.code, code, `${path}: ${r.stderr}`);
  }
  assert.equal((await runCli(['get', 'http://127.0.0.1:1/'])).code, 3, 'refused');
  assert.equal((await runCli(['get', 'ftp://127.0.0.1/'])).code, 2, 'unsupported scheme');
  assert.equal((await runCli(['get', 'not a url'])).code, 2, 'not a URL');
});

test('-L follows redirects; a loop stops at --max-redirs', async (t) => {
  const base = await httpServer(t);
  const followed = await runCli(['get', '-L', '-i', `${base}/hop`]);
  assert.equal(followed.code, 0, followed.stderr);
  const text = followed.stdout.toString();
  assert.match(text, /^HTTP\/1\.1 301 Moved Permanently\r\n/);
  assert.match(text, /HTTP\/1\.1 302 Found\r\n/);
  assert.ok(text.endsWith('content-length body\n'), text);
  const loop = await runCli(['get', '-L', '--max-redirs', '3', `${base}/loop`]);
  assert.equal(loop.code, 1);
  assert.match(loop.stderr, /stopped after 3 redirects/);
  await assert.rejects(get(`${base}/loop`, { followRedirects: true }), (err) =>
    isWirecatError(err, 'WIRECAT_TOO_MANY_REDIRECTS'),
  );
});

test('timeouts: no answer hits --idle-timeout; a slow drip hits --max-time (exit 4)', async (t) => {
  const base = await httpServer(t);
  const started = Date.now();
  const idle = await runCli(['get', '--idle-timeout', '500ms', `${base}/never`]);
  assert.equal(idle.code, 4, idle.stderr);
  assert.match(idle.stderr, /no bytes for 0\.5s/);
  assert.ok(Date.now() - started < 5000);
  const drip = await rawServer(t, async (s) => {
    s.write('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n');
    await dribble(s, 'x'.repeat(1000), 1, 50);
  });
  const slow = await runCli(['get', '--max-time', '1s', drip]);
  assert.equal(slow.code, 4, slow.stderr);
  assert.match(slow.stderr, /not done within 1s/);
});

test('-I sends HEAD; -H adds headers; -o writes a file; --trace shows the request going out', async (t) => {
  const base = await httpServer(t);
  const head = await runCli(['get', '-I', `${base}/cl`]);
  assert.equal(head.code, 0);
  const headText = head.stdout.toString();
  assert.match(headText, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(headText, /\r\nContent-Length: 20\r\n/);
  assert.ok(headText.endsWith('\r\n\r\n'), 'no body after the head');
  const echoed = await runCli(['get', '-H', 'X-Test: yes', `${base}/echo-headers`]);
  const headers = JSON.parse(echoed.stdout.toString());
  assert.equal(headers['x-test'], 'yes');
  assert.equal(headers.host, new URL(base).host);
  const file = join(tempDir(t), 'out.txt');
  assert.equal((await runCli(['get', '-o', file, `${base}/cl`])).code, 0);
  assert.equal(readFileSync(file, 'utf8'), 'content-length body\n');
  const badOut = await runCli(['get', '-o', join(file, 'not-a-dir', 'x'), `${base}/cl`]);
  assert.equal(badOut.code, 1);
  assert.match(badOut.stderr, /cannot write .*: a part of the path is not a folder\n$/);
  const toFolder = await runCli(['get', '-o', tempDir(t), `${base}/cl`]);
  assert.equal(toFolder.code, 1);
  assert.match(toFolder.stderr, /cannot write .*: it is a folder\n$/);
  const traced = await runCli(['get', '--trace', `${base}/cl`]);
  assert.match(traced.stderr, /-> \d+ B "GET \/cl HTTP\/1\.1\\r\\nHost: 127\.0\.0\.1:/);
  assert.match(traced.stderr, /<- \d+ B "HTTP\/1\.1 200 OK/);
});

test('https: an unknown certificate fails; --ca trusts it; --insecure is announced', async (t) => {
  if (!requirePeer(t, 'openssl')) return;
  const dir = tempDir(t);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const server = https.createServer(
    { key: readFileSync(key), cert: readFileSync(cert) },
    (_req, res) => res.end('over tls\n'),
  );
  const url = `https://127.0.0.1:${await listening(t, server)}/`;
  const untrusted = await runCli(['get', url]);
  assert.equal(untrusted.code, 1);
  assert.match(untrusted.stderr, /not trusted .*--ca FILE/);
  assert.equal(untrusted.stdout.length, 0);
  const trusted = await runCli(['get', '--ca', cert, url]);
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal(trusted.stdout.toString(), 'over tls\n');
  const insecure = await runCli(['get', '--insecure', url]);
  assert.equal(insecure.code, 0);
  assert.match(insecure.stderr, /--insecure: the server's certificate is NOT verified/);
  const wrongName = await runCli(['get', '--ca', cert, '--servername', 'other.test', url]);
  assert.equal(wrongName.code, 1, 'the name is checked too');
});
