// posd-outbox.js — where a till keeps its writes until posd has answered
// them. An entry is one intent (a completed cart, a refund): its
// idempotency key, the request, and once posd answered, the answer.
//
// States: "queued" (waiting to be sent, or being sent), "done" (posd's answer
// is stored here), "parked" (posd refused it with a 4xx; kept for a person).
// An entry moves from queued to done or parked in the same transaction that
// stores the answer, so it never leaves the queue without one.
//
// Two stores share one interface: IdbOutbox (IndexedDB; survives reloads and
// browser restarts) and MemoryOutbox (for tests and for programs that bring
// their own persistence).

/** How long answered entries are kept, for the recent-sales list. */
export const KEEP_DONE_MS = 7 * 24 * 3600 * 1000;

function bySeq(a, b) {
  return a.seq - b.seq;
}

function clone(v) {
  return v === undefined ? v : JSON.parse(JSON.stringify(v));
}

/** MemoryOutbox keeps entries in memory: same behaviour, no durability. */
export class MemoryOutbox {
  constructor() {
    this.entries = new Map();
    this.failNext = null; // tests: an Error thrown by the next write
  }
  async open() {}
  close() {}
  _maybeFail() {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = null;
      throw e;
    }
  }
  async add(entry) {
    this._maybeFail();
    if (this.entries.has(entry.key)) throw new Error(`outbox: key ${entry.key} exists`);
    this.entries.set(entry.key, clone(entry));
  }
  async get(key) {
    return clone(this.entries.get(key));
  }
  async list(state) {
    return [...this.entries.values()].filter((e) => !state || e.state === state).sort(bySeq).map(clone);
  }
  async settle(key, state, answer) {
    this._maybeFail();
    const e = this.entries.get(key);
    if (!e || e.state !== 'queued') return clone(e);
    Object.assign(e, { state, answer: clone(answer) });
    return clone(e);
  }
  async remove(key) {
    this.entries.delete(key);
  }
  async prune(before) {
    for (const [k, e] of this.entries) {
      if (e.state === 'done' && e.answer && e.answer.at < before) this.entries.delete(k);
    }
  }
}

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('outbox: transaction aborted'));
  });
}

/**
 * IdbOutbox keeps entries in IndexedDB. Every method resolves only after
 * its transaction has completed, so a resolved add() is on disk.
 */
export class IdbOutbox {
  /** @param {{indexedDB?: IDBFactory, name?: string}} [o] */
  constructor(o = {}) {
    this.idb = o.indexedDB || globalThis.indexedDB;
    this.name = o.name || 'posd-outbox';
    this.db = null;
  }
  async open() {
    if (this.db) return;
    if (!this.idb) throw new Error('outbox: this browser has no IndexedDB');
    const r = this.idb.open(this.name, 1);
    r.onupgradeneeded = () => {
      const s = r.result.createObjectStore('entries', { keyPath: 'key' });
      s.createIndex('seq', 'seq');
    };
    this.db = await req(r);
    // Another tab upgrading the schema must not be blocked by this one.
    this.db.onversionchange = () => this.close();
  }
  close() {
    if (this.db) this.db.close();
    this.db = null;
  }
  async _tx(mode, fn) {
    await this.open();
    const tx = this.db.transaction('entries', mode, { durability: 'strict' });
    const out = await fn(tx.objectStore('entries'));
    await done(tx);
    return out;
  }
  add(entry) {
    return this._tx('readwrite', (s) => req(s.add(entry)));
  }
  get(key) {
    return this._tx('readonly', (s) => req(s.get(key)));
  }
  async list(state) {
    const all = await this._tx('readonly', (s) => req(s.index('seq').getAll()));
    return all.filter((e) => !state || e.state === state).sort(bySeq);
  }
  /** settle stores posd's answer and moves a queued entry to state, atomically. */
  settle(key, state, answer) {
    return this._tx('readwrite', async (s) => {
      const e = await req(s.get(key));
      if (!e || e.state !== 'queued') return e;
      Object.assign(e, { state, answer });
      await req(s.put(e));
      return e;
    });
  }
  remove(key) {
    return this._tx('readwrite', (s) => req(s.delete(key)));
  }
  async prune(before) {
    const old = (await this.list('done')).filter((e) => e.answer && e.answer.at < before);
    if (old.length) await this._tx('readwrite', (s) => Promise.all(old.map((e) => req(s.delete(e.key)))));
  }
}
