// Browser tests of the till's sign-in and its life as a till of the office
// (contract §5): pairing by code (from the office page's link or typed),
// a till removed in the office, the health report, and the offer to set up
// a till on plain HTTP for offline use. While the posd under test has no
// pairing or status route yet, the harness's proxy answers them exactly as
// contract §5 says (see harness.mjs); a posd that has them is used as is.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { setup, signIn, enterToken, ring, queued, screenshot, waitFor, sleep, pairingCode, statusRoute, LAN_HOST, LAN_ARGS } from './harness.mjs';

const APPLE = '4006381333931';

function pairPosts(env) {
  return env.proxy.posts.filter((p) => p.path === '/api/pair');
}

test('pairing: the office page’s link (#pair=code) signs the till in; the address forgets the code; a lost answer is retried with the same key', async (t) => {
  const env = await setup(t);
  const code = await pairingCode(env);
  env.proxy.dropPosts = 1; // posd pairs the till, its answer is lost
  const page = await env.open({ path: `/till/#pair=${code.toLowerCase()}` });
  await page.waitForSelector('#view-sell:not([hidden])', { timeout: 30000 });
  await page.waitForSelector('#conn[data-status=online]');
  assert.equal(new URL(page.url()).hash, '', 'the code is gone from the address');
  const posts = pairPosts(env);
  assert.equal(posts.length, 2, `one lost answer, one retry (${posts.map((p) => p.outcome).join(', ')})`);
  assert.equal(posts[0].outcome, 'dropped 201');
  assert.equal(posts[0].key, posts[1].key, 'the retry carries the same key');
  const sent = env.proxy.requests.filter((r) => r.path === '/api/pair');
  assert.deepEqual(sent[0].body, { code }, 'the code as posd knows it');
  assert.equal(sent[0].headers.authorization, undefined);
  assert.equal(await page.evaluate(() => localStorage.getItem('posd.pairing')), null, 'the key is forgotten once signed in');
  // The till sells with the token the replay gave.
  await ring(page, APPLE);
  await page.click('#complete');
  await page.waitForSelector('#receipt-number[data-number^="INV-"]');
  assert.equal((await env.posd.sales()).length, 1);
  // A reload keeps the till signed in, and the code is not used again.
  await page.reload();
  await page.waitForSelector('#view-sell:not([hidden])');
  assert.equal(pairPosts(env).length, 2);
});

test('pairing: a typed code (any case, with a dash); an unknown code and too many tries are said in words', async (t) => {
  const env = await setup(t);
  const code = await pairingCode(env);
  const page = await env.open();
  await page.waitForSelector('#view-signin:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'pair-code', 'the code box is ready to type in');
  await page.fill('#pair-code', 'K7P0QX');
  await page.press('#pair-code', 'Enter');
  assert.match(await page.textContent('#pair-error'), /6 letters and digits \(no 0, 1, I or O\)/);
  assert.equal(pairPosts(env).length, 0, 'a code that cannot be one is not sent');
  // A well-formed code posd does not know.
  const unknown = code === 'ABCDEF' ? 'ABCDEG' : 'ABCDEF';
  await page.fill('#pair-code', unknown);
  await page.press('#pair-code', 'Enter');
  await waitFor(async () => (await page.textContent('#pair-error')).includes('unknown'), { what: 'the unknown-code message' });
  assert.equal(await page.textContent('#pair-error'), 'This code is unknown, used or expired — ask for a new one on the office page, Tills → Add a till.');
  // Too many guesses: posd says wait 30 s.
  env.proxy.refuse = { path: '/api/pair', status: 429, headers: { 'Retry-After': '30' }, body: { error: { code: 'rate_limited', message: 'too many tries' } }, times: 1 };
  await page.fill('#pair-code', `${code.slice(0, 3).toLowerCase()}-${code.slice(3).toLowerCase()}`);
  await page.press('#pair-code', 'Enter');
  await waitFor(async () => /Wait \d+ s/.test(await page.textContent('#pair-error')), { what: 'the wait message' });
  assert.match(await page.textContent('#pair-error'), /Too many tries from this till\. Wait (30|29) s, then try again\./);
  assert.equal(await page.locator('#pair-btn').isDisabled(), true, 'the button waits too');
  await screenshot(page, 'signin-wait');
  // The wait is over (the test does not sit through 30 s: a click on a re-enabled button is what counts).
  await page.evaluate(() => {
    const b = document.getElementById('pair-btn');
    b.disabled = false;
  });
  await page.click('#pair-btn');
  await page.waitForSelector('#view-sell:not([hidden])', { timeout: 30000 });
  const posts = pairPosts(env);
  assert.equal(posts.at(-1).outcome.startsWith('201'), true);
  const sent = env.proxy.requests.filter((r) => r.path === '/api/pair');
  assert.deepEqual(sent.at(-1).body, { code }, 'lower case and a dash typed, the code sent');
});

test('pairing: "Use a till token instead" still signs a till in', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await page.waitForSelector('#view-signin:not([hidden])');
  assert.equal(await page.isVisible('#token'), false, 'the token box is behind the link');
  await enterToken(page, env.tillToken);
  await page.waitForSelector('#view-sell:not([hidden])');
});

