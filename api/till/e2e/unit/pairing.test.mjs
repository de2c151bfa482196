// Signing a till in with a pairing code (contract §5): the code as typed,
// POST /api/pair with an Idempotency-Key stored before the first send and
// reused after a lost answer or a reload, and what each refusal means.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { PosdClient, MemoryOutbox } from '../../static/js/posd-client.js';
import { pair, normalizeCode, codeFromHash, pairingKey, forgetPairing, PAIRING_KEY } from '../../static/js/pairing.js';
import { Clock, Line, memoryStorage } from './fakes.mjs';

const clients = [];
after(() => clients.forEach((c) => c.close()));

function setup() {
  const clock = new Clock();
  const line = new Line(clock);
  const storage = memoryStorage();
  const c = new PosdClient({ baseURL: 'http://posd.test', token: null, outbox: new MemoryOutbox(), fetch: line.fetch, now: clock.now, timers: clock.api, random: () => 0, locks: null, localStorage: null, BroadcastChannel: null, navigator: null });
  clients.push(c);
  // run lets the fake clock move while pair() waits (retries sleep on it).
  const run = async (code) => {
    const p = pair(c, storage, code);
    let done = false;
    p.finally(() => (done = true));
    while (!done) await clock.advance(1000);
    return p;
  };
  return { clock, line, storage, c, run };
}

const paired = (over = {}) => ({ status: 201, body: { token: 'posd_till_1', tillId: 'T1', businessId: 'B1', locationId: 'L1', ...over } });

test('normalizeCode: case, spaces and dashes do not matter; 0, 1, I and O are not in the alphabet', () => {
  assert.equal(normalizeCode('k7p2qx'), 'K7P2QX');
  assert.equal(normalizeCode(' K7P-2QX '), 'K7P2QX');
  assert.equal(normalizeCode('k7p 2qx'), 'K7P2QX');
  for (const bad of ['', 'K7P2Q', 'K7P2QXY', 'K7P2Q0', 'K7P2Q1', 'K7P2QI', 'K7P2QO', 'K7P2Q!', null]) assert.equal(normalizeCode(bad), null, String(bad));
  assert.equal(codeFromHash('#pair=k7p2qx'), 'k7p2qx');
  assert.equal(codeFromHash('#pair=K7P2QX&x=1'), 'K7P2QX');
  assert.equal(codeFromHash('#other'), null);
  assert.equal(codeFromHash(''), null);
});

test('the key is stored before the first send and a lost answer is retried with it; the replay brings a working token', async () => {
  const { line, storage, run } = setup();
  let n = 0;
  line.answer = (call) => {
    // What was stored when the request left the till:
    call.stored = JSON.parse(storage.getItem(PAIRING_KEY));
    n++;
    return n === 1 ? { status: 502, body: {} } : { ...paired({ token: 'posd_till_2' }), headers: { 'X-Idempotent-Replay': 'true' } };
  };
  const r = await run('K7P2QX');
  assert.equal(r.ok, true);
  assert.equal(r.token, 'posd_till_2');
  assert.equal(r.tillId, 'T1');
  assert.equal(r.replayed, true);
  const posts = line.posts();
  assert.equal(posts.length, 2);
  assert.equal(posts[0].headers['Idempotency-Key'], posts[0].stored.key, 'stored before the first send');
  assert.equal(posts[1].headers['Idempotency-Key'], posts[0].headers['Idempotency-Key'], 'the retry carries the same key');
  assert.deepEqual(posts[0].body, { code: 'K7P2QX' });
  assert.equal(posts[0].headers.Authorization, undefined, 'no token: the till has none yet');
  assert.equal(posts[0].path, '/api/pair');
});

test('a till that gave up (posd unreachable) and tries again later uses the same key; another code gets a new one', async () => {
  const { line, storage, run } = setup();
  line.mode = 'down';
  const r1 = await run('K7P2QX');
  assert.deepEqual(r1, { ok: false, reason: 'unreachable' });
  assert.equal(line.posts().length, 4, 'the usual retries');
  const key = line.posts()[0].headers['Idempotency-Key'];
  line.mode = 'ok';
  line.answer = () => paired();
  const r2 = await run('K7P2QX'); // e.g. after a reload: pairingKey reads the stored key
  assert.equal(r2.ok, true);
  assert.equal(line.posts().at(-1).headers['Idempotency-Key'], key);
  assert.notEqual(pairingKey(storage, 'ABCDEF'), key, 'a new code is a new request');
  forgetPairing(storage);
  assert.equal(storage.getItem(PAIRING_KEY), null);
});

test('an unknown, used or expired code (404) is said so and not retried; the key is forgotten', async () => {
  const { line, storage, run } = setup();
  line.answer = () => ({ status: 404, body: { error: { code: 'not_found', message: 'no such pairing code' } } });
  const r = await run('K7P2QX');
  assert.deepEqual(r, { ok: false, reason: 'unknown_code' });
  assert.equal(line.posts().length, 1);
  assert.equal(storage.getItem(PAIRING_KEY), null);
});

test('too many guesses (429): the till waits as posd says, it does not keep guessing', async () => {
  const { line, run } = setup();
  line.answer = () => ({ status: 429, body: { error: { code: 'rate_limited', message: 'slow down' } }, headers: { 'Retry-After': '30' } });
  const r = await run('K7P2QX');
  assert.deepEqual(r, { ok: false, reason: 'rate_limited', retryAfterS: 30 });
  assert.equal(line.posts().length, 1, 'sent once');
});

test('an older posd without the route (405) is told apart; an answer without a token is refused', async () => {
  const { line, storage, run } = setup();
  line.answer = () => ({ status: 405, body: {} });
  assert.equal((await run('K7P2QX')).reason, 'not_supported');
  line.answer = () => paired({ token: null });
  const r = await run('K7P2QX');
  assert.equal(r.ok, false);
  assert.equal(r.reason, 'refused');
  assert.equal(storage.getItem(PAIRING_KEY), null, 'a tokenless answer would only be replayed: the key is dropped');
});
