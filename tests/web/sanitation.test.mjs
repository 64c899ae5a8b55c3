// Browser test of the sanitation view (web/src/pages/sanitation.ts) at 1440×900 against a
// real gridgov server on the demo county: a township's routes computed with a progress bar,
// drawn per vehicle, and a village officer not offered the computation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertOnlyServer, assertTilesLoaded, openPage, openSignedIn, screenshot, signIn, unexpectedErrors, waitForMapIdle,
} from './lib.mjs';

let server;
let browser;
let pages;
let s;

before(async () => {
  ({ server, pages, browser, s } = await openSignedIn('sanitation', { viewport: { width: 1440, height: 900 } }));
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

test('computing a township\'s routes shows progress, then every vehicle\'s route', async () => {
  const township = await s.page.inputValue('#township');
  assert.match(township, /^520526\d{3}000$/);
  await s.page.click('#compute');
  await s.page.waitForSelector('#progress:not([hidden])', { timeout: 10_000 });
  await s.page.waitForSelector('#vehicles tbody tr', { timeout: 120_000 });
  const rows = await s.page.locator('#vehicles tbody tr').count();
  assert.ok(rows >= 1, 'vehicles listed');
  assert.match(await s.page.textContent('#plan-summary'), /\d/);
  const drawn = await s.page.evaluate(() => window.gridgov.map.querySourceFeatures('routes').length);
  assert.ok(drawn >= 1, 'routes drawn');
  assert.ok((await s.page.locator('#plans button').count()) >= 1, 'the plan is listed');
  await s.page.click('#vehicles tbody tr >> nth=0');
  assert.equal(await s.page.getAttribute('#vehicles tbody tr >> nth=0', 'aria-selected'), 'true');
  await waitForMapIdle(s.page);
  await screenshot(s.page, 'sanitation');
  assert.deepEqual(unexpectedErrors(s.errors), [], 'console errors or page errors');
});

test('a village officer is not offered the computation', async () => {
  const officer = await server.addUser('village1', 'village_officer', '520526101203');
  const o = await openPage(browser, server.origin, { viewport: { width: 1440, height: 900 } });
  try {
    await signIn(o.context, server.origin, officer);
    await o.page.goto(`${server.origin}${pages.sanitation}`);
    await o.page.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60_000 });
    assert.equal(await o.page.isVisible('#compute'), false);
    assert.deepEqual(unexpectedErrors(o.errors), [], 'console errors or page errors');
  } finally {
    await o.context.close();
  }
});
