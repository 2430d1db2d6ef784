/**
 * Where the project lives, for defaults such as `<root>/.tandem`. Found by walking up to the nearest package.json, so
 * the answer is the same whether this module runs from its TypeScript source (`node/`) or compiled (`dist/node/`).
 * Node built-ins only: the CLI reads it to print `--version` before loading anything heavier.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';

/** The nearest folder at or above `from` that holds a package.json; `from`'s parent when there is none. */
export function findProjectRoot(from: string = __dirname): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..');
  }
}
