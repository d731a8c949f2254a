import { PatchStrategy, RequestContext, HttpMethod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { classifyK8sError } from './errors.js';
import { mergePatchOptions, withTimeout } from './request-options.js';
import { parseMicroTime } from './time.js';

function apiException(code: number, reason?: string): unknown {
  const body =
    reason === undefined
      ? 'not json'
      : JSON.stringify({ kind: 'Status', reason, message: `${reason} happened`, code });
  return Object.assign(new Error(`HTTP-Code: ${code}`), { code, body, headers: {} });
}

describe('classifyK8sError', () => {
  it.each([
    [apiException(409, 'Conflict'), 'conflict', 409],
    [apiException(409, 'AlreadyExists'), 'already-exists', 409],
    [apiException(404, 'NotFound'), 'not-found', 404],
    [apiException(403, 'Forbidden'), 'forbidden', 403],
    [apiException(422, 'Invalid'), 'invalid', 422],
    [apiException(400, 'BadRequest'), 'invalid', 400],
    [apiException(500), 'server', 500],
    [apiException(504, 'Timeout'), 'timeout', 504],
    [Object.assign(new Error('Gone'), { statusCode: 410 }), 'unknown', 410],
  ])('HTTP errors: %#', (error, kind, status) => {
    const c = classifyK8sError(error);
    expect(c.kind).toBe(kind);
    expect(c.status).toBe(status);
  });

  it('takes the message from the Status body', () => {
    expect(classifyK8sError(apiException(409, 'Conflict')).message).toMatch(/Conflict happened/);
  });

  it('network errors from undici fetch (cause.code)', () => {
    const e = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    const c = classifyK8sError(e);
    expect(c.kind).toBe('network');
    expect(c.status).toBeUndefined();
    expect(c.message).toMatch(/ECONNREFUSED/);
    expect(classifyK8sError(Object.assign(new Error('x'), { code: 'ECONNRESET' })).kind).toBe('network');
    expect(
      classifyK8sError(
        Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_CONNECT_TIMEOUT' } }),
      ).kind,
    ).toBe('timeout');
  });

  it('timeouts and aborts by name, without instanceof', () => {
    expect(classifyK8sError(new DOMException('t', 'TimeoutError')).kind).toBe('timeout');
    expect(classifyK8sError({ name: 'TimeoutError', message: 'plain object' }).kind).toBe('timeout');
    expect(classifyK8sError(new DOMException('a', 'AbortError')).kind).toBe('unknown');
  });

  it('never throws on junk', () => {
    for (const junk of [undefined, null, 42, 'boom', {}, { code: 'weird' }, { body: '{', code: 409 }])
      expect(() => classifyK8sError(junk)).not.toThrow();
    expect(classifyK8sError({ body: '{', code: 409 }).kind).toBe('conflict');
  });
});

describe('request options', () => {
  async function runPre(options: ReturnType<typeof withTimeout>): Promise<RequestContext> {
    const ctx = new RequestContext('https://127.0.0.1/x', HttpMethod.PATCH);
    let current = ctx;
    for (const m of options.middleware ?? []) current = await m.pre(current).toPromise();
    return current;
  }

  it('withTimeout appends middleware that sets an aborting signal and returns the library Observable', async () => {
    const options = withTimeout(20);
    expect(options.middlewareMergeStrategy).toBe('append');
    const ctx = await runPre(options);
    const signal = ctx.getSignal()!;
    expect(signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as DOMException).name).toBe('TimeoutError');
  });

  it('withTimeout also follows a caller signal', async () => {
    const caller = new AbortController();
    const ctx = await runPre(withTimeout(60_000, caller.signal));
    caller.abort(new Error('deadline'));
    expect(ctx.getSignal()!.aborted).toBe(true);
  });

  it('mergePatchOptions sets the merge-patch content type and keeps the timeout', async () => {
    const options = mergePatchOptions(1000);
    expect(options.middlewareMergeStrategy).toBe('append');
    const ctx = await runPre(options);
    expect(ctx.getHeaders()['Content-Type']).toBe(PatchStrategy.MergePatch);
    expect(ctx.getSignal()).toBeDefined();
  });

  it('rejects a nonsensical timeout', () => {
    expect(() => withTimeout(0)).toThrow(/positive/);
  });
});

