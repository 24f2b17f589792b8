/**
 * Fills options from defaults. Unlike `{ ...defaults, ...options }`, a key that is present but
 * undefined (an optional option passed straight through) keeps its default.
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): D & O {
  const merged = { ...defaults } as Record<string, unknown>;
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged as D & O;
}
