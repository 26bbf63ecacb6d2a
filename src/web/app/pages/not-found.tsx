import { PageTitle } from '../components.js';
import { href } from '../router.js';

export function NotFoundPage() {
  return (
    <>
      <PageTitle title="Not found">No such page</PageTitle>
      <p>
        This address names no page. Start from the <a href={href(['flows'])}>flows</a>.
      </p>
    </>
  );
}
