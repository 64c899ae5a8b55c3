// Browser test of the command-center screen (web/src/pages/command.ts) at 1920×1080 against
// a real gridgov server on the demo county: no console errors, nothing from another host,
// tiles drawn, counters equal to the API's figures, drill-down by clicking, the live feed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertOnlyServer, failedResponses, assertTilesLoaded, interiorPoint, mapBackground, openPage, openSignedIn, pixelStats, record, screenshot, settle,
  signIn, unexpectedErrors, waitForMapIdle,
} from './lib.mjs';

const DARK = [0x0b, 0x16, 0x28]; // the dark fallback background, #0b1628

let server;
let browser;
let pages;
let s;
let token;
let readyMs;

before(async () => {
  ({ server, pages, browser, s, readyMs } = await openSignedIn('index', { viewport: { width: 1920, height: 1080 } }));
  token = await server.token();
}, { timeout: 900_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('the screen loads with no console errors and requests nothing beyond the server', async (t) => {
  assert.equal(await s.page.evaluate(() => document.body.dataset.state), 'ready');
  t.diagnostic(`interactive (data-state=ready, map loaded) after ${readyMs} ms`);
  await record('command-center-timing', { ready_ms: readyMs });
  assertOnlyServer(server.origin, s.foreign, s.requests);
  assert.deepEqual(unexpectedErrors(s.errors), [], 'console errors or page errors');
  assert.deepEqual(failedResponses(s.responses), [], 'failed requests (tiles, basemap, glyphs, API)');
  assert.ok(s.responses.some((r) => r.url().endsWith('/basemap.json') && r.ok()), 'the basemap TileJSON was read');
  assert.ok(s.requests.some((r) => r.url().includes('/assets/index.js')), 'the bundle came from /assets/');
});

test('the map draws the vector tiles', async () => {
  const n = assertTilesLoaded(s.responses, 4);
  assert.ok(n > 0);
  for (const layer of ['counties', 'townships', 'villages', 'transfer_stations']) {
    assert.ok(s.responses.some((r) => r.url().includes(`/tiles/${layer}/`) && r.ok()), `tiles of ${layer}`);
  }
  const png = await s.page.locator('#map canvas.maplibregl-canvas').screenshot();
  const stats = await pixelStats(s.context, png, await mapBackground(s.page, DARK));
  assert.ok(stats.width > 800 && stats.height > 800, `canvas ${stats.width}x${stats.height}`);
  assert.ok(stats.colours >= 12, `only ${stats.colours} distinct colours on the map`);
  assert.ok(stats.drawn >= 0.1, `only ${(stats.drawn * 100).toFixed(1)} % of the map is drawn`);
});

test('the counters show the API\'s figures and the charts are drawn', async () => {
  const asOf = (await server.api('/api/v1/disputes/statistics?by=township', { token })).body.as_of;
  const months = [];
  for (let i = 11; i >= 0; i--) {
    const d = new Date(Date.UTC(Number(asOf.slice(0, 4)), Number(asOf.slice(5, 7)) - 1 - i, 1));
    months.push(`${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`);
  }
  const stats = (await server.api(`/api/v1/disputes/statistics?by=township&division=520526000000&from=${months[0]}&to=${months[11]}`, { token })).body;
  const share = new Intl.NumberFormat('zh-CN', { style: 'percent', maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(stats.total.village_share);
  await s.page.waitForFunction((v) => document.querySelector('#counter-village-share .value')?.textContent === v, share, { timeout: 20_000 });
  const ledger = (await server.api(`/api/v1/disputes/ledger?division=520526000000&month=${asOf.slice(0, 7)}&format=json`, { token })).body;
  const open = (level) => ledger.rows.filter((r) => r.open && r.level === level).length;
  for (const level of ['village', 'township', 'county']) {
    assert.equal(await s.page.textContent(`#counter-open-${level} .value`), String(open(level)), `open at ${level}`);
  }
  assert.equal(await s.page.textContent('#counter-overdue .value'), String(ledger.rows.filter((r) => r.overdue).length));
  assert.equal(await s.page.textContent('#counter-escalations .value'), String(ledger.rows.filter((r) => r.escalated).length));
  await s.page.waitForSelector('#chart-months[data-ready]', { timeout: 30_000 });
  // The month chart holds the cases opened each month, as the API counts them.
  const byMonth = (await server.api(`/api/v1/disputes/statistics?by=month&division=520526000000&from=${months[0]}&to=${months[11]}`, { token })).body;
  const expected = months.map((m) => `${m}:${byMonth.groups.find((g) => g.key === m)?.cases ?? 0}`).join(' ');
  assert.equal(await s.page.getAttribute('#chart-months', 'data-cases'), expected);
  assert.equal(byMonth.groups.reduce((n, g) => n + g.cases, 0), stats.total.cases, 'the months add up to the window');
  await settle(s.page);
  for (const id of ['chart-months', 'chart-settlement']) {
    const png = await s.page.locator(`#${id}`).screenshot();
    const px = await pixelStats(s.context, png, [0x0d, 0x1e, 0x3a]);
    assert.ok(px.colours >= 8 && px.drawn > 0.05, `${id} looks empty (${px.colours} colours, ${(px.drawn * 100).toFixed(1)} %)`);
  }
  await screenshot(s.page, 'command-center');
});

/** Clicks the map inside the feature of `code` found in the features of layer `layerId`. */
async function clickFeature(layerId, want) {
  const target = await s.page.evaluate(({ layerId, want }) => {
    const { map } = window.gridgov;
    const canvas = map.getCanvas();
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    let best = null;
    for (let y = 30; y < h - 30; y += 10) {
      for (let x = 30; x < w - 30; x += 10) {
        const hits = map.queryRenderedFeatures([[x - 6, y - 6], [x + 6, y + 6]], { layers: [layerId] });
        const codes = new Set(hits.map((f) => f.properties.code));
        if (codes.size !== 1) continue;
        const code = hits[0].properties.code;
        if (want && code !== want) continue;
        const d = (x - w / 2) ** 2 + (y - h / 2) ** 2;
        if (!best || d < best.d) best = { x, y, d, code, name: hits[0].properties.name };
      }
    }
    return best;
  }, { layerId, want });
  assert.ok(target, `nothing of ${layerId} to click`);
  const box = await s.page.locator('#map canvas.maplibregl-canvas').boundingBox();
  const stats = s.page.waitForRequest((r) => r.url().includes('/api/v1/disputes/statistics') && r.url().includes(`division=${target.code.split('-')[0]}`), { timeout: 20_000 });
  await s.page.mouse.click(box.x + target.x, box.y + target.y);
  await stats;
  await s.page.waitForFunction((code) => document.querySelector('#crumbs .current')?.dataset.code === code && document.body.dataset.place === code, target.code, { timeout: 20_000 });
  await waitForMapIdle(s.page);
  return target;
}

test('clicking drills down county → township → village → grid, and the crumbs go back', async () => {
  const township = await clickFeature('townships-fill');
  assert.match(township.code, /^520526\d{3}000$/);
  const village = await clickFeature('villages-fill');
  assert.ok(village.code.startsWith(township.code.slice(0, 9)), `village ${village.code} of township ${township.code}`);
  const grid = await clickFeature('grids-fill');
  assert.ok(grid.code.startsWith(`${village.code}-`), `grid ${grid.code} of village ${village.code}`);
  assert.equal(await s.page.locator('#crumbs .crumb').count(), 4);
  const gridShare = await s.page.textContent('#counter-village-share .value');
  assert.ok(gridShare.length > 0);
  await settle(s.page);
  await screenshot(s.page, 'command-center-grid');
  await s.page.click('#crumbs button.crumb >> nth=0');
  await s.page.waitForFunction(() => document.querySelectorAll('#crumbs .crumb').length === 1 && document.body.dataset.place === '520526000000', null, { timeout: 20_000 });
  await waitForMapIdle(s.page);
});

test('a reported dispute appears in the feed within 2 seconds', async (t) => {
  const grids = (await server.api('/api/v1/layers/grids/items?limit=5', { token })).body.features;
  const p = interiorPoint(grids[2].geometry);
  let id;
  let reportedAt;
  // Reported on the mobile page, in another tab of the same session.
  const phone = await s.context.newPage();
  try {
    await phone.goto(`${server.origin}${pages.m}`);
    await phone.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    await phone.evaluate(({ lon, lat }) => window.gridgov.lookup(lon, lat), p);
    await phone.waitForSelector('#report:not([hidden])', { timeout: 20_000 });
    await phone.selectOption('#report-category', 'labour');
    await phone.fill('#report-note', '浏览器测试：指挥中心实时事件');
    const answer = phone.waitForResponse((r) => r.url().endsWith('/api/v1/disputes') && r.request().method() === 'POST');
    await phone.click('#report-form button[type=submit]');
    const response = await answer;
    reportedAt = Date.now();
    assert.equal(response.status(), 201);
    const body = await response.json();
    id = body.id ?? body.properties?.id;
  } finally {
    await phone.close();
  }
  await s.page.waitForSelector(`#feed li[data-id="${id}"]`, { timeout: 2_000 });
  t.diagnostic(`dispute ${id} in the feed ${Date.now() - reportedAt} ms after it was reported`);
});

test('the language switch turns the screen to English and back', async () => {
  await s.page.click('.lang-switch button[data-lang="en"]');
  assert.equal(await s.page.textContent('#counter-overdue .label'), 'Overdue');
  await s.page.click('.lang-switch button[data-lang="zh-CN"]');
  assert.equal(await s.page.textContent('#counter-overdue .label'), '超期未办结');
});

test('a township officer\'s screen starts at the township and counts only its cases', async () => {
  const officer = await server.addUser('township1', 'township_officer', '520526102000');
  const o = await openPage(browser, server.origin, { viewport: { width: 1920, height: 1080 } });
  try {
    await signIn(o.context, server.origin, officer);
    await o.page.goto(`${server.origin}${pages.index}`);
    await o.page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    assert.equal(await o.page.getAttribute('#crumbs .current', 'data-code'), '520526102000');
    assert.ok(o.requests.some((r) => r.url().includes('/api/v1/disputes/statistics') && r.url().includes('division=520526102000')));
    const stats = (await server.api('/api/v1/disputes/statistics?by=village&division=520526102000', { token: await server.token(officer) })).body;
    assert.ok(stats.total.cases > 0, 'the township has cases');
    await waitForMapIdle(o.page);
    assert.deepEqual(unexpectedErrors(o.errors), [], 'console errors or page errors');
    assertOnlyServer(server.origin, o.foreign, o.requests);
  } finally {
    await o.context.close();
  }
});

test('no console errors and no foreign requests in the whole session', () => {
  assertOnlyServer(server.origin, s.foreign, s.requests);
  assert.deepEqual(unexpectedErrors(s.errors), [], 'console errors or page errors');
});
