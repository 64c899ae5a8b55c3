// Browser test of the grid planner (web/src/pages/planner.ts) at 1440×900 against a real
// gridgov server on the demo county: a partition run with a progress bar, saved as a draft,
// its grids and statistics beside the grids in force, the comparison, a unit moved by hand to a
// neighbouring grid (and a move the server refuses), the approval; and a role that does not
// plan is not offered it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertOnlyServer, assertTilesLoaded, interiorPoint, openPage, openSignedIn, screenshot, signIn, unexpectedErrors, waitForMapIdle,
} from './lib.mjs';

let server;
let browser;
let pages;
let s;
let token;

before(async () => {
  ({ server, pages, browser, s } = await openSignedIn('planner', { viewport: { width: 1440, height: 900 } }));
  token = await server.token();
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

/** The draft's units as the server lists them (GET …/units). */
async function draftUnits() {
  const r = await server.api(`/api/v1/partition-plans/${planId}/units`, { token });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.editable, true, 'a drawn draft is editable');
  return r.body.units.features;
}

/** A unit that may move now and holds households (a move of it shows in the statistics). */
const movable = (features) => features.find((f) => f.properties.movable_to.length > 0 && f.properties.households > 0);

/** Households per grid as the statistics table shows them. */
function tableHouseholds() {
  return s.page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#grid-stats tbody tr')]
    .map((tr) => [tr.dataset.grid, Number(tr.cells[1].textContent.replace(/\D/g, ''))])));
}

const sum = (byGrid) => Object.values(byGrid).reduce((a, b) => a + b, 0);

/** Picks a unit the way a user does: a click on the map inside it. */
async function clickUnit(unit) {
  const p = interiorPoint(unit.geometry);
  await s.page.evaluate(({ lon, lat }) => window.gridgov.map.jumpTo({ center: [lon, lat], zoom: 15 }), p);
  await waitForMapIdle(s.page);
  const xy = await s.page.evaluate(({ lon, lat }) => window.gridgov.map.project([lon, lat]), p);
  const box = await s.page.locator('#map canvas.maplibregl-canvas').boundingBox();
  await s.page.mouse.click(box.x + xy.x, box.y + xy.y);
  await s.page.waitForSelector(`#unit-panel[data-unit="${unit.properties.unit}"]`, { timeout: 10_000 });
}

/** The move the server refused (the browser logs every answer of 400 and more as an error). */
let refused = null;
const consoleErrors = () => unexpectedErrors(s.errors).filter((e) => !(refused && e.includes(refused.url) && e.includes(String(refused.status))));

test('a unit of the draft moves to a neighbouring grid and the statistics follow', async () => {
  const listed = s.page.waitForResponse((r) => r.url().endsWith(`/api/v1/partition-plans/${planId}/units`));
  await s.page.click('#adjust');
  assert.equal((await listed).status(), 200);
  assert.equal(await s.page.getAttribute('#adjust', 'aria-pressed'), 'true');
  const features = await draftUnits();
  await s.page.waitForFunction((n) => window.gridgov.map.getSource('units').serialize().data.features?.length === n, features.length, { timeout: 10_000 });
  assert.ok(await s.page.isVisible('#unit-hint'), 'the page says to click a unit');
  const unit = movable(features);
  assert.ok(unit, 'some unit of the draft may move to a neighbouring grid');
  const { unit: index, grid: from, households, movable_to: [to] } = unit.properties;
  const before = await tableHouseholds();
  const stored = await server.api(`/api/v1/partition-plans/${planId}`, { token });
  assert.equal(sum(before), stored.body.summary.households, 'the table adds up to the plan\'s households');

  await clickUnit(unit);
  assert.ok((await s.page.textContent('#unit-grid')).includes(from));
  assert.equal(Number((await s.page.textContent('#unit-households')).replace(/\D/g, '')), households);
  await s.page.selectOption('#unit-target', to);
  const moved = s.page.waitForResponse((r) => r.url().endsWith(`/api/v1/partition-plans/${planId}/moves`));
  await s.page.click('#unit-move');
  assert.equal((await moved).status(), 200);
  await s.page.waitForFunction(({ to }) => document.querySelector('#unit-grid')?.textContent.includes(to), { to }, { timeout: 10_000 });

  const after = await tableHouseholds();
  assert.equal(after[from], before[from] - households, `grid ${from} gave the unit's households`);
  assert.equal(after[to], before[to] + households, `grid ${to} took them`);
  assert.equal(sum(after), sum(before), 'the total stays the same');
  assert.match(await s.page.textContent('#plan-summary'), new RegExp(`${sum(before).toLocaleString('zh-CN')} 户`));
  assert.equal(await s.page.getAttribute('#adjust', 'aria-pressed'), 'true', 'adjust mode stays on');
  assert.equal((await draftUnits()).find((f) => f.properties.unit === index).properties.grid, to, 'the server holds the move');
  const moves = (await server.api(`/api/v1/partition-plans/${planId}`, { token })).body.summary.manual_moves;
  assert.equal(moves, 1, 'the plan counts the move');
  assert.match(await s.page.textContent('#plan-moves'), /\b1\b/);
  assert.equal(await s.page.getAttribute('#plan-note', 'data-kind'), 'info');
  assert.deepEqual(consoleErrors(), [], 'console errors or page errors');
});

