// shifts.js — the Shifts screen: each till's drawer. Open shifts show the
// cash expected in the drawer now; closed ones what was counted, the
// difference, and who approved it, with the ones over the shop's limit
// that no manager approved marked. A manager can close a till's shift from
// here when the till cannot (it broke, or its cashier left in a hurry).
import { S, money, when, tillName, parseMoney, locationLabel } from '../state.js';
import { explain, newKey } from '../api.js';
import { el, fill, table, message, dialog, field, busy, toast } from '../views.js';

export async function render({ root, params, go }) {
  const locId = params.get('location') || (S.locations[0] && S.locations[0].id);
  const locSel = el('select', { id: 'shifts-location', 'aria-label': 'Location' }, S.locations.map((l) => el('option', { value: l.id, selected: l.id === locId }, locationLabel(l))));
  locSel.addEventListener('change', () => go(`shifts?location=${locSel.value}`));
  const note = el('div');
  const name = (id) => {
    const c = (S.cashiers || []).find((x) => x.id === id);
    return c ? c.name : '';
  };
  const t = table({
    columns: [
      { title: 'Till', get: (s) => tillName(s.tillId) || 'Till' },
      { title: 'Opened', get: (s) => `${when(s.opened.at)}${name(s.opened.cashierId) ? ` · ${name(s.opened.cashierId)}` : ''}` },
      { title: 'State', get: (s) => (s.status === 'open' ? el('span', { class: 'badge ok' }, 'open') : el('span', { class: 'badge' }, `closed ${when(s.closed.at)}`)) },
      { title: 'Float', num: true, get: (s) => money(s.float) },
      { title: 'Paid in / out', num: true, get: (s) => `${money(s.cash.payIns)} / ${money(-s.cash.payOuts)}` },
      { title: 'Expected', num: true, get: (s) => money(s.cash.expected) },
      { title: 'Counted', num: true, get: (s) => (s.cash.counted === null ? '' : money(s.cash.counted)) },
      {
        title: 'Difference',
        num: true,
        get: (s) => (s.cash.difference === null ? '' : el('span', { class: s.cash.difference < 0 ? 'negative' : '' }, money(s.cash.difference))),
      },
      {
        title: 'Approval',
        get: (s) => {
          if (s.status === 'open') return el('button', { type: 'button', class: 'small', onclick: () => closeShift(s) }, 'Close this shift');
          if (s.closed.approvedBy) return `approved by ${s.closed.approvedBy.name}`;
          return s.closed.needsApproval ? el('span', { class: 'badge bad' }, 'over the limit, not approved') : '';
        },
      },
    ],
    empty: 'No shift yet at this location. A till opens one on its Shift screen.',
    rowAttrs: (s) => ({ data: { shift: s.id, status: s.status } }),
  });
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Shifts'), S.locations.length > 1 ? locSel : null),
    el('p', { class: 'hint' }, 'Expected cash = float + cash taken − change + paid in − paid out − cash refunds, from what each till sent. A till that is offline sends its shift with its sales when it is back.'),
    note,
    t.el,
  );

  async function load() {
    const [r, cs] = await Promise.all([S.api.get(`/api/shifts?locationId=${encodeURIComponent(locId)}&limit=200`), S.api.get('/api/cashiers?includeInactive=true').catch(() => ({ cashiers: [] }))]);
    S.cashiers = cs.cashiers;
    t.update(r.shifts);
  }

  function closeShift(s) {
    const counted = el('input', { inputmode: 'decimal', autocomplete: 'off', placeholder: money(s.cash.expected) });
    const h = dialog(`Close the shift of ${tillName(s.tillId) || 'this till'}`, el('form', { onsubmit: (e) => e.preventDefault() }, el('p', {}, `Expected in the drawer: ${money(s.cash.expected)}.`), field('Counted', counted, 'The cash in the drawer now.')));
    const key = newKey();
    h.button('Cancel', () => h.close());
    h.button(
      'Close the shift',
      async (b) => {
        const c = parseMoney(counted.value.trim());
        if (c === null) return h.say('bad', 'Type the counted cash like 98.19.');
        await busy(b, 'Closing…', async () => {
          try {
            const out = await S.api.write('POST', `/api/shifts/${s.id}/close`, { counted: c, note: 'closed in the back office' }, key);
            h.close();
            toast(`Closed: expected ${money(out.cash.expected)}, counted ${money(out.cash.counted)}, difference ${money(out.cash.difference)}.`);
            load();
          } catch (e) {
            h.say('bad', explain(e));
          }
        });
      },
      'primary',
    );
    counted.focus();
  }

  try {
    await load();
  } catch (e) {
    fill(note, message('bad', explain(e)));
  }
  const timer = setInterval(() => load().catch(() => {}), 10000);
  return () => clearInterval(timer);
}
