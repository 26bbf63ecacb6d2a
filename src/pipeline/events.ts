import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { EventHandlerSpec, EventType } from './spec.js';
import type { RunObserver } from './types.js';

// attest.yaml `events.handlers` (seed 003 §10): pipeline.started, pipeline.completed, step.started,
// step.completed, step.failed, cache.hit, cache.miss, signature.created, verification.completed.
// - file: one JSON object per line, appended (the path is relative to the workspace);
// - webhook: POST of the same JSON, `X-Evident-Signature: sha256=<hex HMAC-SHA256 of the body>` with the
//   key read from the environment variable named by `secret_env` (never written in attest.yaml); retried
//   on network errors and 5xx/429 with exponential backoff.
// A handler that fails warns; it never fails the run. close() waits for pending deliveries at most
// `deadlineMs` in all, so a dead endpoint cannot hold a finished run hostage.

export type EventName = Exclude<EventType, '*'>;

export interface PipelineEventBody {
  type: EventName;
  /** ISO-8601 UTC. */
  timestamp: string;
  /** The same for every event of one run. */
  run_id: string;
  pipeline: string;
  step?: string;
  [field: string]: unknown;
}

export interface EventOptions {
  workspace: string;
  pipeline: string;
  warn(message: string): void;
  env?: NodeJS.ProcessEnv;
  /** First retry delay; doubles each time (default 500 ms). */
  baseDelayMs?: number;
  /** One POST's timeout (default 5 s). */
  attemptTimeoutMs?: number;
  /** The most close() waits for deliveries still pending (default 10 s). */
  deadlineMs?: number;
}

export const DEFAULT_WEBHOOK_RETRIES = 3;
export const SIGNATURE_HEADER = 'X-Evident-Signature';

/** `sha256=<hex>`: the header a receiver recomputes over the raw body with the shared secret. */
export function signatureOf(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

const wanted = (h: EventHandlerSpec, type: EventName) => h.events.includes('*') || h.events.includes(type);
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export class EventDispatcher {
  readonly runId = randomUUID();
  /** Per webhook, the chain of its deliveries: in order, one at a time. */
  private readonly chains = new Map<EventHandlerSpec, Promise<void>>();
  private readonly stop = new AbortController();
  private readonly warned = new Set<string>();

  constructor(private readonly handlers: readonly EventHandlerSpec[], private readonly o: EventOptions) {}

  get active(): boolean {
    return this.handlers.length > 0;
  }

  emit(type: EventName, fields: { step?: string; [field: string]: unknown } = {}): void {
    if (this.handlers.length === 0) return;
    const body: PipelineEventBody = { type, timestamp: new Date().toISOString(), run_id: this.runId, pipeline: this.o.pipeline, ...fields };
    const text = JSON.stringify(body);
    for (const h of this.handlers) {
      if (!wanted(h, type)) continue;
      if (h.type === 'file') this.append(h.path, text);
      else this.chains.set(h, (this.chains.get(h) ?? Promise.resolve()).then(() => this.post(h, text, type)));
    }
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.o.warn(message);
  }

  private append(file: string, line: string): void {
    try {
      const abs = path.resolve(this.o.workspace, file);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.appendFileSync(abs, line + '\n');
    } catch (err) {
      this.warnOnce(`file:${file}`, `events: cannot append to ${file}: ${(err as Error).message}`);
    }
  }

  private async post(h: Extract<EventHandlerSpec, { type: 'webhook' }>, body: string, type: EventName): Promise<void> {
    if (this.stop.signal.aborted) return;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'evident-events' };
    if (h.secretEnv !== undefined) {
      const secret = (this.o.env ?? process.env)[h.secretEnv];
      if (!secret) {
        // Never sent unsigned when a signature was asked for: the receiver would have to reject it anyway.
        this.warnOnce(`secret:${h.url}`, `events: ${h.secretEnv} is not set: events for ${h.url} not sent (secret_env)`);
        return;
      }
      headers[SIGNATURE_HEADER] = signatureOf(body, secret);
    }
    const retries = h.retries ?? DEFAULT_WEBHOOK_RETRIES;
    let last = '';
    for (let attempt = 0; attempt <= retries && !this.stop.signal.aborted; attempt++) {
      if (attempt > 0) await sleep((this.o.baseDelayMs ?? 500) * 2 ** (attempt - 1), this.stop.signal);
      try {
        const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.o.attemptTimeoutMs ?? 5000)]);
        const res = await fetch(h.url, { method: 'POST', headers, body, signal });
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (res.status < 500 && res.status !== 429) break; // the receiver refuses it: asking again will not help
      } catch (err) {
        last = String((err as Error).cause ?? (err as Error).message);
      }
    }
    this.o.warn(`events: ${type} not delivered to ${h.url}: ${last || 'stopped at the end of the run'}`);
  }

  /** Waits for pending webhook deliveries, at most `deadlineMs`; what is left is abandoned with a warning. */
  async close(): Promise<void> {
    const pending = [...this.chains.values()];
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), this.o.deadlineMs ?? 10_000)));
    const result = await Promise.race([Promise.all(pending).then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    if (result === 'late') {
      this.stop.abort();
      await Promise.all(pending);
    }
  }
}

/**
 * signature.created: told at the end of a signed run, after the receipt observer (placed after it) signed
 * the receipt; provenance statements are signed with the same key as each step succeeds.
 */
export function signatureObserver(events: EventDispatcher, keyInfo: { signed: boolean }): RunObserver {
  return {
    runFinished(run) {
      if (keyInfo.signed) events.emit('signature.created', { subject: 'receipt', pipeline_hash: run.pipelineHash, steps: run.steps.length });
    },
  };
}
