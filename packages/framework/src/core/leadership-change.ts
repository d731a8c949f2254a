/**
 * Which leadership changes are worth a reconcile tick at once. The elector publishes a new snapshot
 * on every renewal (its own, or, for a standby, the holder's seen on the watch): 30 a minute at the
 * default 2 s retry period. None of those changes a decision; ticking on each one costs three times
 * the loop's own interval in /proc reads, file reads and scrapes.
 *
 * Why skipping them is safe: a tick still runs every interval, and the reconciler wakes at the
 * self-fencing deadline it computed from the snapshot it last saw. A renewal only moves that
 * deadline later, so the wake comes early, never late. Anything that can make it earlier (a
 * shorter leaderUntilMs, leadership ending) or changes what the decision core reads (holder,
 * epoch, grace, reason) triggers a tick at once.
 */
import type { LeadershipSnapshot } from '../contracts/index.js';

export function leadershipChangeNeedsTick(previous: LeadershipSnapshot, next: LeadershipSnapshot): boolean {
  return (
    next.holder !== previous.holder ||
    next.identity !== previous.identity ||
    next.transitions !== previous.transitions ||
    next.reason !== previous.reason ||
    next.actAfterMs !== previous.actAfterMs ||
    next.acquiredFromRelease !== previous.acquiredFromRelease ||
    // Leading starts or ends, or the fencing deadline moves earlier.
    next.leaderUntilMs > 0 !== previous.leaderUntilMs > 0 ||
    next.leaderUntilMs < previous.leaderUntilMs
  );
}
