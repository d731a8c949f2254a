// Requests counted AT THE API SERVER: its audit log (JSON lines, metadata level) for a namespace,
// attributed to a pod by the User-Agent the sidecar sends (`forge-manager/<version> (<pod>)`).
import { readFile } from 'node:fs/promises';

export interface AuditedRequest {
  readonly auditId: string;
  readonly receivedMs: number;
  readonly verb: string;
  readonly resource: string;
  readonly userAgent: string;
}

export async function readAudit(path: string, namespace: string): Promise<AuditedRequest[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const byId = new Map<string, AuditedRequest>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let event: {
      auditID?: string;
      verb?: string;
      userAgent?: string;
      requestReceivedTimestamp?: string;
      objectRef?: { namespace?: string; resource?: string; subresource?: string };
    };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue; // a line being written
    }
    if (event.objectRef?.namespace !== namespace || event.auditID === undefined) continue;
    // A watch has two stages (ResponseStarted, ResponseComplete): one request.
    if (byId.has(event.auditID)) continue;
    const sub = event.objectRef.subresource;
    byId.set(event.auditID, {
      auditId: event.auditID,
      receivedMs: Date.parse(event.requestReceivedTimestamp ?? ''),
      verb: event.verb ?? '?',
      resource: `${event.objectRef.resource ?? '?'}${sub ? `/${sub}` : ''}`,
      userAgent: event.userAgent ?? '',
    });
  }
  return [...byId.values()];
}

/** The pod a request came from, when its User-Agent names one of `pods`. */
export function podOf(request: AuditedRequest, pods: readonly string[]): string | null {
  const match = /\(([^)]+)\)\s*$/.exec(request.userAgent)?.[1];
  return match !== undefined && pods.includes(match) ? match : null;
}
