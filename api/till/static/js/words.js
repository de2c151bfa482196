// words.js — what the till says to the cashier: the connection states,
// posd's refusals turned into something a cashier can act on, the till's
// own reference for a sale and times in the shop's zone.
import { S } from './state.js';

/**
 * STATUS_TEXT names each connection state: the header shows it, and every
 * notice about that state (a queued sale, a refund, an old list) starts
 * with the same words, so that the two never disagree.
 */
export const STATUS_TEXT = {
  online: 'Online',
  slow: 'Slow connection',
  offline: 'Offline — no network',
  unreachable: 'posd unreachable',
  unknown: 'Checking connection…',
};

/** UNTIL, per state, says when a kept sale goes. */
const UNTIL = {
  offline: 'when the network is back',
  unreachable: 'when posd answers again',
  slow: 'as soon as the line lets it through',
};

/** notReached names the state that kept something from posd (the header's words). */
export function notReached(status) {
  return status === 'offline' || status === 'unreachable' || status === 'slow' ? STATUS_TEXT[status] : 'posd did not answer in time';
}

/** keptNotice tells the cashier that a sale (or a refund) stays on the till and is sent by itself. */
export function keptNotice(status, what = 'the sale') {
  return `${notReached(status)}: ${what} is kept on this till and sent by itself ${UNTIL[status] || 'as soon as posd takes it'}.`;
}

/** REVOKED is what a till whose token posd no longer accepts tells the cashier. */
export const REVOKED = 'This till was removed in the office; ask for a new pairing code (office page: Tills → Add a till) and sign in again.';

/** queuedNote tells, on the sign-in screen, that sales still wait on this till. */
export function queuedNote(n) {
  if (!n) return '';
  return `${n === 1 ? '1 sale waits' : `${n} sales wait`} on this till: nothing is lost, and ${n === 1 ? 'it is' : 'they are'} sent by ${n === 1 ? 'itself' : 'themselves'} once the till is signed in again.`;
}

/** tillRef is the provisional reference of a sale: printed on the receipt until the invoice number follows. */
export const tillRef = (key) => `T-${key.replace(/-/g, '').slice(0, 8).toUpperCase()}`;

export function fmtTime(iso) {
  if (!iso) return '';
  try {
    return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short', timeZone: (S.me && S.me.business.timezone) || undefined }).format(new Date(iso));
  } catch {
    return new Date(iso).toLocaleString();
  }
}

/** explain turns posd's refusal into words a cashier can act on. */
export function explain(errOrEntry) {
  let code = errOrEntry.code;
  let msg = errOrEntry.message;
  if (errOrEntry.answer) {
    const e = (errOrEntry.answer.body && errOrEntry.answer.body.error) || {};
    code = e.code;
    msg = e.message;
  }
  switch (code) {
    case 'unreachable':
      return `${STATUS_TEXT.unreachable}: check that the back-office PC is on and this till is on the shop network.`;
    case 'not_found':
      return 'posd does not know a product or sale in this request (it may have been removed). Remove that item, or ask the manager.';
    case 'refund_exceeds_sale':
      return 'That is more than can still be refunded from this sale. Lower the quantities.';
    case 'forbidden':
      return 'This till is not allowed to do that (perhaps the wrong shop location). Ask the manager.';
    case 'unauthorized':
      return REVOKED;
    case 'rate_limited':
      return 'Too many tries in a short time. Wait a minute and try again.';
    case 'invalid_request':
      return `posd refused it: ${msg}. Check the cart and the payment.`;
    default:
      return `posd refused it (${code || 'unknown error'}${msg ? `: ${msg}` : ''}). Ask the manager.`;
  }
}

/** pinWords says what posd answered to a PIN: wrong (with the tries left), locked, or another refusal. */
export function pinWords(r) {
  const e = (r.body && r.body.error) || {};
  if (r.status === 403 || r.status === 429) return e.message ? e.message.charAt(0).toUpperCase() + e.message.slice(1) + '.' : 'Wrong PIN.';
  if (r.status === 400) return 'A PIN is 4 to 6 digits.';
  return explain({ code: e.code, message: e.message });
}

/** differenceWords asks for a manager when a count is off by more than the shop allows. */
export function differenceWords(diff, limit, money) {
  const how = diff < 0 ? `${money.format(-diff)} short` : `${money.format(diff)} over`;
  return `The drawer is ${how}: more than the ${money.format(limit)} this shop allows without a manager. A manager approves with their PIN (below), then press Close shift again.`;
}
