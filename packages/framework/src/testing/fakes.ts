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
  ReloadOptions,
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
  /** A read-only target: revoke fails with this error code and the files stay. */
  revokeError: string | null = null;
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
  /** Each provision takes this long (a slow disk). */
  provisionDelayMs = 0;
  /** A revoke that never settles (until the reconciler gives up on it). */
  hangRevoke = false;
  async provision(): Promise<CredentialChange> {
    this.calls.push('provision');
    if (this.provisionDelayMs > 0) await new Promise((r) => setTimeout(r, this.provisionDelayMs));
    // A misbehaving plugin that ignores its AbortSignal and never settles.
    if (this.hangProvision) return new Promise<CredentialChange>(() => undefined);
    const changed = this.presence !== 'all';
    this.presence = 'all';
    return { ok: true, changed, reason: 'Provisioned', message: 'ok' };
  }
  async revoke(): Promise<CredentialChange> {
    this.calls.push('revoke');
    if (this.hangRevoke) return new Promise<CredentialChange>(() => undefined);
    if (this.revokeError !== null)
      return { ok: false, changed: false, reason: this.revokeError, message: `rm: ${this.revokeError}` };
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
  /** What the node's forging metric says; null = metrics not configured/unreachable. */
  forgingMetric: boolean | null = null;
  /** A model of the node: what it has loaded (its metric, when `metricsFollowNode`). */
  metricsFollowNode = false;
  loaded = false;
  /** Files the node would load on SIGHUP (set by the test, e.g. from FakeCredentials). */
  filesPresent: () => boolean = () => false;
  /** SIGHUPs are applied only after the test calls applyPending() (a node slow to handle them). */
  slowSighup = false;
  private pendingLoad: boolean | null = null;
  /** The observation throws (a hung /proc read, a timeout). */
  failObserve = false;
  /** reload() fails with this outcome (EPERM, ESRCH, no PID). */
  reloadFailure: SignalOutcome | null = null;
  constructor(private readonly calls: string[]) {}
  async observe(): Promise<NodeObservation> {
    if (this.failObserve) throw new Error('observation timed out');
    const forgingMetric = this.metricsFollowNode
      ? this.state.pid === null
        ? null
        : this.loaded
      : this.forgingMetric;
    return { ...this.state, forgingMetric, atTip: null, message: this.state.socket };
  }
  async reload(reason: string, options: ReloadOptions = {}): Promise<SignalOutcome> {
    const refused = options.proceed?.() ?? null;
    if (refused !== null) {
      this.calls.push(`refused:${reason}`);
      return { delivered: false, pid: 7, reason: 'Refused', message: refused };
    }
    if (this.reloadFailure !== null) {
      this.calls.push(`failed:${reason}`);
      return this.reloadFailure;
    }
    this.calls.push(`signal:${reason}`);
    if (this.slowSighup) this.pendingLoad = this.filesPresent();
    else this.loaded = this.filesPresent();
    return { delivered: true, pid: this.state.pid, reason: 'Delivered', message: 'ok' };
  }
  /** The slow node finally handles the SIGHUP it got. */
  applyPending(): void {
    if (this.pendingLoad !== null) this.loaded = this.pendingLoad;
    this.pendingLoad = null;
  }
  async terminate(reason: string): Promise<SignalOutcome> {
    this.calls.push(`terminate:${reason}`);
    this.state = { socket: 'missing', pid: null, startsNonProducing: null };
    this.loaded = false;
    return { delivered: true, pid: 7, reason: 'ProcessGone', message: 'stopped' };
  }
}
