// The interactive line mode in a real terminal (tmux): typing with a prompt, incoming text
// printed above it without mangling the half-typed line, escapes shown not obeyed, /quit
// half-closes and waits for the peer's last bytes; two people chatting with listen/connect.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { CLI, requirePeer, waitFor } from './helpers.js';

/** A tmux server of our own (its own socket), killed when the test ends. */
function startTmux(t: TestContext) {
  const socket = `wirecat-test-${process.pid}-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', timeout: 5000 });
  t.after(() => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
  });
  return {
    /** Run `wirecat ARGS` in a new window; the window stays to show how it exited. */
    run(name: string, args: string[]): void {
      const command = `'${process.execPath}' '${CLI}' ${args.join(' ')}; echo "[exit $?]"; sleep 60`;
      if (name === 'first')
        tmux('new-session', '-d', '-s', 'w', '-n', name, '-x', '100', '-y', '30', command);
      else tmux('new-window', '-t', 'w', '-n', name, command);
    },
    type(name: string, text: string): void {
      tmux('send-keys', '-t', `w:${name}`, '-l', text);
    },
    key(name: string, key: string): void {
      tmux('send-keys', '-t', `w:${name}`, key);
    },
    screen(name: string): string[] {
      return tmux('capture-pane', '-p', '-t', `w:${name}`)
        .split('\n')
        .map((l) => l.trimEnd())
        .filter((l) => l !== '');
    },
    async see(name: string, check: (lines: string[]) => boolean, what: string): Promise<string[]> {
      let last: string[] = [];
      await waitFor(
        () => {
          last = this.screen(name);
          return check(last);
        },
        `${what}; screen:\n${last.join('\n')}`,
        8000,
      ).catch(() => {
        throw new Error(`timed out waiting for ${what}; screen:\n${this.screen(name).join('\n')}`);
      });
      return last;
    },
  };
}

/** A peer we drive by hand: one accepted connection, everything it received. */
async function peer(t: TestContext) {
  const state = { socket: undefined as net.Socket | undefined, got: '', ended: false };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    state.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      state.got += d;
    });
    socket.on('end', () => {
      state.ended = true;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    state.socket?.destroy();
    server.close();
  });
  return { state, port: (server.address() as net.AddressInfo).port };
}

test('line mode: prompt, incoming text above it, escapes shown, /quit waits for the peer', async (t) => {
  if (!requirePeer(t, 'tmux')) return;
  const { state, port } = await peer(t);
  const term = startTmux(t);
  term.run('first', ['connect', `127.0.0.1:${port}`]);
  await term.see('first', (l) => l.at(-1) === '>', 'the prompt');
  await waitFor(() => state.socket, 'the connection');

  term.type('first', 'hel');
  await term.see('first', (l) => l.at(-1) === '> hel', 'the half-typed line');
  state.socket?.write('incoming line one\nand \x1b[31mred\x1b[0m\x07 two\n');
  const screen = await term.see(
    'first',
    (l) => l.includes('incoming line one') && l.at(-1) === '> hel',
    'incoming text above the intact prompt',
  );
  assert.deepEqual(screen.slice(-3), ['incoming line one', 'and ^[[31mred^[[0m^G two', '> hel']);

  term.type('first', 'lo');
  term.key('first', 'Enter');
  await waitFor(() => state.got === 'hello\n', 'the typed line at the peer');

  term.type('first', '/quit');
  term.key('first', 'Enter');
  await waitFor(() => state.ended, 'our FIN at the peer');
  await term.see('first', (l) => l.some((x) => x.includes('sent FIN')), 'the half-close notice');
  state.socket?.end('last words\n');
  const end = await term.see('first', (l) => l.includes('[exit 0]'), 'a clean exit');
  assert.ok(end.includes('last words'), "the peer's last bytes after our /quit");
  assert.equal(state.got, 'hello\n', '/quit itself is not sent');
});

test('two people chat: wirecat listen on one side, wirecat connect on the other', async (t) => {
  if (!requirePeer(t, 'tmux')) return;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((r) => probe.close(r));
  const term = startTmux(t);
  term.run('first', ['listen', String(port)]);
  await term.see('first', (l) => l.some((x) => x.includes('listening on')), 'the listener');
  term.run('second', ['connect', `127.0.0.1:${port}`]);
  await term.see('second', (l) => l.at(-1) === '>', 'the connect prompt');
  await term.see('first', (l) => l.at(-1) === '>', 'the listen prompt');

  term.type('first', 'hi, this is A');
  term.key('first', 'Enter');
  await term.see('second', (l) => l.includes('hi, this is A'), "A's line at B");
  term.type('second', 'hello A, B here');
  term.key('second', 'Enter');
  await term.see('first', (l) => l.includes('hello A, B here'), "B's line at A");

  term.key('second', 'C-d'); // B leaves cleanly: FIN, then A ends too
  await term.see('first', (l) => l.some((x) => x.includes('the peer closed')), 'A told B left');
  await term.see('first', (l) => l.includes('[exit 0]'), 'A exits cleanly');
  await term.see('second', (l) => l.includes('[exit 0]'), 'B exits cleanly');
});
