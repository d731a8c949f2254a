import { readFile } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { Agent, request, type Dispatcher } from 'undici';
import {
  clockTimeout,
  type HealthProbe,
  type HealthResult,
  type PluginContext,
} from '@cardano-forge/framework';
import type { HealthHttpOptions } from './options.js';
import { classifyRequestError, type HttpProbeReason } from './classify.js';
import { lookupJsonPath, shortJson } from './json-path.js';

/** A health endpoint has no business sending more; stops a misconfigured URL from eating memory. */
const MAX_JSON_BYTES = 1024 * 1024;

type ProbeContext = Pick<PluginContext, 'instanceId' | 'logger' | 'http' | 'clock'>;

/** The URL as shown in messages: no user-info, no query string (either may carry a secret). */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

class BodyTooLargeError extends Error {}

async function readBodyText(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_JSON_BYTES) {
      body.destroy();
      throw new BodyTooLargeError(`response body exceeds ${MAX_JSON_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * HTTP(S) health probe. One request per check, bounded by `timeoutMs` from start to the last body
 * byte. Every failure is returned as data; nothing here throws for an unhealthy target.
 */
export class HttpHealthProbe implements HealthProbe {
  readonly id: string;
  readonly #options: HealthHttpOptions;
  readonly #context: ProbeContext;
  readonly #target: string;
  /** Own agent only when TLS options are set; rebuilt when the CA file's content changes. */
  #tlsAgent: { agent: Agent; ca: string | undefined } | undefined;

  constructor(context: ProbeContext, options: HealthHttpOptions) {
    this.id = context.instanceId;
    this.#context = context;
    this.#options = options;
    this.#target = `${options.method} ${displayUrl(options.url)}`;
  }

  async check(signal: AbortSignal): Promise<HealthResult> {
    const clock = this.#context.clock;
    const started = clock.monotonicMs();
    const result = await this.#run(signal, started);
    this.#context.logger.debug(
      { probe: this.id, healthy: result.healthy, reason: result.reason, latencyMs: result.latencyMs },
      'http health check',
    );
    return result;
  }

  async close(): Promise<void> {
    const own = this.#tlsAgent;
    this.#tlsAgent = undefined;
    await own?.agent.close();
  }

  async #run(signal: AbortSignal, started: number): Promise<HealthResult> {
    const o = this.#options;
    const elapsed = (): number => Math.max(0, Math.round(this.#context.clock.monotonicMs() - started));
    const fail = (reason: HttpProbeReason, what: string, statusCode?: number): HealthResult => {
      const latencyMs = elapsed();
      return {
        healthy: false,
        reason,
        message: `${this.#target}: ${what} (${latencyMs} ms)`,
        latencyMs,
        details: {
          url: displayUrl(o.url),
          method: o.method,
          ...(statusCode === undefined ? {} : { statusCode }),
        },
      };
    };

    let headers: Record<string, string>;
    let dispatcher: Dispatcher;
    try {
      headers = await this.#headers();
      dispatcher = await this.#dispatcher();
    } catch (error) {
      // File problems only; the message names the file, never its content.
      return fail('RequestFailed', error instanceof Error ? error.message : String(error));
    }

    // On the injected clock, so simulated time drives it too; also aborts when the host does.
    const deadline = clockTimeout(this.#context.clock, o.timeoutMs, signal);
    const combined = deadline.signal;
    const timedOut = (): boolean => combined.aborted && !signal.aborted;
    try {
      const response = await request(o.url, { method: o.method, headers, dispatcher, signal: combined });
      const status = response.statusCode;
      if (!o.expectedStatus.includes(status)) {
        await response.body.dump({ limit: 64 * 1024, signal: combined }).catch(() => undefined);
        return fail(
          'UnexpectedStatus',
          `status ${status}, expected ${o.expectedStatus.join(' or ')}`,
          status,
        );
      }
      if (o.expectJson === undefined) {
        await response.body.dump({ limit: 64 * 1024, signal: combined }).catch(() => undefined);
        if (timedOut())
          return fail(
            'Timeout',
            `status ${status} but the body did not finish within ${o.timeoutMs} ms`,
            status,
          );
        const latencyMs = elapsed();
        return {
          healthy: true,
          reason: 'Healthy',
          message: `${this.#target}: status ${status} (${latencyMs} ms)`,
          latencyMs,
          details: { url: displayUrl(o.url), method: o.method, statusCode: status },
        };
      }
      let text: string;
      try {
        text = await readBodyText(response.body);
      } catch (error) {
        if (error instanceof BodyTooLargeError) return fail('BadJson', error.message, status);
        throw error;
      }
      let document: unknown;
      try {
        document = JSON.parse(text);
      } catch (error) {
        return fail(
          'BadJson',
          `status ${status}, body is not JSON: ${(error as Error).message.slice(0, 160)}`,
          status,
        );
      }
      const { path, equals } = o.expectJson;
      const found = lookupJsonPath(document, path);
      if (!found.found)
        return fail('JsonMismatch', `status ${status}, JSON has no "${found.missing}"`, status);
      if (!isDeepStrictEqual(found.value, equals)) {
        return fail(
          'JsonMismatch',
          `status ${status}, JSON ${path || '(body)'} is ${shortJson(found.value)}, expected ${shortJson(equals)}`,
          status,
        );
      }
      const latencyMs = elapsed();
      return {
        healthy: true,
        reason: 'Healthy',
        message: `${this.#target}: status ${status}, ${path || '(body)'} = ${shortJson(equals)} (${latencyMs} ms)`,
        latencyMs,
        details: { url: displayUrl(o.url), method: o.method, statusCode: status },
      };
    } catch (error) {
      if (timedOut()) return fail('Timeout', `no complete response within ${o.timeoutMs} ms`);
      if (signal.aborted) {
        // The host's own deadline (a TimeoutError reason) is still a timeout from the operator's view.
        const hostTimeout = (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
        return fail(hostTimeout ? 'Timeout' : 'RequestFailed', 'check aborted by the manager');
      }
      const classified = classifyRequestError(error, false);
      return fail(classified.reason, classified.detail);
    } finally {
      deadline.cancel();
    }
  }

  async #headers(): Promise<Record<string, string>> {
    const o = this.#options;
    const headers: Record<string, string> = { 'user-agent': o.userAgent };
    for (const [name, value] of Object.entries(o.headers)) headers[name.toLowerCase()] = value;
    if (o.bearerTokenFile !== undefined) {
      let token: string;
      try {
        token = (await readFile(o.bearerTokenFile, 'utf8')).trim();
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new Error(`cannot read bearerTokenFile ${o.bearerTokenFile} (${String(code ?? 'error')})`, {
          cause: error,
        });
      }
      if (token === '') throw new Error(`bearerTokenFile ${o.bearerTokenFile} is empty`);
      headers.authorization = `Bearer ${token}`;
    }
    return headers;
  }

  async #dispatcher(): Promise<Dispatcher> {
    const tls = this.#options.tls;
    if (tls === undefined) return this.#context.http.dispatcher;
    let ca: string | undefined;
    if (tls.caFile !== undefined) {
      try {
        ca = await readFile(tls.caFile, 'utf8');
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new Error(`cannot read tls.caFile ${tls.caFile} (${String(code ?? 'error')})`, {
          cause: error,
        });
      }
    }
    const current = this.#tlsAgent;
    if (current !== undefined && current.ca === ca) return current.agent;
    // CA rotated (or first use): new connections must verify against the new bundle.
    const agent = new Agent({
      connect: {
        ...(ca === undefined ? {} : { ca }),
        rejectUnauthorized: !tls.insecureSkipVerify,
        ...(tls.serverName === undefined ? {} : { servername: tls.serverName }),
      },
    });
    this.#tlsAgent = { agent, ca };
    if (current !== undefined) void current.agent.close().catch(() => undefined);
    return agent;
  }
}
