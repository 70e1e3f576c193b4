/**
 * The Grafana dashboard in docs/grafana: it type-checks against Grafana's own dashboard schema
 * (`Dashboard` of `@grafana/schema`, generated from the CUE schema Grafana imports with), with
 * excess-property checks, and its panels query only the metrics and labels this package emits.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROMETHEUS_METRICS } from './prometheus.js';

/** Panels use the dashboard's data source variable (Grafana interpolates it; not a JS template). */
const DATASOURCE_VARIABLE = '$' + '{datasource}';
const here = dirname(fileURLToPath(import.meta.url));
const dashboardPath = join(here, '../../../docs/grafana/faultline-dashboard.json');
const text = readFileSync(dashboardPath, 'utf8');

interface Target {
  expr?: string;
  refId: string;
}
interface PanelJson {
  type: string;
  id: number;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  targets?: Target[];
  datasource?: { type: string; uid: string };
}
const dashboard = JSON.parse(text) as {
  panels: PanelJson[];
  templating: { list: Array<{ name: string; query?: string | { query: string } }> };
  uid: string;
  schemaVersion: number;
};

/** Type-checks `source` as a module beside this file, with the packages it can resolve. */
function typeCheck(source: string): string[] {
  const fileName = join(here, '__grafana_dashboard_check__.ts');
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    name === fileName
      ? ts.createSourceFile(name, source, version)
      : getSourceFile(name, version, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === fileName || fileExists(name);
  const program = ts.createProgram([fileName], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('Grafana dashboard (docs/grafana/faultline-dashboard.json)', () => {
  it("conforms to Grafana's dashboard schema (@grafana/schema Dashboard, no excess properties)", () => {
    // The schema package is only a devDependency of this test.
    expect(createRequire(import.meta.url).resolve('@grafana/schema')).toBeTruthy();
    const importable = { ...JSON.parse(text) };
    // Export-only fields that Grafana's import reads and strips; not part of the model.
    delete importable.__requires;
    // Plain<T>: the schema with its string enums as their values (`ThresholdsMode.Absolute` is
    // "absolute" in JSON), everything else as declared, excess-property checks included.
    const source = [
      "import type { Dashboard } from '@grafana/schema';",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: TypeScript source text, not a template
      'type Plain<T> = T extends string ? `${T}` : T extends readonly (infer U)[] ? Plain<U>[] : T extends object ? { [K in keyof T]: Plain<T[K]> } : T;',
      `export const dashboard = ${JSON.stringify(importable, null, 2)} satisfies Plain<Dashboard>;`,
    ].join('\n');
    expect(typeCheck(source)).toEqual([]);
    // The check is real: a misspelt property or a wrong type fails it.
    const broken = source.replace('"schemaVersion": 39', '"schemaVersion": "39"');
    expect(typeCheck(broken).length).toBeGreaterThan(0);
    const misspelt = source.replace('"gridPos"', '"gridPosition"');
    expect(typeCheck(misspelt).length).toBeGreaterThan(0);
  }, 60_000);

  it('has a stable uid, unique panel ids, and panels inside the 24-column grid', () => {
    expect(dashboard.uid).toBe('faultline-resilience');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') {
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: DATASOURCE_VARIABLE });
        expect(panel.targets?.length).toBeGreaterThan(0);
      }
    }
    expect(dashboard.templating.list.map((variable) => variable.name)).toEqual([
      'datasource',
      'pipeline',
    ]);
  });

  it('queries only the metrics and labels the Prometheus adapter emits', () => {
    const series = new Set<string>([
      PROMETHEUS_METRICS.events,
      PROMETHEUS_METRICS.breakerState,
      ...[PROMETHEUS_METRICS.attemptDuration, PROMETHEUS_METRICS.pipelineDuration].flatMap(
        (name) => [`${name}_bucket`, `${name}_count`, `${name}_sum`],
      ),
    ]);
    const labels = new Set([
      'event_name',
      'event_severity',
      'faultline_policy_kind',
      'faultline_policy_name',
      'faultline_pipeline_name',
      'faultline_operation',
      'error_type',
      'faultline_attempt_number',
      'faultline_attempt_handled',
      'faultline_outcome',
      'faultline_circuit_breaker_state',
      'le',
      '__name__',
    ]);
    // The OpenTelemetry Prometheus exporter writes the histograms without prom-client's unit
    // suffix (and the rest alike): the dashboard matches both with __name__=~"…(_seconds)?_…".
    const otelSeries = new Set(
      [...series].map((name) => name.replace('_duration_seconds_', '_duration_')),
    );
    const expressions = dashboard.panels.flatMap((panel) =>
      (panel.targets ?? []).map((target) => target.expr ?? ''),
    );
    expressions.push(
      ...dashboard.templating.list.flatMap((variable) =>
        typeof variable.query === 'object' ? [variable.query.query] : [],
      ),
    );
    const used = new Set<string>();
    for (const expr of expressions) {
      for (const [, pattern] of expr.matchAll(/__name__=~"([^"]+)"/g)) {
        const promName = pattern!.replace('(_seconds)?', '_seconds');
        const otelName = pattern!.replace('(_seconds)?', '');
        expect(series, `${promName} in ${expr}`).toContain(promName);
        expect(otelSeries, `${otelName} in ${expr}`).toContain(otelName);
        used.add(promName.replace(/_(bucket|count|sum)$/, ''));
      }
      const withoutStrings = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      // A name is a series this package emits or one of its labels (the state gauge's metric
      // and label share a name).
      for (const [name] of withoutStrings.matchAll(/\bfaultline_\w+/g)) {
        if (series.has(name)) used.add(name.replace(/_(bucket|count|sum)$/, ''));
        else expect(labels, `${name} in ${expr}`).toContain(name);
      }
      for (const match of withoutStrings.matchAll(/(?:by|without)\s*\(([^)]*)\)/g)) {
        for (const label of match[1]!.split(',').map((l) => l.trim())) {
          expect(labels, `label ${label} in ${expr}`).toContain(label);
        }
      }
      for (const match of withoutStrings.matchAll(/[{,]\s*(\w+)\s*(?:=~|!=|!~|=)/g)) {
        expect(labels, `label ${match[1]} in ${expr}`).toContain(match[1]);
      }
    }
    // Every metric the package emits has a panel.
    expect([...used].sort()).toEqual(Object.values(PROMETHEUS_METRICS).sort());
  });
});
