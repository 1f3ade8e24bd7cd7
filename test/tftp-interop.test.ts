// TFTP interop with the real thing: tftp-hpa's `tftp` and `curl tftp://` against wirecat's
// server (large blksize, rollover past block 65535, netascii, uploads), and wirecat's client
// against tftpd-hpa (`in.tftpd`, started here on a loopback port and stopped by PID).

import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { tftpGet, tftpPut } from '../src/client/tftp.js';
import { isWirecatError } from '../src/index.js';
import { encodeRequest, OP } from '../src/services/tftp/packet.js';
import { portOf, requirePeer, startHost, tempDir } from './helpers.js';

function run(
  program: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      program,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        const code = err ? (err as unknown as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function wirecatTftp(t: TestContext, root: string, allowWrite = false) {
  const host = await startHost(t, ['tftp=udp://127.0.0.1:0'], {
    root,
    tftp: { allowWrite, timeoutMs: 1000 },
    limits: { drainTimeoutMs: 500 },
  });
  return portOf(host, 'tftp', 'udp');
}

test('tftp-hpa gets (octet, netascii) from and puts to the wirecat server', async (t) => {
  if (!requirePeer(t, 'tftp', 'tftp-hpa')) return;
  const root = tempDir(t);
  const local = tempDir(t);
  const port = String(await wirecatTftp(t, root, true));
  const data = randomBytes(200_003);
  writeFileSync(join(root, 'f.bin'), data);
  writeFileSync(join(root, 'notes.txt'), 'one\ntwo\r\nthree\rfour\n');
  // tftp-hpa in octet mode, one command.
  const binary = (...command: string[]) =>
    run('tftp', ['-m', 'binary', '127.0.0.1', port, '-c', ...command]);
  let r = await binary('get', 'f.bin', join(local, 'f.bin'));
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(readFileSync(join(local, 'f.bin')), data);
  // netascii is tftp-hpa's default mode; it converts back, so the file arrives unchanged.
  r = await run('tftp', ['127.0.0.1', port, '-c', 'get', 'notes.txt', join(local, 'notes.txt')]);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(readFileSync(join(local, 'notes.txt'), 'utf8'), 'one\ntwo\r\nthree\rfour\n');
  r = await binary('put', join(local, 'f.bin'), 'up.bin');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual(readFileSync(join(root, 'up.bin')), data);
  r = await binary('get', 'missing', join(local, 'm'));
  assert.match(r.stdout + r.stderr, /Error code 1/);
});

test('curl gets (blksize 512 and 65464) from and puts to the wirecat server', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const root = tempDir(t);
  const local = tempDir(t);
  const port = await wirecatTftp(t, root, true);
  const data = randomBytes(3 * 1_048_576 + 17);
  writeFileSync(join(root, 'f.bin'), data);
  for (const blksize of ['512', '65464']) {
    const out = join(local, `f-${blksize}`);
    const r = await run('curl', [
      '-sS',
      '--tftp-blksize',
      blksize,
      '-o',
      out,
      `tftp://127.0.0.1:${port}/f.bin`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(out), data, `blksize ${blksize}`);
  }
  const r = await run('curl', [
    '-sS',
    '--tftp-blksize',
    '1428',
    '-T',
    join(local, 'f-512'),
    `tftp://127.0.0.1:${port}/up.bin`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(readFileSync(join(root, 'up.bin')), data);
  const missing = await run('curl', [
    '-sS',
    '-o',
    join(local, 'm'),
    `tftp://127.0.0.1:${port}/missing`,
  ]);
  assert.equal(missing.code, 68, 'curl: TFTP file not found');
});

test('rollover: tftp-hpa gets a file of more than 65535 blocks of 512 bytes intact', async (t) => {
  if (!requirePeer(t, 'tftp', 'tftp-hpa')) return;
  const root = tempDir(t);
  const local = tempDir(t);
  const port = String(await wirecatTftp(t, root));
  const size = 65_536 * 512 + 100; // 65537 blocks: the block number wraps 65535 → 0 → 1
  writeFileSync(join(root, 'big.bin'), randomBytes(size));
  const r = await run(
    'tftp',
    ['-m', 'binary', '127.0.0.1', port, '-c', 'get', 'big.bin', join(local, 'big.bin')],
    90_000,
  );
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(statSync(join(local, 'big.bin')).size, size);
  assert.equal(sha(join(local, 'big.bin')), sha(join(root, 'big.bin')));
});

/** A free UDP port on 127.0.0.1 (bound, read, released). */
async function freePort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Start `in.tftpd` in the foreground on a loopback port; it is stopped by PID after the test. */
async function startInTftpd(
  t: TestContext,
  root: string,
  extra: string[] = [],
): Promise<number | undefined> {
  if (!requirePeer(t, 'in.tftpd', 'tftpd-hpa')) return undefined;
  if (process.getuid?.() !== 0) {
    t.skip('in.tftpd -s (chroot) needs root; this test runs it as the current user with -u');
    return undefined;
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'in.tftpd',
    ['-L', '-a', `127.0.0.1:${port}`, '-s', '-u', userInfo().username, ...extra, root],
    { stdio: 'ignore' },
  );
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  // Ready when it answers a request for a missing file.
  const probe = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const answered = await new Promise<boolean>((resolve) => {
      const deadline = setTimeout(() => resolve(false), 5000);
      const timer = setInterval(
        () => probe.send(encodeRequest(OP.RRQ, '__probe__', 'octet'), port, '127.0.0.1'),
        100,
      );
      probe.once('message', () => {
        clearInterval(timer);
        clearTimeout(deadline);
        resolve(true);
      });
    });
    assert.ok(answered, 'in.tftpd did not start');
  } finally {
    probe.close();
  }
  return port;
}

test('the wirecat client gets from and puts to in.tftpd (options, netascii, errors)', async (t) => {
  const root = tempDir(t);
  const port = await startInTftpd(t, root, ['-c', '-p', '-U', '022']);
  if (port === undefined) return;
  const server = `127.0.0.1:${port}`;
  const local = tempDir(t);
  const data = randomBytes(1_000_000);
  writeFileSync(join(root, 'f.bin'), data);
  for (const blksize of [512, 1428, 65_464]) {
    const r = await tftpGet(server, 'f.bin', join(local, `f-${blksize}`), { blksize });
    assert.deepEqual(readFileSync(join(local, `f-${blksize}`)), data);
    assert.equal(r.blksize, blksize);
    assert.equal(r.windowsize, 1, 'tftpd-hpa 5.2 ignores windowsize');
    assert.equal(r.tsize, data.length);
  }
  const plain = await tftpGet(server, 'f.bin', join(local, 'plain'), { negotiate: false });
  assert.equal(plain.blksize, 512);
  assert.deepEqual(readFileSync(join(local, 'plain')), data);
  writeFileSync(join(root, 'notes.txt'), 'a\nb\r\nc\rd');
  await tftpGet(server, 'notes.txt', join(local, 'notes.txt'), { mode: 'netascii' });
  assert.equal(readFileSync(join(local, 'notes.txt'), 'utf8'), 'a\nb\r\nc\rd');
  const up = await tftpPut(server, join(local, 'plain'), 'up.bin', { blksize: 8192 });
  assert.equal(up.bytes, data.length);
  assert.deepEqual(readFileSync(join(root, 'up.bin')), data);
  await tftpPut(server, join(local, 'notes.txt'), 'notes-up.txt', { mode: 'netascii' });
  assert.equal(readFileSync(join(root, 'notes-up.txt'), 'utf8'), 'a\nb\r\nc\rd');
  await assert.rejects(tftpGet(server, 'missing', join(local, 'm')), (err: unknown) => {
    assert.ok(isWirecatError(err, 'WIRECAT_TFTP_REMOTE_ERROR'));
    assert.match(err.message, /TFTP error 1/);
    return true;
  });
});

test('rollover: the wirecat client puts and gets 65535 × 512 bytes (last block number wraps to 0) with in.tftpd', async (t) => {
  const root = tempDir(t);
  const port = await startInTftpd(t, root, ['-c', '-p', '-U', '022']);
  if (port === undefined) return;
  const local = tempDir(t);
  const src = join(local, 'edge.bin');
  writeFileSync(src, randomBytes(65_535 * 512)); // blocks 1..65535 full, then an empty block 65536 = wire 0
  const options = { blksize: 512, timeoutMs: 1000 };
  const up = await tftpPut(`127.0.0.1:${port}`, src, 'edge.bin', options);
  assert.equal(up.blocks, 65_536);
  assert.equal(sha(join(root, 'edge.bin')), sha(src));
  const down = await tftpGet(`127.0.0.1:${port}`, 'edge.bin', join(local, 'back.bin'), options);
  assert.equal(down.blocks, 65_536);
  assert.equal(sha(join(local, 'back.bin')), sha(src));
});
