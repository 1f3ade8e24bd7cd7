// discard (RFC 863) over TCP, Unix and UDP: everything is read and counted, nothing comes
// back, and the connection stays usable until the client closes.

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { datagram, openClient, portOf, startHost, tempDir, waitFor } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const transport of ['tcp', 'unix'] as const) {
  test(`discard over ${transport}: nothing comes back and the connection stays usable`, async (t) => {
    const path = join(tempDir(t), 'discard.sock');
    const spec = transport === 'tcp' ? 'discard=tcp://127.0.0.1:0' : `discard=unix:${path}`;
    const host = await startHost(t, [spec]);
    const client = await openClient(t, transport === 'tcp' ? portOf(host, 'discard') : { path });
    client.socket.write('hello\r\n');
    await waitFor(() => host.stats.bytesIn === 7, 'the server to read the line');
    await sleep(100);
    assert.equal(client.received().length, 0, 'discard answered');
    assert.ok(!client.socket.destroyed && client.socket.readable, 'connection still open');

    // 4 MiB more: all of it read, still nothing back.
    const big = Buffer.alloc(4 * 1_048_576, 0xa5);
    client.socket.write(big);
    await waitFor(() => host.stats.bytesIn === 7 + big.length, 'the server to read 4 MiB');
    client.socket.end();
    assert.equal((await client.ended).length, 0);
    await waitFor(() => host.stats.connectionsOpen === 0, 'the slot to be released');
    assert.equal(host.stats.bytesOut, 0);
  });
}

test('discard over UDP never replies but counts what came in', async (t) => {
  const host = await startHost(t, ['discard=udp://127.0.0.1:0', 'discard=udp://[::1]:0']);
  const [four, six] = host.listeners.map((l) => l.port as number);
  assert.equal(await datagram(four, 'drop me', { timeoutMs: 300 }), undefined);
  assert.equal(await datagram(six, '', { host: '::1', timeoutMs: 300 }), undefined);
  assert.equal(host.stats.datagramsIn, 2);
  assert.equal(host.stats.bytesIn, 7);
  assert.equal(host.stats.datagramsOut, 0);
});
