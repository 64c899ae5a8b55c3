// Browser test of the placeholder page (web/index.html) against a real gridgov server on
// the demo county, in Debian's headless Chromium driven by playwright-core.
//
//   node --test tests/web/            (scripts/test.sh runs it after `cargo test`)
//
// Environment: GRIDGOV_BIN (default target/debug/gridgov), GRIDGOV_CHROMIUM (default
// /usr/bin/chromium). Leaves a screenshot in target/screenshots/placeholder.png.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// playwright-core is a devDependency of web/ (web/node_modules), not of this directory.
const { chromium } = createRequire(path.join(ROOT, 'web', 'package.json'))('playwright-core');
const BIN = process.env.GRIDGOV_BIN || path.join(ROOT, 'target', 'debug', 'gridgov');
const CHROMIUM = process.env.GRIDGOV_CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = path.join(ROOT, 'target', 'screenshots', 'placeholder.png');
const HEALTH_TIMEOUT_MS = 120_000;
const BACKGROUND = [0xee, 0xf1, 0xea]; // the style's background-color, #eef1ea

// Chromium as root, offline: no sandbox, no GPU (WebGL runs on SwiftShader), nothing
// that phones home. playwright-core gives it a fresh profile (--user-data-dir) itself.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  // WebGL on SwiftShader: the explicit opt-in, now that Chromium phases out the silent fallback.
  '--enable-unsafe-swiftshader',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

let tmp;
let server;
let serverLog = '';
let origin;
let browser;
let context;
let page;
let villagesResponse;
let screenshotTaken = false;
const consoleErrors = [];
const foreignRequests = [];
const allRequests = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gridgov ${args.join(' ')} took longer than ${timeoutMs / 1000} s\n${out}`));
    }, timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`gridgov ${args.join(' ')} failed (${signal ?? `exit ${code}`})\n${out}`));
    });
  });
}

async function waitForHealth(url) {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`gridgov serve exited (${server.signalCode ?? `exit ${server.exitCode}`}) before it was healthy\n${serverLog}`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000} s (last: ${last})\n${serverLog}`);
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// Decodes a PNG in a blank page of the browser and returns how many distinct colours it
// has and which share of its pixels differs clearly from the map's background.
async function pixelStats(png) {
  const scratch = await context.newPage();
  try {
    return await scratch.evaluate(async ({ b64, bg }) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const ctx = canvas.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const colours = new Set();
      let drawn = 0;
      for (let i = 0; i < data.length; i += 4) {
        colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 24) {
          drawn += 1;
        }
      }
      return { width: canvas.width, height: canvas.height, colours: colours.size, drawn: drawn / (data.length / 4) };
    }, { b64: png.toString('base64'), bg: BACKGROUND });
  } finally {
    await scratch.close();
  }
}

before(async () => {
  try {
    await access(BIN);
  } catch {
    throw new Error(`${BIN} does not exist: build it first (cargo build -p gridgov-cli)`);
  }
  tmp = await mkdtemp(path.join(os.tmpdir(), 'gridgov-web-'));
  const store = path.join(tmp, 'demo.gpkg');
  await run(['demo', '--out', store], 600_000);

  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = spawn(BIN, ['serve', '--store', store, '--addr', `127.0.0.1:${port}`, '--web-dir', 'web'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d) => { serverLog = (serverLog + d).slice(-20_000); };
  server.stdout.on('data', keep);
  server.stderr.on('data', keep);
  await waitForHealth(`${origin}/api/v1/health`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  // Any request that is not for the gridgov server is recorded and refused.
  const serverHost = new URL(origin).host;
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === serverHost || url.protocol === 'data:' || url.protocol === 'blob:') {
      return route.continue();
    }
    foreignRequests.push(url.href);
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
  page.on('request', (req) => allRequests.push(req.url()));

  // Deny by default: the page asks for a sign-in. The first start printed the county
  // admin's random password once; sign in with it through the page's form.
  const printed = /created the county admin '(\S+)' with the password (\S+)/.exec(serverLog);
  assert.ok(printed, `the first start printed no admin password:\n${serverLog}`);
  await page.goto(`${origin}/`, { waitUntil: 'load', timeout: 60_000 });
  await page.waitForFunction(() => document.body.dataset.state === 'signin', null, { timeout: 60_000 });
  // The refused requests before signing in are the only errors allowed.
  const beforeSignIn = consoleErrors.splice(0);
  assert.ok(beforeSignIn.every((e) => e.includes('401')), beforeSignIn.join('\n'));
  await page.fill('#signin-name', printed[1]);
  await page.fill('#signin-password', printed[2]);
  const villages = page.waitForResponse((r) => r.url().includes('/api/v1/layers/villages/items') && r.status() === 200, { timeout: 60_000 });
  await page.click('#signin button[type=submit]');
  villagesResponse = await villages;
  await page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
}, { timeout: 900_000 });

async function saveScreenshot() {
  await mkdir(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT });
  screenshotTaken = true;
}

