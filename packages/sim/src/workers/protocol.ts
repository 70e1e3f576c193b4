import type { ScenarioName } from '../scenarios/index.js';

/** What the main thread asks a worker to simulate: every run whose index ≡ shard (mod count). */
export interface WorkRequest {
  readonly scenario: ScenarioName;
  readonly seed: number;
  readonly runs: number;
  readonly shard: number;
  readonly count: number;
}

export type WorkMessage =
  | { readonly type: 'progress'; readonly done: number }
  | { readonly type: 'done'; readonly outcomes: readonly unknown[] }
  | { readonly type: 'error'; readonly message: string };
