// The tftp service end to end on real sockets: wirecat's client against wirecat's server,
// raw packets for the protocol edges (new TID per transfer, unknown TID → ERROR 5, duplicate
// ACKs), root confinement, write policies, size and transfer limits, the CLI.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { tftpFetch, tftpGet, tftpPut } from '../src/client/tftp.js';
import { isWirecatError, parseServiceSpecs, serve } from '../src/index.js';
import {
  decodePacket,
  encodeAck,
  encodeRequest,
  OP,
  type Packet,
} from '../src/services/tftp/packet.js';
import type { TftpServerOptions } from '../src/services/tftp/service.js';
import { portOf, runCli, startHost, tempDir } from './helpers.js';

const FAST = { timeoutMs: 200, retries: 3 };

async function tftpServer(t: TestContext, tftp: TftpServerOptions = {}, root = tempDir(t)) {
  const host = await startHost(t, ['tftp=udp://127.0.0.1:0'], {
    root,
    tftp: { ...FAST, ...tftp },
    limits: { drainTimeoutMs: 500 },
  });
  return {
    root,
    server: `127.0.0.1:${portOf(host, 'tftp', 'udp')}`,
    port: portOf(host, 'tftp', 'udp'),
    host,
  };
}

/** A raw UDP client: send packets, read decoded replies with their source port. */
async function rawClient(t: TestContext) {
  const socket = dgram.createSocket('udp4');
  const queue: { packet: Packet; port: number }[] = [];
  let wake: (() => void) | undefined;
  socket.on('message', (msg, rinfo) => {
    queue.push({ packet: decodePacket(msg), port: rinfo.port });
    wake?.();
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  t.after(() => socket.close());
  return {
    socket,
    send: (buf: Buffer, port: number) => socket.send(buf, port, '127.0.0.1'),
    /** The next reply, or undefined after `ms`. */
    async next(ms = 2000) {
      const deadline = Date.now() + ms;
      while (queue.length === 0 && Date.now() < deadline) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
      }
      return queue.shift();
    },
  };
}

async function rejects(promise: Promise<unknown>, code: string, message?: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isWirecatError(err), `not a WirecatError: ${err}`);
    assert.equal(err.code, code, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

test('get and put round trips: octet at several block sizes and windows, netascii', async (t) => {
  const { root, server } = await tftpServer(t, { allowWrite: true });
  const data = randomBytes(300_000);
  writeFileSync(join(root, 'f.bin'), data);
  const out = tempDir(t);
  for (const [blksize, windowsize] of [
    [512, 1],
    [1428, 8],
    [65_464, 4],
    [8, 64],
  ]) {
    const dest = join(out, `f-${blksize}-${windowsize}`);
    const r = await tftpGet(server, 'f.bin', dest, { blksize, windowsize, ...FAST });
    assert.deepEqual(readFileSync(dest), data);
    assert.equal(r.bytes, data.length);
    assert.equal(r.tsize, data.length);
    assert.equal(r.blksize, blksize);
    assert.equal(r.windowsize, windowsize);
  }
  const plain = await tftpGet(server, '/f.bin', join(out, 'plain'), { negotiate: false, ...FAST });
  assert.equal(plain.blksize, 512);
  assert.equal(plain.tsize, undefined);
  assert.deepEqual(readFileSync(join(out, 'plain')), data);

  const up = await tftpPut(server, join(out, 'plain'), 'up.bin', {
    blksize: 1000,
    windowsize: 3,
    ...FAST,
  });
  assert.equal(up.bytes, data.length);
  assert.deepEqual(readFileSync(join(root, 'up.bin')), data);
  assert.deepEqual(
    readdirSync(root).filter((n) => n.endsWith('.part')),
    [],
    'no temporary file left behind',
  );

  const text = 'line one\nline two\r\nbare\rend\n';
  writeFileSync(join(root, 'notes.txt'), text);
  await tftpGet(server, 'notes.txt', join(out, 'notes.txt'), { mode: 'netascii', ...FAST });
  assert.equal(readFileSync(join(out, 'notes.txt'), 'utf8'), text);
  await tftpPut(server, join(out, 'notes.txt'), 'notes-up.txt', { mode: 'netascii', ...FAST });
  assert.equal(readFileSync(join(root, 'notes-up.txt'), 'utf8'), text);

  const chunks: Buffer[] = [];
  const { Writable } = await import('node:stream');
  const sink = new Writable({
    highWaterMark: 1024, // tiny: the ACKs must wait for 'drain'
    write(chunk, _enc, cb) {
      chunks.push(chunk);
      setImmediate(cb);
    },
  });
  const fetched = await tftpFetch(server, 'f.bin', sink, FAST);
  assert.equal(fetched.bytes, data.length);
  assert.deepEqual(Buffer.concat(chunks), data);
});

test('names stay inside the root: .., absolute paths, symlinks out; folders are not files', async (t) => {
  const outside = tempDir(t);
  writeFileSync(join(outside, 'secret'), 'top secret');
  const { root, server } = await tftpServer(t);
  mkdirSync(join(root, 'etc'));
  writeFileSync(join(root, 'etc', 'passwd'), 'inside');
  writeFileSync(join(root, 'ok.txt'), 'fine');
  symlinkSync(join(outside, 'secret'), join(root, 'leak'));
  symlinkSync(outside, join(root, 'outdir'));
  symlinkSync(join(root, 'ok.txt'), join(root, 'alias'));
  const dest = join(tempDir(t), 'x');
  await rejects(
    tftpGet(server, '../secret', dest, FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 2/,
  );
  await rejects(
    tftpGet(server, 'etc/../../secret', dest, FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 2/,
  );
  await rejects(tftpGet(server, 'leak', dest, FAST), 'WIRECAT_TFTP_REMOTE_ERROR', /TFTP error 2/);
  await rejects(
    tftpGet(server, 'outdir/secret', dest, FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 2/,
  );
  await rejects(tftpGet(server, 'etc', dest, FAST), 'WIRECAT_TFTP_REMOTE_ERROR', /TFTP error 2/);
  await rejects(
    tftpGet(server, 'missing', dest, FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 1/,
  );
  assert.equal(existsSync(dest), false, 'a failed get leaves no file');
  // An absolute name is taken under the root (like in.tftpd -s).
  await tftpGet(server, '/etc/passwd', dest, FAST);
  assert.equal(readFileSync(dest, 'utf8'), 'inside');
  await tftpGet(server, 'alias', dest, FAST); // a symlink that stays inside is fine
  assert.equal(readFileSync(dest, 'utf8'), 'fine');
});

test('uploads: refused unless allowed, no overwrite unless allowed, never through a symlink or out of the root', async (t) => {
  const src = join(tempDir(t), 'src.bin');
  writeFileSync(src, randomBytes(5000));
  const ro = await tftpServer(t);
  await rejects(
    tftpPut(ro.server, src, 'new.bin', FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /uploads are disabled.*TFTP error 2/,
  );
  assert.deepEqual(readdirSync(ro.root), []);

  const outside = tempDir(t);
  const rw = await tftpServer(t, { allowWrite: true });
  symlinkSync(outside, join(rw.root, 'outdir'));
  symlinkSync(join(outside, 'target'), join(rw.root, 'link'));
  await tftpPut(rw.server, src, 'new.bin', FAST);
  assert.deepEqual(readFileSync(join(rw.root, 'new.bin')), readFileSync(src));
  writeFileSync(join(rw.root, 'keep.txt'), 'original');
  await rejects(
    tftpPut(rw.server, src, 'keep.txt', FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 6/,
  );
  assert.equal(readFileSync(join(rw.root, 'keep.txt'), 'utf8'), 'original');
  await rejects(
    tftpPut(rw.server, src, '../escape', FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 2/,
  );
  await rejects(
    tftpPut(rw.server, src, 'outdir/escape', FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 2/,
  );
  await rejects(tftpPut(rw.server, src, 'link', FAST), 'WIRECAT_TFTP_REMOTE_ERROR', /TFTP error 2/);
  await rejects(
    tftpPut(rw.server, src, 'no/such/dir/f', FAST),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /"no\/such\/dir\/": no such folder on the server \(TFTP error 1\)/,
  );
  assert.deepEqual(readdirSync(outside), [], 'nothing written outside the root');

  const ow = await tftpServer(t, { allowWrite: true, allowOverwrite: true });
  writeFileSync(join(ow.root, 'keep.txt'), 'original');
  await tftpPut(ow.server, src, 'keep.txt', FAST);
  assert.deepEqual(readFileSync(join(ow.root, 'keep.txt')), readFileSync(src));
});

test('the upload size limit: refused up front by tsize, or cut mid-transfer without it, leaving nothing', async (t) => {
  const src = join(tempDir(t), 'big.bin');
  writeFileSync(src, randomBytes(10_000));
  const { root, server } = await tftpServer(t, { allowWrite: true, maxFileSize: 4096 });
  await rejects(tftpPut(server, src, 'a.bin', FAST), 'WIRECAT_TFTP_REMOTE_ERROR', /TFTP error 3/);
  await rejects(
    tftpPut(server, src, 'b.bin', { ...FAST, negotiate: false }),
    'WIRECAT_TFTP_REMOTE_ERROR',
    /TFTP error 3/,
  );
  // Give the server a moment to drop its temporary file after the error.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(readdirSync(root), []);
});

test('each transfer has its own TID; a stranger gets ERROR 5; duplicate ACKs get no extra DATA', async (t) => {
  const { root, port } = await tftpServer(t);
  writeFileSync(join(root, 'f'), randomBytes(512 * 20 + 10));
  const a = await rawClient(t);
  a.send(encodeRequest(OP.RRQ, 'f', 'octet'), port);
  const first = await a.next();
  assert.ok(first && first.packet.op === OP.DATA && first.packet.block === 1);
  assert.notEqual(first.port, port, 'the transfer runs on a new port');
  // A stranger (another socket) talking to the transfer port gets ERROR 5; the transfer goes on.
  const stranger = await rawClient(t);
  stranger.send(encodeAck(1), first.port);
  const e = await stranger.next();
  assert.ok(e && e.packet.op === OP.ERROR && e.packet.code === 5);
  // ACK every block three times: the server must send each DATA exactly once.
  let dataPackets = 1;
  let block = 1;
  for (;;) {
    for (let i = 0; i < 3; i++) a.send(encodeAck(block), first.port);
    const next = await a.next(1000);
    if (!next) break;
    assert.equal(next.packet.op, OP.DATA);
    if (next.packet.op !== OP.DATA) break;
    dataPackets++;
    assert.equal(next.packet.block, block + 1, 'no repeated block');
    block = next.packet.block;
    if (next.packet.data.length < 512) {
      a.send(encodeAck(block), first.port);
      break;
    }
  }
  assert.equal(dataPackets, 21);
  assert.equal(await a.next(400), undefined, 'nothing more after the last ACK');
  // A second request from another client gets yet another port.
  a.send(encodeRequest(OP.RRQ, 'f', 'octet'), port);
  const again = await a.next();
  assert.ok(again && again.port !== first.port && again.port !== port);
});

test('requests are answered on errors: mode, malformed; non-requests on the listening port get nothing', async (t) => {
  const { port } = await tftpServer(t);
  const c = await rawClient(t);
  c.send(encodeRequest(OP.RRQ, 'f', 'mail'), port);
  const mail = await c.next();
  assert.ok(mail?.packet.op === OP.ERROR && mail.packet.code === 4);
  c.send(Buffer.from([0, 1, 0x66, 0x67]), port); // RRQ without NULs
  const bad = await c.next();
  assert.ok(bad?.packet.op === OP.ERROR && bad.packet.code === 4);
  assert.match(bad.packet.op === OP.ERROR ? bad.packet.message : '', /unterminated-string/);
  c.send(encodeAck(1), port);
  assert.equal(await c.next(300), undefined);
});

test('transfer limits: per client and overall; the next request gets ERROR 0 "busy"', async (t) => {
  const { root, port } = await tftpServer(t, {
    maxTransfersPerClient: 1,
    maxTransfers: 2,
    timeoutMs: 2000,
  });
  writeFileSync(join(root, 'f'), randomBytes(5000));
  const a = await rawClient(t);
  a.send(encodeRequest(OP.RRQ, 'f', 'octet'), port);
  assert.equal((await a.next())?.packet.op, OP.DATA); // holds a slot: never ACKed
  const a2 = await rawClient(t); // same address, other port
  a2.send(encodeRequest(OP.RRQ, 'f', 'octet'), port);
  const busy = await a2.next();
  assert.ok(busy?.packet.op === OP.ERROR && busy.packet.code === 0);
  assert.match(busy.packet.op === OP.ERROR ? busy.packet.message : '', /busy/);
  // The same client resending its RRQ does not start a second transfer.
  a.send(encodeRequest(OP.RRQ, 'f', 'octet'), port);
  assert.equal(await a.next(300), undefined);
});

test('tftp is UDP only, opt-in, and needs a root', async (t) => {
  await rejects(
    serve(['tftp=tcp://127.0.0.1:0'], { root: tempDir(t) }),
    'WIRECAT_UNSUPPORTED_TRANSPORT',
    /UDP only/,
  );
  await rejects(serve(['tftp=udp://127.0.0.1:0']), 'WIRECAT_BAD_USAGE', /--root/);
  // `wirecat serve tftp` means udp://127.0.0.1:10069 only; no spec at all never includes tftp.
  assert.deepEqual(
    parseServiceSpecs(['tftp']).map((b) => b.endpoint),
    [{ transport: 'udp', host: '127.0.0.1', port: 10_069 }],
  );
  assert.deepEqual(
    parseServiceSpecs(['tftp=127.0.0.1:0']).map(
      (b) => (b.endpoint as { transport: string }).transport,
    ),
    ['udp'],
  );
  assert.ok(!parseServiceSpecs([]).some((b) => b.service === 'tftp'));
});

test('CLI: tftp get/put, exit codes, and no half-written file on failure', async (t) => {
  const { root, server } = await tftpServer(t, { allowWrite: true });
  const data = randomBytes(70_000);
  writeFileSync(join(root, 'f.bin'), data);
  const dir = tempDir(t);
  const dest = join(dir, 'got.bin');
  const get = await runCli([
    'tftp',
    'get',
    server,
    'f.bin',
    dest,
    '-b',
    '8192',
    '--timeout',
    '200ms',
  ]);
  assert.equal(get.code, 0, get.stderr);
  assert.equal(get.stderr, '', 'quiet when stderr is not a terminal');
  assert.deepEqual(readFileSync(dest), data);
  const toStdout = await runCli(['tftp', 'get', server, 'f.bin', '-']);
  assert.equal(toStdout.code, 0, toStdout.stderr);
  assert.deepEqual(toStdout.stdout, data);
  const put = await runCli(['tftp', 'put', server, dest, 'put.bin', '-w', '4']);
  assert.equal(put.code, 0, put.stderr);
  assert.deepEqual(readFileSync(join(root, 'put.bin')), data);
  const missing = await runCli(['tftp', 'get', server, 'nope', join(dir, 'nope')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /file not found \(TFTP error 1\)/);
  assert.equal(existsSync(join(dir, 'nope')), false);
  const silent = await runCli([
    'tftp',
    'get',
    '127.0.0.1:9',
    'x',
    join(dir, 'x'),
    '--timeout',
    '100ms',
    '--retries',
    '1',
  ]);
  assert.equal(silent.code, 6);
  assert.match(silent.stderr, /no answer from 127\.0\.0\.1 port 9/);
  assert.deepEqual(readdirSync(dir).sort(), ['got.bin']);
  const usage = await runCli(['tftp', 'fetch', server]);
  assert.equal(usage.code, 2);
  const help = await runCli(['tftp', '--help']);
  assert.match(help.stdout.toString(), /wirecat tftp get 127\.0\.0\.1:10069/);
});

test('CLI: tftp get into a folder saves under the remote name; local paths that cannot be written fail before any transfer, in words', async (t) => {
  const { root, server } = await tftpServer(t, {});
  writeFileSync(join(root, 'f.txt'), 'by name\n');
  const dir = tempDir(t);
  const into = await runCli(['tftp', 'get', server, 'f.txt', dir]);
  assert.equal(into.code, 0, into.stderr);
  assert.equal(readFileSync(join(dir, 'f.txt'), 'utf8'), 'by name\n');
  // The library call is strict: a folder is not a file name, and nothing is left behind.
  await assert.rejects(tftpGet(server, 'f.txt', dir), {
    code: 'WIRECAT_IO',
    message: `cannot write ${dir}: it is a folder`,
  });
  const noFolder = await runCli(['tftp', 'get', server, 'f.txt', join(dir, 'none', 'f.txt')]);
  assert.equal(noFolder.code, 1);
  assert.match(noFolder.stderr, /cannot write .*none\/f\.txt: its folder does not exist\n$/);
  const noFile = await runCli(['tftp', 'put', server, join(dir, 'absent.bin')]);
  assert.equal(noFile.code, 1);
  assert.match(noFile.stderr, /cannot read .*absent\.bin: no such file\n$/);
  assert.deepEqual(readdirSync(dir), ['f.txt']);
});