after(async () => {
  // Normally taken after the click on the map; here when a test failed before it.
  if (page && !screenshotTaken) await saveScreenshot().catch(() => {});
  await browser?.close().catch(() => {});
  await stopServer();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

test('the page loads with no errors and requests nothing beyond the server', async () => {
  const state = await page.evaluate(() => document.body.dataset.state);
  const status = await page.textContent('#status');
  assert.equal(state, 'ready', `page state is '${state}': ${status}`);
  assert.deepEqual(foreignRequests, [], 'requests to hosts other than the gridgov server');
  assert.deepEqual(consoleErrors, [], 'console errors or page errors');
  for (const url of allRequests) {
    const u = new URL(url);
    assert.ok(u.origin === origin || u.protocol === 'data:' || u.protocol === 'blob:', `request to ${url}`);
  }
  assert.ok(allRequests.some((u) => u.endsWith('/vendor/maplibre-gl/maplibre-gl.js')), 'MapLibre came from /vendor/');
  assert.ok(allRequests.some((u) => u.includes('/api/v1/layers/townships/items')), 'townships were requested');
});

test('the villages request answers at least 60 villages', async () => {
  assert.equal(villagesResponse.status(), 200);
  const body = await villagesResponse.json();
  assert.equal(body.type, 'FeatureCollection');
  assert.ok(body.features.length >= 60, `${body.features.length} villages`);
  for (const feature of body.features) {
    assert.equal(typeof feature.properties.code, 'string');
    assert.equal(typeof feature.properties.name, 'string');
  }
  const listed = await page.locator('#village-list button').count();
  assert.equal(listed, body.features.length, 'every village is in the side list');
});

test('the map canvas is drawn, not blank', async () => {
  const png = await page.locator('canvas.maplibregl-canvas').screenshot();
  const stats = await pixelStats(png);
  assert.ok(stats.width > 300 && stats.height > 300, `canvas ${stats.width}x${stats.height}`);
  assert.ok(stats.colours >= 12, `only ${stats.colours} distinct colours on the map`);
  assert.ok(stats.drawn >= 0.2, `only ${(stats.drawn * 100).toFixed(1)} % of the map differs from the background`);
});

test('clicking a village on the map shows its name', async () => {
  // A point well inside one village, near the middle of the map.
  const target = await page.evaluate(() => {
    const { map } = window.gridgov;
    const layers = ['villages-fill', 'villages-point'].filter((id) => map.getLayer(id));
    const canvas = map.getCanvas();
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    let best = null;
    for (let y = 20; y < h - 20; y += 12) {
      for (let x = 20; x < w - 20; x += 12) {
        const hits = map.queryRenderedFeatures([[x - 5, y - 5], [x + 5, y + 5]], { layers });
        const codes = new Set(hits.map((f) => f.properties.code));
        if (codes.size !== 1) continue;
        const d = (x - w / 2) ** 2 + (y - h / 2) ** 2;
        if (!best || d < best.d) best = { x, y, d, code: hits[0].properties.code, name: hits[0].properties.name };
      }
    }
    return best;
  });
  assert.ok(target, 'no village found on the map to click');
  const box = await page.locator('canvas.maplibregl-canvas').boundingBox();
  await page.mouse.click(box.x + target.x, box.y + target.y);
  await page.waitForFunction(
    (name) => document.querySelector('#selection .name')?.textContent === name
      && document.querySelector('.maplibregl-popup-content')?.textContent.includes(name),
    target.name,
    { timeout: 10_000 },
  ).catch(async () => {
    const shown = await page.textContent('#selection');
    assert.fail(`clicked village ${target.code} '${target.name}', the side panel shows: ${shown}`);
  });
  await saveScreenshot();
});

test('clicking a village in the list shows its name', async () => {
  const button = page.locator('#village-list button').nth(3);
  const name = await button.textContent();
  await button.click();
  await page.waitForFunction(
    (n) => document.querySelector('#selection .name')?.textContent === n,
    name,
    { timeout: 10_000 },
  );
  assert.equal(await button.getAttribute('aria-current'), 'true');
  assert.ok((await page.textContent('.maplibregl-popup-content')).includes(name), 'the popup shows the name');
});

test('no console errors and no foreign requests in the whole session', () => {
  assert.deepEqual(foreignRequests, [], 'requests to hosts other than the gridgov server');
  assert.deepEqual(consoleErrors, [], 'console errors or page errors');
});
