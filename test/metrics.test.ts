// /metrics after known traffic: parsed as OpenMetrics text (and the Prometheus 0.0.4 form),
// every family declared once, counters equal to what the test sent.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { tftpGet } from '../src/client/tftp.js';
import { startDashboard } from '../src/dashboard/server.js';
import { EventStore } from '../src/observe/store.js';
import { datagram, exchange, portOf, startHost, tempDir, waitFor } from './helpers.js';

interface Parsed {
  types: Map<string, string>;
  samples: { name: string; labels: Record<string, string>; value: number }[];
  eof: boolean;
}

/** A strict reader of the text format: fails on any line it does not understand. */
function parseExposition(text: string): Parsed {
  const types = new Map<string, string>();
  const samples: Parsed['samples'] = [];
  let eof = false;
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the text ends with a newline');
  for (const line of lines) {
    assert.ok(!eof, 'nothing after # EOF');
    if (line === '# EOF') {
      eof = true;
      continue;
    }
    const meta = /^# (TYPE|HELP|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        assert.ok(!types.has(meta[2]), `${meta[2]} declared twice`);
        types.set(meta[2], meta[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+)$/.exec(line);
    assert.ok(m, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]] = pair[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { types, samples, eof };
}

function value(p: Parsed, name: string, labels: Record<string, string>): number | undefined {
  return p.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

test('/metrics counts connections, bytes, limit hits and UDP guard drops', async (t) => {
  const store = new EventStore();
  t.after(store.subscribe());
  const dash = await startDashboard({ store, endpoint: '127.0.0.1:0' });
  t.after(() => dash.close());
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0', 'echo=udp://127.0.0.1:0'], {
    limits: { maxConnectionsPerSource: 1 },
  });
  const tcp = portOf(host, 'echo');
  const udp = portOf(host, 'echo', 'udp');

  // Known traffic: 3 TCP exchanges (5 + 7 + 9 bytes), 2 UDP datagrams (4 + 6 bytes).
  for (const text of ['12345', '1234567', '123456789']) await exchange(tcp, text);
  assert.equal((await datagram(udp, 'ping'))?.toString(), 'ping');
  assert.equal((await datagram(udp, 'pong!!'))?.toString(), 'pong!!');
  // One connection held open, so a second one from 127.0.0.1 hits maxConnectionsPerSource.
  const held = net.connect({ host: '127.0.0.1', port: tcp });
  t.after(() => held.destroy());
  await new Promise((resolve) => held.on('connect', resolve));
  await waitFor(() => host.stats.connectionsOpen === 1, 'the held connection');
  await exchange(tcp, '').catch(() => {});
  // A datagram from a wirecat service port (the UDP echo's own port, on 127.0.0.2) is never
  // answered: the echo-loop guard drops it.
  const looped = dgram.createSocket('udp4');
  t.after(() => looped.close());
  await new Promise<void>((resolve) => looped.bind(udp, '127.0.0.2', resolve));
  looped.send('loop?', udp, '127.0.0.1');
  await waitFor(() => host.stats.udpDropped['service-port'] === 1, 'the guard drop');

  const res = await fetch(`${dash.url}metrics`, {
    headers: { accept: 'application/openmetrics-text; version=1.0.0' },
  });
  assert.equal(
    res.headers.get('content-type'),
    'application/openmetrics-text; version=1.0.0; charset=utf-8',
  );
  const om = parseExposition(await res.text());
  assert.ok(om.eof, 'OpenMetrics ends with # EOF');
  for (const s of om.samples) {
    const family = s.name.replace(/_total$/, '');
    assert.ok(om.types.has(family) || om.types.has(s.name), `${s.name} has a TYPE line`);
  }
  const echoTcp = { service: 'echo', transport: 'tcp' };
  const echoUdp = { service: 'echo', transport: 'udp' };
  assert.equal(om.types.get('wirecat_connections'), 'counter');
  assert.equal(value(om, 'wirecat_connections_total', echoTcp), 4); // 3 exchanges + the held one
  assert.equal(value(om, 'wirecat_connections_active', echoTcp), 1);
  assert.equal(value(om, 'wirecat_received_bytes_total', echoTcp), 21);
  assert.equal(value(om, 'wirecat_sent_bytes_total', echoTcp), 21);
  assert.equal(value(om, 'wirecat_received_bytes_total', echoUdp), 4 + 6 + 5);
  assert.equal(value(om, 'wirecat_sent_bytes_total', echoUdp), 10);
  assert.equal(value(om, 'wirecat_received_datagrams_total', echoUdp), 3);
  assert.equal(value(om, 'wirecat_sent_datagrams_total', echoUdp), 2);
  assert.equal(
    value(om, 'wirecat_limit_hits_total', { ...echoTcp, limit: 'maxConnectionsPerSource' }),
    1,
  );
  assert.equal(
    value(om, 'wirecat_udp_guard_drops_total', { ...echoUdp, reason: 'service-port' }),
    1,
  );
  assert.equal(
    value(om, 'wirecat_listening', { ...echoTcp, address: `tcp://127.0.0.1:${tcp}` }),
    1,
  );

  // Without an OpenMetrics Accept header: the Prometheus 0.0.4 text format, same values.
  const plain = await fetch(`${dash.url}metrics`);
  assert.match(plain.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const prom = parseExposition(await plain.text());
  assert.ok(!prom.eof);
  assert.equal(prom.types.get('wirecat_connections_total'), 'counter');
  assert.equal(value(prom, 'wirecat_received_bytes_total', echoTcp), 21);
});

test('/metrics counts TFTP transfers by outcome', async (t) => {
  const store = new EventStore();
  t.after(store.subscribe());
  const dash = await startDashboard({ store, endpoint: '127.0.0.1:0' });
  t.after(() => dash.close());
  const root = tempDir(t);
  writeFileSync(join(root, 'a.txt'), 'hello tftp\n');
  const host = await startHost(t, ['tftp=udp://127.0.0.1:0'], { root });
  const server = `127.0.0.1:${portOf(host, 'tftp', 'udp')}`;
  const out = tempDir(t);
  await tftpGet(server, 'a.txt', join(out, 'a.txt'));
  await tftpGet(server, 'a.txt', join(out, 'b.txt'));
  await assert.rejects(tftpGet(server, 'missing.txt', join(out, 'c.txt')));
  // The close event of the last transfer may trail the client's result by a moment.
  let text = '';
  for (let i = 0; i < 50; i++) {
    text = await (await fetch(`${dash.url}metrics`)).text();
    if (/wirecat_transfers_total\{[^}]*outcome="done"[^}]*\} 2\n/.test(text)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const p = parseExposition(text);
  assert.equal(value(p, 'wirecat_transfers_total', { service: 'tftp', outcome: 'done' }), 2);
  assert.equal(value(p, 'wirecat_transfers_active', { service: 'tftp' }), 0);
  // A request refused before any transfer starts (file not found) is an ERROR packet, not a transfer.
  assert.equal(value(p, 'wirecat_transfers_total', { service: 'tftp', outcome: 'done' }), 2);
});
