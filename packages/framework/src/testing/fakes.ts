// In-memory fakes of the seams for unit tests of the act layer (reconciler, sidecar assembly).
// Only for unit tests: integration tests use the real plugins, processes and API server.
import type {
  CredentialChange,
  CredentialProvisioner,
  CredentialState,
  LeaderElector,
  LeadershipSnapshot,
  NodeController,
  NodeObservation,
  SignalOutcome,
} from '../contracts/index.js';

export class FakeElector implements LeaderElector {
  readonly identity = 'bp-0';
  snap: LeadershipSnapshot = {
    lockName: 'lease',
    identity: 'bp-0',
    holder: '',
    leaderUntilMs: 0,
    transitions: 0,
    observedAtMs: 0,
    reason: 'Vacant',
    message: '',
  };
  candidacy: boolean[] = [];
  released = 0;
  private listeners = new Set<(s: LeadershipSnapshot) => void>();
  constructor(private readonly calls: string[]) {}
  async start(): Promise<void> {}
  setCandidacy(eligible: boolean): void {
    this.candidacy.push(eligible);
  }
  snapshot(): LeadershipSnapshot {
    return this.snap;
  }
  set(patch: Partial<LeadershipSnapshot>): void {
    this.snap = { ...this.snap, ...patch };
    for (const l of this.listeners) l(this.snap);
  }
  subscribe(listener: (s: LeadershipSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  async release(): Promise<void> {
    this.calls.push('release');
    this.released++;
    this.snap = { ...this.snap, holder: '', leaderUntilMs: 0 };
  }
  async stop(): Promise<void> {}
}

export class FakeCredentials implements CredentialProvisioner {
  presence: 'all' | 'none' = 'none';
  failInspect = false;
  hangProvision = false;
  constructor(private readonly calls: string[]) {}
  async inspect(): Promise<CredentialState> {
    if (this.failInspect) throw new Error('disk on fire');
    return {
      presence: this.presence,
      upToDate: this.presence === 'all',
      sourcesValid: true,
      sourceFingerprint: 'fp1',
      reason: 'ok',
      message: 'ok',
    };
  }
  async provision(): Promise<CredentialChange> {
    this.calls.push('provision');
    // A misbehaving plugin that ignores its AbortSignal and never settles.
    if (this.hangProvision) return new Promise<CredentialChange>(() => undefined);
    const changed = this.presence !== 'all';
    this.presence = 'all';
    return { ok: true, changed, reason: 'Provisioned', message: 'ok' };
  }
  async revoke(): Promise<CredentialChange> {
    this.calls.push('revoke');
    const changed = this.presence !== 'none';
    this.presence = 'none';
    return { ok: true, changed, reason: 'Revoked', message: 'ok' };
  }
}

export class FakeNode implements NodeController {
  /** What the next observations report (tests change it to simulate restarts). */
  state: { socket: NodeObservation['socket']; pid: number | null; startsNonProducing: boolean | null } = {
    socket: 'up',
    pid: 7,
    startsNonProducing: null,
  };
  constructor(private readonly calls: string[]) {}
  async observe(): Promise<NodeObservation> {
    return { ...this.state, forgingMetric: null, atTip: null, message: this.state.socket };
  }
  async reload(reason: string): Promise<SignalOutcome> {
    this.calls.push(`signal:${reason}`);
    return { delivered: true, pid: 7, reason: 'Delivered', message: 'ok' };
  }
  async terminate(reason: string): Promise<SignalOutcome> {
    this.calls.push(`terminate:${reason}`);
    this.state = { socket: 'missing', pid: null, startsNonProducing: null };
    return { delivered: true, pid: 7, reason: 'ProcessGone', message: 'stopped' };
  }
}
