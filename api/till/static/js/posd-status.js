// posd-status.js — the till's health report to posd (contract §5):
// PUT /api/tills/current/status {"queued", "parked", "oldestQueuedAt",
// "version", "clock", "counters": {"sent", "retried", "queuedAfterRetries"}}
// every 10 s while posd is reachable, and soon after the queue changes.
// A PUT replaces, so it carries no Idempotency-Key and is never queued: a
// report that does not get through is simply followed by the next one. An
// older posd without the route (404 or 405) is left alone for the rest of
// the page's life. Only the tab that sends the queue reports.

/** STATUS_PATH is the route of the report. */
export const STATUS_PATH = '/api/tills/current/status';

export class StatusReporter {
  /**
   * @param {import('./posd-client.js').PosdClient} client
   * @param {object} o
   * @param {string} o.version the till page's version
   * @param {number} [o.everyMs] 10 s
   * @param {number} [o.debounceMs] wait after a queue change (1 s)
   * @param {Function} [o.now] @param {object} [o.timers]
   */
  constructor(client, o = {}) {
    const g = globalThis;
    this.client = client;
    this.version = o.version || '';
    this.everyMs = o.everyMs || 10000;
    this.debounceMs = o.debounceMs ?? 1000;
    this.now = o.now || client.now;
    this.timers = o.timers || client.timers || { setTimeout: g.setTimeout.bind(g), clearTimeout: g.clearTimeout.bind(g), setInterval: g.setInterval.bind(g), clearInterval: g.clearInterval.bind(g) };
    this.stopped = false;
    this.unsupported = false; // posd answered 404/405: it has no such route
    this.busy = false;
    this.last = null; // what the last report said about the queue
    this.sent = 0;
  }

  start() {
    this._onQueue = () => this._soon();
    this._onStatus = (e) => {
      if (e.detail.status === 'online' || e.detail.status === 'slow') this._soon();
    };
    this.client.addEventListener('queue', this._onQueue);
    this.client.addEventListener('status', this._onStatus);
    this.tick = this.timers.setInterval(() => this.report(), this.everyMs);
    this._soon();
    return this;
  }

  stop() {
    this.stopped = true;
    this.timers.clearInterval(this.tick);
    this.timers.clearTimeout(this.debounce);
    if (this._onQueue) {
      this.client.removeEventListener('queue', this._onQueue);
      this.client.removeEventListener('status', this._onStatus);
    }
  }

  /** _soon reports shortly, if the queue changed since the last report. */
  _soon() {
    this.timers.clearTimeout(this.debounce);
    this.debounce = this.timers.setTimeout(() => this.report({ ifChanged: true }), this.debounceMs);
  }

  /** snapshot is the report's body, as it is now. */
  async snapshot() {
    const c = this.client;
    const mine = (await c.entries()).filter((e) => !e.scope || !c.scope || e.scope === c.scope);
    const queued = mine.filter((e) => e.state === 'queued');
    let oldest = null;
    for (const e of queued) if (oldest === null || e.createdAt < oldest) oldest = e.createdAt;
    return {
      queued: queued.length,
      parked: mine.filter((e) => e.state === 'parked').length,
      oldestQueuedAt: oldest,
      version: this.version,
      clock: new Date(this.now()).toISOString(),
      counters: c.counters(),
    };
  }

  /**
   * report sends one report now, if posd is reachable and this tab sends
   * the queue; with ifChanged, only if the queue or the counters changed
   * since the last report that got through. It resolves to true when posd
   * took it.
   */
  async report({ ifChanged = false } = {}) {
    const c = this.client;
    if (this.stopped || this.busy || c.closed || !c.reachable() || !c._isSender()) return false;
    this.busy = true;
    try {
      const body = await this.snapshot();
      const sig = JSON.stringify([body.queued, body.parked, body.oldestQueuedAt, body.counters]);
      if (ifChanged && sig === this.last) return false;
      const r = await c.request('PUT', STATUS_PATH, { body, policy: { ...c.policy, maxRetries: 0, attemptTimeoutMs: 15000 } });
      if (r.status === 404 || r.status === 405) {
        this.unsupported = true;
        this.stop();
        return false;
      }
      if (r.verdict !== 'ok') return false;
      this.last = sig;
      this.sent++;
      return true;
    } finally {
      this.busy = false;
    }
  }
}
