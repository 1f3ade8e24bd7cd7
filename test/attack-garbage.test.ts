// Attack: garbage and hostile input for every protocol wirecat parses — line services, the
// chat room, Gopher, HTTP, TFTP — oversize lines, binary and invalid UTF-8, NUL bytes, CR
// without LF, terminal escape sequences, random and truncated packets. Each gets the
// documented error; only the offender's connection (or transfer) ends: a bystander on the same
// service is still answered, and every slot is released.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { tftpGet } from '../src/client/tftp.js';
import { decodePacket, OP } from '../src/services/tftp/packet.js';
import { figure } from './attack-helpers.js';
import { exchange, openClient, portOf, startHost, tempDir, waitFor } from './helpers.js';

const ESCAPES = '\x1b[2J\x1b]0;pwned\x07\x1b[31m\x9b1m\u202e';
const INVALID_UTF8 = Buffer.from([
  0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xf0, 0x28, 0x8c, 0xbc,
]);

/** `n` random bytes with every byte of `avoid` (a line end, a tab) replaced by 'A'. */
function noise(n: number, avoid: number[] = [0x0a]): Buffer {
  const bytes = randomBytes(n);
  for (let i = 0; i < n; i++) if (avoid.includes(bytes[i])) bytes[i] = 0x41;
  return bytes;
}

/** A connected client that must keep being served while others misbehave. */
async function bystander(t: TestContext, port: number, hello: string, answer: RegExp) {
  const c = await openClient(t, port);
  c.socket.write(hello);
  await c.waitFor((b) => answer.test(b.toString('latin1')), `bystander answer ${answer}`);
  return c;
}

test('line services: CR floods, NUL, binary, invalid UTF-8, escapes, oversize: the documented answer, bystanders unharmed', async (t) => {
  const host = await startHost(t, ['reverse=tcp://127.0.0.1:0', 'ack=tcp://127.0.0.1:0'], {
    limits: { maxLineBytes: 1024 },
  });
  const port = portOf(host, 'reverse');
  const watcher = await bystander(t, port, 'abc\n', /cba\n/);
  // Bytes that are not lines at all are still answered byte-exactly (reverse keeps invalid
  // sequences as they are), and lines over the limit get the error line — even all-CR ones.
  const binary = Buffer.concat([
    Buffer.from([0, 1, 2, 0xff, 0xfe]),
    INVALID_UTF8,
    Buffer.from('\n'),
  ]);
  assert.equal((await exchange(portOf(host, 'ack'), binary)).toString(), 'message received\n');
  assert.equal((await exchange(port, `${ESCAPES}\n`)).length, Buffer.byteLength(`${ESCAPES}\n`));
  const tooLong = 'error: line longer than 1024 bytes; closing\r\n';
  for (const flood of [
    Buffer.alloc(5000, 0x0d), // CR without LF
    Buffer.alloc(5000, 0x00), // NUL
    Buffer.concat([Buffer.alloc(2000, 0x41), Buffer.from('\r\n')]),
    noise(64 * 1024),
  ]) {
    const reply = await exchange(port, flood, { halfClose: false });
    assert.ok(reply.toString('latin1').endsWith(tooLong), `got ${reply.length} bytes`);
  }
  watcher.socket.write('still\n');
  await watcher.waitFor((b) => b.toString().endsWith('llits\n'), 'the bystander answer');
  watcher.socket.end();
  await waitFor(() => host.stats.connectionsOpen === 0, 'slots released');
});

test('chat: binary noise, escapes, a flood of NULs: only the sender is cut, the room hears nothing raw', async (t) => {
  const host = await startHost(t, ['chat=tcp://127.0.0.1:0']);
  const port = portOf(host, 'chat');
  const alice = await bystander(t, port, 'alice\n', /hello alice/);
  const mallory = await bystander(t, port, 'mallory\n', /hello mallory/);
  mallory.socket.write(`${ESCAPES} hi\n`);
  await alice.waitFor((b) => b.toString().includes('<mallory>'), 'the sanitised line');
  assert.ok(!alice.received().includes(0x1b), 'an ESC byte reached another client');
  assert.ok(!alice.received().includes(0x07), 'a BEL byte reached another client');
  mallory.socket.write(Buffer.concat([INVALID_UTF8, Buffer.from('\n')]));
  mallory.socket.write(noise(8 * 1024));
  await waitFor(
    () => mallory.socket.destroyed || mallory.received().includes('disconnected'),
    'mallory to be cut',
  );
  assert.match(mallory.received().toString(), /disconnected: line longer than 1024 bytes/);
  await alice.waitFor((b) => b.toString().includes('mallory was disconnected'), 'the notice');
  alice.socket.write('/who\n');
  await alice.waitFor((b) => b.toString().includes('*** here (1): alice'), 'the room to go on');
});

