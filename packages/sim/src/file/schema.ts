/**
 * The JSON Schema (draft 2020-12) of scenario files and policy files: the one source of truth.
 * `scenario.schema.json` and `policy.schema.json` in the package root are this object written out
 * (a test keeps them identical), for editors: put `"$schema": "…/scenario.schema.json"` in a file
 * and VS Code, JetBrains and any schema-aware editor complete and check it. `validate.ts` checks
 * files against this same object, so the editor and the CLI cannot disagree.
 *
 * Every object lists its fields (`additionalProperties: false`): a misspelt field is an error, not
 * a silently ignored default. Tagged unions (distributions, backoffs, budgets, trip strategies,
 * timeouts) are told apart by their `kind`.
 */

/** A JSON Schema document, as plain data. */
export type JsonSchema = Record<string, unknown>;

const ms = (description: string, minimum = 0): JsonSchema => ({
  type: 'number',
  minimum,
  description,
});
const positiveMs = (description: string): JsonSchema => ({
  type: 'number',
  exclusiveMinimum: 0,
  description,
});
const probability = (description: string): JsonSchema => ({
  type: 'number',
  minimum: 0,
  maximum: 1,
  description,
});
const integer = (description: string, minimum: number): JsonSchema => ({
  type: 'integer',
  minimum,
  description,
});

/** `{ kind: <const>, ...fields }` with `kind` and `required` required and nothing else allowed. */
function variant(
  kind: string,
  description: string,
  properties: Record<string, JsonSchema>,
  required: readonly string[] = [],
): JsonSchema {
  return {
    type: 'object',
    description,
    properties: { kind: { const: kind }, ...properties },
    required: ['kind', ...required],
    additionalProperties: false,
  };
}

/** A union told apart by `kind` (a number alone, where allowed, is the `numberMeans` variant). */
function tagged(
  description: string,
  variants: readonly JsonSchema[],
  numberMeans?: string,
): JsonSchema {
  const union: JsonSchema = {
    description,
    discriminator: { propertyName: 'kind' },
    oneOf: variants,
  };
  return numberMeans === undefined
    ? union
    : {
        description: `${description} A plain number means ${numberMeans}.`,
        anyOf: [{ type: 'number', minimum: 0 }, union],
      };
}

const distribution: JsonSchema = tagged(
  'A distribution of durations in ms.',
  [
    variant('constant', 'Always `value`.', { value: ms('The value, ms.') }, ['value']),
    variant(
      'uniform',
      'Uniform on [min, max).',
      { min: ms('Lower bound, ms.'), max: ms('Upper bound, ms (≥ min).') },
      ['min', 'max'],
    ),
    variant(
      'normal',
      'The absolute value of Normal(mean, sd) (a network hop in Brooker’s model).',
      { mean: ms('Mean, ms.'), sd: ms('Standard deviation, ms.') },
      ['mean', 'sd'],
    ),
    variant(
      'exponential',
      'Exponential with this mean (M/M/c service).',
      { mean: positiveMs('Mean, ms.') },
      ['mean'],
    ),
    variant(
      'lognormal',
      'Log-normal: the usual shape of service latency, with a long right tail.',
      {
        median: positiveMs('Median, ms.'),
        sigma: { type: 'number', minimum: 0, description: 'Standard deviation of the log.' },
      },
      ['median', 'sigma'],
    ),
    variant(
      'bimodal',
      '`slow` with probability `p`, else `fast` (a cache miss, a GC pause).',
      {
        fast: { $ref: '#/$defs/distribution' },
        slow: { $ref: '#/$defs/distribution' },
        p: probability('Probability of the slow mode.'),
      },
      ['fast', 'slow', 'p'],
    ),
    variant(
      'empirical',
      'The measured values themselves (inverse CDF with interpolation).',
      {
        values: {
          type: 'array',
          minItems: 1,
          items: { type: 'number', minimum: 0 },
          description: 'Measured durations, ms.',
        },
      },
      ['values'],
    ),
    variant(
      'observed',
      'Measured latencies read from a CSV or JSON file (one value per line, or a column of a CSV with a header; a JSON array of numbers).',
      {
        file: {
          type: 'string',
          minLength: 1,
          description: 'Path of the file, relative to the scenario file.',
        },
        column: {
          type: 'string',
          minLength: 1,
          description:
            'The CSV column to read (default: the one named like latency/duration/elapsed/ms, else the first numeric one).',
        },
        unit: {
          enum: ['ms', 's', 'us'],
          description: 'Unit of the values in the file. Default ms.',
        },
      },
      ['file'],
    ),
  ],
  'a constant of that many ms',
);

