// The chat room (wirecat serve chat) with real sockets: commands, escapes neutralised, 50
// clients at once, a flooder disconnected, a client that never reads dropped while the
// others get every message in order, nc as a client.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { portOf, requirePeer, startHost, waitFor } from './helpers.js';

/** A raw chat client: collects everything it receives as text. */
class Client {
  readonly socket: net.Socket;
  text = '';
  closed = false;

  constructor(t: TestContext, port: number) {
    this.socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.text += d;
    });
    this.socket.on('error', () => {});
    this.socket.on('end', () => this.socket.end()); // like nc: the server is done, so are we
    this.socket.on('close', () => {
      this.closed = true;
    });
    t.after(() => this.socket.destroy());
  }

  send(text: string): void {
    this.socket.write(text);
  }

  lines(): string[] {
    return this.text.split('\r\n');
  }

  /** Wait until a line containing `part` has arrived. */
  async saw(part: string, timeoutMs = 5000): Promise<void> {
    await waitFor(
      () => this.text.includes(part),
      `"${part}" in ${JSON.stringify(this.text.slice(-300))}`,
      timeoutMs,
    );
  }

  async join(nick: string): Promise<void> {
    await this.saw('choose a nickname');
    this.send(`${nick}\n`);
    await this.saw(`hello ${nick}`);
  }
}

async function room(t: TestContext, chat = {}) {
  const host = await startHost(t, ['chat=tcp://127.0.0.1:0'], { chat });
  return portOf(host, 'chat');
}

test('chat: nicknames, messages, /me, /msg, /who, /nick, /quit, /help', async (t) => {
  const port = await room(t);
  const alice = new Client(t, port);
  await alice.join('alice');
  const bob = new Client(t, port);
  await bob.saw('choose a nickname');
  bob.send('ALICE\n'); // taken, whatever the case
  await bob.saw('"ALICE" is taken');
  bob.send('bad nick!\n');
  await bob.saw('use letters, digits, _ and - only');
  bob.send('operator\n');
  await bob.saw('"operator" is reserved');
  bob.send('bob\n');
  await bob.saw('hello bob; here: alice');
  await alice.saw('*** bob joined (2 here)');

  alice.send('hi bob\n/me waves\n/msg bob psst\n//not a command\n');
  await bob.saw('<alice> /not a command');
  assert.ok(bob.text.includes('<alice> hi bob\r\n* alice waves\r\n*alice* psst\r\n'));
  await alice.saw('-> *bob* psst');
  assert.ok(!alice.text.includes('<alice> hi bob'), 'no echo of your own lines');

  bob.send('/who\n/msg carol hello\n/frob\n/help\n');
  await bob.saw('*** here (2): alice, bob');
  await bob.saw('! no one called carol is here');
  await bob.saw('! unknown command /frob');
  await bob.saw('/msg NICK TEXT');

  bob.send('/nick robert\n');
  await alice.saw('*** bob is now known as robert');
  alice.send('/nick robert\n');
  await alice.saw('"robert" is taken');

  bob.send('/quit see you\n');
  await bob.saw('*** bye');
  await alice.saw('*** robert left (see you)');
  await waitFor(() => bob.closed, 'the server closes after /quit');
});

test('chat: escapes and control characters arrive neutralised, invalid UTF-8 replaced', async (t) => {
  const port = await room(t);
  const alice = new Client(t, port);
  await alice.join('alice');
  const eve = new Client(t, port);
  await eve.join('eve');
  eve.socket.write(
    Buffer.concat([
      Buffer.from('clear\x1b[2J\x1b]0;pwned\x07 bell\x07 del\x7f c1\u009b6n bidi\u202e tab\tx '),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' cr\rend\n'),
    ]),
  );
  await alice.saw('<eve> clear');
  const line = alice.lines().find((l) => l.startsWith('<eve>')) ?? '';
  assert.equal(
    line,
    '<eve> clear^[[2J^[]0;pwned^G bell^G del^? c1M-^[6n bidi<U+202E> tab x \ufffd\ufffd cr^Mend',
  );
  const controls = [...alice.text.replace(/\r\n/g, '')].filter((ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code < 0xa0);
  });
  assert.deepEqual(controls, [], 'no control character reaches a client');
  // A nickname cannot smuggle escapes either.
  const mallory = new Client(t, port);
  await mallory.saw('choose a nickname');
  mallory.send('\x1b[31mred\n');
  await mallory.saw('use letters, digits');
});

test('chat: 50 clients at once, every message reaches every other client', async (t) => {
  const port = await room(t);
  const clients = Array.from({ length: 50 }, () => new Client(t, port));
  await Promise.all(clients.map((c, i) => c.join(`user${i}`)));
  for (const [i, c] of clients.entries()) c.send(`message from ${i}\n`);
  await Promise.all(
    clients.map((c, i) =>
      waitFor(
        () =>
          clients.every((_, j) => j === i || c.text.includes(`<user${j}> message from ${j}\r\n`)),
        `user${i} to get 49 messages`,
        15_000,
      ),
    ),
  );
  for (const [i, c] of clients.entries())
    assert.ok(!c.text.includes(`<user${i}> `), 'nobody gets their own line back');
});

