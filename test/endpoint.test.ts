// parseEndpoint / formatEndpoint: every documented form, round trips, and every error with a
// message that names the problem (WIRECAT_BAD_ENDPOINT).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isWirecatError } from '../src/errors.js';
import {
  type Endpoint,
  formatEndpoint,
  formatHostPort,
  normalizeAddress,
  parseEndpoint,
} from '../src/transport/endpoint.js';

test('every documented form parses', () => {
  const cases: [string, Endpoint][] = [
    ['tcp://example.com:7', { transport: 'tcp', host: 'example.com', port: 7 }],
    ['udp://127.0.0.1:10007', { transport: 'udp', host: '127.0.0.1', port: 10007 }],
    ['tls://localhost:443', { transport: 'tls', host: 'localhost', port: 443 }],
    ['tcp://[::1]:7', { transport: 'tcp', host: '::1', port: 7 }],
    ['udp://[::1]:7', { transport: 'udp', host: '::1', port: 7 }],
    ['tcp://[::]:0', { transport: 'tcp', host: '::', port: 0 }],
    ['unix:/tmp/echo.sock', { transport: 'unix', path: '/tmp/echo.sock' }],
    ['unix:///tmp/echo.sock', { transport: 'unix', path: '/tmp/echo.sock' }],
    ['unix:relative/echo.sock', { transport: 'unix', path: 'relative/echo.sock' }],
    ['localhost:7', { transport: 'tcp', host: 'localhost', port: 7 }],
    ['10.0.0.1:65535', { transport: 'tcp', host: '10.0.0.1', port: 65535 }],
    ['[::1]:7', { transport: 'tcp', host: '::1', port: 7 }],
    ['[fe80::1%lo]:7', { transport: 'tcp', host: 'fe80::1%lo', port: 7 }],
    [':7', { transport: 'tcp', host: '::', port: 7 }], // every interface, IPv4 and IPv6
    ['tcp://:7', { transport: 'tcp', host: '::', port: 7 }],
    ['9000', { transport: 'tcp', host: undefined, port: 9000 }],
    ['0', { transport: 'tcp', host: undefined, port: 0 }],
    ['udp://9000', { transport: 'udp', host: undefined, port: 9000 }],
    // Tolerated spellings: upper-case scheme, surrounding blanks, a trailing slash.
    ['TCP://host:7', { transport: 'tcp', host: 'host', port: 7 }],
    ['  udp://h.example:7/ ', { transport: 'udp', host: 'h.example', port: 7 }],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseEndpoint(text), want, text);
});

test('without a scheme the default transport applies', () => {
  assert.deepEqual(parseEndpoint('[::1]:7', 'udp'), { transport: 'udp', host: '::1', port: 7 });
  assert.deepEqual(parseEndpoint(':7', 'udp'), { transport: 'udp', host: '::', port: 7 });
  assert.deepEqual(parseEndpoint('7', 'udp'), { transport: 'udp', host: undefined, port: 7 });
  // An explicit scheme wins.
  assert.equal(parseEndpoint('tcp://h:7', 'udp').transport, 'tcp');
  assert.equal(parseEndpoint('unix:/x', 'udp').transport, 'unix');
});

test('formatEndpoint writes what parseEndpoint reads, brackets around IPv6', () => {
  const texts = [
    'tcp://example.com:7',
    'udp://127.0.0.1:10007',
    'tls://localhost:443',
    'tcp://[::1]:7',
    'udp://[::]:0',
    'tcp://[fe80::1%lo]:7',
    'unix:/tmp/echo.sock',
  ];
  for (const text of texts) {
    assert.equal(formatEndpoint(parseEndpoint(text)), text);
    assert.deepEqual(parseEndpoint(formatEndpoint(parseEndpoint(text))), parseEndpoint(text));
  }
  assert.equal(formatEndpoint(parseEndpoint(':7')), 'tcp://[::]:7');
  assert.equal(formatEndpoint(parseEndpoint('unix:///tmp/e.sock')), 'unix:/tmp/e.sock');
  // A bare port has no host: it is shown as localhost.
  assert.equal(formatEndpoint(parseEndpoint('9000')), 'tcp://localhost:9000');
  assert.equal(formatHostPort('::1', 7), '[::1]:7');
  assert.equal(formatHostPort('10.1.2.3', 7), '10.1.2.3:7');
});

test('normalizeAddress folds IPv4-mapped IPv6 to IPv4', () => {
  assert.equal(normalizeAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(normalizeAddress('::1'), '::1');
  assert.equal(normalizeAddress('10.0.0.1'), '10.0.0.1');
  assert.equal(normalizeAddress(undefined), '');
});

test('every malformed endpoint is WIRECAT_BAD_ENDPOINT with a message naming the problem', () => {
  const cases: [unknown, RegExp][] = [
    ['', /empty/],
    ['   ', /empty/],
    [undefined, /empty/],
    ['::1:7', /IPv6 address needs brackets/],
    ['fe80::1:7', /IPv6 address needs brackets/],
    ['tcp://::1:7', /IPv6 address needs brackets/],
    ['[::1', /missing "\]"/],
    ['[::1]', /port must follow/],
    ['[::1]7', /port must follow/],
    ['[1.2.3.4]:7', /not an IPv6 address/],
    ['localhost', /no port given/],
    ['tcp://example.com', /no port given/],
    ['example.com:', /no port given/],
    ['tcp://:', /no port given/],
    ['65536', /65536 is above 65535/],
    ['tcp://h:99999', /99999 is above 65535/],
    ['h:123456', /"123456" is not a port number/],
    ['h:7x', /"7x" is not a port number/],
    ['h:-1', /"-1" is not a port number/],
    ['[::1]:7/path', /not a port number/],
    ['http://example.com:80', /unknown scheme "http" \(known: tcp, udp, tls, unix\)/],
    ['sctp://h:7', /unknown scheme "sctp"/],
    ['tcp:h:7', /write tcp:\/\/HOST:PORT/],
    ['unix:', /needs a path/],
    ['unix://', /needs a path/],
    ['unix:/tmp/a\0b', /NUL/],
    ['bad_host!:7', /"bad_host!" is not a valid host name/],
    ['tcp://a..b:7', /"a\.\.b" is not a valid host name/],
    ['-leading.dash:7', /not a valid host name/],
    [`${'a'.repeat(64)}.example:7`, /not a valid host name/],
    ['300.1.1.1:7', /"300\.1\.1\.1" is not a valid IPv4 address/],
    ['1.2.3.4.5:7', /not a valid IPv4 address/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseEndpoint(text as string),
      (err) => {
        assert.ok(isWirecatError(err, 'WIRECAT_BAD_ENDPOINT'), `${String(text)}: ${err}`);
        assert.match(err.message, why, String(text));
        // Every message shows the accepted forms, so the user can fix the typo.
        assert.match(err.message, /forms: tcp:\/\/HOST:PORT/);
        return true;
      },
    );
  }
});
