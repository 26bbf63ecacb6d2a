import { createServices, type ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import type { EngineUnderTest } from './engines.js';
import { testSigner } from './keys.js';

export interface OpenedServices {
  services: ServiceBundle;
  org: OrgRecord;
  cleanup(): Promise<void>;
}

/** A fresh store on `engine`, the services over it (test signer), and one organisation. */
export async function openServices(
  engine: EngineUnderTest, options: Parameters<typeof createServices>[2] & { org?: string } = {},
): Promise<OpenedServices> {
  const { org: orgName = 'acme', ...serviceOptions } = options;
  const opened = await engine.open();
  const services = createServices(opened.store, testSigner(), serviceOptions);
  const org = (await services.auth.ensureOrg(orgName)).org;
  return { services, org, cleanup: opened.cleanup };
}
