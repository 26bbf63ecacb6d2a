import type { ServerResponse } from 'node:http';
import { EvidentError } from '../core/index.js';
import { subjectsOf } from '../ledger/index.js';
import type { schemas } from '../client/index.js';

// Live updates for the web UI (docs/web.md "Live updates"): Server-Sent Events of an org's new log entries,
// so an open page refreshes when a snapshot or an attestation arrives. Every stream is a held connection, so
// each is bounded: per client address, per token and in all; a heartbeat keeps proxies from cutting an idle
// one and re-checks the caller (a revoked token or an ended session ends its streams); a client that stops
// reading is dropped rather than buffered for; a closed connection is forgotten at once.

export interface LiveEventLimits {
  /** Open streams from one client address. */
  perClient: number;
  /** Open streams of one token (or of the session standing for it). */
  perToken: number;
  /** Open streams in all. */
  total: number;
  /** Interval of the heartbeat comment, which also re-checks the caller. */
  heartbeatMs: number;
  /** Bytes a stream may have waiting unsent before it is dropped as too slow. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIVE_LIMITS: LiveEventLimits = { perClient: 8, perToken: 32, total: 1000, heartbeatMs: 25_000, maxBufferedBytes: 256 * 1024 };

/** Entries described per event at most; a bigger commit says how many more there were. */
const MAX_ENTRIES_PER_EVENT = 100;

/** One new log entry as a live event describes it (the shape is the client's: src/client/schemas.ts). */
export type LiveEntry = schemas.LiveEntry;

interface Stream {
  orgId: number;
  client: string;
  token: string;
  res: ServerResponse;
  timer: ReturnType<typeof setInterval>;
  recheck: () => Promise<void>;
}

/** Describes committed entries (canonical JSON text) for a live event. */
export function describeEntries(entries: readonly { index: number; entry: string }[]): LiveEntry[] {
  return entries.slice(0, MAX_ENTRIES_PER_EVENT).map(({ index, entry }) => {
    const fields = JSON.parse(entry) as Record<string, unknown>;
    const out: LiveEntry = { index, type: String(fields.type) };
    for (const s of subjectsOf(fields.type, fields)) {
      const names = (JSON.parse(s.key) as string[]).slice(1);
      if (s.kind === 'trail') out.trail = names[1];
      else out[s.kind] = names[0];
    }
    return out;
  });
}

export class LiveEvents {
  private readonly streams = new Set<Stream>();
  private readonly byClient = new Map<string, number>();
  private readonly byToken = new Map<string, number>();

  constructor(readonly limits: LiveEventLimits = DEFAULT_LIVE_LIMITS) {}

  /** Open streams (for tests and metrics). */
  get size(): number {
    return this.streams.size;
  }

  /** Throws RATE_LIMITED when another stream from this client or token (or in all) would pass a bound. */
  admit(client: string, token: string): void {
    const { perClient, perToken, total } = this.limits;
    if (this.streams.size >= total) throw new EvidentError('UNAVAILABLE', `the server holds its most live-update streams (${total}): try again later`);
    if ((this.byClient.get(client) ?? 0) >= perClient) {
      throw new EvidentError('RATE_LIMITED', `at most ${perClient} live-update streams per client address: close another tab first`);
    }
    if ((this.byToken.get(token) ?? 0) >= perToken) throw new EvidentError('RATE_LIMITED', `at most ${perToken} live-update streams per token`);
  }

  /** Starts an event stream on `res` (already admitted); it lasts until the client closes it or fails a recheck. */
  open(orgId: number, client: string, token: string, res: ServerResponse, size: number, recheck: () => Promise<void>): void {
    this.admit(client, token);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    const stream: Stream = { orgId, client, token, res, recheck, timer: setInterval(() => void this.heartbeat(stream), this.limits.heartbeatMs) };
    stream.timer.unref?.();
    this.streams.add(stream);
    this.byClient.set(client, (this.byClient.get(client) ?? 0) + 1);
    this.byToken.set(token, (this.byToken.get(token) ?? 0) + 1);
    res.on('close', () => this.forget(stream));
    // The retry hint, and where the log stands now: a page that reconnects compares sizes to know it missed some.
    this.write(stream, `retry: 5000\nevent: hello\ndata: ${JSON.stringify({ size })}\n\n`);
  }

  /** Tells every stream of the org about a commit (the LogService's onCommit listener). */
  publish(orgId: number, entries: readonly { index: number; entry: string }[]): void {
    let text: string | undefined;
    for (const stream of this.streams) {
      if (stream.orgId !== orgId) continue;
      if (text === undefined) {
        const last = entries[entries.length - 1];
        const data = { size: last ? last.index + 1 : 0, entries: describeEntries(entries), more: Math.max(0, entries.length - MAX_ENTRIES_PER_EVENT) };
        text = `event: entries\nid: ${data.size}\ndata: ${JSON.stringify(data)}\n\n`;
      }
      this.write(stream, text);
    }
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.res.end();
  }

  private async heartbeat(stream: Stream): Promise<void> {
    try {
      await stream.recheck();
    } catch {
      this.write(stream, 'event: signed-out\ndata: {}\n\n');
      stream.res.end();
      return;
    }
    this.write(stream, ': heartbeat\n\n');
  }

  private write(stream: Stream, text: string): void {
    if (stream.res.destroyed || stream.res.writableEnded) return;
    // A client that does not read would make the server buffer for it without end: drop it instead.
    if (stream.res.writableLength > this.limits.maxBufferedBytes) {
      stream.res.destroy();
      return;
    }
    stream.res.write(text);
  }

  private forget(stream: Stream): void {
    if (!this.streams.delete(stream)) return;
    clearInterval(stream.timer);
    for (const [map, key] of [[this.byClient, stream.client], [this.byToken, stream.token]] as const) {
      const n = (map.get(key) ?? 1) - 1;
      if (n <= 0) map.delete(key);
      else map.set(key, n);
    }
  }
}
