import { Option, type Command } from 'commander';
import { collectPath } from '../attachments.js';
import { collectAnnotation, prefixedAnnotation } from '../flags.js';
import { collectRepeated } from '../arg-parsers.js';
import type { FingerprintFlags } from './fingerprint-input.js';

/** The values of attestationFlags(), as commander hands them to a command. */
export interface AttestationFlagValues extends FingerprintFlags {
  name: string;
  flow: string;
  trail: string;
  commit?: string;
  description?: string;
  annotate?: Record<string, string>;
  attachments?: string[];
  userData?: string;
}

/**
 * Kosli's `--external-url LABEL=URL` and `--external-fingerprint LABEL=FP` (links to and digests of evidence kept
 * elsewhere): recorded as the annotations `external_url.LABEL` and `external_fingerprint.LABEL`, so the option
 * values are gathered into --annotate's.
 */
export function externalFlags(cmd: Command): Command {
  for (const [flag, prefix] of [['--external-url <label=url>', 'external_url'], ['--external-fingerprint <label=sha256>', 'external_fingerprint']] as const) {
    const option = new Option(flag, `Kosli: recorded as the annotation ${prefix}.LABEL, repeatable`).argParser(prefixedAnnotation(prefix));
    option.attributeName = () => 'annotate';
    cmd.addOption(option);
  }
  return cmd;
}

/**
 * The flags every `evident attest <type>` shares (Kosli's names): what it is about, where it goes, and
 * the evidence and data that come with it. `path: false` for commands that take no artifact PATH.
 */
export function attestationFlags(cmd: Command, options: { path?: boolean; commit?: string } = {}): Command {
  cmd
    .requiredOption('--name <name>', 'NAME for the trail, or ARTIFACT-NAME.NAME for an artifact')
    .requiredOption('--flow <name>', 'the flow')
    .requiredOption('--trail <name>', 'the trail')
    .option('--fingerprint <sha256>', 'the artifact the attestation is about');
  if (options.path !== false) {
    cmd
      .option('-t, --artifact-type <type>', 'fingerprint PATH as file | dir | docker | oci (instead of --fingerprint)')
      .option('-x, --exclude <glob>', 'with -t dir: paths to leave out, repeatable', collectRepeated);
  }
  externalFlags(cmd);
  return cmd
    .option('--commit <sha>', options.commit ?? 'git commit of an artifact not reported yet (with ARTIFACT-NAME.NAME)')
    .option('--description <text>', 'what was checked')
    .option('--annotate <key=value>', 'annotation, repeatable', collectAnnotation)
    .option('--attachments <path>', 'evidence files or directories for the vault, repeatable', collectPath)
    .option('--user-data <file>', 'a JSON file of your own data');
}
