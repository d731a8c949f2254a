export * from './contracts/index.js';
export * from './plugin/define.js';
