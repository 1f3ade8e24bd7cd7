// The files service (Gopher, RFC 1436) against curl, raw sockets and `wirecat get gopher://`:
// files, menus, errors, every way out of the root, limits, and a large file to a slow reader.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { curl, SECRET, servedTree } from './fetch-helpers.js';
import { exchange, portOf, requirePeer, runCli, spawnCli, startHost, waitFor } from './helpers.js';

test('curl gopher:// fetches a text file and a binary file byte for byte', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  const text = await curl([`gopher://127.0.0.1:${port}/0/hello.txt`]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout.toString(), 'hello, files\n');
  const binary = await curl([`gopher://127.0.0.1:${port}/9/data.bin`]);
  assert.equal(binary.code, 0, binary.stderr);
  assert.ok(binary.stdout.equals(tree.data), 'data.bin arrives unchanged');
  const viaInsideLink = await curl([`gopher://127.0.0.1:${port}/0/inside`]);
  assert.equal(
    viaInsideLink.stdout.toString(),
    'hello, files\n',
    'a symlink inside the root is followed',
  );
});

test('a folder gets a menu: types, selectors, host and port; links leading out are not listed', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  const menu = (await curl([`gopher://127.0.0.1:${port}/1/`])).stdout.toString();
  const lines = menu.split('\r\n');
  assert.equal(lines.at(-2), '.', 'the menu ends with a lone dot');
  assert.ok(lines.includes(`1docs\t/docs\t127.0.0.1\t${port}`), menu);
  assert.ok(lines.includes(`0hello.txt\t/hello.txt\t127.0.0.1\t${port}`), menu);
  assert.ok(lines.includes(`9data.bin\t/data.bin\t127.0.0.1\t${port}`), menu);
  assert.ok(lines.includes(`0inside\t/inside\t127.0.0.1\t${port}`), menu);
  for (const hidden of ['escape', 'escape-dir', 'etc-link'])
    assert.ok(!menu.includes(`\t/${hidden}\t`), `${hidden} must not be listed`);
  const sub = (await curl([`gopher://127.0.0.1:${port}/1/docs`])).stdout.toString();
  assert.ok(sub.startsWith(`0readme.md\t/docs/readme.md\t127.0.0.1\t${port}\r\n`), sub);
});

test('a missing file gets a one-item error menu (type 3)', async (t) => {
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  const reply = (await exchange(port, '/nope.txt\r\n')).toString();
  assert.match(reply, /^3"\/nope.txt" does not exist\t\terror.host\t1\r\n\.\r\n$/);
});

test('no selector reaches outside the root: .., absolute paths, symlinks out, encoded forms', async (t) => {
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  const attempts = [
    '../secret.txt',
    '/../secret.txt',
    'docs/../../secret.txt',
    '/docs/../hello.txt', // even harmless .. is refused, never interpreted
    '/escape',
    '/escape-dir/secret.txt',
    '/etc-link/passwd',
    '/etc/passwd',
    `${tree.secret}`,
    '..\\secret.txt',
    'hello.txt\0',
  ];
  for (const selector of attempts) {
    const reply = (await exchange(port, `${selector}\r\n`)).toString();
    assert.ok(reply.startsWith('3'), `${JSON.stringify(selector)} got: ${reply}`);
    assert.ok(!reply.includes(SECRET.trim()) && !reply.includes('root:'), selector);
  }
});

test('curl --path-as-is cannot climb out either', async (t) => {
  if (!requirePeer(t, 'curl')) return;
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  for (const path of ['/0/../secret.txt', '/0/%2e%2e/secret.txt', '/0/escape']) {
    const r = await curl(['--path-as-is', `gopher://127.0.0.1:${port}${path}`]);
    assert.ok(r.stdout.toString().startsWith('3'), `${path}: ${r.stdout}`);
    assert.ok(!r.stdout.toString().includes(SECRET.trim()), path);
  }
});

