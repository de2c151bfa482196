// posd-client.js — the client half of posd's promise that a sale is never
// lost and never counted twice. Served by posd at /till/js/posd-client.js;
// plain ES module, no dependencies but ./posd-outbox.js beside it.
//
// Rules (the same as the Go client's):
//  - one idempotency key per intent, made and stored in the outbox BEFORE the
//    first send, and reused by every retry, by a reload and by the queue;
//  - a second submit of the same intent returns the same promise;
//  - network errors, timeouts, 5xx, 429 and 409 idempotency_key_in_progress
//    are retried after 1 s, 2 s, 4 s (+ up to 20 % jitter), at most 3 times,
//    each attempt limited to 60 s; no other 4xx is ever retried;
//  - with policy.queuedAfterAttempts (the till: 2), a caller waiting on
//    submit() hears "queued" after that many failed attempts (about 1 s), so
//    a customer gets a provisional receipt; the retries go on in the
//    background with the same key, and "settled" tells when the answer comes;
//  - what cannot be sent stays queued (IndexedDB) and is sent in order when
//    posd answers again (online event, periodic GET /api/health);
//  - reachability follows what gets through: any answer from posd is proof
//    of it, an answer that takes more than 5 s makes the status "slow" (not
//    an outage: the health check waits as patiently as a write, 60 s, and a
//    read that gives up sooner counts as slow), and only a failure with
//    nothing else answering or on its way makes it "unreachable";
//  - one tab at a time sends (Web Locks, else a lease in localStorage);
//  - an entry leaves the queue only with posd's answer stored beside it; a
//    4xx-refused entry is parked: kept, listed, exportable, never blocking;
//    a 401 stops the queue instead (the token is wrong, not the entry);
//  - running totals of the writes sent, retried and queued after all
//    retries are kept in localStorage (counters()), for the till's health.
//
// Events (EventTarget): "status" {status: unknown|online|slow|offline|
// unreachable} (once at open(), then at every change; client.status reads it
// at any time), "queue" {queued, parked} (queued leaves out writes a
// submit() is still waiting on), "settled" {entry}, "unauthorized" {path}.

import { IdbOutbox } from './posd-outbox.js';

export { IdbOutbox, MemoryOutbox } from './posd-outbox.js';

/** The retry policy of posd's clients. */
export const DEFAULT_POLICY = Object.freeze({
  maxRetries: 3,
  baseDelayMs: 1000,
  maxDelayMs: 30000,
  jitter: 0.2,
  attemptTimeoutMs: 60000,
  // After this many failed attempts a waiting submit() resolves "queued"
  // while the retries go on (the till uses 2: a provisional receipt after
  // about 1 s); by default only once every retry failed.
  queuedAfterAttempts: Infinity,
});

/** TIMEOUT is what _send resolves to when an attempt ran out of time. */
const TIMEOUT = Symbol('timeout');

/** REACHABLE are the statuses in which writes are sent at once. */
const REACHABLE = new Set(['online', 'slow', 'unknown']);

/** PosdError is an answer in the contract's error shape (or a failure to get one). */
export class PosdError extends Error {
  constructor(status, code, message, field) {
    super(message || code);
    this.name = 'PosdError';
    this.status = status; // 0: no answer at all
    this.code = code;
    this.field = field;
  }
}

