// Compiles every TypeScript/JavaScript code block in README.md, packages/*/README.md and docs/**
// so that documentation cannot drift from the API. Each block becomes a module under
// docs/.snippets/ (gitignored); free names that examples assume (an Express `app`, a `url`, …)
// are declared once in docs/snippets.d.ts. A block whose info string contains `no-check`
// is skipped: use it only for output or pseudo-code, never for API usage.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const out = join(root, 'docs', '.snippets');

function markdownFiles() {
  const files = [join(root, 'README.md')];
  for (const name of readdirSync(join(root, 'packages'))) {
    const readme = join(root, 'packages', name, 'README.md');
    try {
      if (statSync(readme).isFile()) files.push(readme);
    } catch {}
  }
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'api' || entry.name === 'node_modules')
        continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  for (const name of ['benchmarks', 'examples']) {
    try {
      files.push(
        ...readdirSync(join(root, name))
          .filter((f) => f.endsWith('.md'))
          .map((f) => join(root, name, f)),
      );
    } catch {}
  }
  return files;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
let count = 0;
const origins = [];
for (const file of markdownFiles()) {
  const lines = readFileSync(file, 'utf8').split('\n');
  let block = null;
  lines.forEach((line, index) => {
    const fence = /^```(\S*)\s*(.*)$/.exec(line);
    if (block === null && fence) {
      block = { lang: fence[1], info: fence[2], start: index + 1, body: [] };
    } else if (block !== null && line.startsWith('```')) {
      if (
        /^(ts|typescript|js|javascript|mjs)$/.test(block.lang) &&
        !block.info.includes('no-check')
      ) {
        const name = `${relative(root, file).replace(/[^A-Za-z0-9]+/g, '_')}_L${block.start}.ts`;
        writeFileSync(
          join(out, name),
          `// ${relative(root, file)}:${block.start}\n${block.body.join('\n')}\nexport {};\n`,
        );
        origins.push(`${relative(root, file)}:${block.start}`);
        count++;
      }
      block = null;
    } else if (block !== null) {
      block.body.push(line);
    }
  });
}
writeFileSync(
  join(out, 'tsconfig.json'),
  JSON.stringify({
    extends: '../../tsconfig.base.json',
    compilerOptions: {
      noEmit: true,
      composite: false,
      declaration: false,
      declarationMap: false,
      sourceMap: false,
      noUnusedLocals: false,
      allowJs: true,
    },
    include: ['./*.ts', '../snippets.d.ts'],
  }),
);
try {
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', join(out, 'tsconfig.json')], {
    stdio: 'inherit',
  });
} catch {
  console.error(
    `check-snippets: documentation code blocks do not compile (see above; files in docs/.snippets/)`,
  );
  process.exit(1);
}
console.log(`check-snippets: ${count} code blocks compiled`);
