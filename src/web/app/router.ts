// Hash routing (#/flows/runner): every page is index.html, so the server needs no fallback route, and a
// link is a plain <a href> that works with the keyboard, middle-click and the back button.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments after '#/', decoded. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', qs = ''] = raw.split('?', 2);
  const parts = path.split('/').filter((p) => p !== '').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  return { parts, query: new URLSearchParams(qs) };
}

/** A '#/…' link from path segments (each encoded) and an optional query. */
export function href(parts: (string | number)[], query?: Record<string, string | number | boolean | undefined | null>): string {
  const path = parts.map((p) => encodeURIComponent(String(p))).join('/');
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== null && v !== '' && v !== false) params.set(k, String(v));
  const qs = params.toString();
  return `#/${path}${qs ? `?${qs}` : ''}`;
}

export function navigate(to: string): void {
  if (location.hash !== to) location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