const backoff: JsonSchema = tagged(
  'The delays between attempts (`@faultline/retry` backoffs).',
  [
    variant('constant', '`constant(ms)`: the same delay every time.', { ms: ms('Delay, ms.') }, [
      'ms',
    ]),
    variant('exponential', '`exponential(options)`: min(max, initial·factor^(n−1)), jittered.', {
      initial: positiveMs('First delay, ms. Default 100.'),
      factor: { type: 'number', minimum: 1, description: 'Growth per retry. Default 2.' },
      max: positiveMs('Cap, ms. Default 10 000.'),
      jitter: {
        enum: ['none', 'full', 'equal', 'decorrelated'],
        description: 'Default full.',
      },
    }),
    variant(
      'linear',
      '`linear(options)`: initial + step·(n−1), capped.',
      {
        initial: ms('First delay, ms.'),
        step: ms('Increment, ms. Default: initial.'),
        max: ms('Cap, ms.'),
      },
      ['initial'],
    ),
    variant(
      'delays',
      '`fromDelays(list)`: these delays, the last one repeated.',
      { delays: { type: 'array', minItems: 1, items: { type: 'number', minimum: 0 } } },
      ['delays'],
    ),
    variant('decorrelatedJitterV2', "`decorrelatedJitterV2(options)`: Polly v8's default.", {
      median: positiveMs('Median first delay, ms. Default 100.'),
      max: positiveMs('Cap, ms. Default 10 000.'),
    }),
  ],
  'constant(ms)',
);

const budget: JsonSchema = tagged('A retry budget shared by every request of the run.', [
  variant(
    'tokenBucket',
    '`tokenBucketBudget`: gRPC retry throttling.',
    {
      maxTokens: { type: 'number', exclusiveMinimum: 0, description: 'Bucket size.' },
      tokenRatio: { type: 'number', exclusiveMinimum: 0, description: 'Tokens a success earns.' },
    },
    ['maxTokens', 'tokenRatio'],
  ),
  variant('ratio', '`ratioBudget`: Finagle’s retries ≤ ratio × requests + a reserve.', {
    ratio: probability('Retries per request. Default 0.2.'),
    minRetriesPerSecond: { type: 'number', minimum: 0, description: 'Reserve. Default 10.' },
    ttl: positiveMs('Window, ms. Default 10 000.'),
  }),
  variant('quota', '`quotaBudget`: the AWS SDKs’ retry quota.', {
    capacity: { type: 'number', minimum: 0 },
    cost: { type: 'number', minimum: 0 },
    throttlingCost: { type: 'number', minimum: 0 },
    refund: { type: 'number', minimum: 0 },
  }),
  variant('concurrency', '`concurrencyBudget`: Envoy’s retries in flight ≤ ratio × in flight.', {
    ratio: probability('Default 0.2.'),
    min: integer('Retries in flight always allowed. Default 3.', 0),
  }),
]);

const trip: JsonSchema = tagged('When a closed circuit opens.', [
  variant('consecutiveFailures', '`consecutiveFailures(n)`.', {
    n: integer('Failures in a row. Default 5.', 1),
  }),
  variant('failureRate', '`failureRate(options)`: a failure rate over a sliding window.', {
    threshold: probability('Failure rate that trips, (0, 1]. Default 0.5.'),
    minimumThroughput: integer('Calls in the window before it may trip. Default 20.', 1),
    window: positiveMs('Window, ms. Default 30 000.'),
    buckets: integer('Buckets of the window. Default 10.', 1),
  }),
]);

