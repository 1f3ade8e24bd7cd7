// Cutting a stream with a TCP RST (SO_LINGER 0) where that is safe, a plain close elsewhere.
//
// Why not just `socket.resetAndDestroy()`: while our FIN is queued (end() called, every byte
// handed to the kernel, 'finish' not yet emitted) libuv has a shutdown request pending and
// refuses the reset with EINVAL. Node 20 then marks the handle as closing without closing it:
// the fd leaks, 'close' never comes, and a process that exits naturally spins at 100 % CPU
// waiting for that handle. In that window every byte is already the kernel's and the FIN is
// on its way, so a plain close says the same thing.

import type net from 'node:net';

/** Abort `socket` with a RST when it is a plain TCP socket whose FIN is not being queued. */
export function resetOrDestroy(socket: net.Socket): void {
  if (socket.destroyed) return;
  const finQueued = socket.writableEnded && !socket.writableFinished && socket.writableLength === 0;
  if (!finQueued) {
    try {
      socket.resetAndDestroy(); // throws for handles that are not TCP (TLS, Unix)
    } catch {}
  }
  if (!socket.destroyed) socket.destroy();
}
