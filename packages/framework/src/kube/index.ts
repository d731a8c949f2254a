export * from './request-options.js';
export * from './errors.js';
export * from './time.js';
