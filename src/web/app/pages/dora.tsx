import { CliCommand, PageTitle } from '../components.js';

/** DORA metrics of an environment (`evident metrics dora --environment E`). */
export function DoraPage({ query }: { query: URLSearchParams }) {
  const env = query.get('environment') ?? '';
  return (
    <>
      <PageTitle title="DORA metrics">DORA metrics</PageTitle>
      <CliCommand command={`evident metrics dora --environment ${env || 'ENV'}`} />
    </>
  );
}
