import { EvidentError } from '../core/index.js';

/** How the server lets callers in, beyond API tokens (DESIGN.md §7). */
export interface AccessPolicy {
  /**
   * `--insecure-local`: requests without a token from the loopback interface act as an admin of
   * `defaultOrg` (or of the org in the path). Only allowed when the server listens on loopback.
   */
  insecureLocal: boolean;
  defaultOrg: string;
  failures: FailedAuthLimiter;
}

/**
 * Counts failed authentications per (presented token prefix, client address) in one-minute windows: past
 * the limit, a failed authentication from that pair is answered 429 (with the seconds to wait) instead of
 * 401, telling a misconfigured or hostile client to back off. A valid token is never refused here: it is
 * checked first, and its prefix is not the one failing (reliability report F7: 60 bad tokens from one
 * address had locked out every valid token from it, so everyone behind one proxy or NAT).
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(readonly perMinute = 60, private readonly now: () => number = Date.now, private readonly maxKeys = 10_000) {}

  /** Windows kept (for tests). */
  get size(): number {
    return this.windows.size;
  }

  /** Throws RATE_LIMITED when `key` has used up its failures in this window. */
  check(key: string, what = key): void {
    const w = this.windows.get(key);
    if (w && this.now() - w.start < 60_000 && w.count > this.perMinute) {
      const retry = Math.ceil((60_000 - (this.now() - w.start)) / 1000);
      throw new EvidentError('RATE_LIMITED', `too many failed authentications ${what}: try again in ${retry} s`, { details: { retry_after_secs: retry } });
    }
  }

  fail(address: string): void {
    const now = this.now();
    const w = this.windows.get(address);
    if (!w || now - w.start >= 60_000) {
      // Re-inserted, so the map stays in order of window start: the oldest (or expired) windows come first.
      this.windows.delete(address);
      if (this.windows.size >= this.maxKeys) this.makeRoom(now);
      this.windows.set(address, { start: now, count: 1 });
    } else {
      w.count++;
    }
  }

  /**
   * Bounded memory under a flood of keys, without forgetting who is limited: expired windows go first, then
   * the oldest window still under the limit. Clearing everything at the cap (as before) let a client reset its
   * own limit by failing with 10,000 other token prefixes.
   */
  private makeRoom(now: number): void {
    for (const [key, w] of this.windows) {
      if (now - w.start < 60_000) break;
      this.windows.delete(key);
    }
    if (this.windows.size < this.maxKeys) return;
    for (const [key, w] of this.windows) {
      if (w.count <= this.perMinute) {
        this.windows.delete(key);
        return;
      }
    }
    this.windows.delete(this.windows.keys().next().value!); // every window is limited: the oldest ends soonest
  }
}

/** Characters of a presented token the limiter keys on: `evd_` and 8 random ones, enough to tell tokens apart. */
export const TOKEN_PREFIX_CHARS = 12;

/** The limiter's key and its description for a presented secret (or none) from an address. */
export function failureKey(secret: string | undefined, address: string): { key: string; what: string } {
  const prefix = secret === undefined || secret === '' ? '' : secret.slice(0, TOKEN_PREFIX_CHARS);
  return { key: `${prefix}\u0000${address}`, what: prefix ? `from ${address} with a token beginning ${JSON.stringify(prefix)}` : `from ${address} without a token` };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.has(address);
}
