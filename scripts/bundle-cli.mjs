// Bundles the CLI into dist/cli: a tiny entry file, and one self-contained file per verb that
// the entry imports only when that verb runs. No shared chunks: each extra module file costs
// a resolve-and-load on every start, and start-up time is a feature (`wirecat connect` is
// measured against nc in bench/).

import { chmodSync, readFileSync } from 'node:fs';
import { build } from 'esbuild';

const main = readFileSync('src/cli/main.ts', 'utf8');
const verbs = [...main.matchAll(/import\('\.\/([a-z-]+)\.js'\)/g)].map((m) => m[1]);
// connect is inlined in the entry: it is the verb whose start-up time is measured (a one-shot
// client), and a second module file costs a resolve and a load.
const inline = ['connect'];
const external = verbs.filter((v) => !inline.includes(v));

// The entry's `import('./serve.js')` etc. stay imports of the separately built verb files.
const verbsStayExternal = {
  name: 'verbs-stay-external',
  setup(b) {
    b.onResolve({ filter: /^\.\/[a-z-]+\.js$/ }, (args) =>
      args.importer.endsWith('main.ts') && external.includes(args.path.slice(2, -3))
        ? { path: args.path, external: true }
        : undefined,
    );
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  logLevel: 'warning',
};
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/wirecat.js',
  plugins: [verbsStayExternal],
  banner: { js: '#!/usr/bin/env node' },
});
await build({
  ...common,
  entryPoints: Object.fromEntries(external.map((v) => [v, `src/cli/${v}.ts`])),
  outdir: 'dist/cli',
});
chmodSync('dist/cli/wirecat.js', 0o755);
