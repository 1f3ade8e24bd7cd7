// Bundles the CLI into dist/cli: a tiny entry file, and one self-contained file per verb that
// the entry loads only when that verb runs. No shared chunks: each extra module file costs
// a resolve-and-load on every start, and start-up time is a feature (`wirecat connect` is
// measured against nc in bench/). The bundles are CommonJS (dist/cli/package.json says so):
// on Node 20 the ESM loader alone cost a one-shot `wirecat connect` 4-5 ms of its ~78.

import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

// The sources are ESM: each bundle starts strict, `import.meta.url` becomes the bundle's own
// file URL, and the entry's `import('./serve.js')` a require of the verb's bundle.
const CJS_PRELUDE =
  '"use strict";\nconst __wirecatFileUrl = require("node:url").pathToFileURL(__filename).href;';
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  supported: { 'dynamic-import': false },
  define: { 'import.meta.url': '__wirecatFileUrl' },
  logLevel: 'warning',
};
mkdirSync('dist/cli', { recursive: true });
writeFileSync('dist/cli/package.json', '{ "type": "commonjs" }\n');
await build({
  ...common,
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/wirecat.js',
  plugins: [verbsStayExternal],
  banner: { js: `#!/usr/bin/env node\n${CJS_PRELUDE}` },
});
await build({
  ...common,
  entryPoints: Object.fromEntries(external.map((v) => [v, `src/cli/${v}.ts`])),
  outdir: 'dist/cli',
  banner: { js: CJS_PRELUDE },
});
chmodSync('dist/cli/wirecat.js', 0o755);
