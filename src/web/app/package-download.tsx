import { useState } from 'preact/hooks';
import { CliCommand, useApi } from './components.js';
import { bytes, shellArg } from './format.js';
import { buildPackage, describeSubject, type PackageSubject } from './package.js';

const fileSafe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 80);

/** The file name the download gets (the CLI's examples name theirs the same way). */
export function packageFileName(subject: PackageSubject): string {
  if (subject.type === 'artifact') return `${fileSafe(subject.fingerprint.slice(0, 12))}.evidence.json`;
  if (subject.type === 'trail') return `${fileSafe(subject.flow)}-${fileSafe(subject.trail.slice(0, 12))}.evidence.json`;
  return `${fileSafe(subject.environment)}.evidence.json`;
}

/** The CLI command that writes the same package (`evident export …`, src/cli/commands/prove-artifact.ts). */
function exportCommand(subject: PackageSubject, file: string): string {
  if (subject.type === 'artifact') return `evident export artifact ${subject.fingerprint} -o ${shellArg(file)}`;
  if (subject.type === 'trail') return `evident export trail ${shellArg(subject.trail)} --flow ${shellArg(subject.flow)} -o ${shellArg(file)}`;
  return `evident export environment ${shellArg(subject.environment)} -o ${shellArg(file)}`;
}

/**
 * "Download the evidence package" with the command that checks it offline beside it (issue 18, item 8). The
 * package is built here from the API, each part checked as it arrives (package.ts); the offline check with
 * a key the reader trusts is what proves it, so that command is shown, not a green tick of our own.
 */
export function PackageDownload({ subject, context }: { subject: PackageSubject; context?: () => Promise<number[]> }) {
  const { api, session } = useApi();
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const file = packageFileName(subject);
  const download = async () => {
    setBusy(true);
    setStatus('Building the package…');
    try {
      const built = await buildPackage(api, session.org, subject, context ? await context() : [], setStatus, globalThis.localStorage ?? undefined);
      const url = URL.createObjectURL(new Blob([built.text], { type: 'application/json' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = file;
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      const size = built.pkg.checkpoint.split('\n')[1];
      setStatus(`Downloaded ${file} (${bytes(built.size)}): ${built.pkg.entries.length} entries and ${built.pkg.blobs.length} evidence files, proven against checkpoint size ${size}. ${built.remembered}`);
    } catch (err) {
      setStatus(`Could not build the package: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="package" aria-label="Evidence package">
      <h3>Evidence package</h3>
      <p class="small">
        Every log entry about {describeSubject(subject).replace(/^artifact [0-9a-f]{64}$/, 'this artifact')}, each with its inclusion proof, the signed
        checkpoint, the subject map proof that none is left out, and the evidence files: one file to check offline, without this server.
        {subject.type === 'artifact' && ' Its context (flows, trails, approvals, snapshots, policies) is chosen as evident export chooses it, by reading the whole log up to the checkpoint in this browser and checking its tree against the signed root: on a large log that takes a while.'}
      </p>
      <p>
        <button type="button" onClick={() => void download()} disabled={busy}>Download evidence package</button>{' '}
        <span class="small" role="status" aria-live="polite">{status}</span>
      </p>
      <CliCommand
        label="Verify the package offline"
        box="cli-verify"
        command={[`evident verify package ${shellArg(file)} --key "$(cat log.vkey)"`, `# the same package from the CLI: ${exportCommand(subject, file)}`]}
      />
      <p class="small muted">
        <code>log.vkey</code> is the log's verifier key, from your administrator or saved once with <code>evident log key &gt; log.vkey</code>; without
        <code> --key</code> the check trusts the key written inside the package.
      </p>
    </section>
  );
}
