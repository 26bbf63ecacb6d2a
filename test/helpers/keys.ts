import { generateSignerKey, parseSignerKey, type NoteSigner } from '../../src/ledger/index.js';

export function testSigner(name = 'test.evident/log'): NoteSigner {
  return parseSignerKey(generateSignerKey(name).signerKey);
}
