import { createHash } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildWitnessApp } from '../../src/server/index.js';
import { WitnessService, parseWitnessEndpoint } from '../../src/services/index.js';
import { WitnessStore, type OrgRecord, type SqlStore } from '../../src/store/index.js';
import {
  checkWitnessPolicy, formatAddCheckpoint, formatCheckpoint, generateCosignerKey, generateSignerKey, makeWitnessPolicy, parseCosignerKey, parseSignerKey,
  signNote, splitNote, EMPTY_ROOT,
} from '../../src/ledger/index.js';
import { createServices, type ServiceBundle } from '../../src/services/index.js';
import { engines, tempDir } from '../helpers/engines.js';

const sqlite = engines().find((e) => e.name === 'sqlite')!;
const logSigner = parseSignerKey(generateSignerKey('test.evident/log').signerKey);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startWitness(n: number, logKey: string) {
  const keys = generateCosignerKey(`witness.test/w${n}`);
  const store = new WitnessStore(path.join(tempDir(), 'witness.sqlite'));
  const service = new WitnessService({ store, cosigner: parseCosignerKey(keys.signerKey), logs: [logKey] });
  const app = buildWitnessApp(service);
  cleanups.push(() => store.close(), () => app.close());
  const url = `http://witness-${n}.test`;
  return { keys, store, service, app, url };
}

type Witness = ReturnType<typeof startWitness>;

/** A fetch that delivers requests for the witnesses' URLs to their apps in-process. */
function routedFetch(witnesses: Witness[]): typeof fetch {
  return (async (input: string, init: RequestInit) => {
    const w = witnesses.find((x) => input.startsWith(x.url))!;
    const res = await w.app.inject({ method: 'POST', url: input.slice(w.url.length), payload: String(init.body), headers: { 'content-type': 'text/plain' } });
    return new Response(res.body, { status: res.statusCode, headers: { 'content-type': String(res.headers['content-type']) } });
  }) as unknown as typeof fetch;
}

async function logServer(witnesses: Witness[], engine = sqlite): Promise<{ services: ServiceBundle; org: OrgRecord }> {
  const opened = await engine.open();
  const endpoints = witnesses.map((w) => parseWitnessEndpoint(`${w.url}=${w.keys.verifierKey}`));
  const services = createServices(opened.store, logSigner, { witnesses: endpoints, witnessing: { fetch: routedFetch(witnesses) } });
  cleanups.push(opened.cleanup);
  const org = (await services.auth.ensureOrg('acme')).org;
  return { services, org };
}

describe('the server submits checkpoints to its witnesses', () => {
  it('serves the checkpoint with a cosignature from each witness, and follows the log as it grows', async () => {
    const probe = await sqlite.open();
    const key = createServices(probe.store, logSigner).log.verifierKeyFor({ name: 'acme' });
    await probe.cleanup();
    const witnesses = [1, 2, 3].map((n) => startWitness(n, key));
    const { services, org } = await logServer(witnesses);
    const policy = makeWitnessPolicy(witnesses.map((w) => w.keys.verifierKey), 3);
    for (let round = 1; round <= 3; round++) {
      await services.log.append(org, 'test.entry', { n: round });
      await services.witnesses!.idle();
      const note = await services.witnesses!.served(org);
      expect(checkWitnessPolicy(note, policy).valid).toBe(3);
      expect(note.startsWith(await services.log.checkpoint(org))).toBe(true);
    }
    expect(witnesses[0]!.store.latest('test.evident/log/acme', key)!.size).toBe(await services.log.size(org));
  });

  it('a VSA carries its checkpoint cosigned by the witnesses, and the cosignatures are part of the digest it cites', async () => {
    const probe = await sqlite.open();
    const key = createServices(probe.store, logSigner).log.verifierKeyFor({ name: 'acme' });
    await probe.cleanup();
    const witnesses = [1, 2].map((n) => startWitness(n, key));
    const { services, org } = await logServer(witnesses);
    const fp = 'd'.repeat(64);
    await services.flows.create(org, { name: 'app' });
    await services.trails.begin(org, { flow: 'app', name: 'r1' });
    await services.artifacts.report(org, { flow: 'app', trail: 'r1', name: 'app', fingerprint: fp });
    const result = await services.asserts.artifact(org, { fingerprint: fp, flow: 'app' }, { vsa: true });
    const note = result.vsa!.evidentLog.checkpoint;
    expect(checkWitnessPolicy(note, makeWitnessPolicy(witnesses.map((w) => w.keys.verifierKey), 2)).valid).toBe(2);
    const statement = JSON.parse(Buffer.from(result.vsa!.payload, 'base64').toString('utf8'));
    expect(statement.predicate.inputAttestations[0].digest.sha256).toBe(createHash('sha256').update(note).digest('hex'));
    // Witnesses that do not answer: the VSA is still signed, with the checkpoint alone.
    const alone = restarted(services, witnesses);
    await services.artifacts.report(org, { flow: 'app', trail: 'r1', name: 'app', fingerprint: fp });
    const later = await alone.asserts.artifact(org, { fingerprint: fp, flow: 'app' }, { vsa: true });
    expect(later.vsa!.evidentLog.checkpoint).toBe(await alone.log.checkpoint(org));
  });

  it('a forked log (same key, other history) gathers no cosignature from witnesses that saw the honest one', async () => {
    const probe = await sqlite.open();
    const key = createServices(probe.store, logSigner).log.verifierKeyFor({ name: 'acme' });
    await probe.cleanup();
    const witnesses = [1, 2, 3].map((n) => startWitness(n, key));
    const honest = await logServer(witnesses);
    for (let i = 0; i < 5; i++) await honest.services.log.append(honest.org, 'test.entry', { i });
    await honest.services.witnesses!.idle();
    const fork = await logServer(witnesses);
    for (let i = 0; i < 7; i++) await fork.services.log.append(fork.org, 'test.entry', { i, forked: true });
    await fork.services.witnesses!.idle();
    const note = await fork.services.witnesses!.served(fork.org);
    const policy = makeWitnessPolicy(witnesses.map((w) => w.keys.verifierKey), 2);
    expect(() => checkWitnessPolicy(note, policy)).toThrow(/0 valid witness cosignatures of 2 required/);
    // The witnesses kept the fork's signed checkpoint as evidence.
    expect(witnesses[0]!.store.refusals('test.evident/log/acme').length).toBeGreaterThan(0);
  });
});

