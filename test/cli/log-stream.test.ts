import fc from 'fast-check';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EvidentError, toHex } from '../../src/core/index.js';
import { canonicalJson } from '../../src/formats/index.js';
import {
  appendLeaves, consistencyProof, encodeEntryBundle, inclusionProof, leafHash, mapExtension, mapHashOf, mapKey, parseTilePath, rootOfLeaves, updateMap,
  type Checkpoint, type Hash,
} from '../../src/ledger/index.js';
import { streamCheckLog, type TileSource } from '../../src/cli/verify/log-stream.js';
import { entryProblem } from '../../src/cli/verify/log-hash-job.js';

const encoder = new TextEncoder();
const text = (n: number, edited = false) => canonicalJson({ v: 1, type: 'test.record', org: 'acme', n, pad: 'x'.repeat(n % 7), ...(edited ? { x: 1 } : {}) });

interface LogOptions {
  /** An entry whose text is replaced after the checkpoint was signed. */
  edit?: number;
  /** Entries served as raw text instead of their canonical form. */
  raw?: Map<number, string>;
  /** Bundles the server refuses with 413 (entries too long to bundle), served from log/entries instead. */
  tooLong?: Set<number>;
  /** Serves a bundle's first read and a different one after (a server changing its answer). */
  flip?: number;
}

function fakeLog(size: number, o: LogOptions = {}): { source: TileSource; cp: Checkpoint; texts: string[]; reads: string[] } {
  const texts = Array.from({ length: size }, (_, i) => text(i));
  const leaves = texts.map((t) => leafHash(encoder.encode(t)));
  const cp: Checkpoint = { origin: 'evident.test/acme', size, root: rootOfLeaves(leaves), extensions: [] };
  // The stored hashes (and so the server's proofs) are those of the signed tree: only entry texts are edited.
  const stored = new Map(appendLeaves(0, [], leaves).stored.map((x) => [x.index, x.hash] as const));
  if (o.edit !== undefined) texts[o.edit] = text(o.edit, true);
  for (const [i, t] of o.raw ?? []) texts[i] = t;
  const reads: string[] = [];
  const source: TileSource = {
    consistencyProof: async (from, to) => ({ hashes: consistencyProof(from, to ?? size, stored).map(toHex) }),
    inclusionProof: async ({ index, treeSize }) => ({ hashes: inclusionProof(index, treeSize, stored).map(toHex) }),
    logEntries: async (start, end) => ({
      items: texts.slice(start, Math.min(end ?? size, start + 100)).map((entry, i) => ({ index: start + i, entry, leaf_hash: '' })),
      next_cursor: null,
    }),
    logTile: async (rest) => {
      reads.push(rest);
      const tile = parseTilePath(rest);
      if (o.tooLong?.has(tile.index)) throw new EvidentError('PAYLOAD_TOO_LARGE', 'too long');
      const start = tile.index * 256;
      const flipped = o.flip === tile.index && reads.filter((r) => r === rest).length > 1;
      return encodeEntryBundle(texts.slice(start, start + tile.width).map((t, i) => ({ index: start + i, bytes: encoder.encode(flipped && i === 0 ? text(start, true) : t) })));
    },
  };
  return { source, cp, texts, reads };
}

/**
 * The source's tiles behind a real HTTP server, offered for direct GETs (log-hash-fetch.ts): what the threads
 * GET is `served`, what still goes through the source's logTile is `clientReads`. `refuse`: bundles the direct
 * GET is answered 413 for.
 */
