// Unit tests of the till's JS client: retry and backoff, key persistence,
// in-flight de-duplication, the queue, parking, and the IndexedDB store.
// Clock, fetch, sleep and storage are injected, so nothing here waits.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';

import { PosdClient, MemoryOutbox, IdbOutbox, classify, backoff, newKey, DEFAULT_POLICY } from '../../static/js/posd-client.js';

/** fakeFetch answers from a script; each step is an answer, "network" or "hang". */
function fakeFetch(script, log) {
  return async (url, init) => {
    const call = { url, method: init.method, headers: { ...init.headers }, body: init.body ? JSON.parse(init.body) : null };
    if (!url.endsWith('/api/health')) log.push(call);
    const step = url.endsWith('/api/health') ? { status: 200, body: { status: 'ok' } } : script.shift();
    if (step === undefined) throw new Error(`unexpected request ${init.method} ${url}`);
    if (step === 'network') throw new TypeError('Failed to fetch');
    if (step === 'hang') {
      return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    }
    const h = new Map(Object.entries(step.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
    return { status: step.status, headers: { get: (k) => h.get(k.toLowerCase()) ?? null }, text: async () => JSON.stringify(step.body ?? {}) };
  };
}

const sale = { locationId: 'L1', items: [{ productId: 'P1', quantity: 1 }], payments: [{ method: 'cash', amount: 500 }] };
const created = (n) => ({ status: 201, body: { id: `S${n}`, invoiceNumber: `INV-202611-000${n}` } });

/** newClient builds a client with everything injected; sleeps are recorded, not waited. */
async function newClient({ script = [], outbox = new MemoryOutbox(), policy, random = () => 0.5, open = true } = {}) {
  const log = [];
  const sleeps = [];
  let t = Date.UTC(2026, 10, 20, 10);
  const c = new PosdClient({
    baseURL: 'http://posd.test',
    token: 'posd_till',
    outbox,
    fetch: fakeFetch(script, log),
    sleep: async (ms) => {
      sleeps.push(ms);
      t += ms;
    },
    now: () => t,
    random,
    policy,
    locks: null,
    localStorage: null,
    BroadcastChannel: null,
    navigator: null,
    probeMs: 3600e3,
    retryProbeMs: 3600e3,
  });
  clients.push(c);
  if (open) {
    await c.open();
    await settle();
  }
  return { c, log, sleeps, outbox };
}

const clients = [];
after(() => clients.forEach((c) => c.close()));

const settle = () => new Promise((r) => setTimeout(r, 5));

test('classify: which answers are retried', () => {
  assert.equal(classify(null), 'retry');
  assert.equal(classify({ status: 201 }), 'ok');
  assert.equal(classify({ status: 200 }), 'ok');
  for (const s of [500, 502, 503, 504, 429]) assert.equal(classify({ status: s }), 'retry', `status ${s}`);
  assert.equal(classify({ status: 409, body: { error: { code: 'idempotency_key_in_progress' } } }), 'retry');
  assert.equal(classify({ status: 409, body: { error: { code: 'refund_exceeds_sale' } } }), 'refused');
  for (const s of [400, 403, 404, 413, 415, 422]) assert.equal(classify({ status: s, body: {} }), 'refused', `status ${s}`);
  assert.equal(classify({ status: 401, body: {} }), 'unauthorized');
});

test('backoff: 1 s, 2 s, 4 s plus at most 20 % jitter; Retry-After wins when longer', () => {
  assert.deepEqual([0, 1, 2].map((n) => backoff(DEFAULT_POLICY, n, 0, () => 0)), [1000, 2000, 4000]);
  assert.deepEqual([0, 1, 2].map((n) => backoff(DEFAULT_POLICY, n, 0, () => 0.999)), [1199, 2399, 4799]);
  assert.equal(backoff(DEFAULT_POLICY, 0, 10000, () => 0), 10000);
  assert.equal(backoff(DEFAULT_POLICY, 0, 600000, () => 0), 30000, 'a wait is capped');
});

test('newKey: RFC 4122 v4 UUIDs, all different', () => {
  const keys = new Set(Array.from({ length: 1000 }, () => newKey()));
  assert.equal(keys.size, 1000);
  for (const k of keys) assert.match(k, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('the key is stored before the first send, and every retry reuses it', async () => {
  const outbox = new MemoryOutbox();
  const { c, log, sleeps } = await newClient({ outbox, script: ['network', { status: 503, body: {}, headers: {} }, { status: 429, body: {} }, created(1)] });
  const e = await c.intent('POST', '/api/sales', sale);
  assert.equal(log.length, 0, 'intent() sends nothing');
  assert.equal((await outbox.get(e.key)).state, 'queued', 'the intent is in the outbox before any send');
  const out = await c.submit(e.key);
  assert.equal(out.state, 'done');
  assert.equal(out.entry.answer.body.invoiceNumber, 'INV-202611-0001');
  assert.equal(log.length, 4);
  for (const call of log) assert.equal(call.headers['Idempotency-Key'], e.key);
  assert.deepEqual(sleeps, [1100, 2200, 4400], 'backoff 1 s, 2 s, 4 s with jitter (random = 0.5)');
  assert.equal((await outbox.get(e.key)).state, 'done');
});

test('at most 3 retries; then the entry stays queued and the status is unreachable', async () => {
  const { c, log, outbox } = await newClient({ script: ['network', 'network', 'network', 'network'] });
  const statuses = [];
  c.addEventListener('status', (ev) => statuses.push(ev.detail.status));
  const e = await c.intent('POST', '/api/sales', sale);
  const out = await c.submit(e.key);
  assert.deepEqual(out, { state: 'queued', key: e.key });
  assert.equal(log.length, 4, 'first attempt + 3 retries');
  assert.equal((await outbox.get(e.key)).state, 'queued');
  assert.deepEqual(statuses, ['unreachable']);
  // While posd is unreachable, a new sale is queued at once, without a send.
  const e2 = await c.intent('POST', '/api/sales', sale);
  assert.deepEqual(await c.submit(e2.key), { state: 'queued', key: e2.key });
  assert.equal(log.length, 4);
});

test('no other 4xx is retried: the entry is parked with the refusal', async () => {
  for (const [status, code] of [
    [400, 'invalid_request'],
    [404, 'not_found'],
    [409, 'refund_exceeds_sale'],
    [422, 'idempotency_key_reused'],
  ]) {
    const { c, log, sleeps } = await newClient({ script: [{ status, body: { error: { code, message: 'no' } } }] });
    const e = await c.intent('POST', '/api/sales', sale);
    const out = await c.submit(e.key);
    assert.equal(out.state, 'parked', `${status}`);
    assert.equal(out.error.code, code);
    assert.equal(out.error.status, status);
    assert.equal(log.length, 1, `${status} is sent once`);
    assert.deepEqual(sleeps, []);
    assert.deepEqual(await c.counts(), { queued: 0, parked: 1 });
  }
});

test('409 idempotency_key_in_progress is retried, honouring Retry-After', async () => {
  const busy = { status: 409, body: { error: { code: 'idempotency_key_in_progress' } }, headers: { 'Retry-After': '3' } };
  const { c, log, sleeps } = await newClient({ script: [busy, created(1)], random: () => 0 });
  const out = await c.post('/api/sales', sale);
  assert.equal(out.state, 'done');
  assert.equal(log.length, 2);
  assert.deepEqual(sleeps, [3000]);
});

test('an attempt that hangs is cut after the attempt timeout and retried with the same key', async () => {
  const { c, log } = await newClient({ script: ['hang', created(1)], policy: { attemptTimeoutMs: 30 } });
  const out = await c.post('/api/sales', sale);
  assert.equal(out.state, 'done');
  assert.equal(log.length, 2);
  assert.equal(log[0].headers['Idempotency-Key'], log[1].headers['Idempotency-Key']);
});

test('a second submit of the same intent returns the same promise and sends nothing more', async () => {
  const { c, log } = await newClient({ script: [created(1)] });
  const e = await c.intent('POST', '/api/sales', sale);
  const p1 = c.submit(e.key);
  const ps = Array.from({ length: 9 }, () => c.submit(e.key));
  for (const p of ps) assert.equal(p, p1);
  const out = await p1;
  assert.equal(out.state, 'done');
  assert.equal(log.length, 1);
  // Submitting a done intent again (a reload) answers from the outbox.
  const again = await c.submit(e.key);
  assert.equal(again.entry.answer.body.invoiceNumber, 'INV-202611-0001');
  assert.equal(log.length, 1);
});

test('the queue is sent in order when posd is back; a parked entry does not block the rest', async () => {
  const { c, log, outbox } = await newClient({ script: ['network', 'network', 'network', 'network'] });
  const keys = [];
  for (let i = 0; i < 4; i++) keys.push((await c.intent('POST', '/api/sales', { ...sale, n: i })).key);
  assert.equal((await c.submit(keys[0])).state, 'queued');
  assert.deepEqual(await c.counts(), { queued: 4, parked: 0 });
  // posd is back: the second entry is refused, the others go through.
  const sent = log.length;
  c.fetch = fakeFetch([created(1), { status: 404, body: { error: { code: 'not_found', message: 'product not found' } } }, created(2), created(3)], log);
  const queueEvents = [];
  c.addEventListener('queue', (ev) => queueEvents.push(ev.detail));
  await c.probe();
  await c.drain();
  await settle();
  assert.deepEqual(log.slice(sent).map((x) => x.headers['Idempotency-Key']), keys, 'sent once each, in order');
  assert.deepEqual(log.slice(sent).map((x) => x.body.n), [0, 1, 2, 3]);
  const states = await Promise.all(keys.map(async (k) => (await outbox.get(k)).state));
  assert.deepEqual(states, ['done', 'parked', 'done', 'done']);
  assert.deepEqual(queueEvents.at(-1), { queued: 0, parked: 1 });
  const exported = JSON.parse(await c.exportParked());
  assert.equal(exported.parked.length, 1);
  assert.equal(exported.parked[0].key, keys[1]);
  assert.equal(exported.parked[0].answer.body.error.code, 'not_found');
  assert.deepEqual(exported.parked[0].body, { ...sale, n: 1 });
});

test('an entry leaves the queue only once the answer is stored', async () => {
  const outbox = new MemoryOutbox();
  const { c, log } = await newClient({ outbox, script: [created(1), created(1)] });
  const e = await c.intent('POST', '/api/sales', sale);
  outbox.failNext = new Error('disk full');
  const out = await c.submit(e.key);
  assert.equal(out.state, 'queued', 'posd answered but the answer could not be stored: still queued');
  assert.equal((await outbox.get(e.key)).state, 'queued');
  await c.drain();
  assert.equal((await outbox.get(e.key)).state, 'done');
  assert.equal(log.length, 2);
  assert.equal(log[1].headers['Idempotency-Key'], e.key, 'the resend uses the same key (posd replays)');
});

test('401 stops the queue without parking anything', async () => {
  const { c, log } = await newClient({ script: [{ status: 401, body: { error: { code: 'unauthorized', message: 'unknown token' } } }] });
  let told = false;
  c.addEventListener('unauthorized', () => (told = true));
  const e1 = await c.intent('POST', '/api/sales', sale);
  await c.intent('POST', '/api/sales', sale);
  assert.equal((await c.submit(e1.key)).state, 'queued');
  assert.ok(told);
  assert.equal(log.length, 1);
  assert.deepEqual(await c.counts(), { queued: 2, parked: 0 });
});

test('only the tab holding the send lock sends (lease fallback)', async () => {
  const store = new Map();
  const ls = { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => store.set(k, String(v)), removeItem: (k) => store.delete(k) };
  const outbox = new MemoryOutbox();
  const logs = [[], []];
  let t = 1e12;
  const timers = { setTimeout, clearTimeout, setInterval: () => 0, clearInterval: () => {} };
  const mk = (i) =>
    new PosdClient({ token: 't', outbox, fetch: fakeFetch([created(i + 1), created(i + 2)], logs[i]), now: () => t, locks: null, localStorage: ls, BroadcastChannel: null, navigator: null, timers, probeMs: 3600e3, retryProbeMs: 3600e3 });
  const a = mk(0);
  const b = mk(1);
  await a.open();
  await b.open();
  await settle();
  assert.equal(a._isSender(), true);
  assert.equal(b._isSender(), false);
  const e = await b.intent('POST', '/api/sales', sale);
  const waiting = b.submit(e.key);
  await a.drain();
  assert.equal((await waiting).state, 'done', 'the waiting tab learns the outcome from the outbox');
  assert.equal(logs[1].length, 0, 'the tab without the lock sent nothing');
  assert.equal(logs[0].length, 1, 'the tab with the lock sent the other tab’s sale');
  // The holder goes away without releasing; its lease runs out and b takes over.
  t += 10000;
  b.lease.start(() => {});
  assert.equal(b._isSender(), true);
  a.close();
  b.close();
});

test('IdbOutbox: entries survive closing and reopening the database, in order', async () => {
  const indexedDB = new IDBFactory();
  const o1 = new IdbOutbox({ indexedDB, name: 'till-test' });
  await o1.open();
  for (let i = 0; i < 5; i++) await o1.add({ key: `k${i}`, seq: 100 - i * 10, state: 'queued', body: { i } });
  await o1.settle('k2', 'done', { status: 201, body: { invoiceNumber: 'INV-1' }, at: 1 });
  await o1.settle('k3', 'parked', { status: 404, body: { error: { code: 'not_found' } }, at: 1 });
  assert.equal(await o1.settle('k3', 'done', { status: 201 }).then((e) => e.state), 'parked', 'a settled entry stays settled');
  o1.close();

  const o2 = new IdbOutbox({ indexedDB, name: 'till-test' });
  await o2.open();
  assert.deepEqual((await o2.list('queued')).map((e) => e.key), ['k4', 'k1', 'k0'], 'oldest (lowest seq) first');
  assert.equal((await o2.get('k2')).answer.body.invoiceNumber, 'INV-1');
  assert.equal((await o2.list('parked'))[0].key, 'k3');
  await assert.rejects(o2.add({ key: 'k1', seq: 1, state: 'queued' }), 'a key is stored once');
  await o2.prune(2);
  assert.equal(await o2.get('k2'), undefined, 'old answers are pruned');
  assert.ok(await o2.get('k3'), 'parked entries are never pruned');
  o2.close();
});

test('PosdClient over IdbOutbox: a queued sale is sent by a new client (a reload) with its key', async () => {
  const indexedDB = new IDBFactory();
  const first = await newClient({ outbox: new IdbOutbox({ indexedDB }), script: ['network', 'network', 'network', 'network'] });
  const e = await first.c.intent('POST', '/api/sales', sale);
  assert.equal((await first.c.submit(e.key)).state, 'queued');
  first.c.close();
  const second = await newClient({ outbox: new IdbOutbox({ indexedDB }), script: [created(7)] });
  await second.c.drain();
  assert.equal(second.log.length, 1);
  assert.equal(second.log[0].headers['Idempotency-Key'], e.key);
  const out = await second.c.submit(e.key);
  assert.equal(out.entry.answer.body.invoiceNumber, 'INV-202611-0007');
  second.c.close();
});

test('a queue left by another business is kept but not sent with this token', async () => {
  const outbox = new MemoryOutbox();
  await outbox.add({ key: 'other', scope: 'B2', seq: 1, method: 'POST', path: '/api/sales', body: sale, state: 'queued' });
  const log = [];
  const c = new PosdClient({ baseURL: 'http://posd.test', token: 't', scope: 'B1', outbox, fetch: fakeFetch([created(1)], log), sleep: async () => {}, locks: null, localStorage: null, BroadcastChannel: null, navigator: null, probeMs: 3600e3, retryProbeMs: 3600e3 });
  clients.push(c);
  await c.open();
  const out = await c.post('/api/sales', sale);
  assert.equal(out.state, 'done');
  assert.equal(log.length, 1, 'only this business’s sale was sent');
  assert.equal((await outbox.get('other')).state, 'queued');
});
