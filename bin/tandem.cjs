#!/usr/bin/env node
// The CLI runs from its TypeScript source through tsx, so there is no build step to forget after an edit.
require('tsx/cjs');
require('../client/cli');