async function direct(source: TileSource, o: { refuse?: Set<number>; prefix?: string } = {}) {
  const served: { rest: string; auth: string | undefined }[] = [];
  const clientReads: string[] = [];
  const server = http.createServer((req, res) => {
    const rest = req.url!.slice('/t/'.length);
    served.push({ rest, auth: req.headers.authorization });
    if (o.refuse?.has(parseTilePath(rest).index)) {
      res.statusCode = 413;
      res.end('{"error":{"code":"PAYLOAD_TOO_LARGE","message":"too long"}}');
      return;
    }
    source.logTile(rest).then((bytes) => res.end(Buffer.from(bytes)), () => {
      res.statusCode = 413;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const prefix = o.prefix ?? `http://127.0.0.1:${(server.address() as AddressInfo).port}/t/`;
  const wrapped: TileSource = {
    ...source,
    logTile: (rest) => {
      clientReads.push(rest);
      return source.logTile(rest);
    },
    directTiles: async () => ({ prefix, headers: { authorization: 'Bearer t0k' }, timeoutMs: 5000 }),
  };
  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return { source: wrapped, served, clientReads, close };
}

const checkpointOf = (texts: string[], size: number): Checkpoint => ({
  origin: 'evident.test/acme', size, root: rootOfLeaves(texts.slice(0, size).map((t): Hash => leafHash(encoder.encode(t)))), extensions: [],
});

describe('verify log --full from entry bundles (log-stream.ts)', () => {
  it('rebuilds the signed root at any size, across bundle boundaries, and proves the remembered prefix', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1400 }).chain((size) => fc.tuple(fc.constant(size), fc.integer({ min: 0, max: size }))), async ([size, before]) => {
        const { source, cp, texts } = fakeLog(size);
        const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0, previous: checkpointOf(texts, before) });
        expect(res).toMatchObject({ ok: true, firstBad: null });
        if (before > 0 && before < size) expect(res.previousCheck).toMatchObject({ ok: true });
        else expect(res.previousCheck).toBeUndefined();
      }),
      { numRuns: 30 },
    );
  });

  it('refuses a remembered checkpoint that is not a prefix of the rebuilt tree', async () => {
    const { source, cp } = fakeLog(700);
    const other = fakeLog(300, { edit: 3 });
    const forged = checkpointOf(other.texts, 300);
    const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0, previous: forged });
    expect(res.ok).toBe(true);
    expect(res.previousCheck).toMatchObject({ ok: false });
    expect(res.previousCheck!.message).toMatch(/first 300 entries have root .* the log was rewritten/);
  });

  it('names the edited entry from the signed root, whatever bundle it is in', async () => {
    for (const [size, k] of [[600, 0], [600, 255], [600, 256], [600, 599], [513, 512], [3000, 1777]] as const) {
      const { source, cp } = fakeLog(size, { edit: k });
      const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0 });
      expect(res, `size ${size} K=${k}`).toMatchObject({ ok: false, firstBad: k, firstBadRange: [k, k] });
      expect(res.message).toBe(`entry ${k} is not the entry the signed tree committed to: it was changed after it was logged`);
    }
  });

  // The hashing threads need the worker script built beside the module: the tsc build (dist/src), as the CLI
  // bundle has it beside itself. Each thread frees a job's bundles when done (log-hash-worker.ts release).
  const built = path.resolve('dist/src/cli/verify/log-stream.js');
  it.skipIf(!fs.existsSync(built))('hashes in worker threads as in this thread, bundle after bundle, and finds the same edited entry', async () => {
    const threaded = (await import(built)) as { streamCheckLog: typeof streamCheckLog };
    for (const size of [1, 2300, 4097]) {
      const { source, cp } = fakeLog(size);
      expect(await threaded.streamCheckLog(source, cp, { org: 'acme', threads: 2 }), `size ${size}`).toMatchObject({ ok: true });
    }
    const edited = fakeLog(4097, { edit: 2049 });
    const res = await threaded.streamCheckLog(edited.source, edited.cp, { org: 'acme', threads: 2 });
    expect(res.firstBadRange).toEqual([2049, 2049]);
    expect(res).toMatchObject(await streamCheckLog(edited.source, edited.cp, { org: 'acme', threads: 0 }));
  });

  it.skipIf(!fs.existsSync(built))('worker threads GET their own bundles, and name the same edited entry', async () => {
    const threaded = (await import(built)) as { streamCheckLog: typeof streamCheckLog };
    const { source, cp } = fakeLog(4097);
    const d = await direct(source);
    const edited = fakeLog(4097, { edit: 2049 });
    const e = await direct(edited.source, { refuse: new Set([9]) });
    try {
      expect(await threaded.streamCheckLog(d.source, cp, { org: 'acme', threads: 2 })).toMatchObject({ ok: true });
      expect(d.clientReads).toEqual([]);
      expect(d.served).toHaveLength(17);
      const res = await threaded.streamCheckLog(e.source, edited.cp, { org: 'acme', threads: 2 });
      expect(res).toMatchObject({ ok: false, firstBad: 2049, firstBadRange: [2049, 2049] });
      expect(e.clientReads).toContain('entries/009');
    } finally {
      await d.close();
      await e.close();
    }
  });

  it('lets the hashing side GET the bundles itself, with the client\'s headers, and checks them the same', async () => {
    for (const size of [1, 2300, 4097]) {
      const { source, cp } = fakeLog(size);
      const d = await direct(source);
      try {
        expect(await streamCheckLog(d.source, cp, { org: 'acme', threads: 0 }), `size ${size}`).toMatchObject({ ok: true });
        expect(d.clientReads).toEqual([]);
        expect(d.served.map((x) => parseTilePath(x.rest).index).sort((a, b) => a - b)).toEqual(Array.from({ length: Math.ceil(size / 256) }, (_, i) => i));
        expect(new Set(d.served.map((x) => x.auth))).toEqual(new Set(['Bearer t0k']));
      } finally {
        await d.close();
      }
    }
    const edited = fakeLog(4097, { edit: 2049 });
    const d = await direct(edited.source);
    try {
      const res = await streamCheckLog(d.source, edited.cp, { org: 'acme', threads: 0 });
      expect(res).toMatchObject({ ok: false, firstBad: 2049, firstBadRange: [2049, 2049] });
    } finally {
      await d.close();
    }
  });

  it('reads a bundle the direct GET could not through the source (its 413 fallback, its errors), and a server it cannot reach', async () => {
    const { source, cp } = fakeLog(2300, { tooLong: new Set([3]) });
    const d = await direct(source, { refuse: new Set([3]) });
    try {
      expect(await streamCheckLog(d.source, cp, { org: 'acme', threads: 0 })).toMatchObject({ ok: true });
      // The job of bundles 0–7 was handed back whole: read again through the source, bundle 3 from log/entries.
      expect(d.clientReads).toContain('entries/003');
      expect(d.clientReads.every((r) => parseTilePath(r).index < 8)).toBe(true);
    } finally {
      await d.close();
    }
    const unreachable = await direct(fakeLog(2300).source, { prefix: 'http://127.0.0.1:9/t/' });
    try {
      expect(await streamCheckLog(unreachable.source, cp, { org: 'acme', threads: 0 })).toMatchObject({ ok: true });
      expect(unreachable.clientReads).toHaveLength(9);
    } finally {
      await unreachable.close();
    }
  });

  it('reads bundles refused as too long from log/entries, and checks them the same', async () => {
    const { source, cp } = fakeLog(800, { tooLong: new Set([1, 3]) });
    expect(await streamCheckLog(source, cp, { org: 'acme', threads: 0 })).toMatchObject({ ok: true });
    const edited = fakeLog(800, { tooLong: new Set([1]), edit: 300 });
    expect((await streamCheckLog(edited.source, edited.cp, { org: 'acme', threads: 0 })).firstBadRange).toEqual([300, 300]);
  });

  it('refuses entries that are not canonical JSON of this org, naming the index', async () => {
    const cases: [string, RegExp][] = [
      ['{"v":1, "type":"a","org":"acme"}', /not RFC 8785 canonical JSON/],
      ['{"org":"acme","v":1,"type":"a"}', /not RFC 8785 canonical JSON/],
      ['{"org":"other","type":"a","v":1}', /belongs to org "other"/],
      ['not json', /is not JSON/],
    ];
    for (const [raw, why] of cases) {
      const { source, cp } = fakeLog(300, { raw: new Map([[270, raw]]) });
      const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0 });
      expect(res).toMatchObject({ ok: false, firstBad: 270, firstBadRange: [270, 270] });
      expect(res.message).toMatch(why);
    }
  });

  it('does not believe a server that serves a bundle differently the second time', async () => {
    const { source, cp, texts } = fakeLog(700, { flip: 1 });
    // The remembered prefix ends inside bundle 1, which is read again to compute it.
    await expect(streamCheckLog(source, cp, { org: 'acme', threads: 0, previous: checkpointOf(texts, 300) })).rejects.toThrow(/entry bundle 1 with other contents/);
  });

  it('the quick canonical check agrees with canonicalising (RFC 8785), escapes and integer-like keys included', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (value, pretty) => {
        const entry = { v: 1, type: 't', org: 'acme', value };
        const canonical = canonicalJson(entry);
        expect(entryProblem(canonical, 'acme')).toBeUndefined();
        const other = pretty ? JSON.stringify(entry, null, 1) : JSON.stringify({ value, type: 't', org: 'acme', v: 1 });
        if (other !== canonical) expect(entryProblem(other, 'acme')).toBe('is not RFC 8785 canonical JSON');
      }),
    );
    expect(entryProblem('{"org":"acme","type":"t","v":1,"x":{"10":1,"9":2}}', 'acme')).toBeUndefined();
    expect(entryProblem('{"org":"acme","type":"t","v":1,"x":{"9":2,"10":1}}', 'acme')).toBe('is not RFC 8785 canonical JSON');
    expect(entryProblem('{"org":"acme","type":"t","v":1,"x":-0}', 'acme')).toBe('is not RFC 8785 canonical JSON');
    expect(entryProblem('{"org":"acme","type":"t","v":1,"x":"\\ud800"}', 'acme')).toBe('is not RFC 8785 canonical JSON');
    expect(entryProblem('{"org":"acme","type":"t","v":1,"x":"\\u0001"}', 'acme')).toBeUndefined();
  });
});

