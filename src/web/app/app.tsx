// The shell: sign-in gate, skip link, header with navigation and search, the current page, sign out.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { watchCardLabels } from './card-labels.js';
import { apiFor, currentSession, signOut, SIGNED_OUT_EVENT, type Session } from './api.js';
import { SessionContext } from './components.js';
import { LiveContext, LiveFeed, useLiveState } from './live.js';
import { href, navigate, useRoute, type Route } from './router.js';
import { SignInPage } from './pages/sign-in.js';
import { FlowsPage } from './pages/flows.js';
import { FlowPage } from './pages/flow.js';
import { TrailPage } from './pages/trail.js';
import { ArtifactPage } from './pages/artifact.js';
import { SearchPage } from './pages/search.js';
import { EnvironmentsPage } from './pages/environments.js';
import { EnvironmentPage } from './pages/environment.js';
import { SnapshotPage } from './pages/snapshot.js';
import { DiffPage } from './pages/diff.js';
import { ReleasePlanPage } from './pages/release-plan.js';
import { PoliciesPage } from './pages/policies.js';
import { PolicyPage } from './pages/policy.js';
import { LogPage } from './pages/log.js';
import { DoraPage } from './pages/dora.js';
import { NotFoundPage } from './pages/not-found.js';

const NAV: [string, string, string][] = [
  ['flows', 'Flows', href(['flows'])],
  ['environments', 'Environments', href(['environments'])],
  ['diff', 'Diff', href(['diff'])],
  ['release-plan', 'Release plan', href(['release-plan'])],
  ['policies', 'Policies', href(['policies'])],
  ['dora', 'DORA', href(['dora'])],
  ['log', 'Log', href(['log'])],
];

/** Which page a route shows; each page reads its own parameters. */
function pageFor(route: Route) {
  const [first = 'flows', a, b, c] = route.parts;
  const q = route.query;
  switch (first) {
    case 'flows':
      if (a && b === 'trails' && c) return <TrailPage flow={a} trail={c} />;
      return a ? <FlowPage flow={a} /> : <FlowsPage query={q} />;
    case 'artifacts':
      return a ? <ArtifactPage artifactRef={a} /> : <NotFoundPage />;
    case 'search':
      return <SearchPage q={q.get('q') ?? ''} />;
    case 'environments':
      return a ? <EnvironmentPage env={a} tab={q.get('tab')} /> : <EnvironmentsPage />;
    case 'snapshots':
      return a ? <SnapshotPage expr={a} /> : <NotFoundPage />;
    case 'diff':
      return <DiffPage a={q.get('a') ?? ''} b={q.get('b') ?? ''} showUnchanged={q.get('unchanged') === 'true'} />;
    case 'release-plan':
      return <ReleasePlanPage from={q.get('from') ?? ''} to={q.get('to') ?? ''} allowInProgress={q.get('in_progress') === 'true'} />;
    case 'policies':
      return a ? <PolicyPage policyRef={a} /> : <PoliciesPage />;
    case 'log':
      return <LogPage index={q.get('index')} />;
    case 'dora':
      return <DoraPage query={q} />;
    default:
      return <NotFoundPage />;
  }
}

function SearchBox({ initial }: { initial: string }) {
  const [q, setQ] = useState(initial);
  return (
    <form
      role="search"
      class="search"
      onSubmit={(e) => {
        e.preventDefault();
        const v = q.trim();
        if (v) navigate(href(['search'], { q: v }));
      }}
    >
      <label for="search-q" class="sr-only">
        Search a commit or fingerprint (or name:commit)
      </label>
      <input id="search-q" type="search" placeholder="Commit, fingerprint or name:commit" value={q} onInput={(e) => setQ(e.currentTarget.value)} autocomplete="off" spellcheck={false} />
      <button type="submit">Search</button>
    </form>
  );
}

const LIVE_LABEL = { open: 'Live: pages update by themselves', connecting: 'Live updates: connecting', closed: 'Live updates off: reload to see new records' } as const;

/** A dot in the header: whether new records show up without a reload. */
function LiveIndicator() {
  const state = useLiveState();
  return (
    <span class="live" data-state={state} title={LIVE_LABEL[state]}>
      <span class="sr-only">{LIVE_LABEL[state]}</span>
    </span>
  );
}

export function App() {
  // undefined: still asking the server whether this browser is signed in (GET /api/v1/session).
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [signingOut, setSigningOut] = useState(false);
  const route = useRoute();
  const api = useMemo(() => (session ? apiFor(session) : null), [session]);
  // One live-update stream per tab while signed in (docs/web.md "Live updates").
  const feed = useMemo(() => (session ? new LiveFeed(session.org) : null), [session]);
  useEffect(() => {
    feed?.start();
    return () => feed?.stop();
  }, [feed]);
  useEffect(() => {
    currentSession().then(setSession, () => setSession(null));
    const out = () => setSession(null);
    window.addEventListener(SIGNED_OUT_EVENT, out);
    return () => window.removeEventListener(SIGNED_OUT_EVENT, out);
  }, []);
  useEffect(() => {
    const main = document.getElementById('main');
    return main ? watchCardLabels(main) : undefined;
  }, [session]);
  if (session === undefined) {
    return (
      <main id="main" class="signin">
        <p class="loading">Loading…</p>
      </main>
    );
  }
  if (!session || !api) return <SignInPage onSignIn={setSession} />;
  const section = route.parts[0] ?? 'flows';
  const current = section === 'snapshots' ? 'environments' : section;
  return (
    <SessionContext.Provider value={{ session, api }}>
      <LiveContext.Provider value={feed}>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href(['flows'])}>
          Evident
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([key, label, link]) => (
              <li key={key}>
                <a href={link} aria-current={current === key ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <SearchBox key={route.query.get('q') ?? ''} initial={route.parts[0] === 'search' ? route.query.get('q') ?? '' : ''} />
        <div class="who">
          <LiveIndicator />
          <span>
            <span class="sr-only">Signed in to </span>
            <strong>{session.org}</strong> <span class="muted">as {session.role}</span>
          </span>
          <button
            type="button"
            class="secondary"
            disabled={signingOut}
            onClick={() => {
              setSigningOut(true);
              // Signed out locally whatever the server says: a failed request must not keep the page open.
              signOut(session).finally(() => {
                setSigningOut(false);
                setSession(null);
              });
            }}
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {pageFor(route)}
      </main>
      <footer class="foot">
        <p>
          Evident · every view shows the CLI command that prints the same · <a href="/api/v1/openapi.json">API (OpenAPI)</a>
        </p>
      </footer>
      </LiveContext.Provider>
    </SessionContext.Provider>
  );
}
