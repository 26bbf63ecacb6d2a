// Summarises a V8 .cpuprofile (from `node --cpu-prof`): where the main thread's time went, by function
// (self time) and by code area, plus inclusive time of the functions named on the command line.
//
//   node dist/bench/profile-summary.js PROFILE.cpuprofile [functionName ...]
import fs from 'node:fs';
import { table } from './stats.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Coarse code areas, so "how much is ours, the query builder, the driver, idle" reads at a glance. */
function area(url: string, name: string): string {
  if (name === '(idle)') return 'idle (waiting for I/O)';
  if (name === '(garbage collector)') return 'garbage collector';
  if (name === '(program)') return 'native / VM (program)';
  if (url.includes('/src/formats/')) return 'src/formats (canonical JSON)';
  if (url.includes('/src/ledger/')) return 'src/ledger (hashing, tree)';
  if (url.includes('/src/services/')) return 'src/services';
  if (url.includes('/src/store/')) return 'src/store';
  if (url.includes('/bench/')) return 'bench harness';
  if (url.includes('/kysely/')) return 'kysely';
  if (url.includes('/better-sqlite3/')) return 'better-sqlite3 (JS side)';
  if (url.includes('/pg/') || url.includes('/pg-protocol/') || url.includes('/pg-pool/')) return 'pg driver';
  if (url.startsWith('node:')) return 'node core';
  if (url === '') return `native: ${name || '(anonymous)'}`;
  return 'other';
}

function main(): void {
  const [file, ...focus] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js PROFILE.cpuprofile [functionName ...]');
    process.exitCode = 2;
    return;
  }
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const totalMs = (profile.endTime - profile.startTime) / 1000;

  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const bump = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, ms] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    bump(byArea, area(url, functionName), ms);
    const where = url === '' ? '' : ` ${url.replace(/^.*\/(node_modules\/|src\/|bench\/)/, '$1')}:${lineNumber + 1}`;
    bump(byFunction, `${functionName || '(anonymous)'}${where}`, ms);
  }

  // Inclusive time: a sample counts once for a named function even when it recurses.
  const inclusive = new Map<string, number>();
  for (const [id, ms] of self) {
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const name = byId.get(n)!.callFrame.functionName;
      if (focus.includes(name) && !seen.has(name)) {
        seen.add(name);
        bump(inclusive, name, ms);
      }
    }
  }

  const pct = (ms: number) => `${((100 * ms) / totalMs).toFixed(1)}%`;
  const rows = (m: Map<string, number>, limit: number) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([k, ms]) => [k, ms.toFixed(0), pct(ms)]);
  console.log(`profile ${file}: ${totalMs.toFixed(0)} ms of wall time sampled`);
  console.log(`\n${table(['self time by area', 'ms', 'share'], rows(byArea, 30))}`);
  console.log(`\n${table(['self time by function', 'ms', 'share'], rows(byFunction, 30))}`);
  if (focus.length > 0) console.log(`\n${table(['inclusive time', 'ms', 'share'], rows(inclusive, focus.length))}`);
}

main();
