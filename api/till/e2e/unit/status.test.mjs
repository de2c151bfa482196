// The till's health report (contract §5): PUT /api/tills/current/status
// every 10 s while posd is reachable and soon after the queue changes, with
// the queue, the version, the clock and the counters; no Idempotency-Key;
// an older posd without the route is left alone.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';

import { PosdClient, MemoryOutbox } from '../../static/js/posd-client.js';
import { StatusReporter, STATUS_PATH } from '../../static/js/posd-status.js';
import { Clock, Line, memoryStorage } from './fakes.mjs';

const sale = { locationId: 'L1', items: [{ productId: 'P1', quantity: 1 }], payments: [{ method: 'cash', amount: 500 }] };
const stops = [];
after(() => stops.forEach((f) => f()));

async function setup({ route = true } = {}) {
  const clock = new Clock();
  const line = new Line(clock);
  const base = line.answer;
  line.answer = (call) => (call.path === STATUS_PATH ? (route ? { status: 204 } : { status: 404, body: { error: { code: 'not_found', message: 'no such route' } } }) : base(call));
  const c = new PosdClient({ baseURL: 'http://posd.test', token: 'posd_till', scope: 'B1', outbox: new MemoryOutbox(), fetch: line.fetch, now: clock.now, timers: clock.api, random: () => 0, locks: null, localStorage: memoryStorage(), BroadcastChannel: null, navigator: null, policy: { queuedAfterAttempts: 2 } });
  await c.open();
  const r = new StatusReporter(c, { version: 'posd-till-v3' }).start();
  stops.push(() => {
    r.stop();
    c.close();
  });
  const reports = () => line.calls.filter((x) => x.path === STATUS_PATH);
  return { clock, line, c, r, reports };
}

test('a report every 10 s while posd answers, in the contract’s shape, without an Idempotency-Key', async () => {
  const { clock, reports } = await setup();
  await clock.advance(1500);
  assert.equal(reports().length, 1, 'one report once posd is seen');
  await clock.advance(30000);
  const all = reports();
  assert.equal(all.length, 4, `every 10 s (at ${all.map((x) => x.at - all[0].at).join(', ')} ms)`);
  const p = all[0];
  assert.equal(p.method, 'PUT');
  assert.equal(p.headers['Idempotency-Key'], undefined);
  assert.equal(p.headers.Authorization, 'Bearer posd_till');
  assert.equal(p.headers['Content-Type'], 'application/json');
  assert.deepEqual(Object.keys(p.body).sort(), ['clock', 'counters', 'oldestQueuedAt', 'parked', 'queued', 'version']);
  assert.deepEqual(p.body.counters, { sent: 0, retried: 0, queuedAfterRetries: 0 });
  assert.equal(p.body.version, 'posd-till-v3');
  assert.equal(p.body.clock, new Date(p.at).toISOString(), 'the till’s clock, RFC 3339 UTC');
  assert.deepEqual([p.body.queued, p.body.parked, p.body.oldestQueuedAt], [0, 0, null]);
});

test('a change of the queue is reported within a couple of seconds, once', async () => {
  const { clock, line, c, reports } = await setup();
  await clock.advance(1500);
  const before = reports().length;
  line.mode = 'down';
  const e = await c.intent('POST', '/api/sales', sale);
  c.submit(e.key);
  await clock.advance(8000); // the sale gives up and stays queued; posd is down, nothing reported
  assert.equal(reports().length - before, 0, 'no report while posd cannot be reached (its sends would fail anyway)');
  line.mode = 'ok';
  await clock.advance(2500); // posd answers again: the queue goes and the change is told
  const after = reports().slice(before);
  assert.ok(after.length >= 1 && after.length <= 3, `reported ${after.length} times`);
  const first = after[0].body;
  const last = after.at(-1).body;
  assert.ok(first.queued === 1 ? first.oldestQueuedAt === e.createdAt : true, 'while queued, the oldest is named');
  assert.equal(last.queued, 0);
  assert.equal(last.counters.sent, 2, 'two sends of the one sale: the one that gave up and the one that went');
  assert.equal(last.counters.queuedAfterRetries, 1);
  await clock.advance(3000);
  assert.equal(reports().length - before, after.length, 'nothing more until the next 10 s tick');
});

test('an older posd without the route (404): one try, then no more reports for this page', async () => {
  const { clock, r, reports } = await setup({ route: false });
  await clock.advance(60000);
  assert.equal(reports().length, 1);
  assert.equal(r.unsupported, true);
});

test('a queue change while posd is down is reported when it answers again', async () => {
  const { clock, line, c, reports } = await setup();
  await clock.advance(1500);
  line.mode = 'down';
  await clock.advance(12000);
  const e = await c.intent('POST', '/api/sales', sale);
  assert.equal((await c.submit(e.key)).state, 'queued');
  const n = reports().length;
  line.answer = ((base) => (call) => (call.path === '/api/sales' ? { status: 503, body: {} } : base(call)))(line.answer);
  line.mode = 'ok';
  await clock.advance(3000);
  const last = reports().at(-1);
  assert.ok(reports().length > n, 'reported once posd was back');
  assert.equal(last.body.queued, 1);
  assert.equal(last.body.oldestQueuedAt, e.createdAt);
});