test('a till removed in the office goes back to sign-in, says why, and keeps its queued sale, which is sent after the next sign-in', async (t) => {
  const env = await setup(t);
  const page = await env.open();
  await signIn(page, env.tillToken);
  env.proxy.block();
  await page.waitForSelector('#conn[data-status=unreachable]');
  await ring(page, APPLE);
  await page.click('#complete');
  await page.waitForSelector('#view-receipt:not([hidden])');
  await waitFor(async () => (await queued(page)) === 1, { what: 'one queued' });
  await env.posd.api('DELETE', `/api/tokens/${env.tillTokenId}`); // removed in the office
  env.proxy.unblock();
  await page.waitForSelector('#view-signin:not([hidden])', { timeout: 30000 });
  assert.equal(await page.textContent('#signin-notice'), 'This till was removed in the office; ask for a new pairing code (office page: Tills → Add a till) and sign in again.');
  assert.match(await page.textContent('#signin-queue'), /^1 sale waits on this till: nothing is lost/);
  assert.equal(await queued(page), 1, 'the header still counts it');
  assert.equal(await page.textContent('#parked-count'), '0', 'not parked');
  await screenshot(page, 'removed-in-office');
  const posts = env.proxy.salePosts();
  assert.deepEqual(posts.map((p) => p.outcome), ['401'], 'sent once, refused for the token, not retried');
  // A new till token for this shop: the kept sale goes, with its own key.
  const tok = await env.posd.api('POST', '/api/tokens', { role: 'till', name: 'Till 1 again', locationId: env.posd.locationId });
  await enterToken(page, tok.token);
  await page.waitForSelector('#view-sell:not([hidden])');
  await waitFor(async () => (await queued(page)) === 0, { timeout: 30000, what: 'the kept sale sent' });
  const after = env.proxy.salePosts();
  assert.deepEqual(after.map((p) => p.outcome), ['401', '201']);
  assert.equal(after[0].key, after[1].key);
  assert.equal((await env.posd.sales()).length, 1);
});

test('health report: PUT /api/tills/current/status every 10 s and after a sale, as contract §5 has it', async (t) => {
  const env = await setup(t);
  const where = await statusRoute(env);
  const page = await env.open();
  await signIn(page, env.tillToken);
  await waitFor(() => env.proxy.statusReports().length >= 1, { timeout: 15000, what: 'a first report' });
  const first = env.proxy.statusReports()[0];
  assert.equal(first.headers['idempotency-key'], undefined, 'a PUT replaces: no Idempotency-Key');
  assert.equal(first.headers['content-type'], 'application/json');
  assert.match(first.headers.authorization, /^Bearer posd_/);
  assert.deepEqual(Object.keys(first.body).sort(), ['clock', 'counters', 'oldestQueuedAt', 'parked', 'queued', 'version']);
  assert.equal(first.body.version, 'posd-till-v4');
  assert.ok(Math.abs(Date.parse(first.body.clock) - first.at) < 5000, 'the till’s clock');
  await ring(page, APPLE);
  await page.click('#complete');
  await page.waitForSelector('#receipt-number[data-number^="INV-"]');
  await waitFor(() => env.proxy.statusReports().some((r) => r.body.counters.sent === 1), { timeout: 15000, what: 'a report after the sale' });
  await waitFor(() => env.proxy.statusReports().length >= 3, { timeout: 25000, what: 'reports every 10 s' });
  const at = env.proxy.statusReports().map((r) => r.at);
  const gaps = at.slice(1).map((x, i) => x - at[i]);
  assert.ok(gaps.every((g) => g < 12000), `at most 10 s apart (+ a little): ${gaps.join(', ')} ms`);
  if (where === 'posd') {
    const { tills } = await env.posd.api('GET', '/api/tills');
    assert.ok(tills.some((x) => x.lastSeenAt), 'posd has seen the till');
  }
});

test('an older posd without the status route: the till stops reporting quietly and sells on', async (t) => {
  const env = await setup(t);
  if ((await statusRoute(env)) === 'posd') {
    env.proxy.refuse = { path: '/api/tills/current/status', status: 404, body: { error: { code: 'not_found', message: 'no such API route' } }, times: 1e9 };
  }
  env.proxy.fakeStatus = false;
  const page = await env.open();
  await signIn(page, env.tillToken);
  await sleep(14000);
  assert.equal(env.proxy.statusReports().length, 1, 'one try, then no more');
  await ring(page, APPLE);
  await page.click('#complete');
  await page.waitForSelector('#receipt-number[data-number^="INV-"]');
  assert.deepEqual(env.pageErrors, []);
});

test('plain HTTP on a LAN address: the till offers "Set up this till for offline use" once, and sells', async (t) => {
  const env = await setup(t);
  const lan = `http://${LAN_HOST}:${new URL(env.proxy.url).port}`;
  const page = await env.open({ base: lan, args: LAN_ARGS });
  assert.equal(await page.evaluate(() => window.isSecureContext), false, 'plain HTTP on a LAN name is not a secure context');
  await page.waitForSelector('#setup-hint:not([hidden])');
  assert.equal(await page.textContent('#setup-link'), 'Set up this till for offline use');
  assert.equal(await page.getAttribute('#setup-link', 'href'), '/till/setup.html');
  await signIn(page, env.tillToken);
  await screenshot(page, 'setup-hint');
  await ring(page, APPLE);
  await page.click('#complete');
  await page.waitForSelector('#receipt-number[data-number^="INV-"]');
  await page.click('#setup-hint-close');
  assert.equal(await page.isVisible('#setup-hint'), false);
  await page.reload();
  await page.waitForSelector('#view-sell:not([hidden])');
  assert.equal(await page.isVisible('#setup-hint'), false, 'dismissed once, not shown again');
  // On a secure origin (127.0.0.1 counts as one) it is never offered.
  const local = await env.browser.newPage();
  await local.goto(`${env.proxy.url}/till/`);
  await local.waitForSelector('#view-signin:not([hidden])');
  assert.equal(await local.evaluate(() => window.isSecureContext), true);
  assert.equal(await local.isVisible('#setup-hint'), false);
});
