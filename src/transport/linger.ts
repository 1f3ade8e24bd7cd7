// Sockets that have sent their last byte and wait for the peer to close: each is cut if the
// peer has not closed by its deadline, so a peer that never closes cannot hold a slot. One
// coarse sweep for all of them instead of a timer per socket: on accept-heavy one-shot
// services (daytime at 30k connections/s) a timer per connection cost 1-4 us each.

import type net from 'node:net';

/** How often lingering sockets are checked: a linger ends up to this much late. */
export const LINGER_SWEEP_MS = 250;

const LINGERING = new Map<net.Socket, number>();
let sweeper: NodeJS.Timeout | undefined;

/** Cut `socket` if it is still open `lingerMs` from now (call `stopLinger` when it closes). */
export function lingerThenCut(socket: net.Socket, lingerMs: number): void {
  LINGERING.set(socket, Date.now() + lingerMs);
  sweeper ??= setInterval(sweep, LINGER_SWEEP_MS).unref();
}

/** The socket closed (or is handled otherwise): forget it. */
export function stopLinger(socket: net.Socket): void {
  LINGERING.delete(socket);
}

function sweep(): void {
  const now = Date.now();
  for (const [socket, deadline] of LINGERING) {
    if (deadline > now) continue;
    LINGERING.delete(socket);
    socket.destroy(); // our reply is sent; the peer just did not close in time
  }
  if (LINGERING.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}
