// Builds the web pages into web/dist: one bundle per page (esbuild), the pages' HTML with
// their assets' addresses (a content hash in the query, so that browsers revalidate only
// when a bundle changed).
//
//   npm run build            (scripts/setup.sh runs it after `npm ci`)
//   npm run build -- --dev   unminified, with source maps

import * as esbuild from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = path.dirname(fileURLToPath(import.meta.url));
const DIST = path.join(WEB, 'dist');
const dev = process.argv.includes('--dev');

// page name (dist/<name>.html) -> entry module
const PAGES = {
  index: 'src/pages/command.ts',
  m: 'src/pages/mobile.ts',
  login: 'src/pages/login.ts',
  planner: 'src/pages/planner.ts',
  sanitation: 'src/pages/sanitation.ts',
};

// Every string key the pages' HTML names (data-i18n*) must exist in the default table; the
// TypeScript sources are checked by tsc, the HTML only here.
const table = await readFile(path.join(WEB, 'src', 'i18n', 'zh-CN.ts'), 'utf8');
const known = new Set([...table.matchAll(/^\s*'([\w.]+)':/gm)].map((m) => m[1]));
for (const name of Object.keys(PAGES)) {
  const html = await readFile(path.join(WEB, 'src', 'pages', `${name}.html`), 'utf8');
  const unknown = [...html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)].map((m) => m[1]).filter((k) => !known.has(k));
  if (unknown.length) {
    console.error(`web: src/pages/${name}.html names strings missing from src/i18n/zh-CN.ts: ${unknown.join(', ')}`);
    process.exit(1);
  }
}

await rm(DIST, { recursive: true, force: true });
await mkdir(path.join(DIST, 'assets'), { recursive: true });

const result = await esbuild.build({
  absWorkingDir: WEB,
  entryPoints: Object.fromEntries(Object.entries(PAGES).map(([name, src]) => [name, src])),
  outdir: path.join(DIST, 'assets'),
  bundle: true,
  format: 'esm',
  splitting: false,
  target: ['chrome100', 'firefox100', 'safari15'],
  minify: !dev,
  sourcemap: dev ? 'linked' : false,
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': dev ? '"development"' : '"production"' },
});

async function hashOf(file) {
  return createHash('sha256').update(await readFile(file)).digest('hex').slice(0, 12);
}

for (const name of Object.keys(PAGES)) {
  const template = await readFile(path.join(WEB, 'src', 'pages', `${name}.html`), 'utf8');
  const js = path.join(DIST, 'assets', `${name}.js`);
  const css = path.join(DIST, 'assets', `${name}.css`);
  let head = '';
  const files = await readdir(path.join(DIST, 'assets'));
  if (files.includes(`${name}.css`)) {
    head += `<link rel="stylesheet" href="assets/${name}.css?v=${await hashOf(css)}">\n`;
  }
  head += `<script type="module" src="assets/${name}.js?v=${await hashOf(js)}"></script>\n`;
  await writeFile(path.join(DIST, `${name}.html`), template.replace('<!--ASSETS-->', head));
}

const sizes = Object.entries(result.metafile.outputs)
  .filter(([file]) => !file.endsWith('.map'))
  .map(([file, out]) => `${path.relative(WEB, file)} ${(out.bytes / 1024).toFixed(0)} kB`);
console.log(`web: built ${Object.keys(PAGES).length} pages into dist/: ${sizes.join(', ')}`);
