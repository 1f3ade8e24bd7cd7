// Node modules that only some runs need — TLS, crypto (for self-signed certificates),
// readline (for the terminal) — loaded on first use. A bundled ESM file loads every static
// import at start, and start-up time is what a one-shot `wirecat connect` is judged on.

import { createRequire } from 'node:module';

let require: NodeJS.Require | undefined;
const load = <T>(name: string): T => {
  require ??= createRequire(import.meta.url);
  return require(name) as T;
};

export const lazyTls = () => load<typeof import('node:tls')>('node:tls');
export const lazyCrypto = () => load<typeof import('node:crypto')>('node:crypto');
export const lazyReadline = () => load<typeof import('node:readline')>('node:readline');
