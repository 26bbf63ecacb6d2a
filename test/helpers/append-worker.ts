// A separate process appending to one org's log on a shared PostgreSQL: argv = url schema org signerKey worker count startAt
import { parseSignerKey } from '../../src/ledger/index.js';
import { LogService } from '../../src/services/index.js';
import { openStore } from '../../src/store/index.js';

const [url, schema, orgName, signerKey, worker, count, startAt] = process.argv.slice(2);
const store = await openStore({ databaseUrl: url!, schema: schema!, poolSize: 4 });
const log = new LogService(store, parseSignerKey(signerKey!), { maxBatch: 50 });
const org = await store.orgs.get(orgName!);
if (!org) throw new Error(`no org ${orgName}`);
const n = Number(count);
// Both processes start appending at the same moment, so they contend for the log lock.
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
// Waves of concurrent callers, so both processes contend for the log lock many times.
for (let i = 0; i < n; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, j) => log.append(org, 'test.append', { worker, seq: i + j })));
}
await store.close();
process.stdout.write(`done ${worker}\n`);
