// Building blocks every page uses: async state, errors, CLI equivalents, compliance badges, pagination.
import type { ComponentChildren } from 'preact';
import { createContext } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Api, type Session } from './api.js';
import { useLiveRevision, type LiveFilter } from './live.js';

export const SessionContext = createContext<{ session: Session; api: Api } | null>(null);

export function useApi(): { session: Session; api: Api } {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useApi outside a signed-in session');
  return ctx;
}

export interface AsyncState<T> {
  data?: T;
  error?: unknown;
  loading: boolean;
}

/**
 * Runs `load` when `deps` change; a late answer for old deps is dropped. With `live`, new log entries it
 * matches reload the data in place (the old data stays shown meanwhile, and on a failed reload).
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], live?: LiveFilter): AsyncState<T> {
  const [state, setState] = useState<AsyncState<T>>({ loading: true });
  const revision = useLiveRevision(live);
  const generation = useRef(0);
  useEffect(() => {
    const gen = ++generation.current;
    setState({ loading: true });
    load().then(
      (data) => gen === generation.current && setState({ data, loading: false }),
      (error: unknown) => gen === generation.current && setState({ error, loading: false }),
    );
    return () => {
      generation.current++;
    };
  }, deps);
  useEffect(() => {
    if (revision === 0) return;
    const gen = generation.current;
    load().then(
      (data) => gen === generation.current && setState({ data, loading: false }),
      () => undefined,
    );
  }, [revision]);
  return state;
}

export function ErrorMessage({ error }: { error: unknown }) {
  const e = error instanceof ApiError ? error : null;
  return (
    <div class="error" role="alert">
      <strong>{e ? (e.status === 404 ? 'Not found' : e.code) : 'Error'}:</strong> {e ? e.message : String(error)}
      {e && Array.isArray(e.details) && e.details.length > 0 && (
        <ul>
          {(e.details as { path?: string; message?: string }[]).map((d, i) => (
            <li key={i}>
              {d.path ? <code>{d.path}</code> : null} {d.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Shows loading (announced politely), the server's error, or the data. */
export function Async<T>({ state, children }: { state: AsyncState<T>; children: (data: T) => ComponentChildren }) {
  if (state.loading) return <p class="loading" role="status" aria-live="polite">Loading…</p>;
  if (state.error !== undefined) return <ErrorMessage error={state.error} />;
  return <>{children(state.data as T)}</>;
}

/** The command that prints the same thing, with a copy button (every view has one). */
/**
 * A command box. `box` is its class: `cli` for the page's own command (one a page, which tests find by it),
 * `cli-verify` for a second box looking the same (the evidence package's offline check).
 */
export function CliCommand({ command, label = 'The same from the command line', box = 'cli' }: { command: string | string[]; label?: string; box?: 'cli' | 'cli-verify' }) {
  const commands = [command].flat();
  const [status, setStatus] = useState('');
  const copy = async () => {
    const text = commands.join('\n');
    try {
      await navigator.clipboard.writeText(text);
      setStatus('Copied to the clipboard');
    } catch {
      setStatus('Copy failed: select the command and copy it');
    }
    setTimeout(() => setStatus(''), 2500);
  };
  return (
    <aside class={box} aria-label={label}>
      <span class="cli-label">CLI</span>
      {/* Focusable so a keyboard can scroll a long command (axe: scrollable-region-focusable). */}
      <pre tabIndex={0} aria-label="Command">
        <code>{commands.map((c) => `$ ${c}`).join('\n')}</code>
      </pre>
      <button type="button" class="secondary" onClick={() => void copy()}>
        Copy
      </button>
      <span class="sr-status" role="status" aria-live="polite">
        {status}
      </span>
    </aside>
  );
}

