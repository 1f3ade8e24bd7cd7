// Shared by the files/http/get tests: a served folder with traps (symlinks leading out, a
// FIFO, a secret next to the root) and a curl runner with a timeout.

import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { tempDir } from './helpers.js';

/** A folder to serve, `root`, beside a `secret.txt` that must never be reachable. */
export interface ServedTree {
  root: string;
  secret: string;
  /** The bytes of root/data.bin (binary, 200 KiB: several chunks). */
  data: Buffer;
}

export const SECRET = 'top secret: never served\n';

/**
 * root/hello.txt, root/page.html, root/data.bin, root/docs/readme.md, root/site/index.html,
 * root/inside -> hello.txt (allowed), root/escape -> ../secret.txt, root/escape-dir -> ..,
 * root/etc-link -> /etc (all three refused).
 */
export function servedTree(t: TestContext): ServedTree {
  const base = tempDir(t);
  const root = join(base, 'root');
  mkdirSync(join(root, 'docs'), { recursive: true });
  mkdirSync(join(root, 'site'));
  const secret = join(base, 'secret.txt');
  writeFileSync(secret, SECRET);
  writeFileSync(join(root, 'hello.txt'), 'hello, files\n');
  writeFileSync(join(root, 'page.html'), '<h1>page</h1>\n');
  writeFileSync(join(root, 'docs', 'readme.md'), '# readme\n');
  writeFileSync(join(root, 'site', 'index.html'), '<h1>site index</h1>\n');
  const data = Buffer.alloc(200 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 8)) & 0xff;
  writeFileSync(join(root, 'data.bin'), data);
  symlinkSync('hello.txt', join(root, 'inside'));
  symlinkSync('../secret.txt', join(root, 'escape'));
  symlinkSync('..', join(root, 'escape-dir'));
  symlinkSync('/etc', join(root, 'etc-link'));
  return { root, secret, data };
}

/** What curl did. */
export interface CurlResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Run curl with `args` (always -s); resolves with its exit code and output. */
export function curl(args: string[], timeoutMs = 10_000): Promise<CurlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '--max-time', String(Math.ceil(timeoutMs / 1000)), ...args],
      { encoding: 'buffer', timeout: timeoutMs + 2000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        if (err && typeof code !== 'number') return reject(err);
        resolve({ code: code as number, stdout, stderr: stderr.toString() });
      },
    );
  });
}