/** The same database and witness keys in a fresh process whose witnesses are all unreachable. */
function restarted(services: ServiceBundle, witnesses: Witness[]): ServiceBundle {
  const endpoints = witnesses.map((w) => parseWitnessEndpoint(`${w.url}=${w.keys.verifierKey}`));
  const down = (async () => {
    throw new Error('connection refused');
  }) as unknown as typeof fetch;
  return createServices(services.store, logSigner, { witnesses: endpoints, witnessing: { fetch: down } });
}

type Cosigned = { log_cosigned: { org_id: number; size: number; note: string; updated_at: string } };

describe.each(engines())('cosigned checkpoints survive a restart ($name)', (engine) => {
  async function cosignedLog() {
    const probe = await sqlite.open();
    const key = createServices(probe.store, logSigner).log.verifierKeyFor({ name: 'acme' });
    await probe.cleanup();
    const witnesses = [1, 2].map((n) => startWitness(n, key));
    const server = await logServer(witnesses, engine);
    const policy = makeWitnessPolicy(witnesses.map((w) => w.keys.verifierKey), 2);
    return { witnesses, ...server, policy };
  }
  const edit = (services: ServiceBundle, note: string) =>
    (services.store as SqlStore).db.withTables<Cosigned>().updateTable('log_cosigned').set({ note }).execute();

  it('a restarted server serves the recorded cosigned checkpoint while its witnesses are down', async () => {
    const { witnesses, services, org, policy } = await cosignedLog();
    for (let i = 0; i < 3; i++) await services.log.append(org, 'test.entry', { i });
    await services.witnesses!.idle();
    const cosigned = await services.witnesses!.served(org);
    expect(checkWitnessPolicy(cosigned, policy).valid).toBe(2);
    const again = restarted(services, witnesses);
    expect(await again.witnesses!.served(org)).toBe(cosigned);
    // Appends after the restart: until witnesses answer, the newest cosigned prefix is what is cosigned.
    await again.log.append(org, 'test.entry', { i: 3 });
    const third = restarted(services, witnesses);
    const served = await third.witnesses!.served(org);
    expect(served).toBe(cosigned);
    await third.witnesses!.idle();
  });

  it('a recorded row is served only as verified: a forged cosignature, an edited text or another log key is refused', async () => {
    const { witnesses, services, org, policy } = await cosignedLog();
    for (let i = 0; i < 2; i++) await services.log.append(org, 'test.entry', { i });
    await services.witnesses!.idle();
    const cosigned = await services.witnesses!.served(org);
    const head = await services.log.checkpoint(org);
    const lines = cosigned.slice(head.length).split('\n').filter((l) => l !== '');
    // One cosignature's bytes changed: that line is dropped, the other still verifies.
    const flipped = lines[0]!.slice(0, -6) + (lines[0]!.slice(-6, -5) === 'A' ? 'B' : 'A') + lines[0]!.slice(-5);
    await edit(services, `${head}${flipped}\n${lines[1]}\n`);
    const one = await restarted(services, witnesses).witnesses!.served(org);
    expect(checkWitnessPolicy(one, makeWitnessPolicy(witnesses.map((w) => w.keys.verifierKey), 1)).valid).toBe(1);
    expect(one).not.toContain(flipped);
    // Every cosignature forged: the head is served alone.
    await edit(services, `${head}${flipped}\n`);
    expect(await restarted(services, witnesses).witnesses!.served(org)).toBe(head);
    // The text edited (another root), with the real cosignature lines: the log's signature fails.
    const { text } = splitNote(head);
    const other = text.replace(/\n([A-Za-z0-9+/]{43}=)\n/, (_, r: string) => `\n${r[0] === 'A' ? 'B' : 'A'}${r.slice(1)}\n`);
    expect(other).not.toBe(text);
    await edit(services, `${other}${head.slice(text.length)}${lines.join('\n')}\n`);
    expect(await restarted(services, witnesses).witnesses!.served(org)).toBe(head);
    // Signed by another log key (a checkpoint the server never made).
    const stranger = parseSignerKey(generateSignerKey(logSigner.name + '/acme').signerKey);
    await edit(services, signNote(text, [stranger]) + lines.join('\n') + '\n');
    expect(await restarted(services, witnesses).witnesses!.served(org)).toBe(head);
    // The genuine note again: served, and valid under the 2-of-2 policy.
    await edit(services, cosigned);
    expect(checkWitnessPolicy(await restarted(services, witnesses).witnesses!.served(org), policy).valid).toBe(2);
  });
});