/** The page's heading; it takes focus when the page changes, so screen readers announce the new page. */
export function PageTitle({ children, title }: { children: ComponentChildren; title: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Evident`;
    ref.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <h1 tabIndex={-1} ref={ref}>
      {children}
    </h1>
  );
}

const STATE_CLASS: Record<string, string> = { COMPLIANT: 'ok', 'NON-COMPLIANT': 'bad', INCOMPLETE: 'warn', ALLOWED: 'warn' };

/** A compliance state in words (colour is only a second cue). */
export function ComplianceBadge({ state }: { state: string | boolean | null | undefined }) {
  const text = state === true ? 'COMPLIANT' : state === false ? 'NON-COMPLIANT' : state === null || state === undefined ? 'UNKNOWN' : state;
  return <span class={`badge ${STATE_CLASS[text] ?? 'none'}`}>{text.toLowerCase()}</span>;
}

/**
 * Client-side pages over a list already fetched (a snapshot's 5,000 artifacts, an artifact's 1,000 events):
 * only one page of rows is in the DOM.
 */
export function usePages<T>(items: T[], pageSize: number): { page: T[]; pager: ComponentChildren } {
  const [pageNo, setPageNo] = useState(0);
  const pages = Math.max(1, Math.ceil(items.length / pageSize));
  const current = Math.min(pageNo, pages - 1);
  useEffect(() => setPageNo(0), [items]);
  const page = items.slice(current * pageSize, (current + 1) * pageSize);
  const pager =
    pages <= 1 ? null : (
      <nav class="pager" aria-label="Pages">
        <button type="button" class="secondary" disabled={current === 0} onClick={() => setPageNo(current - 1)}>
          ← Previous
        </button>
        <span role="status" aria-live="polite">
          {current * pageSize + 1}–{Math.min(items.length, (current + 1) * pageSize)} of {items.length}
        </span>
        <button type="button" class="secondary" disabled={current >= pages - 1} onClick={() => setPageNo(current + 1)}>
          Next →
        </button>
      </nav>
    );
  return { page, pager };
}

/** Server-side pages (cursor convention: pass next_cursor back until it is null), appended with "Load more". */
export function useCursorList<T>(load: (cursor: string | null) => Promise<{ items: T[]; next_cursor: string | null }>, deps: unknown[], live?: LiveFilter) {
  const revision = useLiveRevision(live);
  const pagesLoaded = useRef(0);
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(undefined);
  const generation = useRef(0);
  const fetchPage = (cursor: string | null, reset: boolean) => {
    const gen = reset ? ++generation.current : generation.current;
    setLoading(true);
    setError(undefined);
    load(cursor).then(
      (page) => {
        if (gen !== generation.current) return;
        setItems((old) => (reset ? page.items : [...old, ...page.items]));
        pagesLoaded.current = reset ? 1 : pagesLoaded.current + 1;
        setNext(page.next_cursor);
        setLoading(false);
      },
      (e: unknown) => {
        if (gen !== generation.current) return;
        setError(e);
        setLoading(false);
      },
    );
  };
  useEffect(() => {
    setItems([]);
    fetchPage(null, true);
  }, deps);
  // New entries reload the first page in place, unless more pages were loaded (that would drop the reader's place).
  useEffect(() => {
    if (revision === 0 || pagesLoaded.current > 1) return;
    const gen = ++generation.current;
    load(null).then(
      (page) => {
        if (gen !== generation.current) return;
        setItems(page.items);
        setNext(page.next_cursor);
      },
      () => undefined,
    );
  }, [revision]);
  const more = (
    <div class="more">
      {error !== undefined && <ErrorMessage error={error} />}
      {loading && (
        <p class="loading" role="status" aria-live="polite">
          Loading…
        </p>
      )}
      {!loading && next !== null && (
        <button type="button" class="secondary" onClick={() => fetchPage(next, false)}>
          Load more
        </button>
      )}
    </div>
  );
  return { items, more, loading, error };
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="empty">{children}</p>;
}

/** A trail's name; one named by its 40-hex commit is shown by the first 10 (the whole in the tooltip). */
export function TrailName({ name }: { name: string }) {
  return /^[0-9a-f]{40}$/.test(name) ? <code title={name}>{name.slice(0, 10)}</code> : <>{name}</>;
}

/**
 * An image name without its registry (`244531986313.dkr.ecr.eu-central-1.amazonaws.com/runner:16d9990` is
 * shown as `runner:16d9990`); the full name is in the tooltip and, for screen readers, in the text.
 */
export function ArtifactName({ name }: { name: string }) {
  const slash = name.indexOf('/');
  const host = slash > 0 ? name.slice(0, slash) : '';
  if (!host || (!/[.:]/.test(host) && host !== 'localhost')) return <span class="artifact-name">{name}</span>;
  return (
    <span class="artifact-name" title={name}>
      <span class="sr-only">{host}/</span>
      {name.slice(slash + 1)}
    </span>
  );
}
