import { describe, expect, it } from 'vitest';
import {
  combineVerdicts,
  compare,
  decisiveSeries,
  evaluateCheck,
  failedCheck,
  parseQueryResponse,
  parseSampleValue,
  type CheckVerdict,
  type Sample,
} from './evaluate.js';
import type { CheckSpec } from './options.js';

const spec = (over: Partial<CheckSpec> = {}): CheckSpec => ({
  name: 'c',
  query: 'q',
  op: '<',
  threshold: 90,
  aggregate: 'all',
  onNoData: 'fail',
  ...over,
});
const series = (...values: number[]): Sample[] =>
  values.map((value, i) => ({ labels: { instance: `n${i}` }, value }));

describe('parseSampleValue', () => {
  it.each([
    ['1', 1],
    ['0.25', 0.25],
    ['1e9', 1e9],
    ['-3', -3],
    ['+Inf', Infinity],
    ['-Inf', -Infinity],
  ])('%s → %d', (text, value) => expect(parseSampleValue(text)).toBe(value));
  it.each([['NaN'], [''], ['abc'], [undefined], [3]])('%s → NaN', (text) =>
    expect(parseSampleValue(text)).toBeNaN(),
  );
});

describe('compare', () => {
  it.each([
    ['<', 1, 2, true],
    ['<', 2, 2, false],
    ['<=', 2, 2, true],
    ['<=', 3, 2, false],
    ['>', 3, 2, true],
    ['>', 2, 2, false],
    ['>=', 2, 2, true],
    ['>=', 1, 2, false],
    ['==', 1, 1, true],
    ['==', 0, 1, false],
    ['!=', 0, 1, true],
    ['!=', 1, 1, false],
  ] as const)('%s: %d vs %d → %s', (op, value, threshold, expected) => {
    expect(compare(op, value, threshold)).toBe(expected);
  });
  it('never passes NaN, whatever the operator', () => {
    for (const op of ['<', '<=', '>', '>=', '==', '!='] as const) expect(compare(op, NaN, 1)).toBe(false);
  });
});

describe('evaluateCheck', () => {
  it('passes a single series on the right side of the threshold', () => {
    const v = evaluateCheck(spec(), series(42.5));
    expect(v).toMatchObject({ status: 'pass', pass: true, value: 42.5, seriesCount: 1 });
    expect(v.reason).toBeUndefined();
  });

  it('reports the violating value in the message', () => {
    const v = evaluateCheck(spec({ name: 'cpu' }), series(95.123456789));
    expect(v).toMatchObject({
      status: 'violated',
      pass: false,
      reason: 'ThresholdViolated',
      value: 95.123456789,
    });
    expect(v.message).toBe('cpu: value 95.1235 is not < 90');
  });

  it('aggregate all: one bad series fails the check and is the one reported', () => {
    const v = evaluateCheck(spec(), series(10, 97, 95, 20));
    expect(v.pass).toBe(false);
    expect(v.value).toBe(97);
    expect(v.message).toContain('at {instance="n1"}');
    expect(v.message).toContain('(2/4 series pass, aggregate=all)');
    expect(v.series.slice(0, 2).every((s) => !s.pass)).toBe(true);
  });

  it('aggregate all: when every series passes, the value is the closest to the threshold', () => {
    const v = evaluateCheck(spec({ op: '>', threshold: 10 }), series(300, 12, 50));
    expect(v).toMatchObject({ pass: true, value: 12 });
  });

  it('aggregate any: one good series is enough and is the one reported', () => {
    const v = evaluateCheck(spec({ aggregate: 'any' }), series(97, 10, 95));
    expect(v).toMatchObject({ pass: true, value: 10 });
    const none = evaluateCheck(spec({ aggregate: 'any' }), series(97, 95));
    expect(none).toMatchObject({ pass: false, reason: 'ThresholdViolated', value: 95 });
  });

  it('equality checks over several series (up == 1)', () => {
    expect(evaluateCheck(spec({ op: '==', threshold: 1 }), series(1, 1)).pass).toBe(true);
    const down = evaluateCheck(spec({ op: '==', threshold: 1 }), series(1, 0, 1));
    expect(down).toMatchObject({ pass: false, value: 0 });
    expect(down.message).toContain('{instance="n1"}');
  });

  it('a NaN series is a violation', () => {
    const v = evaluateCheck(spec(), series(10, NaN));
    expect(v.pass).toBe(false);
    expect(v.message).toContain('value NaN');
  });

  it('no data fails by default with a clear message', () => {
    const v = evaluateCheck(spec({ name: 'disk-free', query: 'node_filesystem_avail_bytes' }), []);
    expect(v).toMatchObject({
      status: 'no-data',
      pass: false,
      reason: 'NoData',
      value: null,
      seriesCount: 0,
    });
    expect(v.message).toContain('no data');
    expect(v.message).toContain('node_filesystem_avail_bytes');
  });

  it('no data passes when onNoData=pass, and says so', () => {
    const v = evaluateCheck(spec({ onNoData: 'pass' }), []);
    expect(v).toMatchObject({ status: 'no-data-ignored', pass: true, value: null });
    expect(v.reason).toBeUndefined();
  });

  it('caps the reported series', () => {
    const v = evaluateCheck(spec(), series(...Array.from({ length: 25 }, (_, i) => i)));
    expect(v.seriesCount).toBe(25);
    expect(v.series).toHaveLength(10);
  });
});

