// Live updates (docs/web.md "Live updates"): one EventSource per tab on GET /api/v1/orgs/{org}/events,
// signed in by the session cookie. Pages say which new entries concern them; a matching entry reloads
// their data in place (no "Loading…" flash), at most once a second, and only while the tab is visible.
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { SIGNED_OUT_EVENT } from './api.js';
import type { schemas } from '../../client/index.js';

export type LiveEntry = schemas.LiveEntry;

export type LiveFilter = (e: LiveEntry) => boolean;
export type LiveState = 'connecting' | 'open' | 'closed';

export class LiveFeed {
  private readonly listeners = new Set<(entries: LiveEntry[]) => void>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private source: EventSource | null = null;
  private lastSize: number | null = null;
  state: LiveState = 'connecting';

  constructor(private readonly org: string) {}

  start(): void {
    if (typeof EventSource === 'undefined') return this.setState('closed');
    const source = new EventSource(`/api/v1/orgs/${encodeURIComponent(this.org)}/events`);
    this.source = source;
    source.addEventListener('open', () => this.setState('open'));
    // EventSource reconnects by itself after a network error; after a refusal (401, 429) it stays closed.
    source.addEventListener('error', () => this.setState(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting'));
    source.addEventListener('hello', (e) => {
      const { size } = JSON.parse((e as MessageEvent<string>).data) as { size: number };
      // Reconnected after missing entries: tell every page something changed (what, it cannot know).
      if (this.lastSize !== null && size !== this.lastSize) this.emit([{ index: size - 1, type: 'unknown' }]);
      this.lastSize = size;
    });
    source.addEventListener('entries', (e) => {
      const data = JSON.parse((e as MessageEvent<string>).data) as { size: number; entries: LiveEntry[]; more: number };
      this.lastSize = data.size;
      this.emit(data.more > 0 ? [...data.entries, { index: data.size - 1, type: 'unknown' }] : data.entries);
    });
    source.addEventListener('signed-out', () => {
      this.stop();
      window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
    });
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    this.setState('closed');
  }

  subscribe(fn: (entries: LiveEntry[]) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    return () => this.stateListeners.delete(fn);
  }

  private emit(entries: LiveEntry[]): void {
    for (const fn of this.listeners) fn(entries);
  }

  private setState(s: LiveState): void {
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }
}

export const LiveContext = createContext<LiveFeed | null>(null);

/** An entry whose kind is unknown (a reconnect that missed some, or a commit too big to list) concerns every page. */
const concerns = (filter: LiveFilter, e: LiveEntry) => e.type === 'unknown' || filter(e);

/**
 * A number that goes up when new entries concern the caller: put it where a reload should follow. Bursts
 * (a pipeline reporting 20 attestations) make one reload a second, and a hidden tab reloads when shown.
 */
export function useLiveRevision(filter: LiveFilter | undefined): number {
  const feed = useContext(LiveContext);
  const [revision, setRevision] = useState(0);
  const latest = useRef(filter);
  latest.current = filter;
  useEffect(() => {
    if (!feed || !latest.current) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    const bump = () => {
      timer = undefined;
      if (document.visibilityState === 'hidden') return; // picked up by onVisible
      pending = false;
      setRevision((r) => r + 1);
    };
    const onVisible = () => {
      if (pending && document.visibilityState === 'visible' && timer === undefined) bump();
    };
    const off = feed.subscribe((entries) => {
      const f = latest.current;
      if (!f || !entries.some((e) => concerns(f, e))) return;
      pending = true;
      timer ??= setTimeout(bump, 1000);
    });
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      off();
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [feed]);
  return revision;
}

/** The feed's connection state, for the header's indicator. */
export function useLiveState(): LiveState {
  const feed = useContext(LiveContext);
  const [state, setState] = useState<LiveState>(feed?.state ?? 'closed');
  useEffect(() => (feed ? feed.onState(setState) : undefined), [feed]);
  return state;
}
