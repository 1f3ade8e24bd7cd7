// chargen (RFC 864) over TCP (IPv4, IPv6), Unix and UDP: the 72-character rotating line
// pattern, a stream that stops when the client stops reading, and whole-line datagrams.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { datagram, openClient, portOf, startHost, tempDir, waitFor } from './helpers.js';

const LINE_BYTES = 74;

/** RFC 864's line n: 72 printable characters starting at printable character n mod 95, CRLF. */
function patternLine(n: number): string {
  let line = '';
  for (let i = 0; i < 72; i++) line += String.fromCharCode(32 + ((n + i) % 95));
  return `${line}\r\n`;
}

/** Check `bytes` is the pattern from line `first` on (a partial last line is checked too). */
function assertPattern(bytes: Buffer, first = 0): void {
  const lines = Math.ceil(bytes.length / LINE_BYTES);
  for (let n = 0; n < lines; n++) {
    const got = bytes.subarray(n * LINE_BYTES, (n + 1) * LINE_BYTES).toString('latin1');
    const want = patternLine(first + n).slice(0, got.length);
    if (got !== want)
      assert.fail(`line ${n}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const where of ['tcp4', 'tcp6', 'unix'] as const) {
  test(`chargen over ${where} streams the rotating pattern from line 0`, async (t) => {
    const path = join(tempDir(t), 'chargen.sock');
    const spec = {
      tcp4: 'chargen=tcp://127.0.0.1:0',
      tcp6: 'chargen=tcp://[::1]:0',
      unix: `chargen=unix:${path}`,
    }[where];
    const host = await startHost(t, [spec]);
    const port = host.listeners[0].port as number;
    const target = { tcp4: port, tcp6: { host: '::1', port }, unix: { path } }[where];
    const client = await openClient(t, target);
    // 1000 lines: several full 95-line rotations and the server's 64 KiB write chunks.
    const got = await client.waitFor((b) => b.length >= 1000 * LINE_BYTES, '1000 lines');
    assert.equal(got.subarray(0, LINE_BYTES).toString(), patternLine(0));
    assert.equal(got.subarray(95 * LINE_BYTES, 96 * LINE_BYTES).toString(), patternLine(0));
    assertPattern(got);
  });
}

test('chargen stops writing while the client does not read, and resumes where it left off', async (t) => {
  const host = await startHost(t, ['chargen=tcp://127.0.0.1:0']);
  const client = await openClient(t, portOf(host, 'chargen'));
  await client.waitFor((b) => b.length >= 1_048_576, 'the first MiB');
  client.socket.pause();

  // Wait for the kernel buffers to fill: the server's byte count stops moving.
  let last = -1;
  await waitFor(
    () => {
      const now = host.stats.bytesOut;
      const settled = now === last;
      last = now;
      return settled;
    },
    'the server to stop writing',
    20_000,
  );
  const stalled = host.stats.bytesOut;
  await sleep(1000);
  assert.equal(
    host.stats.bytesOut,
    stalled,
    'the server went on writing to a client that does not read',
  );
  const inFlight = stalled - client.received().length;
  t.diagnostic(`written but unread while paused: ${inFlight} bytes`);
  // Kernel send and receive buffers (a few MiB on loopback) plus one 64 KiB write: bounded.
  assert.ok(inFlight < 32 * 1_048_576, `${inFlight} bytes written but not read`);
  assert.equal(host.stats.connectionsOpen, 1);

  client.socket.resume();
  const more = client.received().length + inFlight + 1_048_576;
  const all = await client.waitFor((b) => b.length >= more, 'the stream to resume', 20_000);
  assertPattern(all);
});

test('chargen keeps streaming after the client half-closes, until the client goes', async (t) => {
  const host = await startHost(t, ['chargen=tcp://127.0.0.1:0']);
  const client = await openClient(t, portOf(host, 'chargen'));
  client.socket.end('ignored input\r\n');
  const before = (await client.waitFor((b) => b.length > 0, 'some lines')).length;
  const got = await client.waitFor((b) => b.length >= before + 200_000, 'more lines after FIN');
  assertPattern(got);
  client.socket.destroy();
  await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');
});

test('chargen over UDP answers whole lines under 512 bytes, continuing the rotation', async (t) => {
  const host = await startHost(t, ['chargen=udp://127.0.0.1:0', 'chargen=udp://[::1]:0']);
  const [four, six] = host.listeners.map((l) => l.port as number);
  let next = 0;
  for (let i = 0; i < 20; i++) {
    const reply = await datagram(four, i % 2 ? '' : 'any text');
    assert.ok(reply, `datagram ${i} got no reply`);
    assert.ok(reply.length <= 512 && reply.length > 0, `${reply.length} bytes`);
    assert.equal(reply.length % LINE_BYTES, 0, 'whole lines only');
    assertPattern(reply, next);
    next += reply.length / LINE_BYTES;
  }
  assert.ok(next > 95, 'the rotation wrapped');
  const reply6 = await datagram(six, '', { host: '::1' });
  assert.ok(reply6 && reply6.length <= 512 && reply6.length % LINE_BYTES === 0);
  // Each datagram starts its own rotation position: its first line is a pattern line.
  const start = reply6[0] - 32;
  assertPattern(reply6, start);
});
