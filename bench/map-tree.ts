// The subject map's tree as the map thread keeps it (src/ledger/map-flat.ts, typed arrays) against the object
// tree it replaced (src/ledger/map-tree.ts, the reference the tests check it with): a bulk load of N keys, then
// batches of B updates (half new keys, half existing ones), alternating, CPU per entry and memory after.
//
//   node --expose-gc dist/bench/map-tree.js [--keys 200000] [--batch 256] [--batches 400] [--runs 2]
import os from 'node:os';
import { MapForest, mapKey, updateMap, type MapNode } from '../src/ledger/index.js';
import { benchArgs } from './bench-args.js';

function flat(keys: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(32 * keys.length);
  keys.forEach((k, i) => out.set(k, 32 * i));
  return out;
}

const cpuMs = (since: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1000;
};

function run(kind: 'objects' | 'typed arrays', keys: Uint8Array[], batch: number, batches: number): string {
  const n = keys.length;
  let t = process.cpuUsage();
  let root: MapNode | null = null;
  const forest = new MapForest();
  if (kind === 'objects') root = updateMap(null, keys.map((key, index) => ({ key, index })));
  else forest.apply(0, n, flat(keys), keys.map((_, i) => i));
  const loadMs = cpuMs(t);
  // The batches are made before the clock starts: new keys are hashed subject texts, as the thread derives them.
  const work = Array.from({ length: batches }, (_, r) => [
    ...Array.from({ length: batch / 2 }, (_, j) => keys[(r * 131 + j * 7919) % n]!),
    ...Array.from({ length: batch - batch / 2 }, (_, j) => mapKey(`["artifact","new-${r}-${j}"]`)),
  ]);
  let size = n;
  t = process.cpuUsage();
  for (const b of work) {
    if (kind === 'objects') root = updateMap(root, b.map((key, i) => ({ key, index: size + i })));
    else forest.apply(size, size + batch, flat(b), b.map((_, i) => size + i));
    size += batch;
  }
  const perEntry = (1000 * cpuMs(t)) / (batches * batch);
  const heap = process.memoryUsage().heapUsed / 1e6;
  const rss = process.memoryUsage().rss / 1e6;
  // Keep the tree alive until memory is read.
  const held = kind === 'objects' ? root !== null : forest.has(size);
  return `${kind.padEnd(13)} load ${loadMs.toFixed(0).padStart(5)} ms   update ${perEntry.toFixed(2).padStart(6)} µs/entry   heap ${heap.toFixed(0).padStart(4)} MB   rss ${rss.toFixed(0).padStart(4)} MB${held ? '' : ' (lost)'}`;
}

function main(): void {
  const { values } = benchArgs(import.meta.url, { options: { keys: { type: 'string', default: '200000' }, batch: { type: 'string', default: '256' }, batches: { type: 'string', default: '400' }, runs: { type: 'string', default: '2' } } });
  const [n, batch, batches, runs] = [values.keys, values.batch, values.batches, values.runs].map(Number) as [number, number, number, number];
  if (![n, batch, batches, runs].every((x) => Number.isSafeInteger(x) && x > 0) || batch < 2) {
    throw new Error('usage: node --expose-gc dist/bench/map-tree.js [--keys N] [--batch B] [--batches K] [--runs R]');
  }
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.log('(run with --expose-gc for comparable memory figures)');
  console.log(`${n} keys, then ${batches} batches of ${batch} (half new keys); load ${os.loadavg()[0]!.toFixed(1)}`);
  const keys = Array.from({ length: n }, (_, i) => mapKey(`["artifact","${i}"]`));
  for (let r = 0; r < runs; r++) {
    for (const kind of ['objects', 'typed arrays'] as const) {
      gc?.();
      console.log(run(kind, keys, batch, batches));
    }
  }
}

main();
