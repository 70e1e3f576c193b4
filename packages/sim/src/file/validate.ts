/**
 * Checks a value against the scenario/policy JSON Schema (`schema.ts`) and reports the first
 * problem as one line naming the field: `downstream.latency: unknown kind "gamma" (expected one
 * of constant, uniform, …)`. It interprets the subset of JSON Schema the schema uses and refuses
 * any other keyword, so the schema cannot silently grow a rule this check ignores.
 */

import type { JsonSchema } from './schema.js';

/** A malformed scenario or policy file: the CLI prints the message on one line, exit code 2. */
export class ScenarioFileError extends Error {
  override name = 'ScenarioFileError';
  /** The path of the offending field, e.g. `policies["retry 3"].retry.maxAttempts`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(field === '' ? message : `${field}: ${message}`);
    this.field = field;
  }

  /** The same error, its message prefixed with the file it is in: `file: field: message`. */
  static inFile(file: string, error: { readonly field: string; readonly message: string }) {
    const located = new ScenarioFileError('', `${file}: ${error.message}`);
    (located as { field: string }).field = error.field;
    return located;
  }
}

const ANNOTATIONS = new Set(['description', '$schema', '$id', 'title', '$comment', '$defs']);
const KEYWORDS = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'minProperties',
  'maxProperties',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'minLength',
  'minItems',
  'items',
  'anyOf',
  'oneOf',
  'discriminator',
  '$ref',
]);

/** `policies["retry 3"].retry`: dots for identifiers, brackets for anything else. */
export function fieldPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  if (/^[A-Za-z_$][\w$]*$/.test(key)) return base === '' ? key : `${base}.${key}`;
  return `${base}[${JSON.stringify(key)}]`;
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 40 ? `${text.slice(0, 37)}…` : text;
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function typeMatches(type: string, value: unknown): boolean {
  const actual = jsonType(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

const article = (type: string): string =>
  type === 'integer' || type === 'array' || type === 'object' ? `an ${type}` : `a ${type}`;

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(
        row[j]! + 1,
        row[j - 1]! + 1,
        previous + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1),
      );
      previous = current;
    }
  }
  return row[b.length]!;
}

function suggestion(key: string, allowed: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of allowed) {
    const d = distance(key, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? ` (allowed: ${allowed.join(', ')})` : ` (did you mean "${best}"?)`;
}

/** The `kind`s a tagged union accepts. */
function kindsOf(variants: readonly JsonSchema[]): string[] {
  return variants.map(
    (v) => ((v.properties as Record<string, JsonSchema>).kind as { const: string }).const,
  );
}

/** The value's own description of what it should be (for "must be …" messages). */
function expected(schema: JsonSchema, root: JsonSchema): string {
  const resolved = resolve(schema, root);
  if (typeof resolved.type === 'string') return article(resolved.type);
  const branches = (resolved.anyOf ?? resolved.oneOf) as readonly JsonSchema[] | undefined;
  if (branches !== undefined) {
    const names = branches.map((b) => {
      const r = resolve(b, root);
      if (r.discriminator !== undefined) return 'an object with a "kind"';
      return typeof r.type === 'string' ? article(r.type) : 'an object';
    });
    return [...new Set(names)].join(' or ');
  }
  return 'something else';
}

function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const prefix = '#/$defs/';
  if (!ref.startsWith(prefix)) throw new Error(`schema: unsupported $ref ${ref}`);
  const target = (root.$defs as Record<string, JsonSchema> | undefined)?.[ref.slice(prefix.length)];
  if (target === undefined) throw new Error(`schema: unknown $ref ${ref}`);
  return target;
}

/**
 * Throws a {@link ScenarioFileError} for the first way `value` breaks `schema`. `allow(value,
 * path)` may accept a value the schema does not describe (a JS scenario's policy function).
 */
export function validate(
  value: unknown,
  schema: JsonSchema,
  options: { readonly allow?: (value: unknown, path: string) => boolean } = {},
): void {
  check(value, schema, '', schema, options.allow);
}

