/**
 * The only module that touches tsyringe. Everything else (and every plugin) sees the small
 * `Container` interface below, so tsyringe's module-level type registry never has to be shared
 * with a plugin's own copy, and the global `container` of tsyringe is never used: each manager
 * instance (and each test) builds its own root.
 */
// tsyringe refuses to load without the Reflect metadata API; this is the one place it is loaded.
import 'reflect-metadata';
import { container as tsyringeGlobal, type DependencyContainer } from 'tsyringe';
import type { Token } from './token.js';
import { tokenName } from './token.js';

export interface Container {
  /** Registers a fixed value. A later registration of the same token wins for `resolve`. */
  registerValue<T>(token: Token<T>, value: T): this;
  /** Registers a factory called once per container that resolves it (cached there). */
  registerFactory<T>(token: Token<T>, factory: (container: Container) => T): this;
  resolve<T>(token: Token<T>): T;
  /** Every value registered under the token (e.g. all health probes), oldest first. */
  resolveAll<T>(token: Token<T>): T[];
  isRegistered(token: Token<unknown>, recursive?: boolean): boolean;
  /** A child sees its parent's registrations; its own registrations stay local. */
  createChild(): Container;
  /** Disposes values registered here that implement `dispose()` (tsyringe semantics). */
  dispose(): Promise<void>;
}

class TsyringeContainer implements Container {
  readonly #inner: DependencyContainer;

  constructor(inner: DependencyContainer) {
    this.#inner = inner;
  }

  registerValue<T>(token: Token<T>, value: T): this {
    this.#inner.register<T>(token, { useValue: value });
    return this;
  }

  registerFactory<T>(token: Token<T>, factory: (container: Container) => T): this {
    // A per-container cache: the value is built lazily, once, by the container that first resolves it.
    const cache = new WeakMap<DependencyContainer, T>();
    this.#inner.register<T>(token, {
      useFactory: (c) => {
        if (cache.has(c)) return cache.get(c) as T;
        const value = factory(new TsyringeContainer(c));
        cache.set(c, value);
        return value;
      },
    });
    return this;
  }

  resolve<T>(token: Token<T>): T {
    if (!this.#inner.isRegistered(token, true)) {
      throw new Error(`DI: nothing registered for ${tokenName(token)}`);
    }
    return this.#inner.resolve<T>(token);
  }

  resolveAll<T>(token: Token<T>): T[] {
    if (!this.#inner.isRegistered(token, true)) return [];
    return this.#inner.resolveAll<T>(token);
  }

  isRegistered(token: Token<unknown>, recursive = true): boolean {
    return this.#inner.isRegistered(token, recursive);
  }

  createChild(): Container {
    return new TsyringeContainer(this.#inner.createChildContainer());
  }

  async dispose(): Promise<void> {
    await this.#inner.dispose();
  }
}

/**
 * A fresh root container for one manager instance (or one test). It is a child of tsyringe's
 * global container, which itself stays empty: nothing is shared between two roots.
 */
export function createRootContainer(): Container {
  return new TsyringeContainer(tsyringeGlobal.createChildContainer());
}
