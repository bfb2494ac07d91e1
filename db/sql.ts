/**
 * Raw-SQL helpers. MikroORM expands an array bound to `?` into a list of values, so arrays for
 * `unnest(?::text[])` / `= any(?::uuid[])` are passed as one PostgreSQL array literal instead.
 */
export function pgArray(values: readonly (string | number | boolean | null | undefined)[]): string {
  const items = values.map((v) => {
    if (v === null || v === undefined) return 'NULL';
    if (typeof v === 'boolean') return v ? 't' : 'f';
    return `"${String(v).replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return `{${items.join(',')}}`;
}

/**
 * Text as PostgreSQL can store it: `text` cannot hold NUL, and a lone UTF-16 surrogate is not
 * valid UTF-8. Provider text is cleaned, never fatal: NUL is dropped, a lone surrogate becomes U+FFFD.
 */
export function pgText(value: string): string {
  return value.replaceAll('\u0000', '').toWellFormed();
}

/**
 * Whether PostgreSQL refused a value itself — SQLSTATE class 22 ("data exception") or a CHECK
 * constraint (23514) — rather than the statement or the connection.
 */
export function isDataException(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && (code.startsWith('22') || code === '23514');
}
