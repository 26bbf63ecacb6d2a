import type { Clock } from '../clock.js';

/**
 * The demo's history is written "in the past": this clock is moved forward scene by scene, from weeks ago
 * to a few minutes ago, so every log entry, snapshot and evidence file gets the time its scene happened
 * at and the log stays in time order. Each reading moves it on by a second, as real pipeline steps would.
 */
export class StoryClock implements Clock {
  private t: number;

  constructor(start: Date) {
    this.t = start.getTime();
  }

  now(): Date {
    const d = new Date(this.t);
    this.t += 1000;
    return d;
  }

  /** Moves to `at`; never backwards, so that a scene that ran long delays the next one instead of reordering the log. */
  advanceTo(at: Date): void {
    this.t = Math.max(this.t, at.getTime());
  }
}
