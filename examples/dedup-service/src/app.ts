/**
 * The payments service: an Express 5 app whose POST routes are deduplicated by
 * `Idempotency-Key` through `@faultline/idempotency`. The store decides the reach of the dedup:
 * `redisStore` for every instance sharing one Redis, `memoryStore` for one process.
 */
import { createIdempotency, type Idempotency, type Store } from '@faultline/idempotency';
import { expressIdempotency } from '@faultline/idempotency/express';
import express, { type Express } from 'express';

/** Side effects the handler performs, shared by the instances of the demo (one per process otherwise). */
export interface Ledger {
  /** Charges executed, by idempotency key. A key charged twice is the bug dedup prevents. */
  readonly charges: Map<string, number>;
}

export interface PaymentsAppOptions {
  readonly store: Store;
  readonly ledger: Ledger;
  /** Instance name, echoed in responses so the demo shows who executed a request. */
  readonly instance: string;
  /** Simulated work per charge, ms. Default 200. */
  readonly workMs?: number;
}

/** API tokens of the demo's tenants: a stand-in for your real authentication. */
const TENANTS: ReadonlyMap<string, string> = new Map([['demo-token-acme', 'acme']]);

/** Sets `req.tenant` from `Authorization: Bearer <token>`, or answers 401. */
function authenticate(
  req: express.Request & { tenant?: string },
  res: express.Response,
  next: express.NextFunction,
): void {
  const token = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1];
  const tenant = token === undefined ? undefined : TENANTS.get(token);
  if (tenant === undefined) {
    res.status(401).json({ error: 'unknown or missing API token' });
    return;
  }
  req.tenant = tenant;
  next();
}

export function createPaymentsApp(options: PaymentsAppOptions): {
  app: Express;
  idempotency: Idempotency;
} {
  const idempotency = createIdempotency({
    store: options.store,
    required: true, // a POST without a key is refused (400 MISSING_KEY): payments must be retry-safe
    // Keys belong to a principal: the same key from two tenants is two different operations.
    // The tenant comes from authentication (`authenticate` below), never from a header the
    // client sets; a request without one would be refused (400 MISSING_SCOPE).
    scope: (request) => (request.raw as { tenant?: string }).tenant,
    recordTtl: '24h', // how long a retry gets the stored response
    lockTtl: '30s', // lease of an execution in progress (renewed while the handler runs)
  });
  idempotency.onWarning(({ code, message }) => console.warn(`idempotency ${code}: ${message}`));

  const app = express();
  app.use(authenticate);
  app.use(express.json());
  app.use(expressIdempotency(idempotency)); // after the body parser: the fingerprint covers req.body

  let sequence = 0;
  app.post('/payments', async (req, res) => {
    const { amount, currency } = (req.body ?? {}) as { amount?: unknown; currency?: unknown };
    if (typeof amount !== 'number' || typeof currency !== 'string') {
      res.status(422).json({ error: 'amount (number) and currency (string) are required' });
      return;
    }
    const key = String(req.get('idempotency-key'));
    // The side effect the key protects: in a real service, the call to the card processor.
    await new Promise((resolve) => setTimeout(resolve, options.workMs ?? 200));
    options.ledger.charges.set(key, (options.ledger.charges.get(key) ?? 0) + 1);
    sequence++;
    res
      .status(201)
      .location(`/payments/${options.instance}-${sequence}`)
      .json({
        id: `${options.instance}-${sequence}`,
        amount,
        currency,
        chargedBy: options.instance,
      });
  });
  return { app, idempotency };
}
