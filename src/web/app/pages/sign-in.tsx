import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, signIn, type Session } from '../api.js';
import { CliCommand, ErrorMessage } from '../components.js';

/** Paste an API token once: POST /api/v1/session exchanges it for this browser's session cookie. */
export function SignInPage({ onSignIn }: { onSignIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    document.title = 'Sign in · Evident';
    input.current?.focus();
  }, []);
  const submit = async (e: Event) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) {
      setError(new ApiError(0, 'INVALID_ARGUMENT', 'paste an API token first'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(t);
      setToken('');
      onSignIn(session);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>Sign in to Evident</h1>
      <p>A tamper-evident record of how software gets from a commit to production.</p>
      <form onSubmit={(e) => void submit(e)}>
        <label for="token">API token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="evd_…"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-describedby="token-help"
          aria-invalid={error !== undefined}
        />
        <p id="token-help" class="muted">
          The server prints its first admin token on first start. Make a read-only one for browsing, for example with{' '}
          <code>evident admin create-token --org ORG --role reader</code>. The token is sent once: this browser then
          keeps a session cookie (12 hours at most, never longer than the token) that every tab uses until you sign out.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <div aria-live="assertive">{error !== undefined && <ErrorMessage error={error} />}</div>
      </form>
      <CliCommand command={[`export EVIDENT_HOST=${location.origin} EVIDENT_API_TOKEN=evd_… EVIDENT_ORG=ORG`, 'evident list flows']} />
    </main>
  );
}
