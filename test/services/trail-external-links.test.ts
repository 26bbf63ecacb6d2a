import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceBundle } from '../../src/services/index.js';
import type { OrgRecord } from '../../src/store/index.js';
import { engines } from '../helpers/engines.js';
import { openServices } from '../helpers/services.js';

// Kosli's `begin trail --external-url LABEL=URL --external-fingerprint LABEL=SHA256` (cmd/kosli/beginTrail.go,
// processExternalURLs in attestation.go): the digest of what a link points at, kept beside the link in the
// trail's entry and read back from it, verified.

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

describe.each(engines())('a trail\'s external links and their fingerprints on $name', (engine) => {
  let services: ServiceBundle;
  let org: OrgRecord;
  let cleanup: () => Promise<void>;
  const size = async () => services.log.size(org);
  const entryAt = async (index: number) => JSON.parse((await services.store.log.entriesAt(org.id, [index]))[0]!.entry) as Record<string, unknown>;

  beforeAll(async () => {
    ({ services, org, cleanup } = await openServices(engine));
    await services.flows.create(org, { name: 'runner' });
  });
  afterAll(async () => cleanup());

  it('keeps each fingerprint with its link in the trail.begun entry, and reads them back from it', async () => {
    const { trail } = await services.trails.beginOrUpdate(org, {
      flow: 'runner', name: 't1', externalUrls: { sbom: 'https://example.com/sbom.json', jira: 'https://jira.example.com/P-1' }, externalFingerprints: { sbom: A.toUpperCase() },
    });
    expect(await entryAt(trail.entryIndex)).toMatchObject({ type: 'trail.begun', external_urls: { jira: 'https://jira.example.com/P-1', sbom: 'https://example.com/sbom.json' }, external_fingerprints: { sbom: A } });
    expect(await services.trails.externalLinks(org, trail)).toEqual({ urls: { jira: 'https://jira.example.com/P-1', sbom: 'https://example.com/sbom.json' }, fingerprints: { sbom: A } });
  });

  it('a re-run: the same links append nothing; a new digest is one trail.updated; a moved link without a digest loses its old one', async () => {
    const before = await size();
    const same = await services.trails.beginOrUpdate(org, { flow: 'runner', name: 't1', externalUrls: { sbom: 'https://example.com/sbom.json' }, externalFingerprints: { sbom: A } });
    expect(same.outcome).toBe('unchanged');
    const kept = await services.trails.beginOrUpdate(org, { flow: 'runner', name: 't1', externalUrls: { sbom: 'https://example.com/sbom.json' } });
    expect(kept.outcome).toBe('unchanged');
    expect(await size()).toBe(before);
    const changed = await services.trails.beginOrUpdate(org, { flow: 'runner', name: 't1', externalUrls: { sbom: 'https://example.com/sbom.json' }, externalFingerprints: { sbom: B } });
    expect(changed.outcome).toBe('updated');
    expect(await entryAt(before)).toMatchObject({ type: 'trail.updated', external_fingerprints: { sbom: B } });
    const moved = await services.trails.beginOrUpdate(org, { flow: 'runner', name: 't1', externalUrls: { sbom: 'https://example.com/sbom-v2.json' } });
    expect(moved.outcome).toBe('updated');
    expect((await services.trails.externalLinks(org, moved.trail)).fingerprints).toEqual({});
    expect(await size()).toBe(before + 2);
  });

  it('refuses a fingerprint without a link of its label, or not a SHA-256, and records nothing (Kosli\'s rule)', async () => {
    const before = await size();
    await expect(services.trails.beginOrUpdate(org, { flow: 'runner', name: 't2', externalFingerprints: { sbom: A } }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: [expect.objectContaining({ path: 'external_fingerprints.sbom', message: expect.stringMatching(/has no link: give --external-url sbom=URL/) })] });
    await expect(services.trails.beginOrUpdate(org, { flow: 'runner', name: 't2', externalUrls: { sbom: 'https://example.com/s' }, externalFingerprints: { sbom: 'abc123' } }))
      .rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // On an existing trail too: its old links do not count, the fingerprint must come with its link.
    await expect(services.trails.beginOrUpdate(org, { flow: 'runner', name: 't1', externalFingerprints: { sbom: A } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await size()).toBe(before);
    expect(await services.store.records.trail((await services.store.records.flow(org.id, 'runner'))!.id, 't2')).toBeUndefined();
  });
});
