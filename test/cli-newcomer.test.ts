// README examples a newcomer runs, as regressions: an upload to `wirecat listen` whose own
// stdin is empty (it half-closes at once), and `wirecat get … | head`.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CLI, portOf, runCli, startHost, tempDir, waitFor } from './helpers.js';

test('an upload to a listener whose stdin is empty arrives whole', async (t) => {
  const data = randomBytes(300_000);
  // The listener's stdin ends at once, so it half-closes before the upload has begun: the
  // client must keep sending (nc semantics), not stop at the peer's FIN.
  const listener = spawn(process.execPath, [CLI, 'listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => listener.kill('SIGKILL'));
  const received: Buffer[] = [];
  let stderr = '';
  listener.stdout.on('data', (d: Buffer) => received.push(d));
  listener.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise((resolve) => listener.on('close', resolve));
  const address = await waitFor(
    () => /listening on tcp:\/\/(\S+)/.exec(stderr)?.[1],
    'the listener',
  );
  const sent = await runCli(['connect', address], { input: data });
  assert.equal(sent.code, 0, sent.stderr);
  assert.equal(await exited, 0, stderr);
  assert.ok(
    Buffer.concat(received).equals(data),
    `${Buffer.concat(received).length} of ${data.length} bytes arrived`,
  );
});

test('wirecat get piped into head exits 0 without an EPIPE crash', async (t) => {
  const root = tempDir(t);
  writeFileSync(join(root, 'big.txt'), randomBytes(3_000_000).toString('base64'));
  const host = await startHost(t, ['http=tcp://127.0.0.1:0'], { root });
  const url = `http://127.0.0.1:${portOf(host, 'http')}/big.txt`;
  // Like `| head -c 10`: read a little, then close the pipe. A crash needs a second write
  // to fail after the first EPIPE, a race, so try several times.
  for (let i = 0; i < 5; i++) {
    const child = spawn(process.execPath, [CLI, 'get', '-i', url], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => child.kill('SIGKILL'));
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  }
});
