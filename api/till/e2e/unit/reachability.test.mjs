// How the client judges whether posd can be reached (issue 15.2, 15.3,
// 15.5): from what actually gets through, on a slow line as well as in an
// outage; the first status is told; a waiting sale is queued quickly when
// posd is gone; "queued" does not count a sale still being sent; the
// counters of the till's health report. Time is a fake clock.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { PosdClient, MemoryOutbox } from '../../static/js/posd-client.js';
import { Clock, Line, memoryStorage } from './fakes.mjs';

const sale = { locationId: 'L1', items: [{ productId: 'P1', quantity: 1 }], payments: [{ method: 'cash', amount: 500 }] };
const clients = [];
after(() => clients.forEach((c) => c.close()));

function newClient({ clock = new Clock(), line = new Line(clock), navigator = null, policy, localStorage = null, outbox = new MemoryOutbox(), open = true, probeMs } = {}) {
  const c = new PosdClient({
    baseURL: 'http://posd.test',
    token: 'posd_till',
    outbox,
    fetch: line.fetch,
    now: clock.now,
    timers: clock.api,
    random: () => 0,
    locks: null,
    localStorage,
    BroadcastChannel: null,
    navigator,
    policy,
    probeMs,
    retryProbeMs: probeMs,
  });
  clients.push(c);
  const statuses = [];
  c.addEventListener('status', (e) => statuses.push(e.detail.status));
  return { c, clock, line, statuses, opened: open ? c.open() : null };
}

test('15.2: a health check answered after 7 s is a slow line, not an outage', async () => {
  const { c, clock, line, statuses, opened } = newClient();
  line.delayMs = 7000; // 5 s latency and a thin line, as in issue 15
  await opened;
  await clock.advance(5500);
  assert.equal(c.status, 'slow', 'waiting 5 s for an answer: slow');
  await clock.advance(60000);
  assert.ok(!statuses.includes('unreachable'), `never unreachable (saw ${statuses.join(' → ')})`);
  assert.equal(c.status, 'slow');
  line.delayMs = 10;
  await clock.advance(30000);
  assert.equal(c.status, 'online', 'a quick answer again: online');
});

test('15.2: on a slow line a sale is sent and answered, not held back as queued', async () => {
  const { c, clock, line, opened } = newClient();
  line.delayMs = 7000;
  await opened;
  await clock.advance(6000); // the first health check is still on its way
  const e = await c.intent('POST', '/api/sales', sale);
  const out = c.submit(e.key);
  await clock.advance(10000);
  const got = await out;
  assert.equal(got.state, 'done', 'the sale went through the slow line');
  assert.equal(line.posts().length, 1, 'sent once');
});

test('15.2: queued sales are sent when posd comes back on a slow line', async () => {
  const { c, clock, line, statuses, opened } = newClient();
  line.mode = 'down';
  await opened;
  await clock.advance(100);
  assert.equal(c.status, 'unreachable');
  const keys = [];
  for (let i = 0; i < 2; i++) {
    const e = await c.intent('POST', '/api/sales', { ...sale, n: i });
    keys.push(e.key);
    assert.equal((await c.submit(e.key)).state, 'queued');
  }
  assert.equal(line.posts().length, 0, 'nothing is sent while posd is known to be down');
  line.mode = 'ok';
  line.delayMs = 7000; // back, but slow
  await clock.advance(40000);
  assert.deepEqual(line.posts().map((p) => p.headers['Idempotency-Key']), keys, 'both sent, in order, once');
  assert.deepEqual(await c.counts(), { queued: 0, parked: 0 });
  assert.equal(statuses.at(-1), 'slow');
});

test('15.2: a failed request does not make posd unreachable while another one is on its way', async () => {
  const { c, clock, line, statuses, opened } = newClient();
  await opened;
  await clock.advance(100);
  assert.equal(c.status, 'online');
  line.delayMs = 8000;
  const e = await c.intent('POST', '/api/sales', sale);
  const out = c.submit(e.key);
  await clock.advance(1000);
  // Meanwhile one request is lost on the flaky line (the health check fails at once).
  line.mode = 'down';
  await c.probe();
  line.mode = 'ok';
  assert.notEqual(c.status, 'unreachable', 'the sale is still progressing: no verdict yet');
  await clock.advance(10000);
  assert.equal((await out).state, 'done');
  assert.ok(!statuses.includes('unreachable'), `statuses: ${statuses.join(' → ')}`);
});

test('15.2: any answer is proof that posd is reachable (no health check needed)', async () => {
  const { c, clock, line, opened } = newClient();
  line.mode = 'down';
  await opened;
  await clock.advance(100);
  assert.equal(c.status, 'unreachable');
  line.mode = 'ok';
  const read = c.request('GET', '/api/products', { policy: { ...c.policy, maxRetries: 0 } });
  await clock.advance(10);
  assert.equal((await read).verdict, 'ok');
  assert.equal(c.status, 'online');
  const health = line.calls.filter((x) => x.path === '/api/health').length;
  await clock.advance(4000);
  assert.equal(line.calls.filter((x) => x.path === '/api/health').length, health, 'no health check while posd answered just now');
});

