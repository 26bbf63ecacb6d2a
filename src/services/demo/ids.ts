import { createHash } from 'node:crypto';

// Everything that looks random in the demo is derived from names and versions (or from a fixed seed), so two
// seedings tell the same story with the same fingerprints and commits.

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A 40-hex git commit for a flow's Nth commit (the seeds' real commits are used where the seeds name them). */
export const commitOf = (flow: string, n: number) => sha256(`cyber-dojo/${flow} commit ${n}`).slice(0, 40);

/** The image digest of a flow's build of a commit. */
export const fingerprintOf = (flow: string, commit: string) => sha256(`cyber-dojo/${flow}@${commit}`);

export const REGISTRY = '244531986313.dkr.ecr.eu-central-1.amazonaws.com';
export const imageName = (flow: string, commit: string) => `${REGISTRY}/${flow}:${commit.slice(0, 7)}`;
export const commitUrl = (flow: string, commit: string) => `https://github.com/cyber-dojo/${flow}/commit/${commit}`;
export const buildUrl = (flow: string, runId: number) => `https://github.com/cyber-dojo/${flow}/actions/runs/${runId}`;

/** mulberry32: a small PRNG with a fixed seed, for the jitter in times and test counts. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