test('a FIFO is refused without blocking; a file over --max-file-size is refused', async (t) => {
  const tree = servedTree(t);
  execFileSync('mkfifo', [join(tree.root, 'pipe')]);
  const host = await startHost(t, ['files=tcp://127.0.0.1:0'], {
    root: tree.root,
    maxFileBytes: 1000,
  });
  const port = portOf(host, 'files');
  assert.match(
    (await exchange(port, 'pipe\r\n', { timeoutMs: 3000 })).toString(),
    /^3.*not a regular file/,
  );
  assert.match((await exchange(port, 'data.bin\r\n')).toString(), /^3.*over the limit of 1000/);
  assert.equal((await exchange(port, 'hello.txt\r\n')).toString(), 'hello, files\n');
});

test('a selector longer than the limit gets an error and a close', async (t) => {
  const tree = servedTree(t);
  const host = await startHost(t, ['files=tcp://127.0.0.1:0'], {
    root: tree.root,
    maxNameBytes: 64,
  });
  const reply = await exchange(portOf(host, 'files'), `${'a'.repeat(500)}\r\n`, {
    halfClose: false,
  });
  assert.match(reply.toString(), /^3selector longer than 64 bytes/);
});

test('a client that half-closes instead of ending the line still gets the file', async (t) => {
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  assert.equal((await exchange(port, 'hello.txt')).toString(), 'hello, files\n');
  assert.ok(
    (await exchange(port, '')).toString().includes('0hello.txt\t/hello.txt'),
    'empty selector: the root menu',
  );
});

/** Resident memory of a process, in bytes (Linux). */
function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

test('a 256 MiB file to a slow reader: streamed with backpressure, server memory stays bounded', async (t) => {
  const tree = servedTree(t);
  const size = 256 * 1024 * 1024;
  const big = join(tree.root, 'big.bin');
  const fd = openSync(big, 'w');
  ftruncateSync(fd, size); // sparse: no disk used, reads as zeros
  closeSync(fd);
  const server = spawnCli(t, ['serve', 'files=tcp://127.0.0.1:0', '--root', tree.root]);
  const port = Number(
    (
      await waitFor(
        () => /tcp:\/\/127\.0\.0\.1:(\d+)/.exec(server.output()) ?? undefined,
        'the listening line',
      )
    )[1],
  );
  const baseline = rssOf(server.pid as number);

  const socket = net.connect({ host: '127.0.0.1', port });
  t.after(() => socket.destroy());
  let received = 0;
  socket.on('data', (d) => {
    received += d.length;
  });
  socket.pause();
  socket.write('big.bin\r\n');
  // The slow reader: a little now and then for a second, while the server must wait.
  let peak = baseline;
  for (let i = 0; i < 10; i++) {
    socket.resume();
    await new Promise((r) => setImmediate(r));
    socket.pause();
    await new Promise((r) => setTimeout(r, 100));
    peak = Math.max(peak, rssOf(server.pid as number));
  }
  assert.ok(received < size / 4, `the reader was slow (${received} bytes so far)`);
  assert.ok(
    peak - baseline < 48 * 1024 * 1024,
    `server RSS grew by ${Math.round((peak - baseline) / 1048576)} MiB while the reader stalled`,
  );
  const done = new Promise<void>((resolve, reject) => {
    socket.on('end', resolve);
    socket.on('error', reject);
  });
  socket.resume();
  await done;
  assert.equal(received, size, 'every byte arrived once the reader caught up');
});

test('wirecat get gopher:// fetches a file and a menu; --trace shows the selector going out', async (t) => {
  const tree = servedTree(t);
  const port = portOf(
    await startHost(t, ['files=tcp://127.0.0.1:0'], { root: tree.root }),
    'files',
  );
  const file = await runCli(['get', `gopher://127.0.0.1:${port}/9/data.bin`]);
  assert.equal(file.code, 0, file.stderr);
  assert.ok(file.stdout.equals(tree.data));
  const menu = await runCli(['get', `gopher://127.0.0.1:${port}/1/docs`, '--trace']);
  assert.equal(menu.code, 0, menu.stderr);
  assert.match(menu.stdout.toString(), /^0readme\.md\t\/docs\/readme\.md\t/);
  assert.match(menu.stderr, /get tcp #\d+ -> 7 B "\/docs\\r\\n"/);
  const missing = await runCli(['get', `gopher://127.0.0.1:${port}/0/nope`]);
  assert.match(missing.stdout.toString(), /^3/);
});
