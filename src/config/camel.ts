// The typed configuration is the schema's output with camelCase keys: one generic renaming, of the type and of the
// value, instead of a hand-written interface and copy per section (fields typed differently are their section's).

type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** `T` with every object key camelCased, deeply (lists included); optional keys stay optional. */
export type CamelKeys<T> = T extends readonly (infer E)[]
  ? CamelKeys<E>[]
  : T extends object ? { [K in keyof T as K extends string ? Camel<K> : K]: CamelKeys<T[K]> } : T;

/** Flattens an intersection for readable hover types and error messages. */
export type Simplify<T> = { [K in keyof T]: T[K] } & {};

const camel = (k: string): string => k.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

function rename(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(rename);
  // An optional field given as `undefined` (possible from code, not from YAML) is left out, as if absent.
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [camel(k), rename(x)]));
  return v;
}

/**
 * A parsed YAML value with camelCase keys. Only for schema outputs: plain data whose keys are all schema fields
 * (no user-chosen keys). The one cast: TypeScript cannot follow a key renaming through Object.entries.
 */
export function camelKeys<T>(v: T): CamelKeys<T> {
  return rename(v) as CamelKeys<T>;
}

/** True when A and B have the same keys and each is assignable to the other (for compile-time checks). */
export type SameShape<A, B> = [keyof A] extends [keyof B] ? [keyof B] extends [keyof A] ? [A] extends [B] ? [B] extends [A] ? true : false : false : false : false;
