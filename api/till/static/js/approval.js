// approval.js — what needs a manager: the shop's settings (refunds; a cash
// difference over a limit), read again whenever a till is about to need
// them, and a manager's approval by PIN, which posd gives (POST
// /api/approvals) and the refund or close then carries. The PIN goes to
// posd once and is kept nowhere.
import { newKey } from './posd-client.js';
import { S, writeJSON } from './state.js';
import { explain, pinWords } from './words.js';

/** refreshSettings reads what the shop says needs a manager, when posd answers; the kept copy serves otherwise. */
export async function refreshSettings() {
  try {
    const settings = await S.client.get('/api/settings');
    S.me.business.settings = settings;
    writeJSON('posd.me', S.me);
  } catch {
    /* the copy from the last sign-in serves */
  }
}

/**
 * approval asks posd for a manager's approval of action ("refund" or
 * "cash_difference") with pin: {approvalId} or {error: words}.
 */
export async function approval(pin, action) {
  const r = await S.client.request('POST', '/api/approvals', { key: newKey(), body: { pin, action }, policy: { ...S.client.policy, maxRetries: 1, attemptTimeoutMs: 15000 } });
  if (r.verdict === 'ok') return { approvalId: r.body.id };
  if (r.status) return { error: pinWords(r) };
  return { error: `${explain({ code: 'unreachable' })} A manager's approval needs posd: try again when it answers.` };
}

/** refundApproval gets a manager's approval for a refund: {approvalId} or {error}. */
export async function refundApproval(pin) {
  if (!pin) return { error: 'A manager must approve refunds in this shop: ask them to type their PIN.' };
  return approval(pin, 'refund');
}