describe('parseMicroTime', () => {
  it('parses MicroTime and RFC 3339 strings and Dates', () => {
    expect(parseMicroTime('2026-01-02T03:04:05.123456Z')?.toISOString()).toBe('2026-01-02T03:04:05.123Z');
    expect(parseMicroTime('2026-01-02T03:04:05Z')?.toISOString()).toBe('2026-01-02T03:04:05.000Z');
    expect(parseMicroTime('2026-01-02T05:04:05.5+02:00')?.toISOString()).toBe('2026-01-02T03:04:05.500Z');
    expect(parseMicroTime(new Date(0))?.getTime()).toBe(0);
  });
  it('truncates fractions beyond milliseconds, never rounds (the last digit of .999999 stays in its second)', () => {
    expect(parseMicroTime('2026-01-02T03:04:05.999999Z')?.toISOString()).toBe('2026-01-02T03:04:05.999Z');
    expect(parseMicroTime('2026-01-02T03:04:05.1234567891Z')?.toISOString()).toBe('2026-01-02T03:04:05.123Z');
    expect(parseMicroTime('2026-01-02t03:04:05.999999z')?.toISOString()).toBe('2026-01-02T03:04:05.999Z');
    expect(parseMicroTime('2026-12-31T23:59:59.9999995-05:30')?.toISOString()).toBe(
      '2027-01-01T05:29:59.999Z',
    );
  });
  it('returns null for junk', () => {
    for (const junk of [
      '',
      'yesterday',
      '2026-13-45T99:99:99Z',
      null,
      undefined,
      new Date(NaN),
      42 as unknown as string,
    ])
      expect(parseMicroTime(junk)).toBeNull();
  });
});

describe('classifyK8sError messages', () => {
  const dump = (code: number, body: unknown) =>
    Object.assign(
      new Error(
        `HTTP-Code: ${code}\nMessage: Unknown API Status Code!\nBody: ${JSON.stringify(body)}\nHeaders: {"a":"${'x'.repeat(2000)}"}`,
      ),
      { code, body, headers: {} },
    );

  it('names the operation, the status and the server message; never the raw dump', () => {
    const body = {
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'leases.coordination.k8s.io "x" is forbidden: User "system:serviceaccount:ns:sa" cannot get resource "leases"',
    };
    const c = classifyK8sError(dump(403, body), { verb: 'GET', resource: 'leases/x' });
    expect(c.message).toBe(`GET leases/x: 403 Forbidden: ${body.message}`);
    expect(c.message).not.toMatch(/HTTP-Code|Headers|Body:/);
  });

  it('a body that is not a Status: the status line only', () => {
    const c = classifyK8sError(dump(502, '<html>bad gateway</html>'), {
      verb: 'PATCH',
      resource: 'leases/x',
    });
    expect(c).toMatchObject({ kind: 'server', status: 502, message: 'PATCH leases/x: 502 Bad Gateway' });
  });

  it('a long server message is cut, on one line', () => {
    const c = classifyK8sError(
      dump(422, { kind: 'Status', reason: 'Invalid', message: `bad\n${'y'.repeat(1000)}` }),
    );
    expect(c.message.length).toBeLessThan(340);
    expect(c.message).not.toContain('\n');
  });

  it('a 404 for the resource type (CRD not installed) is said as such, not "object absent"', () => {
    const crd = { name: 'cardanoforgeclusters.cardano.io', kind: 'CardanoForgeCluster' };
    const op = { verb: 'GET', resource: 'cardanoforgeclusters/c1', crd };
    const pageNotFound = classifyK8sError(dump(404, '404 page not found'), op);
    expect(pageNotFound).toMatchObject({ kind: 'not-found', resourceMissing: true });
    expect(pageNotFound.message).toBe(
      'GET cardanoforgeclusters/c1: the CardanoForgeCluster CRD (cardanoforgeclusters.cardano.io) is not installed: kubectl apply -f deploy/crds/',
    );
    const objectAbsent = classifyK8sError(
      dump(404, {
        kind: 'Status',
        reason: 'NotFound',
        message: 'cardanoforgeclusters.cardano.io "c1" not found',
        details: { name: 'c1', group: 'cardano.io', kind: 'cardanoforgeclusters' },
      }),
      op,
    );
    expect(objectAbsent.resourceMissing).toBeUndefined();
    expect(objectAbsent.message).toBe(
      'GET cardanoforgeclusters/c1: 404 Not Found: cardanoforgeclusters.cardano.io "c1" not found',
    );
  });
});
