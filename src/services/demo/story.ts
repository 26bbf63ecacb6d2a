import { Readable } from 'node:stream';
import type { OrgRecord } from '../../store/index.js';
import type { ServiceBundle } from '../bundle.js';
import type { StoryClock } from './clock.js';
import { seededRandom } from './ids.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const MINUTE = 60_000;

/** One service as an environment's reporter sees it. */
export interface Running {
  flow: string;
  name: string;
  fingerprint: string;
  instances: number;
}

/**
 * What the scenes share: the services (on the story's clock), the organisation, the story's calendar, and
 * what runs in each environment now (the reporters send the whole state every time, as real ones do).
 */
export class Story {
  readonly random = seededRandom(0xc0ffee);
  /** Environment → running services, in start order (a blue-green deployment runs two of one flow). */
  readonly running = new Map<string, Running[]>([['aws-beta', []], ['aws-prod', []]]);
  private runIds = 2_900_000_000;
  private prNumbers = new Map<string, number>();

  constructor(
    readonly services: ServiceBundle,
    readonly org: OrgRecord,
    readonly clock: StoryClock,
    /** Midnight UTC of day 0; day 42 is today. */
    private readonly day0: number,
    /** The moment the story ends: "a few minutes ago". */
    readonly end: number,
  ) {}

  /** The time of `hour` (fractions are minutes) on story day `day`. */
  time(day: number, hour: number, minutes = 0): Date {
    return new Date(this.day0 + day * DAY + hour * HOUR + minutes * MINUTE);
  }

  /** Moves the clock to that time; the following records happen then. */
  at(when: Date): void {
    this.clock.advanceTo(when);
  }

  /** `minutes` before the end of the story. */
  beforeEnd(minutes: number): Date {
    return new Date(this.end - minutes * MINUTE);
  }

  nextRunId(): number {
    this.runIds += 1 + Math.floor(this.random() * 4000);
    return this.runIds;
  }

  nextPullRequest(flow: string): number {
    const n = (this.prNumbers.get(flow) ?? 100 + Math.floor(this.random() * 200)) + 1 + Math.floor(this.random() * 3);
    this.prNumbers.set(flow, n);
    return n;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  /** Uploads one evidence file to the organisation's vault; returns its digest. */
  async upload(name: string, text: string): Promise<string> {
    const item = await this.services.vault.put(this.org, Readable.from([Buffer.from(text, 'utf8')]), { name });
    return item.digest;
  }

  /** The environment's reporter sends what runs now (a snapshot is made only if it changed). */
  async report(env: string): Promise<number | null> {
    const state = this.running.get(env)!.map(({ name, fingerprint, instances }) => ({ name, fingerprint, instances }));
    const { snapshot } = await this.services.environments.report(this.org, env, state);
    return snapshot?.index ?? null;
  }

  runningOf(env: string, flow: string): Running[] {
    return this.running.get(env)!.filter((r) => r.flow === flow);
  }

  /** Replaces every running version of the flow with this one (a rolling deployment, as one snapshot sees it). */
  replace(env: string, next: Running): void {
    const list = this.running.get(env)!;
    this.running.set(env, [...list.filter((r) => r.flow !== next.flow), next]);
  }

  add(env: string, next: Running): void {
    this.running.get(env)!.push(next);
  }

  remove(env: string, fingerprint: string): void {
    this.running.set(env, this.running.get(env)!.filter((r) => r.fingerprint !== fingerprint));
  }

  scale(env: string, fingerprint: string, instances: number): void {
    for (const r of this.running.get(env)!) if (r.fingerprint === fingerprint) r.instances = instances;
  }
}
