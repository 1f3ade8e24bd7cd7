// `wirecat serve chat --operator`: the person at the terminal sees the room on stdout and
// talks in it as "operator" (lines and /commands typed on stdin). On a terminal it uses the
// line mode's prompt, so the room's lines never mangle what the operator is typing.

import readline from 'node:readline';
import { LinePrompt } from '../client/interactive.js';
import type { ChatOperator } from '../services/chat/options.js';

export const CHAT_OPTIONS = { operator: { type: 'boolean' } } as const;

export const CHAT_HELP = `  --operator           chat: show the room on stdout and talk in it as "operator" from stdin`;

/** The operator seat, and `start` to begin reading stdin once the startup table is printed. */
export function chatOperatorFrom(values: { operator?: boolean }): {
  operator: ChatOperator | undefined;
  start(): void;
} {
  if (!values.operator) return { operator: undefined, start: () => {} };
  const rooms: ((text: string) => void)[] = [];
  const say = (text: string) => {
    for (const room of rooms) room(text);
  };
  let show = (line: string) => {
    process.stdout.write(`${line}\n`);
  };
  const operator: ChatOperator = {
    show: (line) => show(line),
    attach: (fn) => {
      rooms.push(fn);
    },
  };
  const start = () => {
    if (process.stdin.isTTY && process.stdout.isTTY) {
      const prompt = new LinePrompt(
        { input: process.stdin, output: process.stdout },
        {
          onLine: say,
          onEnd: () => {}, // Ctrl-D: stop talking; the room goes on
          onInterrupt: () => process.kill(process.pid, 'SIGINT'), // the usual graceful stop
        },
      );
      show = (line) => prompt.print(`${line}\n`);
    } else readline.createInterface({ input: process.stdin }).on('line', say);
  };
  return { operator, start };
}
