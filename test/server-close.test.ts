// Host.close(): what reached the kernel before close() was called (a connection not yet
// accepted, bytes not yet read) is served to the end, not reset with the listener.

import assert from 'node:assert/strict';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { portOf, startHost, waitFor } from './helpers.js';

/** A host with echo, and a half-open-capable client of it that records what happens. */
async function echoClient(t: TestContext) {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const client = net.connect({
    port: portOf(host, 'echo'),
    host: '127.0.0.1',
    allowHalfOpen: true,
  });
  t.after(() => client.destroy());
  const state = { received: '', fin: false, error: '' };
  client.on('data', (d) => {
    state.received += d;
  });
  client.on('end', () => {
    state.fin = true;
    client.end();
  });
  client.on('error', (e: NodeJS.ErrnoException) => {
    state.error = e.code ?? e.message;
  });
  const closed = new Promise((resolve) => client.once('close', resolve));
  return { host, client, state, closed };
}

test('close(): a connection already queued in the kernel is served, not reset', async (t) => {
  const { host, client, state, closed } = await echoClient(t);
  client.write('still served');
  // net.connect issues connect() on the next tick; on loopback the kernel completes the
  // handshake inside that call. Closing right after it, before the event loop polls, leaves
  // the connection queued on the listener: exactly what a signal racing an accept does.
  const stopped = new Promise<void>((resolve) => {
    process.nextTick(() => resolve(host.close(2000)));
  });
  await closed;
  await stopped;
  assert.equal(state.error, '', 'the queued connection was reset');
  assert.ok(state.fin, 'no FIN from the server');
  assert.equal(state.received, 'still served');
});

test('close(): bytes that reached the server before close() are answered before its FIN', async (t) => {
  const { host, client, state, closed } = await echoClient(t);
  client.write('first ');
  await waitFor(() => state.received === 'first ', 'the first echo');
  // On loopback the write is in the server's receive buffer when write() returns; the
  // server has not read it yet when close() is called in the same tick.
  client.write('second');
  const stopped = host.close(2000);
  await closed;
  await stopped;
  assert.equal(state.error, '');
  assert.ok(state.fin, 'no FIN from the server');
  assert.equal(state.received, 'first second', 'the request in flight was not answered');
});
