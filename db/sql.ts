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