const retry: JsonSchema = {
  type: 'object',
  description: '`retry(options)` from @faultline/retry.',
  properties: {
    maxAttempts: integer('Attempts in all, the first included. Default 3.', 1),
    backoff,
    budget,
    maxRetryAfter: ms('Upper bound on a pushback delay, ms. Default 60 000.'),
  },
  additionalProperties: false,
};

const circuitBreaker: JsonSchema = {
  type: 'object',
  description: '`circuitBreaker(options)` from @faultline/breaker.',
  properties: {
    trip,
    breakDuration: {
      description: 'How long the circuit stays open: ms, or a backoff (per consecutive opening).',
      anyOf: [{ type: 'number', minimum: 0 }, backoff],
    },
    halfOpen: {
      type: 'object',
      properties: { probes: integer('Probes let through. Default 1.', 1) },
      additionalProperties: false,
    },
  },
  required: ['trip'],
  additionalProperties: false,
};

const adaptiveThrottle: JsonSchema = {
  type: 'object',
  description:
    '`adaptiveThrottle(options)` from @faultline/breaker (Google SRE client throttling).',
  properties: {
    k: { type: 'number', minimum: 1, description: 'Accepts multiplier. Default 2.' },
    window: positiveMs('Window, ms. Default 120 000.'),
    buckets: integer('Buckets of the window. Default 12.', 1),
    minimumRequests: integer('Requests before it throttles at all. Default 0.', 0),
  },
  additionalProperties: false,
};

const timeout: JsonSchema = tagged(
  'A timeout (`timeout(duration)` from @faultline/timeout).',
  [
    variant(
      'fixed',
      'A fixed timeout.',
      {
        ms: positiveMs('Timeout, ms.'),
        strategy: { enum: ['aggressive', 'cooperative'], description: 'Default aggressive.' },
      },
      ['ms'],
    ),
    variant('adaptive', '`timeout(adaptiveTimeout(options))`: learned from recent answers.', {
      quantile: { type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'Default 0.999.' },
      multiplier: {
        type: 'number',
        minimum: 1,
        description: 'Headroom over the quantile. Default 1.5.',
      },
      min: ms('Floor, ms. Default 10.'),
      max: ms('Cap, ms. Default 30 000.'),
      initial: ms('Until minSamples answers are known, ms. Default 1000.'),
      minSamples: integer('Answers before it adapts. Default 20.', 1),
      window: positiveMs('Window, ms. Default 60 000.'),
      estimator: { enum: ['quantile', 'rtt'], description: 'Default quantile.' },
    }),
  ],
  'a fixed timeout of that many ms',
);

const bulkhead: JsonSchema = {
  type: 'object',
  description: '`bulkhead(options)` from @faultline/core: at most `limit` requests at once.',
  properties: {
    limit: integer('Executions at once.', 1),
    queue: integer('Callers waiting for a slot. Default 0.', 0),
    queueTimeout: positiveMs('Longest wait in the queue, ms.'),
  },
  required: ['limit'],
  additionalProperties: false,
};

const policyStep: JsonSchema = {
  type: 'object',
  description: 'One policy of a pipeline: exactly one field.',
  properties: { bulkhead, retry, circuitBreaker, adaptiveThrottle, timeout },
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
};

const policy: JsonSchema = {
  description:
    'A policy to compare. An object composes at most one of each policy in the order bulkhead → retry → circuitBreaker → adaptiveThrottle → timeout (so the timeout is per attempt); `{}` calls the downstream bare. For another order or two timeouts, write an array, outermost first.',
  anyOf: [
    {
      type: 'object',
      properties: { bulkhead, retry, circuitBreaker, adaptiveThrottle, timeout },
      additionalProperties: false,
    },
    { type: 'array', items: policyStep },
  ],
};

