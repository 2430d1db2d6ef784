/**
 * js-yaml ships no types. It is in node_modules through eslint and jest, and the deployment test only needs `load`
 * to check that docker-compose.yml parses (there is no Docker engine to run `docker compose config`).
 */
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
