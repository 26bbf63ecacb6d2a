import fc from 'fast-check';
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

  it('in UTC, without the Intl formatter, gives exactly what the formatter gives (Etc/UTC goes through it)', () => {
    const before = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      fc.assert(fc.property(fc.date({ min: new Date('0100-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }), (d) => {
        const iso = d.toISOString();
        const intl = formatTime(iso, 'Etc/UTC');
        expect(formatTime(iso)).toBe(intl);
        expect(formatTime(iso, 'UTC')).toBe(intl);
      }), { numRuns: 500 });
      // Every month and weekday name at least once.
      for (let m = 0; m < 12; m++) {
        const iso = new Date(Date.UTC(2022, m, 1 + m, 23, 5, 9)).toISOString();
        expect(formatTime(iso)).toBe(formatTime(iso, 'Etc/UTC'));
      }
      expect(formatTime('2022-09-09T00:00:00Z')).toBe('Fri, 09 Sept 2022 00:00:00 UTC');
      // An invalid time is refused as the formatter refuses it.
      expect(() => formatTime('not a time')).toThrow(RangeError);
      // GMT is not UTC: its own name, from the formatter.
      process.env.TZ = 'Etc/GMT';
      expect(formatTime('2022-08-22T09:35:00Z')).toBe('Mon, 22 Aug 2022 09:35:00 GMT');
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
    }
  });
});
