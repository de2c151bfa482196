// pairing.js — a new till signs in with a one-time pairing code from the
// office page (contract §5: POST /api/pair {"code"} → {"token", "tillId",
// "businessId", "locationId"}). Like every POST it carries an
// Idempotency-Key, made and stored here BEFORE the first send and reused by
// every retry and after a reload: a till whose answer was lost asks again
// with the same key and gets a working token for the same till (posd's
// replay), never a second till. No DOM here: session.js draws it.
import { newKey, classify } from './posd-client.js';

/** CODE_ALPHABET is the pairing codes' alphabet: no 0/O, no 1/I. */
export const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const CODE_LENGTH = 6;
const CODE_RE = new RegExp(`^[${CODE_ALPHABET}]{${CODE_LENGTH}}$`);

/** PAIRING_KEY is where the code being paired and its key are kept (localStorage). */
export const PAIRING_KEY = 'posd.pairing';

/**
 * normalizeCode reads a typed or scanned code: case does not matter, and
 * spaces or dashes (K7P-2QX) are left out. It returns the code as posd
 * knows it, or null if it cannot be one.
 */
export function normalizeCode(text) {
  const c = String(text || '').toUpperCase().replace(/[\s-]/g, '');
  return CODE_RE.test(c) ? c : null;
}

/** codeFromHash returns the code of a "#pair=CODE" fragment (as typed), or null. */
export function codeFromHash(hash) {
  const m = /^#?pair=([^&]*)/.exec(hash || '');
  return m ? decodeURIComponent(m[1]) : null;
}

/** pairingKey returns the idempotency key for code, made and stored first if the code is new. */
export function pairingKey(storage, code) {
  let rec = null;
  try {
    rec = JSON.parse(storage.getItem(PAIRING_KEY) || 'null');
  } catch {
    rec = null;
  }
  if (!rec || rec.code !== code || !rec.key) {
    rec = { code, key: newKey() };
    storage.setItem(PAIRING_KEY, JSON.stringify(rec)); // before anything is sent
  }
  return rec.key;
}

/** forgetPairing drops the stored code and key once the till is signed in (or the code is dead). */
export function forgetPairing(storage) {
  storage.removeItem(PAIRING_KEY);
}

// A 429 is an answer to guessing: the cashier is told to wait, the till
// does not keep guessing by itself.
const judge = (res) => (res && res.status === 429 ? 'refused' : classify(res));

/**
 * pair sends POST /api/pair through client (a PosdClient; its retry policy,
 * without its queue) and resolves to {ok: true, token, tillId, businessId,
 * locationId, replayed} or {ok: false, reason, retryAfterS?, message?}:
 * reason is "unknown_code" (404), "not_supported" (405: an older posd),
 * "rate_limited" (429), "unreachable" (no answer after the retries: the
 * key is kept for the next try) or "refused" (another 4xx or 5xx).
 */
export async function pair(client, storage, code) {
  const key = pairingKey(storage, code);
  const r = await client.request('POST', '/api/pair', { key, body: { code }, classify: judge });
  const err = (r.body && r.body.error) || {};
  if (r.verdict === 'ok') {
    if (!r.body || typeof r.body.token !== 'string' || !r.body.token) {
      forgetPairing(storage); // the same key would bring the same tokenless answer
      return { ok: false, reason: 'refused', message: 'posd answered without a till token' };
    }
    const { token, tillId, businessId, locationId } = r.body;
    return { ok: true, token, tillId, businessId, locationId: locationId ?? null, replayed: r.replayed };
  }
  if (r.verdict === 'retry') return { ok: false, reason: 'unreachable' };
  if (r.status === 404) {
    forgetPairing(storage);
    return { ok: false, reason: 'unknown_code' };
  }
  if (r.status === 405) return { ok: false, reason: 'not_supported' };
  if (r.status === 429) {
    const h = r.headers && r.headers.get && r.headers.get('Retry-After');
    return { ok: false, reason: 'rate_limited', retryAfterS: h && /^\d+$/.test(h) ? Number(h) : 60 };
  }
  return { ok: false, reason: 'refused', message: err.message || `HTTP ${r.status}` };
}
