import type { Command } from 'commander';

/** Placeholder: filled in by the reporters work of issue #4. */
export function registerAwsReporters(snapshot: Command): void {
  void snapshot;
}
