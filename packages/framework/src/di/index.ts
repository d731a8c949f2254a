// Internal DI surface: the public one plus the tsyringe-backed container factory.
export * from './public.js';
export { createRootContainer } from './container.js';
