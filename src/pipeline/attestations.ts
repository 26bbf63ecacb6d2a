import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { removeStaleLinks, writeLayout, writeStepLink } from './in-toto.js';
import { loadOrCreateWorkspaceSigner, loadSignerFromFile, type KeySigner } from './keys.js';
import { provenanceFile, writeStepProvenance } from './provenance.js';
import { buildReceipt, signReceipt, systemInfo, writeReceipt } from './receipt.js';
import type { RunObserver } from './types.js';

/** What `evident run` asks of the attestation writers (issue #6 items 5-7). */
export interface AttestationOptions {
  /** Absolute path of the workspace (the directory holding attest.yaml). */
  workspace: string;
  /** Sign the receipt and provenance with the workspace key: `--sign` or `attestation.sign_all_steps`. */
  sign: boolean;
  /** Write per-artifact provenance under .evident/provenance/ as each artifact's steps succeed. */
  provenance: boolean;
  /** `--in-toto DIR [--layout-key KEY]`: one v0.9 link per step, owner.pub and a signed root.layout. */
  inToto?: { dir: string; layoutKey?: string };
  /** Diagnostics for stderr (never stdout). */
  log?: (line: string) => void;
  /** The Evident version recorded in receipts and provenance; default: read from package.json. */
  version?: string;
  /** Told the receipt's path once it is written (`run --verify` verifies it). */
  receiptWritten?: (file: string) => void;
}

let cachedVersion: string | undefined;

/** Evident's version from its package.json, found upwards from this module (works from src/ and dist/). */
export function evidentVersion(): string {
  if (cachedVersion !== undefined) return cachedVersion;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'evident' && typeof pkg.version === 'string') return (cachedVersion = pkg.version);
    } catch {
      // not here: keep looking upwards
    }
  }
  return (cachedVersion = 'unknown');
}

/**
 * The observers that write, for one run: per-artifact provenance as each step succeeds, in-toto links as
 * each step succeeds and the layout at the end, and the run's receipt at the end. Keys are loaded (and a
 * workspace key generated if signing needs one) before the first step runs, so a bad key fails the run
 * at once rather than after the build.
 */
export async function attestationObservers(options: AttestationOptions): Promise<RunObserver[]> {
  const { workspace, log } = options;
  const version = options.version ?? evidentVersion();
  const needsKey = options.sign || options.inToto !== undefined;
  const workspaceKey: KeySigner | undefined = needsKey ? loadOrCreateWorkspaceSigner(workspace, log) : undefined;
  const signer = options.sign ? workspaceKey : undefined;
  const invocationId = `urn:uuid:${randomUUID()}`;
  const observers: RunObserver[] = [];

  if (options.provenance) {
    observers.push({
      stepSucceeded(step, run) {
        const files = writeStepProvenance(workspace, step, { ...run, invocationId, version }, signer);
        if (files.length > 0) log?.(`provenance: ${files.length} statement(s) for ${step.name} in ${path.dirname(files[0]!)}`);
      },
      runFinished(run) {
        // A step that failed (or was cancelled) in this run has no provenance: the statements of its last
        // successful run would sit beside what the failed run left, saying it passed (issue 14 finding 7).
        for (const step of run.steps) {
          if (step.exitCode === 0) continue;
          const dir = path.dirname(provenanceFile(workspace, step.name, 'x'));
          if (fs.existsSync(dir)) {
            fs.rmSync(dir, { recursive: true, force: true });
            log?.(`provenance: removed the statements of ${step.name}'s last successful run (it failed in this one)`);
          }
        }
      },
    });
  }

  if (options.inToto) {
    const dir = path.resolve(options.inToto.dir);
    const functionary = workspaceKey!;
    const owner = options.inToto.layoutKey ? loadSignerFromFile(path.resolve(options.inToto.layoutKey)) : functionary;
    fs.mkdirSync(dir, { recursive: true });
    removeStaleLinks(dir, functionary.keyId);
    observers.push({
      stepSucceeded(step) {
        writeStepLink(dir, step, functionary);
      },
      runFinished(run) {
        const written = writeLayout(dir, run, functionary, owner, version);
        log?.(`in-toto: links, ${path.basename(written.ownerKey)} and ${path.basename(written.layout)} in ${dir}`);
      },
    });
  }

  observers.push({
    runFinished(run) {
      const receipt = { ...buildReceipt(run, version), system: systemInfo(run) };
      const file = writeReceipt(workspace, signer ? signReceipt(receipt, signer) : receipt);
      log?.(`receipt: ${file}${signer ? ` (signed by ${signer.keyId})` : ' (unsigned)'}`);
      options.receiptWritten?.(file);
    },
  });
  return observers;
}