function check(
  value: unknown,
  raw: JsonSchema,
  path: string,
  root: JsonSchema,
  allow: ((value: unknown, path: string) => boolean) | undefined,
): void {
  if (allow?.(value, path)) return;
  const schema = resolve(raw, root);
  for (const key of Object.keys(schema)) {
    if (!KEYWORDS.has(key) && !ANNOTATIONS.has(key)) {
      throw new Error(`schema: keyword "${key}" at ${path || 'the top'} is not supported`);
    }
  }
  const fail = (message: string): never => {
    throw new ScenarioFileError(path, message);
  };
  if (schema.anyOf !== undefined) {
    // Unions here are of different JSON types (a number or an object, an object or an array):
    // the value's type picks the branch, so the error comes from the branch the user meant.
    const branches = schema.anyOf as readonly JsonSchema[];
    const branch = branches.find((b) => {
      const r = resolve(b, root);
      if (typeof r.type === 'string') return typeMatches(r.type, value);
      return r.discriminator !== undefined && jsonType(value) === 'object';
    });
    if (branch === undefined) fail(`must be ${expected(schema, root)}, received ${show(value)}`);
    check(value, branch!, path, root, allow);
    return;
  }
  if (schema.oneOf !== undefined) {
    const variants = (schema.oneOf as readonly JsonSchema[]).map((v) => resolve(v, root));
    const kinds = kindsOf(variants);
    if (jsonType(value) !== 'object') {
      fail(`must be an object with a "kind" (one of ${kinds.join(', ')}), received ${show(value)}`);
    }
    const kind = (value as Record<string, unknown>).kind;
    if (kind === undefined) fail(`missing field "kind" (one of ${kinds.join(', ')})`);
    const index = kinds.indexOf(kind as string);
    if (index < 0) {
      throw new ScenarioFileError(
        fieldPath(path, 'kind'),
        `unknown kind ${show(kind)} (expected one of ${kinds.join(', ')})`,
      );
    }
    check(value, variants[index]!, path, root, allow);
    return;
  }
  if ('const' in schema && value !== schema.const) {
    fail(`must be ${show(schema.const)}, received ${show(value)}`);
  }
  if (schema.enum !== undefined) {
    const options = schema.enum as readonly unknown[];
    if (!options.includes(value)) {
      fail(`must be one of ${options.map(show).join(', ')}, received ${show(value)}`);
    }
  }
  if (typeof schema.type === 'string' && !typeMatches(schema.type, value)) {
    fail(`must be ${article(schema.type)}, received ${show(value)}`);
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(`must be a finite number, received ${show(value)}`);
    if (typeof schema.minimum === 'number' && value < schema.minimum) {
      fail(`must be ≥ ${schema.minimum}, received ${value}`);
    }
    if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum) {
      fail(`must be > ${schema.exclusiveMinimum}, received ${value}`);
    }
    if (typeof schema.maximum === 'number' && value > schema.maximum) {
      fail(`must be ≤ ${schema.maximum}, received ${value}`);
    }
  }
  if (typeof value === 'string' && typeof schema.minLength === 'number') {
    if (value.length < schema.minLength) fail('must not be empty');
  }
  if (Array.isArray(value)) {
    if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
      fail(`needs at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`);
    }
    if (schema.items !== undefined) {
      value.forEach((item, i) => {
        check(item, schema.items as JsonSchema, fieldPath(path, i), root, allow);
      });
    }
  }
  if (jsonType(value) === 'object' && schema.type === 'object') {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const allowed = Object.keys(properties);
    if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) {
      fail(
        schema.maxProperties === 1
          ? `needs exactly one field (one of ${allowed.join(', ')})`
          : `needs at least ${schema.minProperties} entr${schema.minProperties === 1 ? 'y' : 'ies'}`,
      );
    }
    if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) {
      fail(`has ${keys.length} fields, allowed ${schema.maxProperties} (${keys.join(', ')})`);
    }
    for (const key of (schema.required ?? []) as readonly string[]) {
      if (object[key] === undefined) fail(`missing field "${key}"`);
    }
    for (const key of keys) {
      const property = properties[key];
      if (property !== undefined) {
        check(object[key], property, fieldPath(path, key), root, allow);
      } else if (schema.additionalProperties === false) {
        throw new ScenarioFileError(
          fieldPath(path, key),
          `unknown field "${key}"${suggestion(key, allowed)}`,
        );
      } else if (typeof schema.additionalProperties === 'object') {
        check(
          object[key],
          schema.additionalProperties as JsonSchema,
          fieldPath(path, key),
          root,
          allow,
        );
      }
    }
  }
}
