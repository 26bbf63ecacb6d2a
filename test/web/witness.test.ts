import { describe, expect, it } from 'vitest';
import { formatCheckpoint, generateCosignerKey, generateSignerKey, parseCosignerKey, parseSignerKey, signNote } from '../../src/ledger/index.js';
import { checkWitnessPolicy, parseWitnessPolicy } from '../../src/web/app/verify/witness.js';

// The browser's witness check (WebCrypto) must agree with the server-side cosignatures (src/ledger/cosignature.ts).

describe('in-browser witness policy (C2SP tlog-cosignature)', () => {
  const log = parseSignerKey(generateSignerKey('example.com/log/acme').signerKey);
  const keys = [1, 2, 3].map((n) => generateCosignerKey(`witness.example/w${n}`, new Uint8Array(32).fill(n)));
  const cosigners = keys.map((k) => parseCosignerKey(k.signerKey));
  const text = formatCheckpoint({ origin: 'example.com/log/acme', size: 3, root: new Uint8Array(32).fill(5), extensions: ['ext line'] });
  const note = signNote(text, [log]);

  it('counts valid cosignatures and refuses too few, a tampered checkpoint, and a log key given as a witness key', async () => {
    const policy = await parseWitnessPolicy(keys.map((k) => k.verifierKey).join('\n'), 2);
    const two = note + cosigners[0]!.cosign(text, 1_700_000_000) + cosigners[2]!.cosign(text, 1_700_000_001);
    expect(await checkWitnessPolicy(two, policy)).toMatchObject({ valid: 2, required: 2, ok: true });
    const one = note + cosigners[1]!.cosign(text, 5);
    expect(await checkWitnessPolicy(one, policy)).toMatchObject({ valid: 1, ok: false });
    const tampered = two.replace('\n3\n', '\n4\n');
    expect((await checkWitnessPolicy(tampered, policy)).results.map((r) => r.status)).toEqual(['invalid', 'missing', 'invalid']);
    await expect(parseWitnessPolicy(log.verifierKey)).rejects.toThrow(/0x04/);
    await expect(parseWitnessPolicy(keys[0]!.verifierKey, 2)).rejects.toThrow(/threshold/);
  });
});
