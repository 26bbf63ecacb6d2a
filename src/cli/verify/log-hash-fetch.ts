import { send } from '../../core/index.js';
import { runHashJob, type HashJob, type HashResult } from './log-hash-job.js';

// `verify log --full` with the downloads in the hashing threads (issue #21): receiving ~1 KB an entry over
// node:http costs ~3–8 µs of CPU an entry, and on the main thread it was serial, beside the hashing. Each
// thread now GETs its own job's entry bundles and hashes them, so the receiving is spread over the threads and
// no bundle crosses threads. What is fetched is as untrusted as before: every entry is hashed and the root
// rebuilt from it (log-stream.ts). Anything but a 200 with a body, or a failed connection, and the job is
// handed back: the main thread asks again through the client, whose retries, 413 fallback (log/entries) and
// error messages stay the only ones (a GET: asking twice changes nothing).

/** How a thread GETs the log's tiles itself: everything the client would send, as plain data. */
export interface DirectTiles {
  /** The absolute URL of the log's `tile/` path, ending in `/`. */
  prefix: string;
  /** The request's headers, the token among them. */
  headers: Record<string, string>;
  timeoutMs: number;
  /** --http-proxy, when given. */
  proxy?: string;
}

/** A job's bundles and where to GET them: `paths` are the paths after `tile/`, one per bundle. */
export interface JobFetch {
  paths: string[];
  direct: DirectTiles;
}

/** Bundles of one job downloading at once (a thread has about two jobs going: ~8 GETs in flight each). */
const JOB_FETCHES = 4;

/** Downloads the job's bundles and hashes them; null when a download did not answer 200 (the caller asks again). */
export async function fetchAndHash(job: HashJob, fetch: JobFetch): Promise<HashResult | null> {
  const bundles = await fetchBundles(fetch);
  return bundles ? runHashJob({ ...job, bundles }) : null;
}

/** The bundles' bytes, in order; null when one of them could not be read (not a 200, or no connection). */
export async function fetchBundles({ paths, direct }: JobFetch): Promise<Uint8Array[] | null> {
  const out: Uint8Array[] = new Array(paths.length);
  const proxy = direct.proxy === undefined ? undefined : new URL(direct.proxy);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < paths.length) {
      const i = next++;
      try {
        const res = await send(new URL(direct.prefix + paths[i]), { method: 'GET', headers: direct.headers, timeoutMs: direct.timeoutMs, proxy });
        if (!res.ok) failed = true;
        else out[i] = new Uint8Array(await res.arrayBuffer());
      } catch {
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(JOB_FETCHES, paths.length) }, lane));
  return failed ? null : out;
}
