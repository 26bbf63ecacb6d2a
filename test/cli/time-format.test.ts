import { describe, expect, it } from 'vitest';
import { formatTime } from '../../src/cli/time-format.js';

describe('formatTime (one Intl formatter per zone, issue #21)', () => {
  it('formats in the zone asked for, each zone with its own formatter', () => {
    expect(formatTime('2022-08-22T09:35:00Z', 'Europe/Berlin')).toBe('Mon, 22 Aug 2022 11:35:00 CEST');
    expect(formatTime('2022-08-22T09:35:00Z', 'UTC')).toBe('Mon, 22 Aug 2022 09:35:00 UTC');
    expect(formatTime('2022-12-22T09:35:00Z', 'Europe/Berlin')).toBe('Thu, 22 Dec 2022 10:35:00 CET');
  });

  it('follows a change of TZ for local time', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      expect(formatTime('2022-08-22T09:35:00Z')).toBe('Mon, 22 Aug 2022 09:35:00 UTC');
      process.env.TZ = 'Europe/Berlin';
      expect(formatTime('2022-08-22T09:35:00Z')).toBe('Mon, 22 Aug 2022 11:35:00 CEST');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });

  it('refuses an unknown zone every time (nothing cached for it)', () => {
    expect(() => formatTime('2022-08-22T09:35:00Z', 'Nowhere/Else')).toThrow(RangeError);
    expect(() => formatTime('2022-08-22T09:35:00Z', 'Nowhere/Else')).toThrow(RangeError);
  });
});