describe('verify log --full recomputes the subject map', () => {
  // Entries about three trails (and some about nothing), each linked to the previous entry about its trail.
  function trailLog(size: number, wrongLinkAt?: number): string[] {
    const latest = new Map<string, number>();
    return Array.from({ length: size }, (_, i) => {
      if (i % 5 === 4) return text(i);
      const trail = `t${i % 3}`;
      const before = latest.get(trail) ?? null;
      latest.set(trail, i);
      const prev = i === wrongLinkAt ? (before === null ? 0 : before - 1) : before;
      return canonicalJson({ v: 1, type: 'trail.updated', org: 'acme', flow: 'app', trail, prev: { trail: prev }, n: i });
    });
  }
  const mapLine = (texts: string[]) => {
    const updates = texts.flatMap((t, index) => {
      const e = JSON.parse(t) as { trail?: string };
      return e.trail ? [{ key: mapKey(JSON.stringify(['trail', 'app', e.trail])), index }] : [];
    });
    return mapExtension(mapHashOf(updateMap(null, updates)));
  };
  function served(texts: string[], extensions: string[]): { source: TileSource; cp: Checkpoint } {
    const cp: Checkpoint = { origin: 'evident.test/acme', size: texts.length, root: rootOfLeaves(texts.map((t) => leafHash(encoder.encode(t)))), extensions };
    const source = {
      logTile: async (rest: string) => {
        const tile = parseTilePath(rest);
        const start = tile.index * 256;
        return encodeEntryBundle(texts.slice(start, start + tile.width).map((t, i) => ({ index: start + i, bytes: encoder.encode(t) })));
      },
    } as unknown as TileSource;
    return { source, cp };
  }

  it("passes when the checkpoint's map line is the map of its entries, across jobs of bundles", async () => {
    const texts = trailLog(2600);
    const { source, cp } = served(texts, [mapLine(texts)]);
    const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0 });
    expect(res.ok).toBe(true);
    expect(res.mapCheck).toEqual({ ok: true, message: expect.stringMatching(/matches the checkpoint's map line/) });
  });

  it('fails when the map line commits to another map (an entry left out of it), and says so without a map line', async () => {
    const texts = trailLog(700);
    const { source, cp } = served(texts, [mapLine(texts.slice(0, 698))]);
    const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0 });
    expect(res.mapCheck?.ok).toBe(false);
    expect(res.mapCheck?.message).toMatch(/is not the map of its entries/);
    const none = served(texts, []);
    expect((await streamCheckLog(none.source, none.cp, { org: 'acme', threads: 0 })).mapCheck).toEqual({ ok: true, message: expect.stringMatching(/no subject map line/) });
  });

  it('fails at an entry whose prev link is not the previous entry about its subject', async () => {
    const texts = trailLog(700, 301);
    const { source, cp } = served(texts, [mapLine(texts)]);
    const res = await streamCheckLog(source, cp, { org: 'acme', threads: 0 });
    expect(res.ok).toBe(false);
    expect(res.firstBad).toBe(301);
    expect(res.message).toMatch(/entry 301 links \["trail","app","t1"\] to entry 297, but the previous entry about it is 298/);
  });
});
