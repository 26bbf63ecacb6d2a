import type * as envs from './environment-schemas.js';
import type { DoraQuery } from './metrics-schemas.js';
import { RecordsApi } from './records-api.js';

/** Observing: environments, snapshots, expectations, diffs, release plans and DORA metrics (docs/environments.md). */
export class EnvironmentsApi extends RecordsApi {
  createEnvironment(input: envs.EnvironmentCreate) {
    return this.json('Environment', 'POST', this.orgPath('/environments'), undefined, input);
  }

  getEnvironment(name: string) {
    return this.json('Environment', 'GET', this.orgPath(`/environments/${encodeURIComponent(name)}`));
  }

  archiveEnvironment(name: string) {
    return this.json('Environment', 'POST', this.orgPath(`/environments/${encodeURIComponent(name)}/archive`));
  }

  environmentDrift(name: string) {
    return this.json('Drift', 'GET', this.orgPath(`/environments/${encodeURIComponent(name)}/drift`));
  }

  listEnvironments(q: { includeArchived?: boolean } = {}) {
    return this.json('EnvironmentList', 'GET', this.orgPath('/environments'), { include_archived: q.includeArchived ? 'true' : undefined });
  }

  reportSnapshot(env: string, input: envs.SnapshotReport) {
    return this.json('SnapshotReported', 'PUT', this.orgPath(`/environments/${encodeURIComponent(env)}/snapshot`), undefined, input);
  }

  getSnapshot(expr: string) {
    return this.json('Snapshot', 'GET', this.orgPath(`/snapshots/${encodeURIComponent(expr)}`));
  }

  listSnapshots(env: string, q: { cursor?: string; limit?: number } = {}) {
    return this.json('SnapshotPage', 'GET', this.orgPath(`/environments/${encodeURIComponent(env)}/snapshots`), { cursor: q.cursor, limit: q.limit });
  }

  expectDeployment(env: string, input: envs.ExpectationCreate) {
    return this.json('Expectation', 'POST', this.orgPath(`/environments/${encodeURIComponent(env)}/expectations`), undefined, input);
  }

  /** Kosli's diff JSON: snappish1, snappish2, changed, not-changed (each with artifacts). */
  diffSnapshots(a: string, b: string, options: { showUnchanged?: boolean } = {}) {
    return this.json('SnapshotDiff', 'GET', this.orgPath('/diff/snapshots'), { a, b, show_unchanged: options.showUnchanged ? 'true' : undefined });
  }

  /** A page of at most `limit` events, whole snapshots (newest page first; events oldest first within it). */
  environmentEvents(env: string, q: { cursor?: string; limit?: number } = {}) {
    return this.json('EnvironmentEvents', 'GET', this.orgPath(`/environments/${encodeURIComponent(env)}/events`), { cursor: q.cursor, limit: q.limit });
  }

  /** Seed 001's release plan between the latest snapshots of two environments. */
  releasePlan(from: string, to: string, options: { allowInProgress?: boolean } = {}) {
    return this.json('ReleasePlan', 'GET', this.orgPath('/release-plan'), { from, to, allow_in_progress: options.allowInProgress ? 'true' : undefined });
  }

  /** DORA metrics of one environment (docs/metrics.md). */
  doraMetrics(q: DoraQuery) {
    return this.json('DoraReport', 'GET', this.orgPath('/metrics/dora'), { ...q });
  }
}