describe('add-checkpoint answers (C2SP tlog-witness)', () => {
  const origin = 'test.evident/log/acme';
  const signer = parseSignerKey(generateSignerKey(origin).signerKey);
  const root = (n: number) => new Uint8Array(32).fill(n);
  const note = (size: number, r: Uint8Array, s = signer) => signNote(formatCheckpoint({ origin, size, root: r }), [s]);
  const post = (w: Witness, body: string) => w.app.inject({ method: 'POST', url: '/add-checkpoint', payload: body, headers: { 'content-type': 'text/plain' } });

  it('cosigns the first checkpoint, then answers 409 with its size to a stale old size', async () => {
    const w = startWitness(1, signer.verifierKey);
    const first = await post(w, formatAddCheckpoint({ oldSize: 0, proof: [], note: note(4, root(1)) }));
    expect(first.statusCode).toBe(200);
    expect(first.body).toMatch(/^\u2014 witness\.test\/w1 [A-Za-z0-9+/=]+\n$/);
    const stale = await post(w, formatAddCheckpoint({ oldSize: 0, proof: [], note: note(5, root(2)) }));
    expect(stale.statusCode).toBe(409);
    expect(stale.headers['content-type']).toBe('text/x.tlog.size');
    expect(stale.body).toBe('4\n');
  });

  it('404 for an unknown origin, 403 for a signature by another key, 400 for old > size or a bad body, 422 for a bad proof, 409 for another root at the same size', async () => {
    const w = startWitness(1, signer.verifierKey);
    const stranger = parseSignerKey(generateSignerKey('other.log/acme').signerKey);
    expect((await post(w, formatAddCheckpoint({ oldSize: 0, proof: [], note: signNote(formatCheckpoint({ origin: 'other.log/acme', size: 1, root: root(1) }), [stranger]) }))).statusCode).toBe(404);
    const impostor = parseSignerKey(generateSignerKey(origin).signerKey);
    expect((await post(w, formatAddCheckpoint({ oldSize: 0, proof: [], note: note(1, root(1), impostor) }))).statusCode).toBe(403);
    expect((await post(w, formatAddCheckpoint({ oldSize: 0, proof: [], note: note(0, EMPTY_ROOT) }))).statusCode).toBe(200);
    expect((await post(w, formatAddCheckpoint({ oldSize: 0, proof: [], note: note(3, root(3)) }))).statusCode).toBe(200);
    expect((await post(w, formatAddCheckpoint({ oldSize: 4, proof: [], note: note(3, root(3)) }))).statusCode).toBe(400);
    expect((await post(w, 'old 01\n\n' + note(3, root(3)))).statusCode).toBe(400);
    expect((await post(w, formatAddCheckpoint({ oldSize: 3, proof: [root(9)], note: note(5, root(5)) }))).statusCode).toBe(422);
    expect((await post(w, formatAddCheckpoint({ oldSize: 3, proof: [], note: note(3, root(4)) }))).statusCode).toBe(409);
    expect(w.store.latest(origin, signer.verifierKey)!.size).toBe(3);
  });
});