/** newKey returns a random UUID (v4); works on plain-HTTP pages too. */
export function newKey(crypto = globalThis.crypto) {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * classify tells what to do after one attempt: "ok", "retry", "refused"
 * (a 4xx that is final) or "unauthorized".
 * @param {{status:number, body:any}|null} res null when no answer came
 */
export function classify(res) {
  if (!res) return 'retry';
  const s = res.status;
  if (s >= 200 && s < 300) return 'ok';
  if (s >= 500 || s === 429) return 'retry';
  if (s === 409 && res.body && res.body.error && res.body.error.code === 'idempotency_key_in_progress') return 'retry';
  if (s === 401) return 'unauthorized';
  return 'refused';
}

/** backoff is the wait before retry number n (0-based), Retry-After included. */
export function backoff(policy, n, retryAfterMs, random) {
  let d = policy.baseDelayMs * 2 ** n;
  if (retryAfterMs > d) d = retryAfterMs;
  if (d > policy.maxDelayMs) d = policy.maxDelayMs;
  return d + Math.floor(random() * policy.jitter * d);
}

function errorOf(res) {
  if (!res) return new PosdError(0, 'unreachable', 'posd did not answer');
  const e = (res.body && res.body.error) || {};
  return new PosdError(res.status, e.code || `http_${res.status}`, e.message || `HTTP ${res.status}`, e.field);
}

/** Lease-based lock for browsers without the Web Locks API. */
class LeaseLock {
  constructor(name, id, storage, now, timers) {
    Object.assign(this, { name, id, storage, now, timers, held: false, timer: null });
  }
  start(onAcquired) {
    const tick = () => {
      let cur = null;
      try {
        cur = JSON.parse(this.storage.getItem(this.name) || 'null');
      } catch {
        cur = null;
      }
      const t = this.now();
      if (!cur || cur.id === this.id || cur.until < t) {
        this.storage.setItem(this.name, JSON.stringify({ id: this.id, until: t + 5000 }));
        const mine = JSON.parse(this.storage.getItem(this.name)).id === this.id;
        if (mine && !this.held) {
          this.held = true;
          onAcquired();
        }
        this.held = mine;
      } else {
        this.held = false;
      }
    };
    tick();
    this.timer = this.timers.setInterval(tick, 1000);
  }
  stop() {
    this.timers.clearInterval(this.timer);
    if (this.held) {
      try {
        const cur = JSON.parse(this.storage.getItem(this.name) || 'null');
        if (cur && cur.id === this.id) this.storage.removeItem(this.name);
      } catch {
        /* storage gone: the lease expires by itself */
      }
    }
    this.held = false;
  }
}

/**
 * PosdClient talks to one posd with one token. Writes go through the
 * outbox: intent() stores them, submit() sends them.
 */
export class PosdClient extends EventTarget {
  /**
   * @param {object} o
   * @param {string} [o.baseURL] posd's address; "" on pages posd serves
   * @param {string} o.token the till's bearer token
   * @param {string} [o.scope] whose writes (e.g. the business ID); others' queued ones are not sent
   * @param {object} [o.outbox] an IdbOutbox (default) or MemoryOutbox
   * @param {Function} [o.fetch] @param {Function} [o.sleep] @param {Function} [o.now]
   * @param {Function} [o.random] @param {object} [o.policy] retry policy
   * @param {object} [o.locks] navigator.locks; null to use the lease
   * @param {object} [o.localStorage] for the lease fallback
   * @param {Function} [o.BroadcastChannel] to tell the other tabs
   * @param {number} [o.probeMs] health probe while online (5 s)
   * @param {number} [o.retryProbeMs] health probe while not (2 s)
   * @param {number} [o.slowMs] an answer slower than this makes the status "slow" (5 s)
   * @param {string} [o.countersKey] where counters() are kept in localStorage
   */
  constructor(o) {
    super();
    const g = globalThis;
    this.baseURL = (o.baseURL || '').replace(/\/$/, '');
    this.token = o.token;
    // scope names whose writes these are (the till uses its business ID):
    // a queue left by another sign-in is kept but never sent with this
    // token, since an idempotency key means nothing in another business.
    this.scope = o.scope || null;
    this.outbox = o.outbox || new IdbOutbox();
    this.fetch = o.fetch || ((...a) => g.fetch(...a));
    this.now = o.now || (() => Date.now());
    this.random = o.random || Math.random;
    this.timers = o.timers || { setTimeout: g.setTimeout.bind(g), clearTimeout: g.clearTimeout.bind(g), setInterval: g.setInterval.bind(g), clearInterval: g.clearInterval.bind(g) };
    this.sleep = o.sleep || ((ms) => new Promise((r) => this.timers.setTimeout(r, ms)));
    this.policy = { ...DEFAULT_POLICY, ...(o.policy || {}) };
    this.locks = o.locks !== undefined ? o.locks : g.navigator && g.navigator.locks;
    this.localStorage = o.localStorage !== undefined ? o.localStorage : g.localStorage;
    this.BroadcastChannel = o.BroadcastChannel !== undefined ? o.BroadcastChannel : g.BroadcastChannel;
    this.navigator = o.navigator !== undefined ? o.navigator : g.navigator;
    this.probeMs = o.probeMs || 5000;
    this.retryProbeMs = o.retryProbeMs || 2000;
    this.slowMs = o.slowMs || 5000;
    this.countersKey = o.countersKey || 'posd-client.counters';
    this.memCounters = null; // without localStorage
    this.tabId = newKey(o.crypto);
    this.status = this.navigator && this.navigator.onLine === false ? 'offline' : 'unknown';
    this.sender = false; // this tab holds the send lock
    this.inflight = new Map(); // key → promise of the outcome
    this.waiters = new Map(); // key → [resolve]
    this.draining = null;
    this.drainAgain = false;
    this.seq = 0;
    this.closed = false;
    this.stoppedBy401 = false;
    this.pending = 0; // requests on their way
    this.lastAnswerAt = -Infinity; // when posd last answered anything
    this.lastFastAt = -Infinity; // … within slowMs
    this.probing = false;
    this.awaited = new Set(); // keys a submit() is waiting on: being sent, not yet queued
  }

  /** open prepares the outbox, asks for persistent storage and starts the sender election and the probe. */
  async open() {
    await this.outbox.open();
    await this.outbox.prune(this.now() - 7 * 24 * 3600 * 1000);
    const st = this.navigator && this.navigator.storage;
    if (st && st.persist) st.persist().catch(() => {});
    if (this.BroadcastChannel) {
      this.channel = new this.BroadcastChannel('posd-outbox');
      this.channel.onmessage = (m) => this._onMessage(m.data || {});
    }
    const g = globalThis;
    if (g.addEventListener && g.removeEventListener) {
      this._onOnline = () => this.probe();
      this._onOffline = () => this._setStatus('offline');
      g.addEventListener('online', this._onOnline);
      g.addEventListener('offline', this._onOffline);
    }
    this._electSender();
    // The first status is told too: a page that listens before open()
    // draws the truth (say "offline") from the start.
    this.dispatchEvent(new CustomEvent('status', { detail: { status: this.status } }));
    this._emitQueue();
    this.probe();
  }

  /** reachable is true while writes are sent at once (online, slow, or not known yet). */
  reachable() {
    return REACHABLE.has(this.status) && this.status !== 'unknown';
  }

  /** close stops timers and gives the send lock to another tab. */
  close() {
    this.closed = true;
    this.timers.clearTimeout(this.probeTimer);
    if (this.lease) this.lease.stop();
    if (this.releaseLock) this.releaseLock();
    if (this.channel) this.channel.close();
    const g = globalThis;
    if (this._onOnline && g.removeEventListener) {
      g.removeEventListener('online', this._onOnline);
      g.removeEventListener('offline', this._onOffline);
    }
  }

  _electSender() {
    const won = () => {
      if (this.closed) return;
      this.sender = true;
      this.dispatchEvent(new CustomEvent('sender', { detail: { sender: true } }));
      this.drain();
    };
    if (this.locks && this.locks.request) {
      this.locks
        .request('posd-outbox-sender', () => {
          won();
          return new Promise((r) => (this.releaseLock = r));
        })
        .catch(() => {});
    } else if (this.localStorage) {
      this.lease = new LeaseLock('posd-outbox-sender', this.tabId, this.localStorage, this.now, this.timers);
      this.lease.start(won);
    } else {
      won(); // a lone program: no other tab to share with
    }
  }

  _isSender() {
    return this.lease ? this.lease.held : this.sender;
  }

  _onMessage(m) {
    if (m.type === 'kick' && this._isSender()) {
      if (REACHABLE.has(this.status)) this.drain();
      else this._post({ type: 'deferred', keys: m.keys || [], status: this.status });
    } else if (m.type === 'settled') {
      this._resolve(m.key, this._outcome(m.entry));
      this.dispatchEvent(new CustomEvent('settled', { detail: { entry: m.entry } }));
      this._emitQueue();
    } else if (m.type === 'deferred') {
      for (const k of m.keys) this._resolve(k, { state: 'queued', key: k });
      this._emitQueue();
    } else if (m.type === 'queue') {
      this._emitQueue();
    }
  }

  _post(m) {
    if (!this.channel || this.closed) return;
    try {
      this.channel.postMessage(m);
    } catch {
      /* the channel is closing with the page */
    }
  }

  _setStatus(s) {
    if (this.closed) return; // a late answer to a client that was put away
    if (this.navigator && this.navigator.onLine === false) s = 'offline';
    if (s === this.status) return;
    const was = this.status;
    this.status = s;
    this.dispatchEvent(new CustomEvent('status', { detail: { status: s } }));
    if ((s === 'online' || s === 'slow') && was !== 'online' && was !== 'slow') {
      this.stoppedBy401 = false;
      if (this._isSender()) this.drain();
    }
  }

  /** _heard takes an answer from posd (any status below 500) as proof that it is reachable. */
  _heard(started) {
    const t = this.now();
    this.lastAnswerAt = t;
    if (t - started <= this.slowMs) {
      this.lastFastAt = t;
      this._setStatus('online');
    } else if (this.lastFastAt < started) {
      this._setStatus('slow'); // nothing quicker came meanwhile: the line is slow
    }
  }

  /**
   * _unheard takes a failure (no answer): posd is unreachable only
   * if nothing answered since this request started and nothing else is
   * still on its way (a slow request that is progressing decides itself).
   */
  _unheard(started) {
    if (this.lastAnswerAt > started || this.pending > 0) return;
    this._setStatus('unreachable');
  }

  async _emitQueue() {
    try {
      this.dispatchEvent(new CustomEvent('queue', { detail: await this.counts() }));
    } catch {
      /* the outbox is closing; the next change tells again */
    }
  }

  /**
   * counts returns how many entries are queued and parked. A write that a
   * submit() is still waiting on is being sent, not queued: it counts once
   * its caller has been told "queued".
   */
  async counts() {
    const all = await this.outbox.list();
    return { queued: all.filter((e) => e.state === 'queued' && !this.awaited.has(e.key)).length, parked: all.filter((e) => e.state === 'parked').length };
  }

  /** counters returns the running totals of writes: {sent, retried, queuedAfterRetries}. */
  counters() {
    const zero = { sent: 0, retried: 0, queuedAfterRetries: 0 };
    if (!this.localStorage) return { ...zero, ...(this.memCounters || {}) };
    try {
      return { ...zero, ...JSON.parse(this.localStorage.getItem(this.countersKey) || '{}') };
    } catch {
      return zero;
    }
  }

  /** _count adds one sent write's outcome to the counters (read and written back at once: tabs share them). */
  _count(r) {
    const c = this.counters();
    c.sent++;
    if (r.attempts > 1) c.retried++;
    if (r.gaveUp) c.queuedAfterRetries++;
    if (!this.localStorage) this.memCounters = c;
    else {
      try {
        this.localStorage.setItem(this.countersKey, JSON.stringify(c));
      } catch {
        /* storage full: the totals are a report, not a record */
      }
    }
  }

  /**
   * probe asks GET /api/health and sets the status; it reschedules itself.
   * It waits as long as a write would (60 s): on a slow line the answer
   * takes seconds, and that is not an outage. While posd answers other
   * requests, those are proof enough and no probe is sent.
   */
  async probe() {
    if (this.closed || this.probing) return;
    this.timers.clearTimeout(this.probeTimer);
    if (this.navigator && this.navigator.onLine === false) {
      this._setStatus('offline');
    } else if (!(this.reachable() && this.now() - this.lastAnswerAt < this.probeMs)) {
      this.probing = true;
      try {
        await this._attempt('GET', '/api/health', null, null, this.policy.attemptTimeoutMs);
      } finally {
        this.probing = false;
      }
      if (this.closed) return;
      // Whatever is still queued (an answer that could not be stored, a
      // kick that came while busy) goes out with the next good probe.
      if (this.reachable() && this._isSender() && !this.stoppedBy401) this.drain();
    }
    if (!this.closed) this.probeTimer = this.timers.setTimeout(() => this.probe(), this.reachable() ? this.probeMs : this.retryProbeMs);
  }

  /**
   * _attempt sends one request; it resolves to {status, body, headers} or
   * null when no answer came, and tells the status what it learnt.
   */
  async _attempt(method, path, key, body, timeoutMs) {
    const started = this.now();
    this.pending++;
    // Waiting more than slowMs with nothing quicker answering meanwhile: a slow line.
    const slow = this.timers.setTimeout(() => {
      if (this.lastFastAt < started && (this.status === 'online' || this.status === 'unknown')) this._setStatus('slow');
    }, this.slowMs);
    let res = null;
    try {
      res = await this._send(method, path, key, body, timeoutMs);
    } finally {
      this.pending--;
      this.timers.clearTimeout(slow);
    }
    if (res === TIMEOUT) {
      res = null;
      // A read that gave up sooner than a write would (a cashier does not
      // wait 60 s for a list) says the line is slow, not that posd is gone.
      if (timeoutMs < this.policy.attemptTimeoutMs) {
        if (this.lastFastAt < started && (this.status === 'online' || this.status === 'unknown')) this._setStatus('slow');
        return res;
      }
    }
    // A 5xx is an answer, but not one to judge by: posd (or a proxy before
    // it) is there and failing; only the health check takes it as down.
    if (!res || (res.status >= 500 && path === '/api/health')) this._unheard(started);
    else if (res.status < 500) this._heard(started);
    return res;
  }

  async _send(method, path, key, body, timeoutMs) {
    const ctl = typeof AbortController === 'function' ? new AbortController() : null;
    let timer;
    const timeout = new Promise((r) => {
      timer = this.timers.setTimeout(() => {
        if (ctl) ctl.abort();
        r(TIMEOUT);
      }, timeoutMs);
    });
    const headers = { Accept: 'application/json' };
    if (this.token && path !== '/api/health') headers.Authorization = `Bearer ${this.token}`;
    if (key) headers['Idempotency-Key'] = key;
    if (body !== null && body !== undefined) headers['Content-Type'] = 'application/json';
    const send = (async () => {
      try {
        const r = await this.fetch(this.baseURL + path, {
          method,
          headers,
          body: body === null || body === undefined ? undefined : JSON.stringify(body),
          signal: ctl ? ctl.signal : undefined,
          cache: 'no-store',
        });
        const text = await r.text();
        let parsed = null;
        try {
          parsed = text ? JSON.parse(text) : null;
        } catch {
          parsed = null;
        }
        return { status: r.status, body: parsed, headers: r.headers };
      } catch {
        return null; // no answer: refused connection, reset, abort
      }
    })();
    try {
      return await Promise.race([send, timeout]);
    } finally {
      this.timers.clearTimeout(timer);
    }
  }

  /**
   * request sends one request with the retry policy and resolves to
   * {status, body, headers, replayed, attempts, verdict, gaveUp}; verdict is ok,
   * refused, unauthorized or retry (gave up: gaveUp after every retry).
   * classify may be replaced (e.g. to take a 429 as final); onFailed(n) is
   * awaited after failed attempt n when another follows.
   */
  async request(method, path, { key = null, body = null, policy = this.policy, onAttempt, onFailed, classify: judge = classify } = {}) {
    let res = null;
    let verdict = 'retry';
    let n = 0;
    for (;;) {
      if (onAttempt) onAttempt(n + 1);
      res = await this._attempt(method, path, key, body, policy.attemptTimeoutMs);
      n++;
      verdict = judge(res);
      if (verdict === 'unauthorized' && this.token) this.dispatchEvent(new CustomEvent('unauthorized', { detail: { path } }));
      if (verdict !== 'retry' || n > policy.maxRetries || this.closed) break;
      if (onFailed) await onFailed(n);
      let ra = 0;
      const h = res && res.headers && res.headers.get && res.headers.get('Retry-After');
      if (h && /^\d+$/.test(h)) ra = Number(h) * 1000;
      await this.sleep(backoff(policy, n - 1, ra, this.random));
    }
    const replayed = !!(res && res.headers && res.headers.get && res.headers.get('X-Idempotent-Replay') === 'true');
    return { status: res ? res.status : 0, body: res ? res.body : null, headers: res ? res.headers : null, replayed, attempts: n, verdict, gaveUp: verdict === 'retry' && n > policy.maxRetries };
  }

  /** get reads: one try (of timeoutMs, 15 s), no queue; throws PosdError when it fails. */
  async get(path, { timeoutMs = 15000 } = {}) {
    const r = await this.request('GET', path, { policy: { ...this.policy, maxRetries: 0, attemptTimeoutMs: timeoutMs } });
    if (r.verdict !== 'ok') throw errorOf(r.status ? r : null);
    return r.body;
  }

  /**
   * intent stores a write in the outbox with a new idempotency key and
   * returns the entry. Nothing is sent yet: submit(entry.key) does it.
   * meta is kept with the entry for the caller (e.g. the cart, for a
   * provisional receipt). A caller that must remember the key before it
   * is stored (a cart saved elsewhere) passes its own from newKey().
   */
  async intent(method, path, body, meta = {}, key = newKey()) {
    const entry = { key, scope: this.scope, seq: this.now() * 1000 + (this.seq++ % 1000), method, path, body, meta, state: 'queued', createdAt: new Date(this.now()).toISOString(), attempts: 0 };
    await this.outbox.add(entry);
    this._post({ type: 'queue' });
    // Told a moment later: a submit() that follows at once makes it a write
    // being sent, not one the counter should show as queued.
    this.timers.setTimeout(() => this._emitQueue(), 0);
    return entry;
  }

  /**
   * submit sends a stored intent (through the sending tab) and resolves to
   * its outcome: {state: "done", entry} with posd's answer in
   * entry.answer, {state: "parked", entry, error}, or {state: "queued", key}
   * when posd could not be reached (it stays queued and is sent later).
   * A second call for the same key while the first runs gets the same
   * promise.
   */
  submit(key) {
    if (this.inflight.has(key)) return this.inflight.get(key);
    this.awaited.add(key); // at once: the queue counter must not count it as queued meanwhile
    const p = this._submit(key).finally(() => {
      this.inflight.delete(key);
      this.awaited.delete(key);
      this._emitQueue();
    });
    this.inflight.set(key, p);
    return p;
  }

  async _submit(key) {
    const e = await this.outbox.get(key);
    if (!e) throw new Error(`posd-client: no intent with key ${key}`);
    if (e.state !== 'queued') return this._outcome(e);
    const p = new Promise((resolve) => {
      const list = this.waiters.get(key) || [];
      list.push(resolve);
      this.waiters.set(key, list);
    });
    const reachable = REACHABLE.has(this.status);
    if (this._isSender()) {
      if (reachable && !this.stoppedBy401) this.drain();
      else this._resolve(key, { state: 'queued', key });
    } else {
      this._post({ type: 'kick', keys: [key] });
      if (!reachable) this._resolve(key, { state: 'queued', key });
      else this._watch(key);
    }
    return p;
  }

  /**
   * _watch follows an intent another tab sends, in case no message comes
   * (no BroadcastChannel, or the sending tab went away): it reads the
   * outbox twice a second and, after 30 s, settles for "queued" (the
   * provisional receipt; the number follows).
   */
  _watch(key) {
    const started = this.now();
    const tick = async () => {
      if (!this.waiters.has(key) || this.closed) return;
      const e = await this.outbox.get(key);
      if (e && e.state !== 'queued') return this._resolve(key, this._outcome(e));
      if (this.now() - started > 30000) return this._resolve(key, { state: 'queued', key });
      this.timers.setTimeout(tick, 500);
    };
    this.timers.setTimeout(tick, 500);
  }

  _outcome(e) {
    if (e.state === 'done') return { state: 'done', entry: e };
    if (e.state === 'parked') return { state: 'parked', entry: e, error: errorOf({ status: e.answer.status, body: e.answer.body }) };
    return { state: 'queued', key: e.key };
  }

  _resolve(key, outcome) {
    const list = this.waiters.get(key);
    if (!list) return;
    this.waiters.delete(key);
    for (const r of list) r(outcome);
  }

  /** post stores and submits a write in one step. */
  async post(path, body, meta) {
    const e = await this.intent('POST', path, body, meta);
    return this.submit(e.key);
  }

  /**
   * drain sends the queued entries in order, if this tab is the sender.
   * It stops at the first entry posd cannot be reached for; the others
   * wait with it for the next probe that finds posd.
   */
  drain() {
    if (!this._isSender() || this.closed) return Promise.resolve();
    if (this.draining) {
      this.drainAgain = true;
      return this.draining;
    }
    this.draining = (async () => {
      try {
        do {
          this.drainAgain = false;
          if (!(await this._drainOnce())) break;
        } while (this.drainAgain);
      } finally {
        this.draining = null;
      }
    })();
    return this.draining;
  }

  /** _drainOnce returns false when it had to stop (posd unreachable or 401). */
  async _drainOnce() {
    for (;;) {
      if (this.closed || !this._isSender()) return false;
      const [e] = (await this.outbox.list('queued')).filter((q) => !q.scope || !this.scope || q.scope === this.scope);
      if (!e) return true;
      const r = await this.request(e.method, e.path, {
        key: e.key,
        body: e.body,
        onAttempt: (n) => this.dispatchEvent(new CustomEvent('attempt', { detail: { key: e.key, attempt: n } })),
        // Whoever waits hears "queued" now; the retries go on.
        onFailed: (n) => (n === this.policy.queuedAfterAttempts ? this._deferAll() : undefined),
      });
      this._count(r);
      if (r.verdict === 'retry' || r.verdict === 'unauthorized') {
        if (r.verdict === 'unauthorized') this.stoppedBy401 = true;
        await this._deferAll();
        return false;
      }
      const answer = { status: r.status, body: r.body, replayed: r.replayed, at: this.now() };
      let settled;
      try {
        settled = await this.outbox.settle(e.key, r.verdict === 'ok' ? 'done' : 'parked', answer);
      } catch {
        // The answer could not be stored: the entry stays queued and is
        // sent again (same key: posd replays the same answer).
        this._resolve(e.key, { state: 'queued', key: e.key });
        return false;
      }
      const outcome = this._outcome(settled);
      this._resolve(e.key, outcome);
      this._post({ type: 'settled', key: e.key, entry: settled });
      this.dispatchEvent(new CustomEvent('settled', { detail: { entry: settled } }));
      this._emitQueue();
    }
  }

  /** _deferAll tells everyone waiting on a queued write (here and in other tabs) that it stays queued. */
  async _deferAll() {
    const keys = (await this.outbox.list('queued')).map((q) => q.key);
    for (const k of keys) this._resolve(k, { state: 'queued', key: k });
    this._post({ type: 'deferred', keys, status: this.status });
  }

  /** entry returns one stored intent, or undefined. */
  entry(key) {
    return this.outbox.get(key);
  }

  /** entries lists the outbox (all states, or one), oldest first. */
  entries(state) {
    return this.outbox.list(state);
  }

  /** exportParked returns the parked entries, with posd's refusal, as pretty JSON text. */
  async exportParked() {
    const parked = await this.outbox.list('parked');
    return JSON.stringify({ exportedAt: new Date(this.now()).toISOString(), parked }, null, 2);
  }

  /** dismiss removes a parked entry, after a person has dealt with it. */
  async dismiss(key) {
    const e = await this.outbox.get(key);
    if (!e || e.state !== 'parked') throw new Error('posd-client: only a parked entry can be dismissed');
    await this.outbox.remove(key);
    this._post({ type: 'queue' });
    this._emitQueue();
  }
}
