// The interactive line mode for `connect` and `listen` on a terminal: a `> ` prompt with
// line editing and history (node:readline), incoming text printed above the prompt without
// disturbing what the user is typing, `/quit` or Ctrl-D to half-close and wait for the
// peer's last bytes, Ctrl-C to leave. Incoming control characters are shown, not obeyed.

import type readline from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { lazyReadline } from '../lazy-modules.js';
import { sanitizeText } from '../services/chat/sanitize.js';
import type { Conn } from '../transport/conn.js';
import type { SessionIo } from './session.js';

/** Lines kept in the prompt's history (up/down arrows). */
export const DEFAULT_HISTORY_SIZE = 1_000;
/** Incoming text without a newline is shown after this much quiet (a server's "Name: "). */
export const PARTIAL_FLUSH_MS = 150;
/** An incoming line longer than this is shown in pieces of this many characters. */
export const MAX_DISPLAY_LINE_CHARS = 16_384;
/** The prompt. */
export const DEFAULT_PROMPT = '> ';

/** The terminal the line mode runs on. */
export interface LineModeOptions {
  input: NodeJS.ReadableStream & { isTTY?: boolean };
  output: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  prompt?: string;
  historySize?: number;
  /** Print a line of status (joined, half-closed, peer closed) above the prompt. Default true. */
  notices?: boolean;
}

/**
 * A prompt on a terminal that other text can be printed above. `onLine` gets each entered
 * line; `onEnd` hears Ctrl-D or `/quit`; `onInterrupt` hears Ctrl-C.
 */
export class LinePrompt {
  private readonly rl: readline.Interface;
  private readonly output: LineModeOptions['output'];
  private open = true;

  constructor(
    options: LineModeOptions,
    handlers: { onLine(line: string): void; onEnd(): void; onInterrupt(): void },
  ) {
    this.output = options.output;
    this.rl = lazyReadline().createInterface({
      input: options.input,
      output: options.output,
      prompt: options.prompt ?? DEFAULT_PROMPT,
      terminal: true,
      historySize: options.historySize ?? DEFAULT_HISTORY_SIZE,
      removeHistoryDuplicates: true,
    });
    this.rl.on('line', (line) => {
      if (line === '/quit') return this.close();
      // "//quit" sends a literal "/quit"; every other line goes out as typed.
      handlers.onLine(line === '//quit' ? '/quit' : line);
      if (this.open) this.rl.prompt();
    });
    this.rl.on('SIGINT', () => handlers.onInterrupt());
    this.rl.on('close', () => {
      const wasOpen = this.open;
      this.open = false;
      this.clearPrompt(); // what is printed next starts on a clean line, not after "> "
      if (wasOpen) handlers.onEnd();
    });
    this.rl.prompt();
  }

  /** True until Ctrl-D, `/quit` or `close()`. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Print whole lines (each ending in \n) above the prompt, then redraw prompt and input. */
  print(text: string): void {
    if (!this.open) {
      this.output.write(text);
      return;
    }
    // Clear the prompt, write, and let readline redraw prompt + input with the cursor where
    // it was. Its `prevRows` (rows above the cursor it will move up over) must be 0 now: the
    // cursor sits at the start of a fresh line.
    this.clearPrompt();
    this.output.write(text);
    (this.rl as unknown as { prevRows: number }).prevRows = 0;
    this.rl.prompt(true);
  }

  /** Erase the prompt and the input typed so far (all their rows); cursor to their start. */
  private clearPrompt(): void {
    const { rows } = this.rl.getCursorPos();
    const { moveCursor, cursorTo, clearScreenDown } = lazyReadline();
    if (rows > 0) moveCursor(this.output, 0, -rows);
    cursorTo(this.output, 0);
    clearScreenDown(this.output);
  }

  /** Stop prompting (leaves the terminal as it was). Calls `onEnd` if still open. */
  close(): void {
    if (this.open) this.rl.close();
  }
}

/**
 * Turns one peer's bytes into whole, safe display lines: UTF-8 decoded across chunks, CRLF
 * folded, control characters made visible, a tail without newline shown after a short quiet.
 */
export class IncomingText {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly show: (text: string) => void,
    private readonly label = '',
  ) {}

  push(chunk: Buffer): void {
    this.add(this.decoder.write(chunk));
  }

  /** Show whatever is held (the peer closed). */
  flush(): void {
    this.add(this.decoder.end());
    this.flushPartial();
  }

  private add(text: string): void {
    if (text === '') return;
    const pieces = (this.partial + text).split('\n');
    this.partial = pieces.pop() ?? '';
    while (this.partial.length > MAX_DISPLAY_LINE_CHARS) {
      pieces.push(this.partial.slice(0, MAX_DISPLAY_LINE_CHARS));
      this.partial = this.partial.slice(MAX_DISPLAY_LINE_CHARS);
    }
    if (pieces.length > 0) this.show(pieces.map((p) => this.format(p)).join(''));
    if (this.timer) clearTimeout(this.timer);
    this.timer = this.partial ? setTimeout(this.flushPartial, PARTIAL_FLUSH_MS) : undefined;
  }

  private readonly flushPartial = (): void => {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.partial === '') return;
    const text = this.partial;
    this.partial = '';
    this.show(this.format(text));
  };

  private format(line: string): string {
    const content = line.endsWith('\r') ? line.slice(0, -1) : line;
    return `${this.label}${sanitizeText(content, true)}\n`;
  }
}

/** The line mode as one session's io: typed lines out, the peer's text above the prompt. */
export function startLineMode(options: LineModeOptions, crlf = false): SessionIo {
  const eol = crlf ? '\r\n' : '\n';
  const notices = options.notices ?? true;
  let prompt: LinePrompt | undefined;
  let incoming: IncomingText | undefined;
  const notice = (text: string) => {
    if (notices) prompt?.print(`(${text})\n`);
  };
  const io: SessionIo = {
    start(conn: Conn) {
      incoming = new IncomingText((text) => prompt?.print(text));
      prompt = new LinePrompt(options, {
        onLine: (line) => conn.write(line + eol),
        onEnd: () => {
          if (conn.isClosed) return;
          conn.end();
          notice('sent FIN: waiting for the peer to finish; Ctrl-C leaves');
        },
        onInterrupt: () => conn.abort('WIRECAT_ABORTED'),
      });
    },
    receive: (_conn, chunk) => incoming?.push(chunk),
    peerEnded(conn) {
      incoming?.flush();
      notice('the peer closed the connection');
      conn.end();
    },
    stop() {
      incoming?.flush();
      prompt?.close();
    },
  };
  return io;
}
