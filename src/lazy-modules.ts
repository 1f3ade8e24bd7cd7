// Node modules that only some runs need — TLS, crypto (for self-signed certificates),
// readline (for the terminal) — loaded on first use. A bundled ESM file loads every static
// import at start, and start-up time is what a one-shot `wirecat connect` is judged on.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const lazyTls = (): typeof import('node:tls') => require('node:tls');
export const lazyCrypto = (): typeof import('node:crypto') => require('node:crypto');
export const lazyReadline = (): typeof import('node:readline') => require('node:readline');