test('Gopher: NUL, binary, traversal and escape-laden selectors get a type-3 error line, then a close', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'ok.txt'), 'fine\n');
  const host = await startHost(t, ['files=tcp://127.0.0.1:0'], { root });
  const port = portOf(host, 'files');
  for (const selector of [
    Buffer.from('/ok.txt\0/etc/passwd\r\n'),
    Buffer.concat([INVALID_UTF8, Buffer.from('\r\n')]),
    Buffer.from('../../../../etc/passwd\r\n'),
    Buffer.from(`${ESCAPES}\r\n`),
    Buffer.from('\\..\\..\\windows\r\n'),
    noise(200, [0x0a, 0x09]),
  ]) {
    const reply = (await exchange(port, selector)).toString('latin1');
    assert.match(reply, /^3[^\t\r\n]*\t\terror\.host\t1\r\n\.\r\n$/, JSON.stringify(reply));
  }
  assert.equal((await exchange(port, '/ok.txt\r\n')).toString(), 'fine\n');
  await waitFor(() => host.stats.connectionsOpen === 0, 'slots released');
});

test('HTTP: malformed request lines, NUL, oversize heads, binary noise: 400/431, only that connection ends', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'ok.txt'), 'fine\n');
  const host = await startHost(t, ['http=tcp://127.0.0.1:0'], { root });
  const port = portOf(host, 'http');
  const cases: [Buffer | string, RegExp][] = [
    ['GARBAGE\r\n\r\n', /^HTTP\/1\.1 400 /],
    ['GET /ok.txt HTTP/9.9\r\n\r\n', /^HTTP\/1\.1 (400|505) /],
    ['GET /ok\0.txt HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 400 /],
    [`GET / HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, /^HTTP\/1\.1 431 /],
    [`GET /${ESCAPES} HTTP/1.1\r\nHost: x\r\n\r\n`, /^HTTP\/1\.1 400 /],
    [randomBytes(4096), /^(HTTP\/1\.1 400 |$)/],
    ['GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', /^HTTP\/1\.1 400 /],
    [
      'GET /ok.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=9-1,,-\r\nConnection: close\r\n\r\n',
      /^HTTP\/1\.1 (200|416) /,
    ],
  ];
  for (const [request, expected] of cases) {
    const reply = (await exchange(port, request)).toString('latin1');
    assert.match(
      reply,
      expected,
      `${JSON.stringify(String(request).slice(0, 40))} -> ${reply.slice(0, 60)}`,
    );
  }
  const ok = await exchange(port, 'GET /ok.txt HTTP/1.0\r\n\r\n');
  assert.match(ok.toString(), /^HTTP\/1\.1 200 [\s\S]*fine\n$/);
  await waitFor(() => host.stats.connectionsOpen === 0, 'slots released');
});

test('TFTP: random, truncated and malformed datagrams: ERROR 4 for requests, silence for the rest; transfers go on', async (t) => {
  const root = tempDir(t);
  const content = randomBytes(300_000);
  writeFileSync(join(root, 'boot.img'), content);
  const host = await startHost(t, ['tftp=udp://127.0.0.1:0'], { root });
  const port = portOf(host, 'tftp', 'udp');
  // A transfer in progress while the garbage arrives.
  const out = join(tempDir(t), 'boot.img');
  const transfer = tftpGet(`127.0.0.1:${port}`, 'boot.img', out, { blksize: 512 });
  const socket = dgram.createSocket('udp4');
  t.after(() => socket.close());
  const replies: Buffer[] = [];
  socket.on('message', (m) => replies.push(m));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const garbage: Buffer[] = [
    Buffer.alloc(0),
    Buffer.from([0]),
    Buffer.from([0, 1]),
    Buffer.from([0, 1, 0x66]), // RRQ, filename without NUL
    Buffer.from([0, 2, 0, 0]), // WRQ with empty filename and mode
    Buffer.from([0, 1, 0x66, 0, 0x6f, 0x63, 0x74, 0x65, 0x74, 0, 0x62, 0x6c, 0x6b]), // dangling option
    Buffer.from([0, 9, 1, 2, 3]), // unknown opcode
    Buffer.from([0, 3, 0, 1, 1, 2, 3]), // DATA to the listening port
    Buffer.alloc(65_507, 0x41),
  ];
  for (let i = 0; i < 200; i++) garbage.push(randomBytes(1 + (i % 64)));
  for (const g of garbage) socket.send(g, port, '127.0.0.1');
  await transfer;
  assert.ok(readFileSync(out).equals(content), 'the transfer in progress was disturbed');
  await new Promise((r) => setTimeout(r, 300));
  for (const reply of replies) {
    const packet = decodePacket(reply);
    assert.equal(packet.op, OP.ERROR, 'garbage got something other than an ERROR');
  }
  figure(
    t,
    `TFTP garbage: ${garbage.length} datagrams -> ${replies.length} ERROR replies, transfer intact`,
  );
});
