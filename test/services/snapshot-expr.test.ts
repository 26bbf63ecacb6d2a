import { describe, expect, it } from 'vitest';
import { parseSnapshotExpr } from '../../src/services/index.js';

const now = new Date('2026-11-22T12:00:00.000Z');

describe('snapshot expressions', () => {
  it('parse every form Kosli users write', () => {
    expect(parseSnapshotExpr('aws-prod', now)).toEqual({ env: 'aws-prod', kind: 'latest' });
    expect(parseSnapshotExpr('aws-prod#65', now)).toEqual({ env: 'aws-prod', kind: 'index', index: 65 });
    expect(parseSnapshotExpr('aws-prod~2', now)).toEqual({ env: 'aws-prod', kind: 'back', back: 2 });
    expect(parseSnapshotExpr('aws-prod@{2026-01-31T12:00:00}', now)).toEqual({ env: 'aws-prod', kind: 'time', time: '2026-01-31T12:00:00.000Z' });
    expect(parseSnapshotExpr('aws-prod@{2026-01-31T12:00:00+02:00}', now)).toMatchObject({ time: '2026-01-31T10:00:00.000Z' });
    expect(parseSnapshotExpr('aws-prod@{3.hours.ago}', now)).toMatchObject({ time: '2026-11-22T09:00:00.000Z' });
    expect(parseSnapshotExpr('aws-prod@{1.week.ago}', now)).toMatchObject({ time: '2026-11-15T12:00:00.000Z' });
  });

  it('refuse what is not one of them', () => {
    for (const bad of ['aws-prod#0', 'aws-prod#x', 'aws-prod@{yesterday}', 'aws-prod@{2026-13-45T00:00:00}', 'a#1#2', 'aws-prod@{3.years.ago}']) {
      expect(() => parseSnapshotExpr(bad, now), bad).toThrow(/invalid snapshot/);
    }
  });
});