test('chat: a flooder is warned, then disconnected; the room carries on', async (t) => {
  const port = await room(t);
  const alice = new Client(t, port);
  await alice.join('alice');
  const flooder = new Client(t, port);
  await flooder.join('flooder');
  flooder.send(Array.from({ length: 200 }, (_, i) => `spam ${i}\n`).join(''));
  await flooder.saw('! slow down: at most 5 lines per second (bursts of 10)');
  await flooder.saw('! disconnected: flooding');
  await alice.saw('*** flooder was disconnected: flooding');
  await waitFor(() => flooder.closed, 'the flooder to be cut off');
  // Only the burst got through (10 lines, minus what the nickname used).
  const relayed = alice.lines().filter((l) => l.startsWith('<flooder> spam')).length;
  assert.ok(relayed <= 10, `${relayed} spam lines relayed`);
  const bob = new Client(t, port);
  await bob.join('bob');
  bob.send('still here\n');
  await alice.saw('<bob> still here');
});

test('chat: a line over the maximum length disconnects its sender only', async (t) => {
  const port = await room(t, { maxLineBytes: 100 });
  const alice = new Client(t, port);
  await alice.join('alice');
  const long = new Client(t, port);
  await long.join('long');
  long.send(`${'x'.repeat(150)}\n`);
  await long.saw('! disconnected: line longer than 100 bytes');
  await alice.saw('*** long was disconnected: line longer than 100 bytes');
});

test('chat: a client that never reads is dropped; the others get every message in order', async (t) => {
  const port = await room(t, { linesPerSecond: 1e9, burst: 1e9 });
  const readers = [new Client(t, port), new Client(t, port), new Client(t, port)];
  await Promise.all(readers.map((c, i) => c.join(`reader${i}`)));
  const lazy = new Client(t, port);
  await lazy.join('lazy');
  lazy.socket.pause(); // never reads again: the kernel buffers fill, then the room's queue
  const sender = new Client(t, port);
  await sender.join('sender');
  // Fast, but at a pace readers that do read keep up with (about 9 MB/s); the flood limit is
  // lifted so only the lazy reader's queue can overflow.
  const count = 10_000;
  const pad = 'p'.repeat(900);
  for (let i = 0; i < count; i += 100) {
    const batch = Array.from({ length: 100 }, (_, k) => `m${i + k} ${pad}\n`);
    if (!sender.socket.write(batch.join('')))
      await new Promise((r) => sender.socket.once('drain', r));
    await new Promise((r) => setTimeout(r, 10));
  }
  for (const r of readers) await r.saw('*** lazy was dropped: not reading', 20_000);
  for (const r of readers) {
    await r.saw(`m${count - 1} `, 20_000);
    const got = r
      .lines()
      .flatMap((l) =>
        l.startsWith('<sender> m') ? [Number(l.slice(10, l.indexOf(' ', 10)))] : [],
      );
    assert.equal(got.length, count);
    assert.ok(
      got.every((n, i) => n === i),
      'every message, in order',
    );
    assert.ok(!/reader\d was dropped/.test(r.text), 'readers that read are never dropped');
  }
});

test('chat: nc (netcat-openbsd) as a client', async (t) => {
  if (!requirePeer(t, 'nc', 'netcat-openbsd')) return;
  const port = await room(t);
  const alice = new Client(t, port);
  await alice.join('alice');
  const nc = spawn('nc', ['127.0.0.1', String(port)], { stdio: ['pipe', 'pipe', 'ignore'] });
  t.after(() => nc.kill('SIGKILL'));
  let out = '';
  nc.stdout.on('data', (d) => {
    out += d;
  });
  await waitFor(() => out.includes('choose a nickname'), 'nc to be asked for a nickname');
  nc.stdin.write('ncuser\nhello from nc\n');
  await alice.saw('<ncuser> hello from nc');
  alice.send('hello nc\n');
  await waitFor(() => out.includes('<alice> hello nc\r\n'), "nc to get alice's line");
  nc.stdin.end(); // nc -N is not needed: our FIN-less close leaves via the socket close
  nc.kill('SIGTERM');
  await alice.saw('*** ncuser left');
});

test('chat: the room turns people away when full', async (t) => {
  const port = await room(t, { maxUsers: 2 });
  const a = new Client(t, port);
  await a.join('a');
  const b = new Client(t, port);
  await b.saw('choose a nickname');
  const c = new Client(t, port);
  await c.saw('! the room is full (2 people)');
  await waitFor(() => c.closed, 'the third to be closed');
});

test('chat: the operator seat sees the room and talks in it (library)', async (t) => {
  const shown: string[] = [];
  let say: (text: string) => void = () => {};
  const port = await room(t, {
    operator: {
      show: (line: string) => shown.push(line),
      attach: (fn: (text: string) => void) => {
        say = fn;
      },
    },
  });
  const alice = new Client(t, port);
  await alice.join('alice');
  assert.ok(alice.text.includes('here: operator'));
  alice.send('hello operator\n/msg operator psst\n');
  await waitFor(() => shown.includes('*alice* psst'), 'the private line at the operator');
  assert.ok(
    shown.includes('*** alice joined (2 here)') && shown.includes('<alice> hello operator'),
  );
  say('welcome, \x1b[1malice');
  await alice.saw('<operator> welcome, ^[[1malice');
  say('/me waves');
  await alice.saw('* operator waves');
});
