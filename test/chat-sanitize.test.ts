// The chat's text sanitizer and flood control, as units (the room tests cover them on sockets).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FloodControl } from '../src/services/chat/flood.js';
import { sanitizeLine, sanitizeText } from '../src/services/chat/sanitize.js';

test('sanitize: C0, ESC sequences, DEL, C1, bidi overrides become visible text', () => {
  assert.equal(sanitizeText('\x1b[2J\x1b]0;title\x07'), '^[[2J^[]0;title^G');
  assert.equal(sanitizeText('a\x00b\x7fc\u0085d\u009fe'), 'a^@b^?cM-^EdM-^_e');
  assert.equal(sanitizeText('\u202eevil\u2066'), '<U+202E>evil<U+2066>');
  assert.equal(sanitizeText('tab\there'), 'tab here');
  assert.equal(sanitizeText('tab\there', true), 'tab\there');
  assert.equal(sanitizeText('héllo 世界 👋'), 'héllo 世界 👋', 'printable Unicode is untouched');
});

test('sanitize: invalid UTF-8 becomes U+FFFD', () => {
  assert.equal(sanitizeLine(Buffer.from([0x61, 0xff, 0xc3, 0x28, 0x62])), 'a\ufffd\ufffd(b');
  assert.equal(
    sanitizeLine(Buffer.from([0xed, 0xa0, 0x80])),
    '\ufffd\ufffd\ufffd',
    'no surrogates',
  );
});

test('flood control: a burst, then the rate; a warning, then disconnect; forgiven when calm', () => {
  let now = 0;
  const flood = new FloodControl(5, 10, 3, () => now);
  for (let i = 0; i < 10; i++) assert.equal(flood.take(), 'ok');
  assert.equal(flood.take(), 'warn');
  assert.equal(flood.take(), 'drop');
  now += 200; // one token back
  assert.equal(flood.take(), 'ok');
  assert.equal(flood.take(), 'disconnect');
  const calm = new FloodControl(5, 10, 3, () => now);
  for (let i = 0; i < 10; i++) calm.take();
  assert.equal(calm.take(), 'warn');
  now += 2_000; // full again: strikes forgiven
  for (let i = 0; i < 10; i++) assert.equal(calm.take(), 'ok');
  assert.equal(calm.take(), 'warn', 'a fresh warning, not a disconnect');
});
