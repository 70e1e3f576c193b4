/**
 * Every relative link in the documentation resolves: guides, concepts, images, package READMEs and
 * examples. (Code blocks are compiled by `scripts/check-snippets.mjs` in `pnpm typecheck`.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

function markdownFiles(): string[] {
  const files = [join(root, 'README.md'), join(root, 'examples', 'README.md')];
  for (const name of readdirSync(join(root, 'packages'))) {
    const readme = join(root, 'packages', name, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'api' || entry.name === 'node_modules') {
        continue;
      }
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) files.push(path);
    }
  };
  walk(join(root, 'docs'));
  return files;
}

/** Relative link targets outside code spans and fenced blocks. */
function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  const links: string[] = [];
  for (const match of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = match[1]!;
    if (/^[a-z]+:/i.test(target) || target.startsWith('#')) continue;
    links.push(target.split('#')[0]!);
  }
  return links;
}

describe('documentation links', () => {
  it('every relative link points at an existing file or directory', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      for (const target of relativeLinks(readFileSync(file, 'utf8'))) {
        if (!existsSync(resolve(dirname(file), target))) {
          broken.push(`${relative(root, file)} → ${target}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('the index links a guide for every primitive and every concept page', () => {
    const index = readFileSync(join(root, 'docs', 'README.md'), 'utf8');
    const linked = new Set(relativeLinks(index));
    for (const guide of readdirSync(join(root, 'docs', 'guides'))) {
      expect(linked, `docs/README.md links guides/${guide}`).toContain(`guides/${guide}`);
    }
    for (const concept of readdirSync(join(root, 'docs', 'concepts'))) {
      expect(linked, `docs/README.md links concepts/${concept}`).toContain(`concepts/${concept}`);
    }
  });
});
