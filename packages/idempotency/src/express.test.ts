import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, it } from 'vitest';
import { expressIdempotency } from './express.js';
import { closeServer, describeHttpScenarios, listen } from './testing/http-scenarios.js';

// The root Vitest config runs workers with `--conditions import`, so a CommonJS `require` of a
// dual package resolves to its ESM file: Express's router then gets `is-promise`'s module
// namespace instead of the function. Seed the CommonJS build under the path it resolves to.
{
  const require = createRequire(import.meta.url);
  const fromRouter = createRequire(createRequire(require.resolve('express')).resolve('router'));
  const resolved = fromRouter.resolve('is-promise');
  if (resolved.endsWith('.mjs')) {
    const cjs = join(dirname(resolved), 'index.js');
    require(cjs);
    require.cache[resolved] = require.cache[cjs];
  }
}
const { default: express } = await import('express');

describeHttpScenarios(
  'Express 5',
  async (idempotency, routes) => {
    const app = express();
    app.use(express.json());
    app.use(expressIdempotency(idempotency));
    app.all('/:route', async (req, res) => {
      const query = new URLSearchParams(req.url.split('?')[1] ?? '');
      const answer = await routes.handle(String(req.params.route), req.body, query);
      res.status(answer.status);
      for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
      if ('stream' in answer) {
        for (const chunk of answer.stream) {
          res.write(chunk);
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end();
      } else {
        res.send(Buffer.from(answer.body));
      }
    });
    const server = createServer(app);
    const url = await listen(server);
    return { url, close: () => closeServer(server) };
  },
  { describe, it },
);
