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
 * Counts failed authentications per client address in one-minute windows: past the limit, that address
 * gets 429 until the window ends, so API tokens cannot be guessed at speed. Successful requests are
 * never limited here (they are what the throughput targets measure).
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(readonly perMinute = 60, private readonly now: () => number = Date.now) {}

  check(address: string): void {
    const w = this.windows.get(address);
    if (w && this.now() - w.start < 60_000 && w.count >= this.perMinute) {
      const retry = Math.ceil((60_000 - (this.now() - w.start)) / 1000);
      throw new EvidentError('RATE_LIMITED', `too many failed authentications from ${address}: try again in ${retry} s`, { details: { retry_after_secs: retry } });
    }
  }

  fail(address: string): void {
    const now = this.now();
    const w = this.windows.get(address);
    if (!w || now - w.start >= 60_000) {
      if (this.windows.size >= 10_000) this.windows.clear(); // bounded memory under a flood of addresses
      this.windows.set(address, { start: now, count: 1 });
    } else {
      w.count++;
    }
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.has(address);
}
