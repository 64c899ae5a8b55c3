// Browser test of the mobile lookup (web/src/pages/mobile.ts) at 375×812 against a real
// gridgov server on the demo county: the first load's size, the lookup of a known point by
// geolocation and by a tap, reporting a dispute, and what other roles are offered.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertOnlyServer, failedResponses, assertTilesLoaded, interiorPoint, mapBackground, openPage, openSignedIn, pixelStats, record, screenshot, signIn,
  unexpectedErrors, waitForMapIdle,
} from './lib.mjs';

const LIGHT = [0xee, 0xf1, 0xea]; // the light fallback background, #eef1ea
const BUDGET = 500 * 1024;
const PHONE = { viewport: { width: 375, height: 812 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

let server;
let browser;
let pages;
let s;
let token;
let grids;
let firstLoad;

before(async () => {
  // Not waiting for the map: the requests before the first tile are read once the page has loaded.
  ({ server, pages, browser, s } = await openSignedIn('m', { ...PHONE, permissions: ['geolocation'] }, { idle: false }));
  // What arrived before the first tile: the page, its bundle and stylesheet, the style,
  // the session and glossary reads.
  const before = [];
  for (const r of s.requests) {
    if (/\.mvt(\?|$)|\/fonts\/.*\.pbf/.test(r.url())) break;
    before.push(r);
  }
  let bytes = 0;
  const items = [];
  for (const r of before) {
    const response = await r.response();
    if (!response) continue;
    await response.finished();
    const sizes = await r.sizes();
    const n = sizes.responseBodySize + sizes.responseHeadersSize;
    bytes += n;
    items.push({ url: new URL(r.url()).pathname, bytes: n, encoding: (await response.allHeaders())['content-encoding'] ?? null });
  }
  firstLoad = { bytes, items };
  await waitForMapIdle(s.page);
  token = await server.token();
  grids = (await server.api('/api/v1/layers/grids/items?limit=200', { token })).body.features;
}, { timeout: 900_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('the first load before tiles stays under 500 kB transferred', async (t) => {
  await record('mobile-first-load', firstLoad);
  t.diagnostic(`${(firstLoad.bytes / 1024).toFixed(1)} kB before tiles: ${firstLoad.items.map((i) => `${i.url} ${(i.bytes / 1024).toFixed(1)} kB${i.encoding ? ` ${i.encoding}` : ''}`).join(', ')}`);
  assert.ok(firstLoad.items.some((i) => i.url.endsWith('/assets/m.js')), 'the bundle was measured');
  assert.ok(firstLoad.bytes < BUDGET, `${firstLoad.bytes} bytes before tiles`);
  assert.ok(!s.requests.some((r) => /echarts|index\.js/.test(r.url())), 'no command-center code on the phone');
});

test('the page loads with no console errors and requests nothing beyond the server', async (t) => {
  assert.equal(await s.page.evaluate(() => document.body.dataset.state), 'ready');
  assertOnlyServer(server.origin, s.foreign, s.requests);
  assert.deepEqual(unexpectedErrors(s.errors), [], 'console errors or page errors');
  assert.deepEqual(failedResponses(s.responses), [], 'failed requests (tiles, basemap, glyphs, API)');
  assert.ok(s.responses.some((r) => r.url().endsWith('/basemap.json') && r.ok()), 'the basemap TileJSON was read');
});

test('the map draws the vector tiles', async () => {
  assertTilesLoaded(s.responses, 2);
  const png = await s.page.locator('#map canvas.maplibregl-canvas').screenshot();
  const stats = await pixelStats(s.context, png, await mapBackground(s.page, LIGHT));
  assert.ok(stats.colours >= 8, `only ${stats.colours} distinct colours on the map`);
  assert.ok(stats.drawn >= 0.02, `only ${(stats.drawn * 100).toFixed(1)} % of the map is drawn`);
});

test('locate me finds the grid of a known point, its worker and the way to the station', async () => {
  const grid = grids[7];
  const p = interiorPoint(grid.geometry);
  await s.context.setGeolocation({ longitude: p.lon, latitude: p.lat, accuracy: 10 });
  await s.page.click('#locate');
  await s.page.waitForFunction((code) => document.querySelector('#card-grid-code')?.textContent === code, grid.properties.code, { timeout: 20_000 });
  assert.ok((await s.page.textContent('#card-worker')).includes(grid.properties.worker_name ?? ''), 'the grid worker is shown');
  const expected = (await server.api(`/api/v1/lookup?lon=${p.lon}&lat=${p.lat}&crs=wgs84`, { token })).body;
  assert.ok((await s.page.textContent('#card-village')).includes(expected.village.name));
  assert.ok((await s.page.textContent('#card-station')).includes(expected.transfer_station.name));
  // The way along the roads, as the server finds it (GET /api/v1/way), drawn and said.
  const route = (await server.api(`/api/v1/way?lon=${expected.wgs84[0].toFixed(7)}&lat=${expected.wgs84[1].toFixed(7)}&crs=wgs84&station=${expected.transfer_station.id}`, { token })).body;
  assert.equal(route.geometry.type, 'LineString');
  assert.ok(route.geometry.coordinates.length > 4, 'the way follows the roads, not a straight line');
  const minutes = String(Math.max(1, Math.round(route.properties.duration_s / 60)));
  await s.page.waitForFunction((m) => (document.querySelector('#card-way')?.textContent ?? '').includes(`${m} 分钟`), minutes, { timeout: 10_000 });
  const drawn = await s.page.evaluate(() => window.gridgov.map.getSource('way').serialize().data.features.find((f) => f.properties.kind === 'way').geometry.coordinates.length);
  assert.equal(drawn, route.geometry.coordinates.length, 'the map draws the way the server found');
  await waitForMapIdle(s.page);
  await screenshot(s.page, 'mobile');
});

test('a tap on the map looks up the place tapped', async () => {
  const grid = grids[20];
  const p = interiorPoint(grid.geometry);
  await s.page.evaluate(({ lon, lat }) => window.gridgov.map.jumpTo({ center: [lon, lat], zoom: 14 }), p);
  await waitForMapIdle(s.page);
  const xy = await s.page.evaluate(({ lon, lat }) => window.gridgov.map.project([lon, lat]), p);
  const box = await s.page.locator('#map canvas.maplibregl-canvas').boundingBox();
  await s.page.mouse.click(box.x + xy.x, box.y + xy.y);
  await s.page.waitForFunction((code) => document.querySelector('#card-grid-code')?.textContent === code, grid.properties.code, { timeout: 20_000 });
});

test('a dispute reported here is assigned to this grid', async (t) => {
  assert.equal(await s.page.isVisible('#report'), true, 'the county admin is offered the report form');
  const code = await s.page.textContent('#card-grid-code');
  await s.page.selectOption('#report-category', 'labour');
  await s.page.fill('#report-note', '浏览器测试：工资纠纷');
  await s.page.click('#report-form button[type=submit]');
  await s.page.waitForFunction(() => document.querySelector('#report-result')?.dataset.id, null, { timeout: 20_000 });
  const id = await s.page.evaluate(() => document.querySelector('#report-result').dataset.id);
  const r = await server.api(`/api/v1/disputes/${id}`, { token });
  assert.equal(r.status, 200);
  assert.equal(r.body.properties.grid_code, code);
  assert.equal(r.body.properties.category, 'labour');
});

test('the command screen is not offered the report form; a grid worker sees only their grid', async () => {
  const screenUser = await server.addUser('screen1', 'command_screen', '520526000000');
  const grid = grids[7];
  const other = grids[20];
  const worker = await server.addUser('worker1', 'grid_worker', grid.properties.code);
  for (const [user, check] of [
    [screenUser, async (page) => {
      const p = interiorPoint(grid.geometry);
      await page.evaluate(({ lon, lat }) => window.gridgov.lookup(lon, lat), p);
      await page.waitForFunction((code) => document.querySelector('#card-grid-code')?.textContent === code, grid.properties.code, { timeout: 20_000 });
      assert.equal(await page.isVisible('#report'), false, 'no report form for the command screen');
    }],
    [worker, async (page) => {
      const mine = interiorPoint(grid.geometry);
      await page.evaluate(({ lon, lat }) => window.gridgov.lookup(lon, lat), mine);
      await page.waitForFunction((code) => document.querySelector('#card-grid-code')?.textContent === code, grid.properties.code, { timeout: 20_000 });
      assert.equal(await page.isVisible('#report'), true, 'a grid worker reports disputes');
      const theirs = interiorPoint(other.geometry);
      await page.evaluate(({ lon, lat }) => window.gridgov.lookup(lon, lat), theirs);
      await page.waitForFunction(() => document.querySelector('#status')?.dataset.kind === 'error', null, { timeout: 20_000 });
      assert.match(await page.textContent('#status'), /不在本县或不在您的管辖范围内/);
      assert.equal(await page.isVisible('#card'), false, 'nothing of the other grid is shown');
    }],
  ]) {
    const o = await openPage(browser, server.origin, PHONE);
    try {
      await signIn(o.context, server.origin, user);
      await o.page.goto(`${server.origin}${pages.m}`);
      await o.page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
      assert.equal(await o.page.textContent('#who-user'), user.username);
      await check(o.page);
      // A 404 for the lookup outside the scope is the expected answer.
      const left = unexpectedErrors(o.errors).filter((e) => !(e.includes('404') && e.includes('/api/v1/lookup')));
      assert.deepEqual(left, [], `console errors for ${user.username}`);
    } finally {
      await o.context.close();
    }
  }
});
