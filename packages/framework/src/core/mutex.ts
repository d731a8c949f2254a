/**
 * Mutual exclusion for async work on one object: calls run one after another in call order, and a
 * failed call does not block the ones after it (e.g. provision and revoke never interleave).
 */
export type Mutex = <T>(work: () => Promise<T>) => Promise<T>;

export function createMutex(): Mutex {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(work: () => Promise<T>): Promise<T> => {
    const result = tail.then(work, work);
    tail = result.catch(() => undefined);
    return result;
  };
}