test('15.2: a read that gives up after its 15 s on a slow line is slowness, not an outage', async () => {
  const { c, clock, line, statuses, opened } = newClient({ probeMs: 3600e3 }); // no health check meanwhile
  line.delayMs = 7000;
  await opened;
  await clock.advance(8000);
  assert.equal(c.status, 'slow');
  line.delayMs = 20000; // a big product list over the thin line
  const read = c.get('/api/products').catch((e) => e);
  await clock.advance(16000);
  assert.equal((await read).code, 'unreachable', 'the read itself gave up');
  assert.ok(!statuses.includes('unreachable'), `the header said: ${statuses.join(' → ')}`);
  // A write's full 60 s without an answer is an outage, though.
  line.mode = 'hang';
  const e = await c.intent('POST', '/api/sales', sale);
  c.submit(e.key);
  await clock.advance(61000);
  assert.equal(c.status, 'unreachable');
});

test('15.3: a till opened while the browser is offline says so at once', async () => {
  const { c, statuses, opened } = newClient({ navigator: { onLine: false } });
  assert.equal(c.status, 'offline', 'readable before open()');
  await opened;
  assert.deepEqual(statuses, ['offline'], 'told to a listener that came before open()');
});

test('15.3: the first status is told even when it is "unknown"', async () => {
  const { statuses, opened } = newClient({ open: true });
  await opened;
  assert.equal(statuses[0], 'unknown');
});

test('15.5: a sale waiting on posd that just died is queued after the second failed attempt; retries go on with its key', async () => {
  const { c, clock, line, opened } = newClient({ policy: { queuedAfterAttempts: 2 } });
  await opened;
  await clock.advance(100);
  line.mode = 'down';
  const e = await c.intent('POST', '/api/sales', sale);
  const settled = [];
  c.addEventListener('settled', (ev) => settled.push(ev.detail.entry));
  const sent = clock.t;
  let out = null;
  c.submit(e.key).then((o) => (out = { ...o, at: clock.t }));
  await clock.advance(1500);
  assert.ok(out, 'told within 1.5 s');
  assert.equal(out.state, 'queued');
  assert.ok(out.at - sent <= 1200, `after ${out.at - sent} ms`);
  assert.equal(line.posts().length, 2, 'after exactly two attempts');
  assert.deepEqual(await c.counts(), { queued: 1, parked: 0 });
  line.mode = 'ok'; // posd is back before the retries are over
  await clock.advance(3000);
  assert.equal(settled.length, 1, 'the answer followed');
  assert.equal(settled[0].state, 'done');
  const keys = new Set(line.posts().map((p) => p.headers['Idempotency-Key']));
  assert.deepEqual([...keys], [e.key], 'every attempt with the same key');
  assert.equal(line.posts().length, 3);
});

test('15.5: a sale being sent is not counted as queued', async () => {
  const { c, clock, line, opened } = newClient();
  await opened;
  await clock.advance(100);
  line.delayMs = 3000;
  const seen = [];
  c.addEventListener('queue', (ev) => seen.push(ev.detail.queued));
  const e = await c.intent('POST', '/api/sales', sale);
  const out = c.submit(e.key);
  await clock.advance(1000);
  assert.deepEqual(await c.counts(), { queued: 0, parked: 0 }, 'on its way, not queued');
  await clock.advance(3000);
  assert.equal((await out).state, 'done');
  assert.ok(seen.every((n) => n === 0), `queue events said ${seen.join(', ')}`);
});

test('counters: writes sent, retried, and queued after all retries; kept across reloads', async () => {
  const ls = memoryStorage();
  const first = newClient({ localStorage: ls });
  // Lease fallback with a fake clock: this lone client holds the lease.
  await first.opened;
  await first.clock.advance(100);
  let e = await first.c.intent('POST', '/api/sales', sale);
  const once = first.c.submit(e.key); // sent at once
  await first.clock.advance(100);
  assert.equal((await once).state, 'done');
  first.line.mode = 'down';
  e = await first.c.intent('POST', '/api/sales', sale);
  const p = first.c.submit(e.key);
  await first.clock.advance(10000); // four attempts fail: queued after all retries
  assert.equal((await p).state, 'queued');
  assert.deepEqual(first.c.counters(), { sent: 2, retried: 1, queuedAfterRetries: 1 });
  first.c.close();
  const second = newClient({ localStorage: ls, clock: first.clock, line: first.line, outbox: first.c.outbox });
  assert.deepEqual(second.c.counters(), { sent: 2, retried: 1, queuedAfterRetries: 1 }, 'a reload keeps them');
  await second.opened;
  first.line.mode = 'ok';
  let writes = 0;
  first.line.answer = (call) => (call.path === '/api/health' ? { status: 200, body: {} } : writes++ === 0 ? { status: 503, body: {} } : { status: 201, body: {} });
  await first.clock.advance(5000); // the queued sale goes: one 503, then 201
  assert.deepEqual(second.c.counters(), { sent: 3, retried: 2, queuedAfterRetries: 1 });
  assert.deepEqual(JSON.parse(ls.getItem('posd-client.counters')), { sent: 3, retried: 2, queuedAfterRetries: 1 });
});