describe('decisiveSeries', () => {
  it('is undefined for an empty vector', () => {
    expect(decisiveSeries([], spec())).toBeUndefined();
  });
  it('picks the worst for all and the best for any', () => {
    const s = series(5, 1, 9);
    expect(decisiveSeries(s, spec({ op: '<', aggregate: 'all' }))?.value).toBe(9);
    expect(decisiveSeries(s, spec({ op: '<', aggregate: 'any' }))?.value).toBe(1);
    expect(decisiveSeries(s, spec({ op: '>=', aggregate: 'all' }))?.value).toBe(1);
    expect(decisiveSeries(s, spec({ op: '>=', aggregate: 'any' }))?.value).toBe(9);
  });
});

describe('parseQueryResponse', () => {
  it('parses an instant vector', () => {
    const body = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { __name__: 'up', job: 'cardano-node', instance: 'a' }, value: [1700000000.1, '1'] },
          { metric: { job: 'cardano-node', instance: 'b' }, value: [1700000000.1, 'NaN'] },
        ],
      },
    });
    const out = parseQueryResponse(200, body);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.samples[0]).toEqual({
      labels: { __name__: 'up', job: 'cardano-node', instance: 'a' },
      value: 1,
    });
    expect(out.samples[1]?.value).toBeNaN();
  });

  it('parses an empty vector as no samples', () => {
    const out = parseQueryResponse(200, '{"status":"success","data":{"resultType":"vector","result":[]}}');
    expect(out).toEqual({ ok: true, samples: [], warnings: [] });
  });

  it('treats a scalar as one unlabelled series and keeps warnings', () => {
    const out = parseQueryResponse(
      200,
      '{"status":"success","warnings":["w1"],"data":{"resultType":"scalar","result":[1,"2.5"]}}',
    );
    expect(out).toEqual({ ok: true, samples: [{ labels: {}, value: 2.5 }], warnings: ['w1'] });
  });

  it("carries Prometheus' own error message", () => {
    const out = parseQueryResponse(
      400,
      '{"status":"error","errorType":"bad_data","error":"invalid parameter \\"query\\": 1:5: parse error: unexpected end of input"}',
    );
    expect(out).toEqual({
      ok: false,
      reason: 'QueryError',
      message:
        'Prometheus rejected the query (HTTP 400, bad_data): invalid parameter "query": 1:5: parse error: unexpected end of input',
    });
  });

  it('rejects range vectors, non-JSON bodies and odd shapes', () => {
    const matrix = parseQueryResponse(200, '{"status":"success","data":{"resultType":"matrix","result":[]}}');
    expect(matrix).toMatchObject({ ok: false, reason: 'QueryError' });
    expect(!matrix.ok && matrix.message).toContain('range vector');
    const html = parseQueryResponse(502, '<html>Bad Gateway</html>');
    expect(html).toMatchObject({ ok: false, reason: 'QueryError' });
    expect(!html.ok && html.message).toContain('HTTP 502');
    expect(parseQueryResponse(200, '[1,2]')).toMatchObject({ ok: false, reason: 'QueryError' });
    expect(parseQueryResponse(200, '{"status":"success"}')).toMatchObject({
      ok: false,
      reason: 'QueryError',
    });
    expect(
      parseQueryResponse(200, '{"status":"success","data":{"resultType":"string","result":[1,"x"]}}'),
    ).toMatchObject({
      ok: false,
      reason: 'QueryError',
    });
  });
});

describe('combineVerdicts', () => {
  const pass = evaluateCheck(spec({ name: 'a' }), series(1));
  const violated = evaluateCheck(spec({ name: 'b' }), series(99));
  const noData = evaluateCheck(spec({ name: 'c' }), []);
  const ignored = evaluateCheck(spec({ name: 'd', onNoData: 'pass' }), []);
  const queryError = failedCheck(spec({ name: 'e' }), {
    ok: false,
    reason: 'QueryError',
    message: 'Prometheus rejected the query (HTTP 400, bad_data): boom',
  });
  const unreachable = (name: string): CheckVerdict =>
    failedCheck(spec({ name }), {
      ok: false,
      reason: 'Unreachable',
      message: 'Prometheus at http://p/api/v1/query is unreachable: ECONNREFUSED',
    });

  it('is healthy only when every check passes', () => {
    expect(combineVerdicts([pass, ignored])).toEqual({
      healthy: true,
      reason: 'Healthy',
      message: 'all 2 checks passed (1 without data, ignored)',
    });
    expect(combineVerdicts([pass, violated]).healthy).toBe(false);
  });

  it('names the most fundamental reason and lists every failure', () => {
    expect(combineVerdicts([pass, violated])).toEqual({
      healthy: false,
      reason: 'ThresholdViolated',
      message: '1 of 2 checks failed: b: value 99 is not < 90',
    });
    const mixed = combineVerdicts([violated, noData, queryError]);
    expect(mixed.reason).toBe('QueryError');
    expect(mixed.message).toContain('b: value 99 is not < 90');
    expect(mixed.message).toContain('c: no data');
    expect(mixed.message).toContain('e: Prometheus rejected the query (HTTP 400, bad_data): boom');
    expect(combineVerdicts([violated, noData]).reason).toBe('NoData');
  });

  it('says a shared transport failure once', () => {
    const out = combineVerdicts([unreachable('a'), unreachable('b')]);
    expect(out).toEqual({
      healthy: false,
      reason: 'Unreachable',
      message: '2 of 2 checks failed: Prometheus at http://p/api/v1/query is unreachable: ECONNREFUSED',
    });
  });

  it('an empty list of checks is vacuously healthy (the schema forbids configuring none)', () => {
    expect(combineVerdicts([]).healthy).toBe(true);
  });
});
