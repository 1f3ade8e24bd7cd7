// Bundles the CLI into dist/cli: a small entry file plus one chunk per verb, loaded lazily,
// so `wirecat connect` starts without reading the server's code (start-up time is a feature).

import { chmodSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: { wirecat: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
chmodSync('dist/cli/wirecat.js', 0o755);
