import { EvidentError } from '../../core/index.js';

/** `env`, `env#N`, `env~N`, `env@{ISO-8601}`, `env@{N.minutes|hours|days|weeks.ago}` (Kosli's snappish). */
export type SnapshotExpr =
  | { env: string; kind: 'latest' }
  | { env: string; kind: 'index'; index: number }
  | { env: string; kind: 'back'; back: number }
  | { env: string; kind: 'time'; time: string };

const UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000 };

function bad(expr: string, why: string): EvidentError {
  return new EvidentError('INVALID_ARGUMENT', `invalid snapshot ${JSON.stringify(expr)}: ${why} (use ENV, ENV#N, ENV~N, ENV@{2026-01-31T12:00:00} or ENV@{3.hours.ago})`);
}

export function parseSnapshotExpr(expr: string, now: Date): SnapshotExpr {
  const at = /^([^#~@]+)@\{(.+)\}$/.exec(expr);
  if (at) {
    const [, env, inner] = at as unknown as [string, string, string];
    const ago = /^(\d{1,6})\.(minute|hour|day|week)s?\.ago$/.exec(inner);
    if (ago) return { env, kind: 'time', time: new Date(now.getTime() - Number(ago[1]) * UNITS[ago[2]!]!).toISOString() };
    // ISO-8601 with a time; without a zone it is UTC, so every client reads it the same way.
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/.test(inner)) throw bad(expr, 'the time is neither ISO-8601 nor N.unit.ago');
    const time = new Date(/Z|[+-]\d{2}:\d{2}$/.test(inner) ? inner : `${inner}Z`);
    if (Number.isNaN(time.getTime())) throw bad(expr, 'not a real time');
    return { env, kind: 'time', time: time.toISOString() };
  }
  const hash = /^([^#~@]+)#(\d{1,9})$/.exec(expr);
  if (hash) {
    const index = Number(hash[2]);
    if (index < 1) throw bad(expr, 'snapshots are numbered from 1');
    return { env: hash[1]!, kind: 'index', index };
  }
  const tilde = /^([^#~@]+)~(\d{1,9})$/.exec(expr);
  if (tilde) return { env: tilde[1]!, kind: 'back', back: Number(tilde[2]) };
  if (/[#~@{}]/.test(expr)) throw bad(expr, 'unexpected #, ~, @ or braces');
  return { env: expr, kind: 'latest' };
}
