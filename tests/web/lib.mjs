// Shared helpers of the browser tests: a real `gridgov serve` on a fresh demo county, Debian's
// headless Chromium driven by playwright-core, and checks every page test makes (no console
// errors, no request to another host, the map drawn).
//
// Environment: GRIDGOV_BIN (default target/debug/gridgov), GRIDGOV_CHROMIUM (default
// /usr/bin/chromium). Screenshots go to target/screenshots/.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// playwright-core is a devDependency of web/ (web/node_modules), not of this directory.
export const { chromium } = createRequire(path.join(ROOT, 'web', 'package.json'))('playwright-core');
export const BIN = process.env.GRIDGOV_BIN || path.join(ROOT, 'target', 'debug', 'gridgov');
export const CHROMIUM = process.env.GRIDGOV_CHROMIUM || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'target', 'screenshots');
const HEALTH_TIMEOUT_MS = 120_000;

// Chromium as root, offline: no sandbox, no GPU (WebGL runs on SwiftShader), nothing
// that phones home. playwright-core gives it a fresh profile (--user-data-dir) itself.
export const CHROMIUM_ARGS = [
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

/** Routes the pages need beyond the layers: each must answer (see `checkRoutes`). */
export const PLANNED_ROUTES = {
  glossary: '/api/v1/glossary',
  events: '/api/v1/events',
  gridsSummary: '/api/v1/grids/summary',
  darkStyle: '/styles/dark.json',
  lightStyle: '/styles/light.json',
};

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

export function run(args, timeoutMs, input) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: ROOT, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    if (input !== undefined) child.stdin.end(input);
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

/**
 * Starts `gridgov serve` on a fresh demo county, with web/ (its dist/ build), the styles of
 * tiles/styles and a basemap package built from the demo, as far as the server build takes
 * them (it is asked with `serve --help`).
 */
export async function startServer() {
  try {
    await access(BIN);
  } catch {
    throw new Error(`${BIN} does not exist: build it first (cargo build -p gridgov-cli)`);
  }
  try {
    await access(path.join(ROOT, 'web', 'dist', 'index.html'));
  } catch {
    throw new Error('web/dist/index.html does not exist: build the pages first (cd web && npm run build)');
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'gridgov-web-'));
  const store = path.join(tmp, 'demo.gpkg');
  await run(['demo', '--out', store], 600_000);
  // The pages from web/dist, the styles of tiles/styles and an offline basemap of the demo.
  const basemap = path.join(tmp, 'demo.pmtiles');
  await run(['basemap', 'build', '--from', 'roads', '--store', store, '--out', basemap], 600_000);
  const args = [
    '--web-dir', path.join(ROOT, 'web'),
    '--tiles-dir', path.join(ROOT, 'tiles'),
    '--basemap', basemap,
  ];

  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  let log = '';
  const child = spawn(BIN, ['serve', '--store', store, '--addr', `127.0.0.1:${port}`, ...args, '--rate-limit', '0'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (d) => { log = (log + d).slice(-20_000); };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);

  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  let last = 'no answer';
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`gridgov serve exited (${child.signalCode ?? `exit ${child.exitCode}`}) before it was healthy\n${log}`);
    }
    try {
      const response = await fetch(`${origin}/api/v1/health`, { signal: AbortSignal.timeout(5_000) });
      if (response.status === 200) break;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) throw new Error(`${origin}/api/v1/health did not answer 200 within ${HEALTH_TIMEOUT_MS / 1000} s (last: ${last})\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }

  // The first start printed the county admin's random password once.
  const printed = /created the county admin '(\S+)' with the password (\S+)/.exec(log);
  assert.ok(printed, `the first start printed no admin password:\n${log}`);
  const admin = { username: printed[1], password: printed[2] };

  const server = {
    origin,
    store,
    admin,
    log: () => log,
    async api(pathAndQuery, { token, method = 'GET', json } = {}) {
      const headers = { Accept: 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      if (json !== undefined) headers['Content-Type'] = 'application/json';
      const response = await fetch(`${origin}${pathAndQuery}`, { method, headers, body: json === undefined ? undefined : JSON.stringify(json) });
      const text = await response.text();
      let body = null;
      try { body = JSON.parse(text); } catch { body = text; }
      return { status: response.status, body, headers: response.headers };
    },
    async token(user = admin) {
      const r = await server.api('/api/v1/auth/login', { method: 'POST', json: user });
      assert.equal(r.status, 200, `login of ${user.username}: ${JSON.stringify(r.body)}`);
      return r.body.token;
    },
    /** Adds an account (through the CLI, on the same store) and returns its name and password. */
    async addUser(name, role, scope) {
      const password = `pw-${name}-${Math.random().toString(36).slice(2)}-Aa1!`;
      await run(['user', 'add', name, '--role', role, '--scope', scope, '--store', store, '--password-stdin'], 60_000, `${password}\n`);
      return { username: name, password };
    },
    /** The pages' addresses. */
    async pages() {
      return { index: '/', m: '/m', login: '/login', planner: '/planner', sanitation: '/sanitation' };
    },
    /** Checks that every route the pages need answers (with a session); a missing one fails the test, named. */
    async checkRoutes() {
      const token = await server.token();
      for (const route of Object.values(PLANNED_ROUTES)) {
        const controller = new AbortController();
        const response = await fetch(`${origin}${route}`, { headers: { Authorization: `Bearer ${token}` }, signal: controller.signal });
        controller.abort();
        if (!response.ok) throw new Error(`the server does not serve ${route} (${response.status})`);
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(tmp, { recursive: true, force: true });
    },
  };
  return server;
}

export async function launch() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * A browser context that refuses (and records) every request to a host other than the
 * server, and a page that records console errors, page errors and every request.
 */
export async function openPage(browser, origin, contextOptions = {}) {
  const context = await browser.newContext({ locale: 'zh-CN', ...contextOptions });
  const serverHost = new URL(origin).host;
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.host === serverHost || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    foreign.push(url.href);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const errors = [];
  const requests = [];
  const responses = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push({ text: msg.text(), url: msg.location()?.url ?? '' });
  });
  page.on('pageerror', (err) => errors.push({ text: `page error: ${err.message}`, url: '' }));
  page.on('request', (req) => requests.push(req));
  page.on('response', (res) => responses.push(res));
  return { context, page, foreign, errors, requests, responses };
}

/** Signs the context in through the API (the cookie lands in the context). */
export async function signIn(context, origin, user) {
  const r = await context.request.post(`${origin}/api/v1/auth/login`, { data: user });
  assert.equal(r.status(), 200, `sign-in of ${user.username}`);
  return (await r.json()).user;
}

/**
 * What a page test starts with: a server on a fresh demo county (the routes the pages need
 * checked), Chromium, and the page `name` (of `server.pages()`) open in a context made by
 * `openPage` with `contextOptions`, signed in as the county admin, past loading and, unless
 * `idle` is false, with its map idle. `readyMs` is the time from the navigation to the end of
 * loading. On a failure, what was started is stopped again.
 */
export async function openSignedIn(name, contextOptions = {}, { idle = true } = {}) {
  const server = await startServer();
  let browser;
  try {
    const pages = await server.pages();
    await server.checkRoutes();
    browser = await launch();
    const s = await openPage(browser, server.origin, contextOptions);
    await signIn(s.context, server.origin, server.admin);
    const start = Date.now();
    await s.page.goto(`${server.origin}${pages[name]}`);
    await s.page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
    const readyMs = Date.now() - start;
    if (idle) await waitForMapIdle(s.page);
    return { server, pages, browser, s, readyMs };
  } catch (err) {
    await browser?.close().catch(() => {});
    await server.stop();
    throw err;
  }
}

/** The console and page errors, as text (with the address they name). */
export function unexpectedErrors(errors) {
  return errors.map((e) => `${e.text}${e.url ? ` (${e.url})` : ''}`);
}

/** Answers of 400 and more. */
export function failedResponses(responses) {
  return responses
    .filter((r) => r.status() >= 400)
    .map((r) => `${r.status()} ${r.url()}`);
}

/** Asserts that no request went to another host (the context refused them all). */
export function assertOnlyServer(origin, foreign, requests) {
  assert.deepEqual(foreign, [], 'requests to hosts other than the gridgov server');
  for (const req of requests) {
    const u = new URL(req.url());
    assert.ok(u.origin === origin || u.protocol === 'data:' || u.protocol === 'blob:', `request to ${req.url()}`);
  }
}

/** Waits until the map has loaded what it shows (MapLibre's `idle`). */
export async function waitForMapIdle(page, timeout = 60_000) {
  await page.waitForFunction(() => {
    const map = window.gridgov?.map;
    return map && !map.isMoving() && map.loaded() && map.areTilesLoaded();
  }, null, { timeout, polling: 250 });
}

/** The map's background colour as [r, g, b]: the style's `background` layer, else `fallback`. */
export async function mapBackground(page, fallback) {
  return page.evaluate((fb) => {
    const { map } = window.gridgov;
    const layer = map.getStyle().layers.find((l) => l.type === 'background');
    const colour = layer && map.getPaintProperty(layer.id, 'background-color');
    if (typeof colour !== 'string') return fb;
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.fillStyle = colour;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b];
  }, fallback);
}

/**
 * Decodes a PNG in a scratch page and returns its size, how many distinct colours it has and
 * which share of its pixels differs clearly from `background` ([r, g, b]).
 */
export async function pixelStats(context, png, background) {
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
        if (Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]) > 24) drawn += 1;
      }
      return { width: canvas.width, height: canvas.height, colours: colours.size, drawn: drawn / (data.length / 4) };
    }, { b64: png.toString('base64'), bg: background });
  } finally {
    await scratch.close();
  }
}

/** Asserts that the vector-tile requests succeeded (200, or 304 from the cache) and that there were some. */
export function assertTilesLoaded(responses, minimum = 1) {
  const tiles = responses.filter((r) => /\/tiles\/[a-z_]+\/\d+\/\d+\/\d+\.mvt/.test(r.url()));
  assert.ok(tiles.length >= minimum, `only ${tiles.length} vector-tile requests`);
  const failed = tiles.filter((r) => ![200, 204, 304].includes(r.status()));
  assert.deepEqual(failed.map((r) => `${r.status()} ${r.url()}`), [], 'failed tile requests');
  return tiles.length;
}

export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Writes a small JSON record next to the screenshots (sizes, timings) for the docs. */
export async function record(name, value) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await writeFile(path.join(SCREENSHOTS, `${name}.json`), `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * A point well inside a polygon of a GeoJSON geometry: of a 40×40 sample of its bounding
 * box, the inside point farthest from the boundary (in degrees, enough to pick one).
 */
export function interiorPoint(geometry) {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  const rings = polygons.flat();
  const inside = (x, y) => {
    let n = 0;
    for (const polygon of polygons) {
      let inPoly = false;
      for (const ring of polygon) {
        for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
          const [xi, yi] = ring[i];
          const [xj, yj] = ring[j];
          if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inPoly = !inPoly;
        }
      }
      if (inPoly) n += 1;
    }
    return n > 0;
  };
  const segDist = (px, py, [ax, ay], [bx, by]) => {
    const dx = bx - ax;
    const dy = by - ay;
    const l = dx * dx + dy * dy;
    const t = l ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / l)) : 0;
    return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
  };
  const xs = rings.flat().map((p) => p[0]);
  const ys = rings.flat().map((p) => p[1]);
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  let best = null;
  for (let i = 1; i < 40; i++) {
    for (let j = 1; j < 40; j++) {
      const x = minX + ((maxX - minX) * i) / 40;
      const y = minY + ((maxY - minY) * j) / 40;
      if (!inside(x, y)) continue;
      let d = Infinity;
      for (const ring of rings) for (let k = 1; k < ring.length; k++) d = Math.min(d, segDist(x, y, ring[k - 1], ring[k]));
      if (!best || d > best.d) best = { lon: x, lat: y, d };
    }
  }
  assert.ok(best, 'no interior point found');
  return best;
}

/** Waits for the stacked charts' animation to end before a screenshot. */
export const settle = (page, ms = 1200) => page.waitForTimeout(ms);
