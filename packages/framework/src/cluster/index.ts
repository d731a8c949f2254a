export * from './naming.js';
export * from './policy.js';
export * from './health.js';
export * from './status.js';
export * from './gateway.js';
export * from './manager.js';
