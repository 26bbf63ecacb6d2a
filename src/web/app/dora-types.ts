// GET /api/v1/orgs/:org/metrics/dora (the DORA metrics API's contract, issue #7).

export interface DoraFigures {
  deployments: number;
  deployments_per_day: number;
  lead_time_seconds: { median: number | null; p90: number | null; count: number; /** commit times after the deployment (left out); newer servers only */ invalid?: number };
  change_failure_rate: { non_compliant: number; judged: number; rate: number | null };
  /** Newer servers only. */
  time_to_restore_seconds?: { median: number | null; p90: number | null; count: number; unrestored: number };
}

export interface DoraReport {
  environment: string;
  since: string;
  until: string;
  bucket: 'day' | 'week';
  overall: DoraFigures;
  flows: (DoraFigures & { flow: string })[];
  series: { start: string; end: string; deployments: number; lead_time_median_seconds: number | null; by_flow: Record<string, number> }[];
  deployments: {
    flow: string;
    artifact: string;
    fingerprint: string;
    git_commit: string | null;
    commit_time: string | null;
    deployed_at: string;
    snapshot: number;
    lead_time_seconds: number | null;
    compliant: boolean | null;
  }[];
  /** Newer servers: `deployments` is a page, newest first; this continues it (null on the last page). */
  next_cursor?: string | null;
}
