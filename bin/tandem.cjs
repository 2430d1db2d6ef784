#!/usr/bin/env node
// The `tandem` command: runs the CLI compiled ahead of time into dist/ (scripts/build.cjs, run by `npm install`), so
// no TypeScript compiler loads at run time and a verb answers in a fraction of a second.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const entry = path.join(__dirname, '..', 'dist', 'client', 'cli.js');
if (!fs.existsSync(entry)) {
  console.error(
    `tandem: the CLI is not built (${path.relative(process.cwd(), entry) || entry} is missing): ` +
      'run "npm run build" (npm install runs it too)',
  );
  process.exit(1);
}
// Node 22.1+ keeps compiled code between runs (a no-op on Node 20): startup is mostly compiling the SDK's modules.
require('node:module').enableCompileCache?.();
require(entry);
