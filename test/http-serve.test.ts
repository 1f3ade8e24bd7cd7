// The http service (a read-only folder over HTTP/1.1) against curl and raw sockets: content
// types, HEAD, 404/403/405, conditional GET (304), ranges (206/416), folders, traversal.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLASSIC_SERVICES } from '../src/index.js';
import { type CurlResult, curl, SECRET, servedTree } from './fetch-helpers.js';
import { exchange, portOf, requirePeer, runCli, startHost } from './helpers.js';

/** curl -i: status, headers (lower-case names) and body of the last response. */
function parsed(r: CurlResult): { status: number; headers: Record<string, string>; body: Buffer } {
  const end = r.stdout.indexOf('\r\n\r\n');
  const head = r.stdout.subarray(0, end).toString().split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(head[0].split(' ')[1]), headers, body: r.stdout.subarray(end + 4) };
}

async function httpHost(t: import('node:test').TestContext) {
  const tree = servedTree(t);
  const host = await startHost(t, ['http=tcp://127.0.0.1:0'], { root: tree.root });
  const base = `http://127.0.0.1:${portOf(host, 'http')}`;
  const fetch = async (path: string, ...args: string[]) =>
    parsed(await curl(['-i', ...args, `${base}${path}`]));
  return { tree, host, base, fetch };
}

test('files are served with the right content types; HEAD has the head only', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { tree, fetch, host } = await httpHost(t);
  const text = await fetch('/hello.txt');
  assert.equal(text.status, 200);
  assert.equal(text.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(text.headers['x-content-type-options'], 'nosniff');
  assert.equal(text.body.toString(), 'hello, files\n');
  assert.equal((await fetch('/page.html')).headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(
    (await fetch('/docs/readme.md')).headers['content-type'],
    'text/markdown; charset=utf-8',
  );
  const binary = await fetch('/data.bin');
  assert.equal(binary.headers['content-type'], 'application/octet-stream');
  assert.ok(binary.body.equals(tree.data));
  const head = await fetch('/data.bin', '-I');
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(tree.data.length));
  assert.equal(head.body.length, 0);
  assert.ok(host.stats.bytesOut > tree.data.length, 'the Host counted the bytes sent');
});

test('404 for a missing file, 403 for links leading out, 405 for POST', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { fetch } = await httpHost(t);
  assert.equal((await fetch('/nope.txt')).status, 404);
  for (const path of ['/escape', '/escape-dir/secret.txt', '/etc-link/passwd']) {
    const r = await fetch(path);
    assert.equal(r.status, 403, path);
    assert.ok(!r.body.toString().includes(SECRET.trim()), path);
  }
  const post = await fetch('/hello.txt', '-X', 'POST', '-d', 'x');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  assert.equal((await fetch('/inside')).body.toString(), 'hello, files\n');
});

test('no traversal: /../../etc/passwd, %2e%2e, an encoded slash, a NUL', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { fetch } = await httpHost(t);
  for (const path of [
    '/../../etc/passwd',
    '/../secret.txt',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/%2E%2E/secret.txt',
    '/docs/..%2f..%2fsecret.txt',
    '/hello.txt%00',
  ]) {
    const r = await fetch(path, '--path-as-is');
    assert.ok(r.status === 403 || r.status === 400, `${path}: ${r.status}`);
    assert.ok(!/root:|top secret/.test(r.body.toString()), path);
  }
  assert.equal(
    (await fetch('/%68ello.txt')).body.toString(),
    'hello, files\n',
    'percent-decoding works',
  );
});

test('conditional GET: ETag and Last-Modified give 304; a changed validator gives 200', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { fetch } = await httpHost(t);
  const first = await fetch('/hello.txt');
  const etag = first.headers.etag;
  const modified = first.headers['last-modified'];
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
  const cached = await fetch('/hello.txt', '-H', `If-None-Match: ${etag}`);
  assert.equal(cached.status, 304);
  assert.equal(cached.body.length, 0);
  assert.equal((await fetch('/hello.txt', '-H', `If-None-Match: "other", W/${etag}`)).status, 304);
  assert.equal((await fetch('/hello.txt', '-H', 'If-None-Match: "other"')).status, 200);
  assert.equal((await fetch('/hello.txt', '-H', `If-Modified-Since: ${modified}`)).status, 304);
  const old = new Date(Date.parse(modified) - 60_000).toUTCString();
  assert.equal((await fetch('/hello.txt', '-H', `If-Modified-Since: ${old}`)).status, 200);
  assert.equal((await fetch('/hello.txt', '-H', 'If-Match: "other"')).status, 412);
});

test('ranges: 206 with Content-Range, suffix and open ranges, 416 past the end, If-Range', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { tree, fetch } = await httpHost(t);
  const part = await fetch('/hello.txt', '-r', '0-4');
  assert.equal(part.status, 206);
  assert.equal(part.body.toString(), 'hello');
  assert.equal(part.headers['content-range'], 'bytes 0-4/13');
  assert.equal((await fetch('/hello.txt', '-r', '-6')).body.toString(), 'files\n');
  assert.equal((await fetch('/hello.txt', '-r', '7-')).body.toString(), 'files\n');
  const middle = await fetch('/data.bin', '-r', '70000-150000');
  assert.ok(middle.body.equals(tree.data.subarray(70000, 150001)));
  const past = await fetch('/hello.txt', '-r', '100-200');
  assert.equal(past.status, 416);
  assert.equal(past.headers['content-range'], 'bytes */13');
  const stale = await fetch('/hello.txt', '-r', '0-4', '-H', 'If-Range: "stale"');
  assert.equal(stale.status, 200, 'a stale If-Range gets the whole file');
  assert.equal(stale.body.toString(), 'hello, files\n');
  const etag = (await fetch('/hello.txt')).headers.etag;
  assert.equal((await fetch('/hello.txt', '-r', '0-4', '-H', `If-Range: ${etag}`)).status, 206);
});

test('folders: redirect to the slash, index.html, or an escaped listing', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const { fetch } = await httpHost(t);
  const redirect = await fetch('/docs?x=1');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, '/docs/?x=1');
  const listing = await fetch('/docs/');
  assert.equal(listing.status, 200);
  assert.equal(listing.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(listing.body.toString(), /<a href="readme.md">readme.md<\/a>/);
  const root = (await fetch('/')).body.toString();
  assert.match(root, /<a href="docs\/">docs\/<\/a>/);
  assert.ok(!root.includes('escape'), 'links leading out are not listed');
  assert.equal((await fetch('/site/')).body.toString(), '<h1>site index</h1>\n');
});

test('a client that half-closes after its request still gets the answer (HTTP/1.0 by hand)', async (t) => {
  const { base } = await httpHost(t);
  const port = Number(new URL(base).port);
  const reply = (await exchange(port, 'GET /hello.txt HTTP/1.0\r\n\r\n')).toString();
  assert.match(reply, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(reply.endsWith('\r\n\r\nhello, files\n'), reply);
});

test('serve http and files need --root and are not in the default set', async () => {
  assert.ok(
    !CLASSIC_SERVICES.includes('http' as never) && !CLASSIC_SERVICES.includes('files' as never),
  );
  const r = await runCli(['serve', 'http=tcp://127.0.0.1:0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /needs a folder to serve: give --root DIR/);
  const missing = await runCli(['serve', 'files=tcp://127.0.0.1:0', '--root', '/nonexistent/dir']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /not a readable folder/);
  const udp = await runCli(['serve', 'files=udp://127.0.0.1:0', '--root', '.']);
  assert.equal(udp.code, 2);
  assert.match(udp.stderr, /no UDP form/);
});
