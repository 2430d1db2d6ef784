// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const nodeOnlySdk = [
  {
    group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'],
    message: 'the workflow bundler refuses Node-side Temporal packages',
  },
];
const notCommon = [
  {
    group: [
      '**/workflows/**',
      '**/activities/**',
      '**/node/**',
      '**/worker/**',
      '**/client/**',
      '**/dev/**',
      '**/test/**',
    ],
    message: 'common/ imports only common/',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tandem/**', 'coverage/**', 'dist/**', 'dist.*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Layers by where code runs (README "Layout"). Each block bans what its folder must not reach.
  {
    // Sandbox-safe code, imported by the workflow bundle and by Node alike: pure TypeScript, zod and message definitions.
    files: ['common/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: nodeBuiltins, patterns: [...nodeOnlySdk, ...notCommon] }] },
  },
  {
    // Workflow code is replayed: no Node built-ins (I/O, clock, randomness) may leak in. Activities own all I/O, and
    // workflows see them as types only (workflows/activities.ts).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins,
          patterns: [
            ...nodeOnlySdk,
            {
              group: ['**/activities', '**/activities/**'],
              allowTypeImports: true,
              message: 'workflows import activities as types only',
            },
            {
              group: ['**/node/**', '**/worker/**', '**/client/**', '**/dev/**', '**/test/**'],
              message: 'workflow code imports only common/ and workflows/',
            },
          ],
        },
      ],
    },
  },
  {
    // Activities run in the worker; they never import workflow code, the CLI or dev tooling.
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              // The MCP SDK's own `client/` folder is a package path, not tandem's CLI.
              group: [
                '**/workflows/**',
                '**/client/**',
                '!@modelcontextprotocol/sdk/client/**',
                '**/worker/**',
                '**/dev/**',
                '**/test/**',
              ],
              message: 'activities import only common/, node/ and activities/',
            },
          ],
        },
      ],
    },
  },
  {
    // Node-side code the worker and the client share (config, connection, errors): it knows neither of them.
    files: ['node/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows/**', '**/activities/**', '**/client/**', '**/worker/**', '**/dev/**', '**/test/**'],
              message: 'node/ imports only common/ and node/',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['worker/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/client/**', '**/dev/**', '**/test/**'],
              message: 'the worker does not import the CLI, dev tooling or tests',
            },
          ],
        },
      ],
    },
  },
  {
    // Product code never imports the test suite; dev tooling (dev server, scripted model) lives in dev/.
    files: ['client/**/*.ts', 'dev/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/test/**'], message: 'nothing outside test/ imports test/' }] },
      ],
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