const incident: JsonSchema = tagged('A timed change to the downstream.', [
  variant(
    'outage',
    'Requests fail (503 at once, or no answer) with `probability` (default 1).',
    {
      start: ms('Start, ms.'),
      duration: ms('Duration, ms.'),
      mode: { enum: ['errors', 'black-hole'], description: 'Default errors.' },
      probability: probability('Share of requests that fail. Default 1.'),
    },
    ['start', 'duration'],
  ),
  variant(
    'brownout',
    'Service times × `factor`.',
    { start: ms('Start, ms.'), duration: ms('Duration, ms.'), factor: ms('Slowdown.') },
    ['start', 'duration', 'factor'],
  ),
  variant(
    'collapse',
    'Overload collapse: service times × (1 + factor · queue / concurrency).',
    { start: ms('Start, ms.'), duration: ms('Duration, ms.'), factor: ms('Growth.') },
    ['start', 'duration', 'factor'],
  ),
]);

const traffic: JsonSchema = tagged('Who calls the downstream.', [
  variant(
    'open',
    'Open loop: Poisson arrivals at `rate` per second, whatever happens to earlier requests (public traffic: the load retries amplify).',
    {
      rate: {
        description:
          'Requests per second, or steps `[{ "at": ms, "rate": n }, …]` (the rate from `at` until the next step).',
        anyOf: [
          { type: 'number', exclusiveMinimum: 0 },
          {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              properties: {
                at: ms('From this time, ms.'),
                rate: { type: 'number', minimum: 0, description: 'Requests per second.' },
              },
              required: ['at', 'rate'],
              additionalProperties: false,
            },
          },
        ],
      },
    },
    ['rate'],
  ),
  variant(
    'closed',
    'Closed loop: `clients` callers, each with one request at a time and a think time between (a worker pool, a batch job).',
    {
      clients: integer('Callers.', 1),
      think: { $ref: '#/$defs/distribution' },
    },
    ['clients'],
  ),
]);

/** The scenario file schema. */
export const scenarioSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://faultline.dev/schemas/scenario.schema.json',
  title: 'faultline-sim scenario',
  description:
    'A scenario for `faultline-sim run`: traffic, a downstream, and named policies to compare. Times are milliseconds of simulated time.',
  type: 'object',
  properties: {
    $schema: { type: 'string', description: 'This schema, for editors.' },
    name: {
      type: 'string',
      minLength: 1,
      description: 'Shown in the report. Default: the file name.',
    },
    description: { type: 'string', description: 'Shown under the title in the report.' },
    duration: positiveMs('Length of each run, ms of simulated time.'),
    seed: {
      type: 'integer',
      minimum: 0,
      maximum: 4294967295,
      description: 'Default 1; --seed wins.',
    },
    runs: integer('Runs per policy (results are means). Default 3; --runs wins.', 1),
    bucket: positiveMs('Width of the time buckets of the charts, ms. Default 1000.'),
    traffic,
    downstream: {
      type: 'object',
      description: 'The service being called.',
      properties: {
        latency: { $ref: '#/$defs/distribution' },
        concurrency: integer('Requests served at once. Default: unlimited.', 1),
        queueLimit: integer(
          'Requests waiting beyond `concurrency`; more get a 503. Default 1000.',
          0,
        ),
        failureRate: probability('Each request fails (a 500) with this probability. Default 0.'),
        incidents: { type: 'array', items: incident },
      },
      required: ['latency'],
      additionalProperties: false,
    },
    network: {
      type: 'object',
      description: 'Between the clients and the downstream (one-way, per message).',
      properties: {
        latency: { $ref: '#/$defs/distribution' },
        drop: probability('Message loss. Default 0.'),
      },
      additionalProperties: false,
    },
    policies: {
      type: 'object',
      description: 'The policies to compare, by name.',
      minProperties: 1,
      additionalProperties: { $ref: '#/$defs/policy' },
    },
  },
  required: ['duration', 'traffic', 'downstream', 'policies'],
  additionalProperties: false,
  $defs: { distribution, policy },
} as const;

/** The policy file schema (`faultline-sim compare --policies a.json …`). */
export const policySchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://faultline.dev/schemas/policy.schema.json',
  title: 'faultline-sim policy',
  description: 'One policy for `faultline-sim compare`.',
  type: 'object',
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', minLength: 1, description: 'Default: the file name.' },
    policy: { $ref: '#/$defs/policy' },
  },
  required: ['policy'],
  additionalProperties: false,
  $defs: { distribution, policy },
} as const;
