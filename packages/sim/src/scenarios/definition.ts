import type { ScenarioPlan } from './options.js';

/** What every scenario report carries: its name, the seed and the runs per configuration. */
export interface ScenarioReportBase {
  readonly scenario: string;
  readonly seed: number;
  readonly runs: number;
}

/** A table for the terminal (and the HTML report). */
export interface Table {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: ReadonlyArray<readonly string[]>;
}

/**
 * A scenario as the CLI, the worker threads and the HTML report know it: how to plan its runs, and
 * how to present its report. Everything a scenario shows is computed from its report, so the
 * report (the `--json` output) is the single source of its numbers.
 *
 * Adding a built-in scenario: write one file that exports `defineScenario({...})` and add it to
 * the list in `registry.ts`. Nothing else in the CLI, the workers or the report needs to change.
 *
 * @typeParam O - what one run of the plan yields (`defineScenario` infers it from `plan`).
 */
export interface ScenarioDefinition<
  R extends ScenarioReportBase = ScenarioReportBase,
  N extends string = string,
  O = unknown,
> {
  /** The CLI name (`faultline-sim <name>`) and the report's `scenario` field. */
  readonly name: N;
  /** The heading of the report section. */
  readonly title: string;
  /** The model in one paragraph: load, server, incident, what is compared. */
  readonly description: string;
  /** Runs per configuration when the user gives no `--runs`. */
  readonly defaultRuns: number;
  /** Splits the scenario into independent runs plus the step that aggregates their outcomes. */
  plan(options: { readonly seed: number; readonly runs: number }): ScenarioPlan<O, R>;
  /**
   * The measured conclusions, in plain sentences computed from this report's numbers (never
   * canned): the terminal prints them under the table and the HTML report opens the section
   * with them.
   */
  conclusions(report: R): readonly string[];
  /** The summary table. */
  table(report: R): Table;
  /** Inline SVG charts (see `report/svg.ts`). */
  charts(report: R): readonly string[];
  /** Explanations of what the charts show that a reader would otherwise wonder about. */
  notes?(report: R): readonly string[];
  /** What `--json` prints, when it is not the report itself (a published, narrower shape). */
  json?(report: R): unknown;
}

/**
 * Declares a scenario (an identity function that fixes the types: the report type flows from
 * `plan` to the presentation functions, and the name stays a literal type).
 */
export function defineScenario<const N extends string, O, R extends ScenarioReportBase>(
  definition: ScenarioDefinition<R, N, O>,
): ScenarioDefinition<R, N> {
  return definition as unknown as ScenarioDefinition<R, N>;
}
