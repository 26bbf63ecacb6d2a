// Where each policy is attached: the environments (one `get environment` each) that are judged by it, so a
// policy page links back to the environments that link to it.
import type { Api } from './api.js';
import { useAsync } from './components.js';
import { href } from './router.js';

export type Attachments = Map<string, { environment: string; version: number }[]>;

export async function loadAttachments(api: Api): Promise<Attachments> {
  const envs = await api.environments();
  const details = await Promise.all(envs.items.map((e) => api.environment(e.name)));
  const out: Attachments = new Map();
  for (const e of details) for (const p of e.policies ?? []) out.set(p.name, [...(out.get(p.name) ?? []), { environment: e.name, version: p.version }]);
  return out;
}

export function useAttachments(api: Api) {
  return useAsync(() => loadAttachments(api), [api]);
}

export function AttachedTo({ list }: { list: { environment: string; version: number }[] | undefined }) {
  if (!list || list.length === 0) return <span class="muted">not attached</span>;
  return (
    <>
      {list.map((x, i) => (
        <span key={x.environment}>
          {i > 0 && ', '}
          <a href={href(['environments', x.environment])}>{x.environment}</a> <span class="small muted">(v{x.version})</span>
        </span>
      ))}
    </>
  );
}
