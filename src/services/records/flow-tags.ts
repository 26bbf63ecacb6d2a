import { EvidentError } from '../../core/index.js';

/** What `evident tag flow` asks: keys to set (or overwrite) and keys to remove. */
export interface TagChange {
  set?: Record<string, string>;
  unset?: readonly string[];
}

export const TAG_KEY_PATTERN = '^[A-Za-z0-9_.-]{1,64}$';
export const TAG_VALUE_MAX = 256;
/** A flow carries labels, not data: a bound keeps every policy evaluation's context small. */
export const TAGS_MAX = 100;

const KEY = new RegExp(TAG_KEY_PATTERN);

/** Checks a change, reporting every problem with its path; returns it with its keys sorted (canonical log entry). */
export function checkTagChange(change: TagChange): { set: Record<string, string>; unset: string[] } {
  const problems: { path: string; message: string }[] = [];
  const set = change.set ?? {};
  const unset = [...new Set(change.unset ?? [])].sort();
  for (const [key, value] of Object.entries(set)) {
    if (!KEY.test(key)) problems.push({ path: `set.${key}`, message: "a tag key is 1-64 letters, digits, '_', '.' or '-'" });
    if (typeof value !== 'string') problems.push({ path: `set.${key}`, message: 'a tag value is a string' });
    else if (value.length > TAG_VALUE_MAX) problems.push({ path: `set.${key}`, message: `a tag value is at most ${TAG_VALUE_MAX} characters` });
    if (unset.includes(key)) problems.push({ path: `set.${key}`, message: 'both set and unset' });
  }
  unset.forEach((key, i) => {
    if (!KEY.test(key)) problems.push({ path: `unset[${i}]`, message: "a tag key is 1-64 letters, digits, '_', '.' or '-'" });
  });
  if (Object.keys(set).length === 0 && unset.length === 0) problems.push({ path: 'set', message: 'nothing to change: give --set KEY=VALUE or --unset KEY' });
  if (problems.length > 0) {
    throw new EvidentError('INVALID_ARGUMENT', `invalid tags: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { details: problems });
  }
  return { set: sortedTags(Object.entries(set)), unset };
}

/** The tags after a checked change; more than TAGS_MAX is refused. */
export function mergeTags(current: Record<string, string>, change: { set: Record<string, string>; unset: readonly string[] }): Record<string, string> {
  const next = new Map([...Object.entries(current), ...Object.entries(change.set)]);
  for (const key of change.unset) next.delete(key);
  if (next.size > TAGS_MAX) throw new EvidentError('INVALID_ARGUMENT', `a flow, environment, control or repository has at most ${TAGS_MAX} tags`);
  return sortedTags([...next]);
}

/** Keys sorted; built with fromEntries so a key such as `__proto__` is an ordinary own property. */
function sortedTags(entries: [string, string][]): Record<string, string> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
