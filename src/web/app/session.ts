// The signed-in token lives in sessionStorage: it survives a reload but not the tab, and is never a cookie
// (so no request is authenticated unless this code adds the header).
import type { Session } from './api.js';

const KEY = 'evident.session';

export function loadSession(): Session | null {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<Session>;
    return typeof s.org === 'string' && typeof s.token === 'string' ? { org: s.org, token: s.token, role: s.role ?? '', tokenName: s.tokenName ?? '' } : null;
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  sessionStorage.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  sessionStorage.removeItem(KEY);
}
