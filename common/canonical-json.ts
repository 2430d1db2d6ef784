/**
 * JSON with object keys sorted, so two values that are equal as data compare equal as text whatever order their keys
 * were written in. Pure and sandbox-safe: the executor's repetition check, the model boundary's quotation check
 * and the workspace manifests (activities/workspace-sync.ts) use it.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
