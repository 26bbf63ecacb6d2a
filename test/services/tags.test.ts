import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord, SqlStore } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

// Kosli's `tag env|control|repo` (services/records/tags.ts) and `archive attestation-type`: one signed entry per
// change, none for a no-op, and what is shown is the replay of verified entries (migration 0021).

describe.each(engines())('tags and attestation type archives on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const size = async () => services.log.size(org);

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    await services.environments.create(org, { name: 'prod', type: 'k8s' });
    await services.environments.create(org, { name: 'stage', type: 'k8s' });
  });
  afterAll(async () => cleanup());

  it('tags an environment: one entry per change carrying only the change, none when nothing changes', async () => {
    const before = await size();
    const first = await services.tags.tag(org, 'environment', 'prod', { set: { team: 'platform', tier: '1' } });
    expect(first.tags).toEqual({ team: 'platform', tier: '1' });
    expect(first.entry_index).toBe(before);
    const entry = JSON.parse((await services.store.log.entriesAt(org.id, [before]))[0]!.entry) as Record<string, unknown>;
    expect(entry).toMatchObject({ type: 'environment.tagged', environment: 'prod', set: { team: 'platform', tier: '1' }, unset: [] });
    expect(entry.prev).toEqual({ environment: expect.any(Number) });
    const second = await services.tags.tag(org, 'environment', 'prod', { set: { tier: '2' }, unset: ['team'] });
    expect(second.tags).toEqual({ tier: '2' });
    const again = await services.tags.tag(org, 'environment', 'prod', { set: { tier: '2' } });
    expect(again.entry_index).toBeNull();
    expect(await size()).toBe(before + 2);
    expect((await services.tags.tags(org, 'environment')).get('prod')).toEqual({ tier: '2' });
    expect((await services.tags.tags(org, 'environment')).has('stage')).toBe(false);
  });

  it('refuses an unknown environment, a bad repository name and bad keys, writing nothing', async () => {
    const before = await size();
    await expect(services.tags.tag(org, 'environment', 'nope', { set: { a: 'b' } })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(services.tags.tag(org, 'repo', 'not a repo', { set: { a: 'b' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(services.tags.tag(org, 'control', 'c-1', { set: { 'bad key': 'b' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await size()).toBe(before);
    expect((await services.tags.tag(org, 'repo', 'acme/backend', { set: { team: 'core' } })).tags).toEqual({ team: 'core' });
    expect((await services.tags.tag(org, 'control', 'SOC2-CC8.1', { set: { owner: 'sec' } })).tags).toEqual({ owner: 'sec' });
  });

  it('a tag_entries row pointing at another entry is TAMPERED, never a different tag', async () => {
    const store = services.store as SqlStore;
    // An attacker who can write the database adds a row naming a snapshot-less, unrelated entry (the first one).
    await sql`INSERT INTO tag_entries (org_id, kind, subject, entry_index) VALUES (${org.id}, 'environment', 'stage', 0)`.execute(store.db);
    await expect(services.tags.tags(org, 'environment', ['stage'])).rejects.toMatchObject({ code: 'TAMPERED' });
    await expect(sql`DELETE FROM tag_entries`.execute(store.db)).rejects.toThrow(/append-only/);
    // last_modified_at reads only each subject's newest entry: a row naming a later, unrelated entry is
    // TAMPERED there too, never a later time.
    const later = await services.tags.tag(org, 'control', 'later-control', { set: { a: 'b' } });
    await sql`INSERT INTO tag_entries (org_id, kind, subject, entry_index) VALUES (${org.id}, 'environment', 'stage', ${later.entry_index})`.execute(store.db);
    const stage = (await services.store.environments.environment(org.id, 'stage'))!;
    await expect(services.tags.modifiedAtMany(org, 'environment', [{ name: 'stage', entryIndex: stage.entryIndex }])).rejects.toMatchObject({ code: 'TAMPERED' });
  });

  it('archives an attestation type: one entry, idempotent; no new attestations or versions', async () => {
    await services.attestationTypes.create(org, { name: 'coverage', schema: {}, summary: [{ name: 'Lines', expression: '.lines' }] });
    const type = await services.attestationTypes.get(org, 'coverage');
    expect((await services.attestationTypes.summaries(org, [type])).get(type.entryIndex)).toEqual([{ name: 'Lines', expression: '.lines' }]);
    const before = await size();
    const at = await services.attestationTypes.archive(org, 'coverage');
    expect(await services.attestationTypes.archive(org, 'coverage')).toBe(at);
    expect(await size()).toBe(before + 1);
    expect((await services.attestationTypes.archived(org)).get('coverage')).toBe(at);
    await expect(services.attestationTypes.create(org, { name: 'coverage', schema: {} })).rejects.toMatchObject({ code: 'CONFLICT' });
  });
});
