import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pluginShapeProblems } from '@cardano-forge/framework';
import plugin, {
  PLUGIN_VERSION,
  classifyRequestError,
  displayUrl,
  healthHttpPlugin,
  lookupJsonPath,
} from './index.js';

describe('health-http plugin object', () => {
  it('is a well-formed health-probe plugin matching package.json', () => {
    expect(plugin).toBe(healthHttpPlugin);
    expect(pluginShapeProblems(plugin)).toEqual([]);
    expect(plugin.kind).toBe('health-probe');
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
      keywords: string[];
    };
    expect([plugin.name, PLUGIN_VERSION]).toEqual([pkg.name, pkg.version]);
    expect(pkg.keywords).toContain('cardano-forge-plugin');
  });
});

describe('lookupJsonPath', () => {
  const doc = { status: 'healthy', checks: [{ ready: true }], nested: { a: { b: null } } };
  it.each([
    ['status', 'healthy'],
    ['checks.0.ready', true],
    ['nested.a.b', null],
    ['', doc],
  ])('finds %s', (path, value) => {
    expect(lookupJsonPath(doc, path)).toEqual({ found: true, value });
  });
  it.each([
    ['state', 'state'],
    ['checks.1.ready', 'checks.1'],
    ['status.length', 'status.length'],
    ['nested.a.b.c', 'nested.a.b.c'],
    ['toString', 'toString'],
  ])('reports %s missing at %s', (path, missing) => {
    expect(lookupJsonPath(doc, path)).toEqual({ found: false, missing });
  });
});

describe('classifyRequestError', () => {
  const coded = (code: string, message = code) => Object.assign(new Error(message), { code });
  it.each([
    [coded('ECONNREFUSED'), 'ConnectionRefused'],
    [new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], ''), 'ConnectionRefused'],
    [Object.assign(new TypeError('fetch failed'), { cause: coded('ECONNREFUSED') }), 'ConnectionRefused'],
    [coded('UND_ERR_HEADERS_TIMEOUT'), 'Timeout'],
    [coded('UNABLE_TO_VERIFY_LEAF_SIGNATURE'), 'TlsError'],
    [coded('ERR_TLS_CERT_ALTNAME_INVALID'), 'TlsError'],
    [coded('ERR_SSL_WRONG_VERSION_NUMBER'), 'TlsError'],
    [coded('ECONNRESET'), 'RequestFailed'],
    [new Error('weird'), 'RequestFailed'],
  ])('%s → %s', (error, reason) => {
    expect(classifyRequestError(error, false).reason).toBe(reason);
  });
  it('prefers Timeout when the deadline fired', () => {
    expect(classifyRequestError(coded('ECONNRESET'), true).reason).toBe('Timeout');
  });
});

describe('displayUrl', () => {
  it('drops user-info and query, which may carry secrets', () => {
    expect(displayUrl('https://user:pw@host:8443/health?token=abc')).toBe('https://host:8443/health');
  });
});
