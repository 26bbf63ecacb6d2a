import { CliCommand, PageTitle } from '../components.js';

/** The log's checkpoint and verifier key, and an in-browser proof check (filled in by verify/). */
export function LogPage({ index }: { index: string | null }) {
  return (
    <>
      <PageTitle title="Log">The log</PageTitle>
      <CliCommand command={['evident log checkpoint', 'evident log key', `evident log proof inclusion --index ${index ?? 'I'}`]} />
    </>
  );
}
