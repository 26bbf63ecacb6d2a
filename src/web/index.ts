import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The browser UI lives in src/web/app and is built by scripts/build-web.mjs into dist/web; this module is
// the Node side of the layer: it tells the server where the built files are.

/** The directory of the built UI (index.html and assets/), whether running from dist/src or from src. */
export function webAssetsDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/src/web/index.js → dist/web; the CLI bundle (dist/cli/*.js) → dist/web; src/web/index.ts (run
  // by a TS loader) → dist/web too.
  const candidates = [path.resolve(here, '../../web'), path.resolve(here, '../web'), path.resolve(here, '../../dist/web')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html'))) ?? candidates[0]!;
}

/** True when the UI has been built (npm run build); the server then serves it at `/`. */
export function webAssetsBuilt(): boolean {
  return fs.existsSync(path.join(webAssetsDir(), 'index.html'));
}

/** Security headers for the UI's files: only this origin's scripts, styles, images and API. */
export const WEB_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Hashed asset names (assets/app-ABCD1234.js) never change content: cache them for a year. */
export function isHashedAsset(file: string): boolean {
  return /[\\/]assets[\\/][^\\/]+-[A-Z0-9]{8}\.(?:js|css)(?:\.map)?$/.test(file);
}