test('a unit that may not move says why', async (t) => {
  const fixed = (await draftUnits()).find((f) => f.properties.movable_to.length === 0);
  if (!fixed) {
    t.skip('every unit of the draft may move');
    return;
  }
  await clickUnit(fixed);
  assert.equal(await s.page.isVisible('#unit-move'), false, 'no move is offered');
  const text = await s.page.textContent('#unit-fixed');
  assert.ok(text.includes('此单元不能移动') && text.includes(fixed.properties.fixed_reason), text);
});

test('a move the server refuses shows its reasons and changes nothing', async () => {
  const unit = movable(await draftUnits());
  assert.ok(unit, 'some unit of the draft may move to a neighbouring grid');
  const { unit: index, movable_to: [to] } = unit.properties;
  await clickUnit(unit);
  await s.page.selectOption('#unit-target', to);
  // Someone else makes the same move first: the page's is then refused.
  const elsewhere = await server.api(`/api/v1/partition-plans/${planId}/moves`, { token, method: 'POST', json: { unit: index, to } });
  assert.equal(elsewhere.status, 200, JSON.stringify(elsewhere.body));
  const before = await tableHouseholds();
  const answered = s.page.waitForResponse((r) => r.url().endsWith(`/api/v1/partition-plans/${planId}/moves`));
  await s.page.click('#unit-move');
  const response = await answered;
  refused = { url: response.url(), status: response.status() };
  assert.ok([409, 422].includes(refused.status), `status ${refused.status}`);
  const problem = await response.json();
  await s.page.waitForSelector('#plan-note[data-kind="error"]', { timeout: 10_000 });
  const text = await s.page.textContent('#plan-note');
  for (const reason of [problem.detail, ...(problem.errors ?? []).map((e) => e.reason)].filter(Boolean)) {
    assert.ok(text.includes(reason), `${text} names ${reason}`);
  }
  assert.deepEqual(await tableHouseholds(), before, 'the statistics are unchanged');
  assert.equal(await s.page.isEnabled('#unit-move'), true, 'the move can be tried again');
  assert.deepEqual(consoleErrors(), [], 'console errors or page errors');
});

test('approving the draft puts it in force', async () => {
  await s.page.click('#approve');
  await s.page.waitForFunction(() => ['approved', 'effective'].includes(document.querySelector('#plan-status')?.dataset.status), null, { timeout: 30_000 });
  const stored = await server.api(`/api/v1/partition-plans/${planId}`, { token });
  assert.ok(['approved', 'effective'].includes(stored.body.status), stored.body.status);
  assert.equal(await s.page.isVisible('#adjust'), false, 'an approved plan is not adjusted');
  assert.deepEqual(consoleErrors(), [], 'console errors or page errors');
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
