/**
 * The only part of etcd v3 the cross-region arbiter uses, behind an interface so the
 * deterministic simulation can supply a model of etcd (test/dst) and production the `etcd3`
 * client. Every call takes a signal: the caller bounds it with its own deadline, and an aborted
 * or failed call is "unknown outcome" — a write that timed out may still have been committed
 * (etcd applies a proposal once a quorum has it, whether or not the reply reaches the client).
 *
 * Consensus stays etcd's (Raft, linearizable reads and writes, leases kept by the Raft leader).
 * Nothing here decides anything; the arbiter's decision function does.
 */

/** An etcd lease id, as a decimal string (etcd's int64 does not fit a JS number). */
export type EtcdLeaseId = string;

export interface EtcdEntry {
  readonly key: string;
  readonly value: string;
  /** The lease the key is attached to; '0' = none. */
  readonly lease: EtcdLeaseId;
  readonly createRevision: number;
  readonly modRevision: number;
}

export interface EtcdKeepAliveResult {
  /**
   * Remaining TTL in seconds as the etcd leader reports it; <= 0 means the lease no longer exists
   * (expired or revoked) and every key attached to it is gone.
   */
  readonly ttlSeconds: number;
}

/** One change seen by a watch: the key, and the store revision of the write that made it. */
export interface EtcdChange {
  readonly key: string;
  readonly type: 'put' | 'delete';
  readonly modRevision: number;
}

export interface EtcdWatch {
  close(): Promise<void>;
}

export interface EtcdKv {
  /** Grants a lease with this TTL (the server may raise it to its minimum). */
  grantLease(ttlSeconds: number, signal: AbortSignal): Promise<{ id: EtcdLeaseId; ttlSeconds: number }>;
  /**
   * One keepalive round trip (not etcd3's automatic keepalive, whose send times are hidden):
   * the caller notes the send time and, on success, may count on the lease until
   * send time + TTL (less its clock-drift margin).
   */
  keepAliveOnce(lease: EtcdLeaseId, signal: AbortSignal): Promise<EtcdKeepAliveResult>;
  /** Revokes a lease: every key attached to it is deleted. Revoking an unknown lease is not an error. */
  revokeLease(lease: EtcdLeaseId, signal: AbortSignal): Promise<void>;
  /** Linearizable read of one key; null when absent. */
  get(key: string, signal: AbortSignal): Promise<EtcdEntry | null>;
  /** Linearizable read of every key under a prefix, in key order, with the store revision read at. */
  getPrefix(prefix: string, signal: AbortSignal): Promise<{ entries: EtcdEntry[]; revision: number }>;
  /** Unconditional put, attached to `lease` ('0' = none). */
  put(key: string, value: string, lease: EtcdLeaseId, signal: AbortSignal): Promise<void>;
  /**
   * Transaction: if `key` does not exist (create revision 0), put it attached to `lease`.
   * Returns whether it was created and, when not, the entry that is there.
   */
  createIfAbsent(
    key: string,
    value: string,
    lease: EtcdLeaseId,
    signal: AbortSignal,
  ): Promise<{ created: true } | { created: false; existing: EtcdEntry }>;
  /**
   * Transaction: delete `key` only if it is still attached to `lease` (the holder's own record);
   * returns whether it deleted. Never deletes another holder's key.
   */
  deleteIfLease(key: string, lease: EtcdLeaseId, signal: AbortSignal): Promise<boolean>;
  /**
   * Optional: watches every key under a prefix from now on, calling `onChange` as each change
   * arrives (and `onError` when the watch breaks; the client may re-establish it). A hint only:
   * it lets a round start as soon as the forger key goes, and it dates a record version no
   * later than the read that would show it. An event arrives after its write was committed, so
   * its arrival time is a moment after that write was sent. Nothing is decided on it.
   */
  watchPrefix?(
    prefix: string,
    onChange: (change: EtcdChange) => void,
    onError: (error: Error) => void,
  ): Promise<EtcdWatch>;
  /** Closes connections. */
  close(): Promise<void>;
}
