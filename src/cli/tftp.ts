// `wirecat tftp get|put`: a TFTP client (RFC 1350 + options) with a progress bar on a terminal.

import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  DEFAULT_CLIENT_BLKSIZE,
  DEFAULT_CLIENT_WINDOWSIZE,
  type TftpClientOptions,
  type TftpTransferResult,
  tftpFetch,
  tftpGet,
  tftpPut,
} from '../client/tftp.js';
import { DEFAULT_TFTP_RETRIES, DEFAULT_TFTP_TIMEOUT_MS } from '../services/tftp/transfer.js';
import { parseCommandLine, parseCount, parseDuration, usageError } from './args.js';
import { EXIT } from './exit-codes.js';

const OPTIONS = {
  blksize: { type: 'string', short: 'b' },
  windowsize: { type: 'string', short: 'w' },
  mode: { type: 'string', short: 'm' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  'no-options': { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

const HELP = `Usage: wirecat tftp get SERVER REMOTE [LOCAL] [options]
       wirecat tftp put SERVER LOCAL [REMOTE] [options]

Moves one file with TFTP (RFC 1350), asking for larger blocks (RFC 2348), the size (RFC 2349)
and a window (RFC 7440); a server that does not know an option just ignores it.
SERVER is HOST, HOST:PORT or [IPv6]:PORT (port 69 when absent; wirecat serve tftp uses 10069).

get writes REMOTE to LOCAL (default: REMOTE's last name; when LOCAL is a folder, that name
inside it; - for stdout). The bytes go to a temporary file renamed to LOCAL only once
complete and as long as the server announced, so a failed get never leaves a half-written
LOCAL. put sends LOCAL as REMOTE (default: its name).

Options:
  -b, --blksize N      block size to ask for, 8..65464 (default ${DEFAULT_CLIENT_BLKSIZE}; 65464 is fastest on loopback)
  -w, --windowsize N   blocks per ACK to ask for, 1..65535 (default ${DEFAULT_CLIENT_WINDOWSIZE})
  -m, --mode MODE      octet (default, bytes unchanged) or netascii (line ends converted)
  --timeout T          resend after T without an answer (default ${DEFAULT_TFTP_TIMEOUT_MS / 1000}s)
  --retries N          resends before giving up (default ${DEFAULT_TFTP_RETRIES})
  --no-options         send a plain RFC 1350 request (512-byte blocks, one ACK per block)
  -q, --quiet          no progress bar (there is none anyway when stderr is not a terminal)

Exit codes: 0 done, 1 the server refused (not found, access violation, exists, …) or the size
did not match, 2 usage, 6 no answer from the server, 4 the transfer stalled.

Examples:
  wirecat serve tftp --root ./boot                      # in another terminal
  wirecat tftp get 127.0.0.1:10069 pxelinux.0
  wirecat tftp get 127.0.0.1:10069 images/big.img big.img -b 65464 -w 16
  wirecat tftp get 127.0.0.1:10069 notes.txt - -m netascii | less
  wirecat tftp put 127.0.0.1:10069 ./config.txt uploads/config.txt
`;

/** Where get saves REMOTE: LOCAL, or REMOTE's last name (inside LOCAL when it is a folder, as cp does). */
function localNameFor(remote: string, local: string | undefined): string {
  const name = basename(remote);
  if (local === undefined) return name;
  if (local !== '-' && statSync(local, { throwIfNoEntry: false })?.isDirectory())
    return join(local, name);
  return local;
}

/** A one-line progress bar: bytes, percent when the size is known, rate and ETA. */
function progressBar(label: string): {
  update(bytes: number, total: number | undefined): void;
  done(): void;
} {
  const started = performance.now();
  let shown = false;
  return {
    update(bytes, total) {
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? bytes / seconds : 0;
      let line = `${label} ${formatBytes(bytes)}`;
      if (total) {
        const fraction = Math.min(1, bytes / total);
        const width = 24;
        const filled = Math.round(fraction * width);
        const eta = rate > 0 ? Math.ceil((total - bytes) / rate) : undefined;
        line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}% ${formatBytes(bytes)}/${formatBytes(total)}${eta !== undefined ? `  ETA ${eta}s` : ''}`;
      }
      line += `  ${formatBytes(rate)}/s`;
      process.stderr.write(`\r${line.slice(0, (process.stderr.columns || 80) - 1)}\x1b[K`);
      shown = true;
    },
    done() {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

function formatBytes(n: number): string {
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < 1_048_576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1_048_576).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function summary(verb: string, name: string, r: TftpTransferResult): string {
  const rate = r.bytesPerSecond;
  return `wirecat tftp ${verb} ${name}: ${r.bytes} bytes in ${(r.durationMs / 1000).toFixed(2)}s (${formatBytes(rate)}/s, blksize ${r.blksize}, window ${r.windowsize}${r.retransmits ? `, ${r.retransmits} resent` : ''})\n`;
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, OPTIONS, 'tftp');
  if (values.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  const [verb, server, first, second, ...extra] = positionals;
  if ((verb !== 'get' && verb !== 'put') || !server || !first || extra.length > 0)
    throw usageError(
      'use: tftp get SERVER REMOTE [LOCAL] or tftp put SERVER LOCAL [REMOTE]',
      'tftp',
    );
  if (values.mode !== undefined && values.mode !== 'octet' && values.mode !== 'netascii')
    throw usageError(`--mode takes octet or netascii, not "${values.mode}"`, 'tftp');
  const options: TftpClientOptions = {
    mode: values.mode as 'octet' | 'netascii' | undefined,
    blksize: values.blksize ? parseCount(values.blksize, '--blksize', 8) : undefined,
    windowsize: values.windowsize ? parseCount(values.windowsize, '--windowsize', 1) : undefined,
    timeoutMs: values.timeout ? parseDuration(values.timeout, '--timeout', 's') : undefined,
    retries: values.retries ? parseCount(values.retries, '--retries') : undefined,
    negotiate: values['no-options'] ? false : undefined,
  };
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  options.signal = abort.signal;
  const tty = process.stderr.isTTY && !values.quiet;
  const bar = tty ? progressBar(`${verb} ${first}`) : undefined;
  if (bar) options.onProgress = (bytes, total) => bar.update(bytes, total);
  let result: TftpTransferResult;
  try {
    if (verb === 'get') {
      const local = localNameFor(first, second);
      result =
        local === '-'
          ? await tftpFetch(server, first, process.stdout, options)
          : await tftpGet(server, first, local, options);
    } else {
      result = await tftpPut(server, first, second ?? basename(first), options);
    }
  } finally {
    bar?.done();
  }
  if (tty) process.stderr.write(summary(verb, first, result));
  return EXIT.OK;
}
