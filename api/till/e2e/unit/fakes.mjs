// fakes.mjs — a manual clock and a posd that answers from a script after
// a chosen delay, for unit tests of what the till does over time (slow
// lines, outages, reports every 10 s) without waiting for real time.

const flush = () => new Promise((r) => setImmediate(r));

/** Clock is a fake time source with timers that fire only when advanced. */
export class Clock {
  constructor(t = Date.UTC(2026, 10, 20, 10)) {
    this.t = t;
    this.timers = new Map();
    this.id = 0;
    this.now = () => this.t;
    this.api = {
      setTimeout: (fn, ms) => this.add(fn, ms, 0),
      clearTimeout: (id) => this.timers.delete(id),
      setInterval: (fn, ms) => this.add(fn, ms, ms),
      clearInterval: (id) => this.timers.delete(id),
    };
  }
  add(fn, ms, every) {
    const id = ++this.id;
    this.timers.set(id, { at: this.t + Math.max(0, ms || 0), fn, every });
    return id;
  }
  /** advance moves time on by ms, firing every timer due on the way (in order) and letting promises settle. */
  async advance(ms) {
    const end = this.t + ms;
    for (;;) {
      for (let i = 0; i < 5; i++) await flush();
      let next = null;
      for (const [id, x] of this.timers) if (x.at <= end && (!next || x.at < next[1].at)) next = [id, x];
      if (!next) break;
      const [id, x] = next;
      this.t = Math.max(this.t, x.at);
      if (x.every) x.at += x.every;
      else this.timers.delete(id);
      x.fn();
    }
    this.t = end;
    for (let i = 0; i < 5; i++) await flush();
  }
}

/**
 * Line is posd behind a line whose behaviour tests change as they go:
 * mode "ok" answers after delayMs, "down" fails at once (connection
 * refused), "hang" never answers (until the client gives up). answer(call)
 * chooses posd's answer; calls are logged with the time they were sent.
 */
export class Line {
  constructor(clock) {
    this.clock = clock;
    this.mode = 'ok';
    this.delayMs = 0;
    this.calls = [];
    this.answer = (call) => (call.path === '/api/health' ? { status: 200, body: { status: 'ok' } } : { status: 201, body: { id: `S${this.calls.length}`, invoiceNumber: `INV-202611-${String(this.calls.length).padStart(4, '0')}` } });
    this.fetch = (url, init) => this._fetch(url, init);
  }
  posts() {
    return this.calls.filter((c) => c.method !== 'GET');
  }
  _fetch(url, init) {
    const path = new URL(url).pathname;
    const call = { path, method: init.method, headers: { ...init.headers }, body: init.body ? JSON.parse(init.body) : null, at: this.clock.t };
    this.calls.push(call);
    if (this.mode === 'down') return Promise.reject(new TypeError('Failed to fetch'));
    return new Promise((resolve, reject) => {
      const abort = () => reject(new DOMException('aborted', 'AbortError'));
      if (init.signal) init.signal.addEventListener('abort', abort);
      if (this.mode === 'hang') return;
      const step = this.answer(call);
      this.clock.api.setTimeout(() => {
        if (init.signal && init.signal.aborted) return;
        const h = new Map(Object.entries(step.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
        resolve({ status: step.status, headers: { get: (k) => h.get(k.toLowerCase()) ?? null }, text: async () => (step.status === 204 ? '' : JSON.stringify(step.body ?? {})) });
      }, this.delayMs);
    });
  }
}

/** memoryStorage is a localStorage of its own. */
export function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), map: m };
}
