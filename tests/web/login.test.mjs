// Browser test of the sign-in page (web/src/pages/login.ts) and of what every page does
// without a session, against a real gridgov server on the demo county.
//
//   node --test tests/web/            (scripts/test.sh runs it after `npm run check`)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, openPage, screenshot, startServer, unexpectedErrors, assertOnlyServer } from './lib.mjs';

let server;
let browser;
let pages;
let session;

before(async () => {
  server = await startServer();
  pages = await server.pages();
  await server.checkRoutes();
  browser = await launch();
  session = await openPage(browser, server.origin, { viewport: { width: 1280, height: 800 } });
}, { timeout: 900_000 });

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
});

test('a page without a session goes to the sign-in page, asked to come back', async (t) => {
  const { page } = session;
  for (const name of ['index', 'm']) {
    await page.goto(`${server.origin}${pages[name]}`);
    await page.waitForURL((url) => url.pathname === pages.login, { timeout: 30_000 });
    const next = new URL(page.url()).searchParams.get('next');
    assert.equal(next, pages[name], `the sign-in page was asked to return to ${pages[name]}`);
  }
  await page.waitForFunction(() => document.body.dataset.state === 'signin');
  await screenshot(page, 'login');
});

test('a wrong password is refused and the page says so', async () => {
  const { page } = session;
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'));
  await page.fill('#signin-name', server.admin.username);
  await page.fill('#signin-password', `${server.admin.password}-wrong`);
  await page.click('#signin button[type=submit]');
  assert.equal((await refused).status(), 401);
  await page.waitForFunction(() => document.querySelector('#signin-error')?.textContent.length > 0, null, { timeout: 10_000 });
  assert.match(await page.textContent('#signin-error'), /用户名或密码错误/);
  assert.equal(new URL(page.url()).pathname, pages.login, 'still on the sign-in page');
  const me = await page.evaluate(() => fetch('/api/v1/auth/me').then((r) => r.status));
  assert.equal(me, 401, 'no session after a refused sign-in');
});

test('the right password signs in and opens the page asked for, with the user and scope', async () => {
  const { page } = session;
  // Failed logins lock the account for 2 s from the third one on; one failure does not.
  await page.fill('#signin-name', server.admin.username);
  await page.fill('#signin-password', server.admin.password);
  await page.click('#signin button[type=submit]');
  await page.waitForURL((url) => url.pathname === pages.m, { timeout: 30_000 });
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  assert.equal(await page.textContent('#who-user'), server.admin.username);
  assert.match(await page.textContent('#who-scope'), /520526000000/);
  assert.ok((await page.textContent('#who-role')).length > 0, 'the role is shown');
});

test('the language switch changes the strings and is kept across pages', async () => {
  const { page } = session;
  assert.equal(await page.textContent('#locate'), '定位我');
  await page.click('.lang-switch button[data-lang="en"]');
  assert.equal(await page.textContent('#locate'), 'Locate me');
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
  await page.goto(`${server.origin}${pages.login}`);
  assert.equal(await page.textContent('#signin button[type=submit]'), 'Sign in');
  await page.click('.lang-switch button[data-lang="zh-CN"]');
  assert.equal(await page.textContent('#signin button[type=submit]'), '登录');
  assert.equal(await page.evaluate(() => localStorage.getItem('gridgov.lang')), 'zh-CN');
});

test('signing out ends the session', async () => {
  const { page } = session;
  await page.goto(`${server.origin}${pages.m}`);
  await page.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60_000 });
  await page.click('#logout');
  await page.waitForURL((url) => url.pathname === pages.login, { timeout: 30_000 });
  const me = await page.evaluate(() => fetch('/api/v1/auth/me').then((r) => r.status));
  assert.equal(me, 401);
});

test('no console errors (but the refused requests) and no foreign requests', (t) => {
  const { errors, foreign, requests } = session;
  assertOnlyServer(server.origin, foreign, requests);
  // 401s are the point of this file: the page without a session, the wrong password.
  const left = unexpectedErrors(errors).filter((e) => !e.includes('401'));
  assert.deepEqual(left, [], 'console errors or page errors');
});
