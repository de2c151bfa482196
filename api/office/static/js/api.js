// api.js — the office's only way to posd: the till's own client module
// (posd-client.js), so that both pages follow the same rules. Every write is
// one intent with one idempotency key, made before the first send and reused
// by every retry (1 s, 2 s, 4 s on no answer, 5xx, 429; never on another
// 4xx); a refusal comes back with the contract's error message.
//
// Unlike the till, the office keeps its intents in memory (MemoryOutbox),
// sends from this tab alone and shares no queue with a till open in the
// same browser: an owner's change that cannot reach posd is shown as
// waiting and sent when posd answers again while the page is open, but it
// is never left behind on the device for a cashier's till to send.
import { PosdClient, MemoryOutbox, PosdError, newKey } from '/till/js/posd-client.js';

export { PosdError, newKey };

/** Waiting is thrown by write() when posd could not be reached: the intent is kept and sent later. */
export class Waiting extends Error {
  constructor(key, settled) {
    super('posd cannot be reached right now');
    this.name = 'Waiting';
    this.key = key;
    this.settled = settled; // resolves to the answer body once posd has answered
  }
}

/** Api is posd for one signed-in owner or manager. */
export class Api extends EventTarget {
  constructor(token, scope) {
    super();
    this.token = token;
    this.client = new PosdClient({ token, scope: `office:${scope}`, outbox: new MemoryOutbox(), locks: null, localStorage: null, BroadcastChannel: null });
    this.client.addEventListener('status', (e) => this.dispatchEvent(new CustomEvent('status', { detail: e.detail })));
    this.client.addEventListener('unauthorized', () => this.dispatchEvent(new CustomEvent('unauthorized')));
    this.client.addEventListener('settled', (e) => this._settled(e.detail.entry));
    this.later = new Map(); // key → resolve, for intents sent after posd came back
  }

  async open() {
    await this.client.open();
  }

  close() {
    this.client.close();
  }

  /** get reads a JSON answer; it throws a PosdError (status, code, message) on failure. */
  async get(path) {
    try {
      return await this.client.get(path);
    } catch (e) {
      if (e instanceof PosdError && e.status === 401) this.dispatchEvent(new CustomEvent('unauthorized'));
      throw e;
    }
  }

  /** text reads a non-JSON answer (a CSV export) with the token. */
  async text(path) {
    let r;
    try {
      r = await fetch(path, { headers: { Authorization: `Bearer ${this.token}` }, cache: 'no-store' });
    } catch {
      throw new PosdError(0, 'unreachable', 'posd did not answer');
    }
    const body = await r.text();
    if (!r.ok) {
      let e = {};
      try {
        e = JSON.parse(body).error || {};
      } catch {
        /* not the contract's shape */
      }
      throw new PosdError(r.status, e.code || `http_${r.status}`, e.message || `HTTP ${r.status}`, e.field);
    }
    return body;
  }

  /**
   * write sends one intent and resolves to posd's answer body (with
   * replayed set when posd had already done it). A refusal throws the
   * PosdError; no answer after every retry throws Waiting, whose settled
   * promise gives the answer once posd has it. Pass key to make a retry by
   * the person (the same button again) the same intent.
   */
  async write(method, path, body, key = newKey()) {
    const existing = await this.client.entry(key);
    if (!existing) await this.client.intent(method, path, body ?? {}, { office: true }, key);
    const out = await this.client.submit(key);
    if (out.state === 'done') return { ...(out.entry.answer.body || {}), _replayed: out.entry.answer.replayed, _status: out.entry.answer.status };
    if (out.state === 'parked') {
      await this.client.dismiss(key).catch(() => {});
      if (out.error.status === 401) this.dispatchEvent(new CustomEvent('unauthorized'));
      throw out.error;
    }
    throw new Waiting(key, new Promise((resolve, reject) => this.later.set(key, { resolve, reject })));
  }

  _settled(entry) {
    const w = this.later.get(entry.key);
    if (!w) return;
    this.later.delete(entry.key);
    if (entry.state === 'done') w.resolve(entry.answer.body || {});
    else {
      const e = (entry.answer.body && entry.answer.body.error) || {};
      this.client.dismiss(entry.key).catch(() => {});
      w.reject(new PosdError(entry.answer.status, e.code, e.message, e.field));
    }
  }
}

/**
 * explain turns an error into words an owner can act on: what posd said
 * (the contract's message) and what to do about it.
 */
export function explain(err) {
  if (err instanceof Waiting) return 'posd cannot be reached right now. The change is kept on this page and sent as soon as posd answers — keep the page open. Check that the back-office PC is on and posd is running.';
  if (!(err instanceof PosdError)) return `Something went wrong on this page (${err && err.message}). Reload the page and try again.`;
  const said = err.message && err.message !== err.code ? err.message.replace(/\.?$/, '.') : '';
  const cap = said ? said[0].toUpperCase() + said.slice(1) : '';
  switch (err.code) {
    case 'unreachable':
      return 'posd cannot be reached. Check that the back-office PC is on and posd is running, then try again.';
    case 'unauthorized':
      return 'posd no longer accepts this sign-in (the token was revoked or mistyped). Sign in again with a valid token.';
    case 'forbidden':
      return `${cap} This needs the owner: ask the owner to do it, or to sign in.`;
    case 'not_found':
      return `${cap} It may have been removed meanwhile: reload the screen.`;
    case 'invalid_request':
      return `${cap} Correct it and try again.`;
    case 'invalid_state':
      return `${cap} Reload the screen to see its current state.`;
    case 'insufficient_stock':
      return `${cap} Receive or adjust stock at the source first, or move less.`;
    case 'refund_exceeds_sale':
      return `${cap} Lower the quantities to refund.`;
    case 'rate_limited':
      return 'Too many tries in a short time. Wait a minute, then try again.';
    case 'request_too_large':
      return `${cap} Split it into smaller parts.`;
    case 'unavailable':
    case 'internal':
      return `${cap} Nothing was saved. Try again in a moment; if it keeps failing, look at Backups & health.`;
    case 'idempotency_key_reused':
      return 'This change was already sent once with different contents. Close the form and start again.';
    default:
      return `posd refused it (${err.code}${said ? `: ${said}` : ''}).`;
  }
}
