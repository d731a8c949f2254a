#!/usr/bin/env node
// `npm run docs:config`: writes docs/configuration.md (path relative to the working directory).
import { writeFile } from 'node:fs/promises';
import { renderConfigurationDoc } from './docs.js';

const target = process.argv[2] ?? 'docs/configuration.md';
await writeFile(target, renderConfigurationDoc());
process.stdout.write(`wrote ${target}\n`);
