// Browser test of the grid planner (web/src/pages/planner.ts) at 1440×900 against a real
// gridgov server on the demo county: a partition run with a progress bar, saved as a draft,
// its grids and statistics beside the grids in force, the comparison, the approval; and a
// role that does not plan is not offered it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertOnlyServer, assertTilesLoaded, launch, openPage, screenshot, signIn, startServer, unexpectedErrors, waitForMapIdle,
} from './lib.mjs';

let server;
let browser;
let pages;
let s;
let token;

before(async () => {
  server = await startServer();
  pages = await server.pages();
  await server.checkRoutes();
  token = await server.token();
  browser = await launch();
  s = await openPage(browser, server.origin, { viewport: { width: 1440, height: 900 } });
  await signIn(s.context, server.origin, server.admin);
  await s.page.goto(`${server.origin}${pages.planner}`);
  await s.page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
  await waitForMapIdle(s.page);
}, { timeout: 900_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('the page loads with no console errors and requests nothing beyond the server', async () => {
  assert.equal(await s.page.evaluate(() => document.body.dataset.state), 'ready');
  assertOnlyServer(server.origin, s.foreign, s.requests);
  assert.deepEqual(unexpectedErrors(s.errors), [], 'console errors or page errors');
  assertTilesLoaded(s.responses, 1);
});

let planId;

test('a partition runs with a progress bar and is saved as a draft with its statistics', async () => {
  const village = await s.page.inputValue('#village');
  assert.match(village, /^520526\d{6}$/);
  await s.page.fill('#grids', '3');
  await s.page.fill('#seconds', '3');
  const created = s.page.waitForResponse((r) => r.url().endsWith('/api/v1/partition-plans') && r.request().method() === 'POST');
  await s.page.click('#run');
  assert.equal((await created).status(), 202);
  await s.page.waitForSelector('#progress:not([hidden])', { timeout: 10_000 });
  await s.page.waitForSelector('#grid-stats tbody tr', { timeout: 180_000 });
  assert.equal(await s.page.locator('#grid-stats tbody tr').count(), 3, 'three grids');
  assert.equal(await s.page.getAttribute('#plan-status', 'data-status'), 'draft');
  planId = Number(await s.page.getAttribute('#plans button[aria-current="true"]', 'data-plan'));
  const stored = await server.api(`/api/v1/partition-plans/${planId}`, { token });
  assert.equal(stored.body.status, 'draft', 'the server holds the plan as a draft');
  assert.equal(stored.body.grids.features.length, 3);
  for (const f of stored.body.grids.features) {
    assert.ok(await s.page.isVisible(`#grid-stats tr[data-grid="${f.properties.code}"]`), `grid ${f.properties.code} in the table`);
  }
  await s.page.waitForSelector('#compare-totals', { timeout: 20_000 });
  assert.match(await s.page.textContent('#compare-totals'), /3/);
  const drawn = await s.page.evaluate(() => window.gridgov.map.querySourceFeatures('plan').length);
  assert.ok(drawn >= 3, 'the plan\'s grids are on the map');
  await waitForMapIdle(s.page);
  await screenshot(s.page, 'planner');
});

test('approving the draft puts it in force', async () => {
  await s.page.click('#approve');
  await s.page.waitForFunction(() => ['approved', 'effective'].includes(document.querySelector('#plan-status')?.dataset.status), null, { timeout: 30_000 });
  const stored = await server.api(`/api/v1/partition-plans/${planId}`, { token });
  assert.ok(['approved', 'effective'].includes(stored.body.status), stored.body.status);
  assert.deepEqual(unexpectedErrors(s.errors), [], 'console errors or page errors');
});

test('the command screen is not offered the partition', async () => {
  const screen = await server.addUser('screen2', 'command_screen', '520526000000');
  const o = await openPage(browser, server.origin, { viewport: { width: 1440, height: 900 } });
  try {
    await signIn(o.context, server.origin, screen);
    await o.page.goto(`${server.origin}${pages.planner}`);
    await o.page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
    assert.equal(await o.page.isVisible('#run'), false);
    assert.deepEqual(unexpectedErrors(o.errors), [], 'console errors or page errors');
  } finally {
    await o.context.close();
  }
});
