#!/usr/bin/env node
// Nothing else is imported statically: the ES-module view of node:http must be created by
// importHttpLean before any other module imports it (see http-lean.ts), and prom-client must load
// after the hook of prom-client-lean.ts is registered.
import { importHttpLean } from './http-lean.js';
import { loadOpenTelemetryOnUse } from '../observability/prom-client-lean.js';

await importHttpLean();
loadOpenTelemetryOnUse();
await import('./entry.js');
