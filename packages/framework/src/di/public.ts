// The DI surface exported from the package root. createRootContainer (and so tsyringe and
// reflect-metadata) stays internal: importing the framework for definePlugin must not load them.
export { token, tokenName, type Token } from './token.js';
export {
  Lifecycle,
  LifecycleStartError,
  type LifecycleComponent,
  type LifecycleOptions,
  type LifecycleStepResult,
} from './lifecycle.js';
export { TOKENS } from './tokens.js';
export type { Container } from './container.js';
