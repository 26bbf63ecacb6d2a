import { EvidentError } from '../../core/index.js';
import type { NoteSigner } from '../../ledger/index.js';
import type { Store } from '../../store/index.js';
import { createServices } from '../bundle.js';
import { StoryClock } from './clock.js';
import { playStory } from './scenes.js';
import { Story } from './story.js';

export const DEMO_ORG = 'cyber-dojo';
const DAY = 86_400_000;

export interface DemoSeedOptions {
  /** Organisation name (default cyber-dojo). */
  org?: string;
  /** The real time now: the story ends a couple of minutes before it (default: the system clock). */
  now?: Date;
}

export interface DemoSeedResult {
  org: string;
  /** The demo organisation's admin API token (shown once). */
  token: string;
  /** Log entries written. */
  entries: number;
  millis: number;
}

/**
 * Seeds the demo organisation: cyber-dojo's services over the last six weeks (seeds 001 and 002), written
 * through the same services the API uses, on a clock that walks from 42 days ago to a few minutes ago, so
 * the log is in time order and whatever is recorded later comes after it. Refuses if the org exists.
 */
export async function seedDemo(store: Store, signer: NoteSigner, options: DemoSeedOptions = {}): Promise<DemoSeedResult> {
  const started = performance.now();
  const now = (options.now ?? new Date()).getTime();
  const end = now - 2 * 60_000;
  const day0 = Math.floor(now / DAY) * DAY - 42 * DAY;
  const clock = new StoryClock(new Date(day0 + 6 * 3_600_000));
  const services = createServices(store, signer, { clock });
  const { org, created } = await services.auth.ensureOrg(options.org ?? DEMO_ORG);
  if (!created) throw new EvidentError('CONFLICT', `organisation ${org.name} already exists: the demo is seeded into a new organisation only`);
  await playStory(new Story(services, org, clock, day0, end));
  const issued = await services.auth.issue(org, { name: 'demo admin', role: 'admin', createdBy: 'evident server (demo)' });
  return { org: org.name, token: issued.secret, entries: await services.log.size(org), millis: Math.round(performance.now() - started) };
}
