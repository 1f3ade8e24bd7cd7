// --hex: the hex dump lines (offset, hex, ASCII), direction, timestamps and running offsets
// per connection, from the library subscriber and from the CLI.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { hexLines, startHexDump } from '../src/observe/hexdump.js';
import { exchange, portOf, runCli, startHost } from './helpers.js';

test('hexLines: offset, 16 bytes of hex in two groups, ASCII with dots', () => {
  const data = Buffer.from('hello, world!\r\n\x00\xffAB', 'latin1');
  assert.deepEqual(hexLines(data, 32), [
    '00000020  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0d 0a 00  |hello, world!...|',
    '00000030  ff 41 42                                          |.AB|',
  ]);
});

test('startHexDump: each direction with a timestamp, length and running from/to offsets', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => {
    text += d;
  });
  const stop = startHexDump({ out });
  t.after(stop);
  await exchange(portOf(host, 'echo'), ['abc', 'defgh']);
  stop();
  // The server reads what arrived (one or two chunks); offsets continue across chunks.
  const inbound = [
    ...text.matchAll(/^< (\S+ \S+) echo tcp #\d+ \S+ length=(\d+) from=(\d+) to=(\d+)$/gm),
  ];
  assert.ok(inbound.length >= 1, text);
  assert.match(inbound[0][1], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
  assert.equal(inbound[0][3], '0');
  assert.equal(inbound.at(-1)?.[4], '7', 'the last inbound byte is offset 7 of 8');
  assert.match(text, /^> .* echo tcp #\d+ .* length=\d+ from=0 to=\d+$/m);
  assert.match(text, /^00000000 {2}61 62 63 /m);
});

test('CLI: connect --hex dumps both directions on stderr, stdout stays the payload', async (t) => {
  const host = await startHost(t, ['echo=tcp://127.0.0.1:0']);
  const out = await runCli(['connect', `127.0.0.1:${portOf(host, 'echo')}`, '--hex'], {
    input: 'hex me\n',
  });
  assert.equal(out.code, 0);
  assert.equal(out.stdout.toString(), 'hex me\n');
  assert.match(
    out.stderr,
    /^> .* length=7 from=0 to=6\n00000000 {2}68 65 78 20 6d 65 0a +\|hex me\.\|$/m,
  );
  assert.match(out.stderr, /^< .* length=7 from=0 to=6$/m);
});
