import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { buildApp, type LiveEventLimits, type ServerLimits } from '../../src/server/index.js';
import { createServices, type AuthService, type Clock, type LogService, type ServiceBundle, type VaultOptions } from '../../src/services/index.js';
import type { NoteSigner } from '../../src/ledger/index.js';
import { openStore, type SqlStore } from '../../src/store/index.js';
import { tempDir } from './engines.js';
import { testSigner } from './keys.js';

export interface TestApp {
  app: FastifyInstance;
  store: SqlStore;
  auth: AuthService;
  log: LogService;
  services: ServiceBundle;
  adminToken: string;
  close(): Promise<void>;
}

/** A server on a fresh embedded store, with org `acme` and an admin token. */
export async function testApp(
  options: { clock?: Clock; signer?: NoteSigner; bodyLimit?: number; evidence?: VaultOptions; insecureLocal?: boolean; failedAuthPerMinute?: number; trustProxy?: boolean | number | string; limits?: Partial<ServerLimits>; liveEvents?: Partial<LiveEventLimits> } = {},
): Promise<TestApp> {
  const dataDir = tempDir();
  const store = await openStore({ dataDir });
  const services = createServices(store, options.signer ?? testSigner(), { clock: options.clock, evidence: options.evidence });
  const { auth, log } = services;
  const { org } = await auth.ensureOrg('acme');
  const { secret } = await auth.issue(org, { name: 'admin', role: 'admin' });
  const app = await buildApp({
    services, bodyLimit: options.bodyLimit, insecureLocal: options.insecureLocal, defaultOrg: 'acme', failedAuthPerMinute: options.failedAuthPerMinute,
    trustProxy: options.trustProxy, limits: options.limits, liveEvents: options.liveEvents,
  });
  return {
    app, store, auth, log, services, adminToken: secret,
    async close() {
      await app.close();
      await store.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}
