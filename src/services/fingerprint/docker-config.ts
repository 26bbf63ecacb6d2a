import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EvidentError } from '../../core/index.js';
import { DOCKER_HUB } from './reference.js';

// Registry credentials from the Docker CLI's config file, as `docker login` writes it
// ($DOCKER_CONFIG/config.json, default ~/.docker/config.json): `credHelpers[registry]`, then `credsStore`
// (a `docker-credential-<name>` program speaking the docker-credential-helpers protocol: `get`, server URL
// on stdin, {"Username","Secret"} on stdout), then `auths[registry].auth` (base64 of "user:password").

export interface RegistryCredentials {
  username: string;
  password: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

interface DockerConfig {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** docker/cli's ConvertToHostname, with Docker Hub's aliases folded into docker.io. */
function hostOf(key: string): string {
  const host = key.replace(/^https?:\/\//, '').split('/')[0]!;
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** The server URL a credential store knows a registry by (Docker Hub's is the historical v1 index URL). */
function serverUrl(domain: string): string {
  return domain === DOCKER_HUB ? 'https://index.docker.io/v1/' : domain;
}

function configFile(): string {
  return path.join(process.env.DOCKER_CONFIG ?? path.join(os.homedir(), '.docker'), 'config.json');
}

function readConfig(file: string): DockerConfig | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined; // no config: anonymous access
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as DockerConfig) : {};
  } catch (err) {
    throw new EvidentError('INVALID_ARGUMENT', `${file} is not valid JSON: ${(err as Error).message}`, { details: [{ path: file, message: 'invalid JSON' }] });
  }
}

function fromHelper(helper: string, domain: string): Promise<RegistryCredentials | undefined> {
  if (!/^[A-Za-z0-9_.-]+$/.test(helper)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${helper}`, ['get'], { timeout: 15_000 }, (err, stdout) => {
      if (err) return resolve(undefined); // helper missing, or "credentials not found": go anonymous
      try {
        const { Username, Secret } = JSON.parse(stdout) as { Username?: string; Secret?: string };
        resolve(typeof Secret === 'string' && Secret !== '' ? { username: Username ?? '', password: Secret } : undefined);
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.end(serverUrl(domain));
  });
}

function fromAuth(entry: AuthEntry, file: string, key: string): RegistryCredentials | undefined {
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new EvidentError('INVALID_ARGUMENT', `${file}: auths[${JSON.stringify(key)}].auth is not base64 of user:password`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (typeof entry.username === 'string' && typeof entry.password === 'string') return { username: entry.username, password: entry.password };
  return undefined;
}

/** The credentials `docker login` stored for a registry domain (e.g. `ghcr.io`, `docker.io`), if any. */
export async function dockerCredentials(domain: string): Promise<RegistryCredentials | undefined> {
  const file = configFile();
  const config = readConfig(file);
  if (!config) return undefined;
  const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => hostOf(key) === domain)?.[1];
  if (helper) return fromHelper(helper, domain);
  if (config.credsStore) {
    const stored = await fromHelper(config.credsStore, domain);
    if (stored) return stored;
  }
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (hostOf(key) === domain && entry && typeof entry === 'object') {
      const creds = fromAuth(entry, file, key);
      if (creds) return creds;
    }
  }
  return undefined;
}
