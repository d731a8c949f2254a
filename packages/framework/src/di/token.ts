/**
 * Typed injection tokens. A token is a global symbol (`Symbol.for`) so its identity survives two
 * copies of the framework in one process; the phantom `__type` carries the resolved type, which
 * tsyringe's own string/symbol tokens do not.
 */
export type Token<T> = symbol & { readonly __type?: T };

export function token<T>(name: string): Token<T> {
  return Symbol.for(`cardano-forge.${name}`) as Token<T>;
}

/** The name a token was created with (for error messages). */
export function tokenName(t: Token<unknown>): string {
  return t.description ?? String(t);
}
