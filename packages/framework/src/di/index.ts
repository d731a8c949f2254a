export { token, tokenName, type Token } from './token.js';
export { createRootContainer, type Container } from './container.js';
export {
  Lifecycle,
  LifecycleStartError,
  type LifecycleComponent,
  type LifecycleOptions,
  type LifecycleStepResult,
} from './lifecycle.js';
export { TOKENS } from './tokens.js';
