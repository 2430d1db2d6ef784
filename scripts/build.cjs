// Compiles tandem's TypeScript to CommonJS under dist/, mirroring the source tree (dist/client/cli.js,
// dist/worker/worker.js, dist/workflows/index.js, ...), so `tandem` and the worker run without a compiler at run time.
//
// Why esbuild, file by file, rather than tsc: it compiles the whole tree in well under a second, so `npm install`
// (the `prepare` script) and every test run (test/helpers/global-setup.ts) can afford to rebuild, and dist/ is never
// stale. Type checking stays with `npm run typecheck` (tsc --noEmit), which CI runs. Not bundled: each module stays a
// file, so `require.resolve('../workflows')` in the worker still finds the workflow sources the SDK's bundler needs,
// and the CLI loads only the modules a verb uses.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const OUT_DIR = path.join(ROOT, 'dist');
/** The folders that ship; test/ and bench/ run from source under jest and tsx. */
const SOURCE_DIRS = ['common', 'workflows', 'activities', 'node', 'worker', 'client', 'dev'];

function sourcesUnder(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [file] : [];
  });
}

/**
 * Product code requires the plain-CommonJS helpers in scripts/ (shared with the postinstall script) by a relative
 * path, which from dist/ points one level too deep; a one-line re-export in dist/scripts/ keeps that path working
 * while the helper keeps its real location, and with it its own idea of where the project root is.
 */
function writeScriptShims(outDir) {
  const shimDir = path.join(outDir, 'scripts');
  fs.mkdirSync(shimDir, { recursive: true });
  for (const name of fs.readdirSync(path.join(ROOT, 'scripts'))) {
    if (!name.endsWith('.cjs') || name === 'build.cjs') continue;
    fs.writeFileSync(path.join(shimDir, name), `module.exports = require('../../scripts/${name}');\n`);
  }
}

/**
 * Builds dist/ from scratch (a deleted source must not linger as a compiled module) and returns the file count.
 * The new tree is compiled beside dist/ and swapped in by two renames, so a CLI started meanwhile (a second `jest`
 * run rebuilds in its global setup while the first one's tests run `tandem`) never finds dist/ half written.
 */
function build() {
  const esbuild = require('esbuild');
  const entryPoints = SOURCE_DIRS.flatMap((dir) => sourcesUnder(path.join(ROOT, dir)));
  // The Docker build installs dependencies before it copies the sources in: nothing to compile yet, not an error.
  if (entryPoints.length === 0) {
    fs.rmSync(OUT_DIR, { recursive: true, force: true });
    return 0;
  }
  const staging = `${OUT_DIR}.build-${process.pid}`;
  const retired = `${OUT_DIR}.old-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  esbuild.buildSync({
    entryPoints,
    outdir: staging,
    outbase: ROOT,
    bundle: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    // Lazy `await import('./x')` must stay a CommonJS require: Node's ESM loader would refuse the extensionless path.
    supported: { 'dynamic-import': false },
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  writeScriptShims(staging);
  if (fs.existsSync(OUT_DIR)) fs.renameSync(OUT_DIR, retired);
  fs.renameSync(staging, OUT_DIR);
  fs.rmSync(retired, { recursive: true, force: true });
  return entryPoints.length;
}

module.exports = { build, OUT_DIR };

if (require.main === module) {
  const started = Date.now();
  const count = build();
  console.log(`tandem build: ${count} modules → dist/ in ${Date.now() - started} ms`);
}
