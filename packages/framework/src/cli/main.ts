#!/usr/bin/env node
// Nothing else is imported statically: the ES-module view of node:http must be created by
// importHttpLean before any other module imports it (see http-lean.ts).
import { importHttpLean } from './http-lean.js';

await importHttpLean();
await import('./entry.js');
