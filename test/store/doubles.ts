/**
 * Test doubles around real objects: `around(inner, overrides)` behaves like `inner` (a real backend
 * or store) except for the members in `overrides`, so a fault can be injected into one method.
 */
export function around<T extends object>(inner: T, overrides: Partial<T>): T {
  return new Proxy(inner, {
    get(target, key) {
      if (key in overrides) return (overrides as Record<PropertyKey, unknown>)[key]
      const value = Reflect.get(target, key, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
}
