// Ctrl-C and SIGTERM for the verbs that run until stopped (serve, relay): the first signal
// drains and says so on stderr, so a stop that waits for a client is never a silent hang; a
// second one stops at once with exit code 130.

import { EXIT } from './exit-codes.js';

export interface GracefulStop {
  /** The verb, for the stderr lines ("wirecat relay: SIGINT: draining …"). */
  verb: string;
  /** What is drained: 'connection' (serve) or 'session' (relay: a client and its upstream). */
  noun: string;
  json?: boolean;
  /** How many are open now. */
  open(): number;
  /** The longest the drain waits, for the message. */
  drainMs: number;
  /** Start the graceful stop; the verb exits when it is done. */
  drain(): void;
  /** Cut whatever is left, before the exit on the second signal. */
  cut(): void;
}

export function onStopSignals(stop: GracefulStop): void {
  let stopping = false;
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`wirecat ${stop.verb}: ${signal} again, stopping now\n`);
      stop.cut();
      process.exit(EXIT.INTERRUPTED);
    }
    stopping = true;
    const open = stop.open();
    process.stderr.write(
      stop.json
        ? `${JSON.stringify({ event: 'draining', signal, [`${stop.noun}sOpen`]: open })}\n`
        : `wirecat ${stop.verb}: ${signal}: draining ${open} ${stop.noun}${open === 1 ? '' : 's'} (up to ${stop.drainMs} ms)\n`,
    );
    stop.drain();
  };
  process.on('SIGINT', handle);
  process.on('SIGTERM', handle);
}
