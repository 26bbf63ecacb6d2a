import { EvidentError } from '../../core/index.js';
import type { OrgRecord, Store, TagKind } from '../../store/index.js';
import type { LogService } from '../log-service.js';
import { checkTagChange, mergeTags, type TagChange } from './flow-tags.js';
import { projectionCheck } from './projection-check.js';
import * as v from './validate.js';

export const TAG_KINDS: readonly TagKind[] = ['environment', 'control', 'repo'];

/** A repository as Kosli names it: OWNER/REPO (GitLab: GROUP/SUBGROUP/PROJECT). */
const REPO = /^[A-Za-z0-9_.-]{1,100}(\/[A-Za-z0-9_.-]{1,100}){0,4}$/;

/**
 * Kosli's `tag env|control|repo NAME --set k=v --unset k` (flows: FlowService.tag). Each change is one
 * `<kind>.tagged` log entry carrying only the change; a change that changes nothing appends nothing. There is
 * no tags column: a subject's tags are the replay, in log order, of its entries, each read from the log and
 * verified against the stored tree (projection-check.ts) every time they are shown or filtered on — so a
 * database edit cannot make a tag appear, change or vanish without a TAMPERED error.
 * Environments must exist; controls and repositories are not records in Evident, so their tags are kept by
 * the name given (a repository is the OWNER/REPO its commit URLs name: repo-filter.ts).
 */
export class TagService {
  constructor(private readonly store: Store, private readonly log: LogService) {}

  async tag(org: OrgRecord, kind: TagKind, name: string, change: TagChange): Promise<{ kind: TagKind; name: string; tags: Record<string, string>; entry_index: number | null }> {
    const subject = await this.subject(org, kind, name);
    const checked = checkTagChange(change);
    const current = (await this.tags(org, kind, [subject])).get(subject) ?? {};
    const next = mergeTags(current, checked);
    if (JSON.stringify(next) === JSON.stringify(current)) return { kind, name: subject, tags: current, entry_index: null };
    const { index } = await this.log.append(org, `${kind}.tagged`, { [kind]: subject, set: checked.set, unset: checked.unset }, async (records, e) => {
      await records.insertTagEntry(org.id, kind, subject, e.index);
    });
    // Re-read from the log: a concurrent tagging of the same subject is part of the answer.
    return { kind, name: subject, tags: (await this.tags(org, kind, [subject])).get(subject) ?? {}, entry_index: index };
  }

  /** The tags of each subject (every tagged subject of the kind when none are named), from verified log entries. */
  async tags(org: OrgRecord, kind: TagKind, subjects?: readonly string[]): Promise<Map<string, Record<string, string>>> {
    const bySubject = await this.store.records.tagEntries(org.id, kind, subjects);
    const entries = await projectionCheck(this.store).entries(org, [...bySubject.values()].flat());
    const out = new Map<string, Record<string, string>>();
    for (const [subject, indexes] of bySubject) {
      let tags: Record<string, string> = {};
      for (const i of indexes) {
        const body = entries.get(i)!.body;
        if (body.type !== `${kind}.tagged` || body[kind] !== subject) {
          throw new EvidentError('TAMPERED', `tag_entries names log entry ${i} for ${kind} ${subject}, but that entry is a ${String(body.type)} about ${JSON.stringify(body[kind])}`, { details: { table: 'tag_entries', entry_index: i } });
        }
        tags = mergeTags(tags, { set: (body.set ?? {}) as Record<string, string>, unset: (body.unset ?? []) as string[] });
      }
      out.set(subject, tags);
    }
    return out;
  }

  /** The time of the latest of the record's own entry (`entryIndex`) and its tagging entries, from the verified log. */
  async modifiedAt(org: OrgRecord, kind: TagKind, subject: string, entryIndex: number): Promise<string> {
    return (await this.modifiedAtMany(org, kind, [{ name: subject, entryIndex }])).get(subject)!;
  }

  /**
   * Kosli's last_modified_at of many subjects in one read of their tag entries: the time of each one's newest
   * entry (its own, or its latest tag change), only that entry checked against the log. O(subjects), however
   * long their tag histories (a list of environments must not grow with every tag change ever made).
   */
  async modifiedAtMany(org: OrgRecord, kind: TagKind, subjects: readonly { name: string; entryIndex: number }[]): Promise<Map<string, string>> {
    const tagged = await this.store.records.tagEntries(org.id, kind, subjects.map((x) => x.name));
    const newest = new Map(subjects.map((x) => [x.name, (tagged.get(x.name) ?? []).reduce((a, b) => Math.max(a, b), x.entryIndex)]));
    const entries = await projectionCheck(this.store).entries(org, [...new Set(newest.values())]);
    const own = new Map(subjects.map((x) => [x.name, x.entryIndex]));
    return new Map([...newest].map(([name, index]) => {
      const body = entries.get(index)!.body;
      // A tag_entries row names an entry: it must be this subject's tagging, not any later entry of the log.
      if (index !== own.get(name) && (body.type !== `${kind}.tagged` || body[kind] !== name)) {
        throw new EvidentError('TAMPERED', `tag_entries names log entry ${index} for ${kind} ${name}, but that entry is a ${String(body.type)} about ${JSON.stringify(body[kind])}`, { details: { table: 'tag_entries', entry_index: index } });
      }
      return [name, String(body.time ?? '')];
    }));
  }

  private async subject(org: OrgRecord, kind: TagKind, name: string): Promise<string> {
    if (kind === 'environment') {
      const env = await this.store.environments.environment(org.id, v.name('environment', name));
      if (!env) throw new EvidentError('NOT_FOUND', `environment ${JSON.stringify(name)} does not exist in organisation ${org.name}`);
      return env.name;
    }
    if (kind === 'repo') {
      if (typeof name !== 'string' || !REPO.test(name)) throw new EvidentError('INVALID_ARGUMENT', `a repository is OWNER/REPO (letters, digits, _ . -), not ${JSON.stringify(name)}`);
      return name;
    }
    return v.name('control', name);
  }
}
