import type { KeyComponents } from './cache-key.js';
import type { FileDigest } from './types.js';
import { compareBytes } from './expand.js';

// Why a step's cache key changed: the difference between the key inputs of the last run (step-history.ts)
// and the current ones, component by component (`evident cache explain STEP`, and the short reason of a
// `cache miss (inputs changed)` line, seed 003 §3.3). Pure.

export type KeyChange =
  | { kind: 'command'; before: string; after: string }
  | { kind: 'env'; name: string; change: 'added' | 'removed' | 'changed'; before?: string; after?: string }
  | { kind: 'input' | 'global'; path: string; change: 'added' | 'removed' | 'content' | 'executable'; before?: FileDigest; after?: FileDigest }
  | { kind: 'setting'; name: 'env_mode' | 'isolation' | 'image' | 'working_dir'; before: string; after: string }
  | { kind: 'upstream'; step: string; change: 'added' | 'removed' | 'changed'; before?: string; after?: string }
  | { kind: 'outputs'; before: string[]; after: string[] };

function diffMaps(before: Record<string, string>, after: Record<string, string>): { name: string; change: 'added' | 'removed' | 'changed' }[] {
  const names = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareBytes);
  const out: { name: string; change: 'added' | 'removed' | 'changed' }[] = [];
  for (const name of names) {
    if (!(name in before)) out.push({ name, change: 'added' });
    else if (!(name in after)) out.push({ name, change: 'removed' });
    else if (before[name] !== after[name]) out.push({ name, change: 'changed' });
  }
  return out;
}

export function diffKeyComponents(before: KeyComponents, after: KeyComponents): KeyChange[] {
  const changes: KeyChange[] = [];
  if (before.command !== after.command) changes.push({ kind: 'command', before: before.command, after: after.command });
  for (const d of diffMaps(before.env, after.env)) changes.push({ kind: 'env', ...d, before: before.env[d.name], after: after.env[d.name] });
  const files = (kind: 'input' | 'global', before: FileDigest[], after: FileDigest[]) => {
    const old = new Map(before.map((f) => [f.path, f]));
    const now = new Map(after.map((f) => [f.path, f]));
    for (const p of [...new Set([...old.keys(), ...now.keys()])].sort(compareBytes)) {
      const [b, a] = [old.get(p), now.get(p)];
      if (!b) changes.push({ kind, path: p, change: 'added', after: a });
      else if (!a) changes.push({ kind, path: p, change: 'removed', before: b });
      else if (b.sha256 !== a.sha256) changes.push({ kind, path: p, change: 'content', before: b, after: a });
      else if (b.executable !== a.executable) changes.push({ kind, path: p, change: 'executable', before: b, after: a });
    }
  };
  files('input', before.inputs, after.inputs);
  // Histories written before global inputs existed have none: every default global then shows as added.
  files('global', before.global ?? [], after.global ?? []);
  const mode = (c: KeyComponents) => c.envMode ?? 'loose';
  if (mode(before) !== mode(after)) changes.push({ kind: 'setting', name: 'env_mode', before: mode(before), after: mode(after) });
  const iso = (c: KeyComponents) => c.isolation ?? 'process';
  if (iso(before) !== iso(after)) changes.push({ kind: 'setting', name: 'isolation', before: iso(before), after: iso(after) });
  else if (before.image !== after.image) changes.push({ kind: 'setting', name: 'image', before: before.image ?? '-', after: after.image ?? '-' });
  const dir = (c: KeyComponents) => c.workingDir ?? '.';
  if (dir(before) !== dir(after)) changes.push({ kind: 'setting', name: 'working_dir', before: dir(before), after: dir(after) });
  for (const d of diffMaps(before.needs, after.needs)) changes.push({ kind: 'upstream', step: d.name, change: d.change, before: before.needs[d.name], after: after.needs[d.name] });
  const [bo, ao] = [[...before.outputs].sort(compareBytes), [...after.outputs].sort(compareBytes)];
  if (bo.join('\0') !== ao.join('\0')) changes.push({ kind: 'outputs', before: before.outputs, after: after.outputs });
  return changes;
}

const short = (hex: string | undefined) => (hex ?? '').slice(0, 12);
const q = JSON.stringify;

/** One line per change, e.g. `input src/main.js: content changed (sha256 1a2b3c4d5e6f -> 9f8e7d6c5b4a)`. */
export function describeChange(c: KeyChange): string {
  switch (c.kind) {
    case 'command':
      return `command: changed from ${q(c.before)} to ${q(c.after)}`;
    case 'env':
      // A pass_env variable is recorded by digest (sha256:… or unset), never by value.
      if (c.change === 'added') return `env ${c.name}: added (${q(c.after)})`;
      if (c.change === 'removed') return `env ${c.name}: removed (was ${q(c.before)})`;
      return `env ${c.name}: changed from ${q(c.before)} to ${q(c.after)}`;
    case 'input':
    case 'global': {
      const what = c.kind === 'global' ? 'global input' : 'input';
      if (c.change === 'added') return `${what} ${c.path}: added`;
      if (c.change === 'removed') return `${what} ${c.path}: removed`;
      if (c.change === 'content') return `${what} ${c.path}: content changed (sha256 ${short(c.before?.sha256)} -> ${short(c.after?.sha256)})`;
      return `${what} ${c.path}: executable bit ${c.after?.executable ? 'set' : 'cleared'}`;
    }
    case 'setting':
      return `${c.name}: ${c.before} before, ${c.after} now`;
    case 'upstream':
      if (c.change === 'added') return `upstream ${c.step}: now needed`;
      if (c.change === 'removed') return `upstream ${c.step}: no longer needed`;
      return `upstream ${c.step}: its key changed (${short(c.before)} -> ${short(c.after)}); see \`evident cache explain ${c.step}\``;
    case 'outputs':
      return `outputs: declared ${q(c.before)} before, ${q(c.after)} now`;
  }
}

/** The short reason of a miss line: `inputs changed`, `command and env changed`, `upstream build changed`. */
export function missReason(changes: KeyChange[]): string {
  const parts: string[] = [];
  const has = (kind: KeyChange['kind']) => changes.some((c) => c.kind === kind);
  if (has('command')) parts.push('command');
  if (has('env')) parts.push('env');
  if (has('input')) parts.push('inputs');
  if (has('global')) parts.push(`global input ${changes.filter((c) => c.kind === 'global').map((c) => (c as { path: string }).path).join(', ')}`);
  if (has('setting')) parts.push(changes.filter((c): c is Extract<KeyChange, { kind: 'setting' }> => c.kind === 'setting').map((c) => c.name).join(', '));
  if (has('outputs')) parts.push('outputs');
  const upstream = changes.filter((c): c is Extract<KeyChange, { kind: 'upstream' }> => c.kind === 'upstream').map((c) => c.step);
  if (upstream.length > 0) parts.push(`upstream ${upstream.join(', ')}`);
  if (parts.length === 0) return 'key changed';
  const list = parts.length === 1 ? parts[0]! : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]!}`;
  return `${list} changed`;
}
