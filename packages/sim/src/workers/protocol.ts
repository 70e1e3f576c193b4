import type { ComparisonSpec } from '../scenarios/comparison.js';

/** Where a worker gets the scenario from: the registry, a scenario file, or a declarative spec. */
export type ScenarioSource =
  | { readonly kind: 'builtin'; readonly name: string }
  | { readonly kind: 'file'; readonly path: string }
  | { readonly kind: 'spec'; readonly spec: ComparisonSpec };

/** What the main thread asks a worker to simulate: every run whose index ≡ shard (mod count). */
export interface WorkRequest {
  readonly source: ScenarioSource;
  readonly seed: number;
  readonly runs: number;
  readonly shard: number;
  readonly count: number;
}

export type WorkMessage =
  | { readonly type: 'progress'; readonly done: number }
  | { readonly type: 'done'; readonly outcomes: readonly unknown[] }
  | { readonly type: 'error'; readonly message: string };
