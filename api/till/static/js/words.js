// words.js — what the till says to the cashier: the connection states,
// posd's refusals turned into something a cashier can act on, the till's
// own reference for a sale and times in the shop's zone.
import { S } from './state.js';

/** STATUS_TEXT names each connection state, in the header. */
export const STATUS_TEXT = {
  online: 'Online',
  offline: 'Offline — no network',
  unreachable: 'posd unreachable',
  unknown: 'Checking connection…',
};

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
      return 'posd cannot be reached. Check that the back-office PC is on and this till is on the shop network.';
    case 'not_found':
      return 'posd does not know a product or sale in this request (it may have been removed). Remove that item, or ask the manager.';
    case 'refund_exceeds_sale':
      return 'That is more than can still be refunded from this sale. Lower the quantities.';
    case 'forbidden':
      return 'This till is not allowed to do that (perhaps the wrong shop location). Ask the manager.';
    case 'unauthorized':
      return 'posd no longer accepts this till’s sign-in. Ask the manager for a new till token and sign in again.';
    case 'rate_limited':
      return 'Too many tries in a short time. Wait a minute and try again.';
    case 'invalid_request':
      return `posd refused it: ${msg}. Check the cart and the payment.`;
    default:
      return `posd refused it (${code || 'unknown error'}${msg ? `: ${msg}` : ''}). Ask the manager.`;
  }
}
