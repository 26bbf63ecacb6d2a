import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/** The layering rule must actually fail an upward or deep import (DESIGN.md §5). */
async function lint(file: string, code: string) {
  const eslint = new ESLint({ cwd: process.cwd() });
  const [result] = await eslint.lintText(code, { filePath: file });
  return result!.messages.filter((m) => m.ruleId === 'evident/layers').map((m) => m.message);
}

describe('evident/layers lint rule', () => {
  it('rejects an import that goes up a layer', async () => {
    const messages = await lint('src/ledger/example.ts', "import { buildApp } from '../server/index.js';\nexport const x = buildApp;\n");
    expect(messages).toEqual([expect.stringMatching(/'ledger' may not import 'server'/)]);
    expect(await lint('src/core/example.ts', "export { x } from '../formats/index.js';\n")).toHaveLength(1);
    expect(await lint('src/store/example.ts', "export const m = () => import('../services/index.js');\n")).toHaveLength(1);
  });

  it('rejects a deep import into another layer', async () => {
    const messages = await lint('src/services/example.ts', "import { leafHash } from '../ledger/hash.js';\nexport const x = leafHash;\n");
    expect(messages).toEqual([expect.stringMatching(/public surface/)]);
  });

  it('accepts downward imports through index.ts and imports inside a layer', async () => {
    expect(await lint('src/services/example.ts', "import { leafHash } from '../ledger/index.js';\nimport { systemClock } from './clock.js';\nexport const x = [leafHash, systemClock];\n")).toEqual([]);
    expect(await lint('src/cli/commands/example.ts', "import { startServer } from '../../server/index.js';\nexport const x = startServer;\n")).toEqual([]);
  });
});
