#!/usr/bin/env node
// Rewrites the per-service part of BENCHMARKS.md from docs/benchmarks/*.md, so the figures each area
// records next to its code and the figures in BENCHMARKS.md cannot drift apart.
//   node scripts/merge-benchmarks.mjs          rewrite BENCHMARKS.md
//   node scripts/merge-benchmarks.mjs --check  exit 1 if BENCHMARKS.md is not up to date
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'BENCHMARKS.md');
const marker = '<!-- merged from docs/benchmarks/*.md by scripts/merge-benchmarks.mjs: edit those files, not below -->';

const current = readFileSync(target, 'utf8');
const at = current.indexOf(marker);
if (at < 0) {
  console.error(`BENCHMARKS.md has no merge marker; add this line where the per-service figures go:\n${marker}`);
  process.exit(2);
}
const dir = join(root, 'docs/benchmarks');
const parts = readdirSync(dir)
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => {
    // Each file's headings move two levels down, under "## Per-service benchmarks".
    let fenced = false;
    const body = readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .map((line) => {
        if (line.startsWith('```')) fenced = !fenced;
        if (fenced) return line; // a `#` in a code block is a shell comment, not a heading
        return (
          line
            .replace(/^(#{1,4}) /, (_, hashes) => `${hashes}## `)
            // Relative links in docs/benchmarks/ resolve from the repository root once merged.
            .replace(/\]\((?!https?:|#|\/)([^)]+)\)/g, (_, link) => `](${join('docs/benchmarks', link).replace(/\\/g, '/')})`)
        );
      })
      .join('\n')
      .trimEnd();
    return `<!-- from docs/benchmarks/${f} -->\n${body}\n`;
  });
const next = `${current.slice(0, at + marker.length)}\n\n${parts.join('\n')}`;
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('BENCHMARKS.md is out of date with docs/benchmarks/*.md: run node scripts/merge-benchmarks.mjs');
    process.exit(1);
  }
  console.log('BENCHMARKS.md is up to date');
} else {
  writeFileSync(target, next);
  console.log(`BENCHMARKS.md: merged ${parts.length} file(s) from docs/benchmarks/`);
}
