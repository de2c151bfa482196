// staff.js — the Staff screen: the cashiers and managers who sign in at
// the tills with a PIN, and what the shop says needs a manager's PIN. A PIN
// is typed here once (twice, to be sure) and never shown again: posd keeps
// only a slow hash of it. A cashier who leaves is made inactive, which
// frees the PIN; sales keep their name.
import { S, money, parseMoney, plainMoney, when } from '../state.js';
import { explain, newKey } from '../api.js';
import { el, fill, table, message, dialog, field, busy, toast, select } from '../views.js';

const ROLE = { cashier: 'Cashier', manager: 'Manager (approves by PIN)' };

export async function render({ root }) {
  const note = el('div');
  const t = table({
    columns: [
      { title: 'Name', get: (c) => c.name },
      { title: 'Role', get: (c) => ROLE[c.role] || c.role },
      { title: 'State', get: (c) => (c.active ? el('span', { class: 'badge ok' }, 'active') : el('span', { class: 'badge' }, 'inactive')) },
      { title: 'Since', get: (c) => when(c.createdAt) },
      {
        title: '',
        class: 'actions-cell',
        get: (c) =>
          c.active
            ? [el('button', { type: 'button', class: 'small', onclick: () => edit(c) }, 'Change'), ' ', el('button', { type: 'button', class: 'small', onclick: () => deactivate(c) }, 'Make inactive')]
            : el('button', { type: 'button', class: 'small', onclick: () => edit(c, true) }, 'Make active again'),
      },
    ],
    filter: (c, q) => c.name.toLowerCase().includes(q),
    placeholder: 'Filter staff',
    empty: 'No cashiers yet: the tills sell without asking who. Add one to have every sale name its cashier.',
    rowAttrs: (c) => ({ data: { cashier: c.name } }),
  });
  const refunds = el('input', { type: 'checkbox', id: 'refunds-need-approval' });
  const limit = el('input', { id: 'cash-limit', inputmode: 'decimal', autocomplete: 'off', placeholder: 'no limit' });
  const saveBtn = el('button', { type: 'button', class: 'primary', id: 'save-settings' }, 'Save');
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Staff'), el('button', { type: 'button', class: 'primary', id: 'add-cashier', onclick: () => edit(null) }, 'Add a cashier')),
    el('p', { class: 'hint' }, 'A PIN says who is selling on a shared till; it is not a password. Each PIN is 4 to 6 digits and belongs to one person. After 5 wrong PINs a till locks PIN entry for 5 minutes.'),
    note,
    t.el,
    el(
      'section',
      { class: 'panel', id: 'approval-settings' },
      el('h2', {}, 'What needs a manager’s PIN'),
      el('label', { class: 'check', for: 'refunds-need-approval' }, refunds, ' Refunds at the tills'),
      field('A cash difference at the close of a shift over', limit, 'Counted minus expected, either way. Empty: never.'),
      saveBtn,
    ),
  );

  async function load() {
    const [cs, settings] = await Promise.all([S.api.get('/api/cashiers?includeInactive=true'), S.api.get('/api/settings')]);
    S.cashiers = cs.cashiers;
    t.update([...cs.cashiers].sort((a, b) => Number(b.active) - Number(a.active) || a.name.localeCompare(b.name)));
    refunds.checked = settings.refundsNeedApproval;
    limit.value = settings.cashDifferenceLimit === null ? '' : plainMoney(settings.cashDifferenceLimit);
  }

  saveBtn.addEventListener('click', async () => {
    const text = limit.value.trim();
    const lim = text === '' ? null : parseMoney(text);
    if (text !== '' && lim === null) return toast('Type the limit like 2.00, or leave it empty.', 'bad');
    await busy(saveBtn, 'Saving…', async () => {
      try {
        const s = await S.api.write('PATCH', '/api/settings', { refundsNeedApproval: refunds.checked, cashDifferenceLimit: lim });
        toast(`Saved: refunds ${s.refundsNeedApproval ? 'need' : 'do not need'} a manager; ${s.cashDifferenceLimit === null ? 'no cash difference needs one' : `a cash difference over ${money(s.cashDifferenceLimit)} needs one`}.`);
        if (S.me.business.settings) S.me.business.settings = s;
      } catch (e) {
        toast(explain(e), 'bad');
      }
    });
  });

  /** edit adds a cashier (c null), changes one, or makes one active again (with a new PIN). */
  function edit(c, reactivate = false) {
    const name = el('input', { required: true, maxlength: 100, value: c ? c.name : '', placeholder: 'e.g. Anna' });
    const role = select(Object.entries(ROLE).map(([value, text]) => ({ value, text })), c ? c.role : 'cashier');
    const pin = el('input', { type: 'password', inputmode: 'numeric', maxlength: 6, autocomplete: 'new-password', id: 'new-pin' });
    const pin2 = el('input', { type: 'password', inputmode: 'numeric', maxlength: 6, autocomplete: 'new-password', id: 'new-pin2' });
    const title = !c ? 'Add a cashier' : reactivate ? `Make ${c.name} active again` : `Change ${c.name}`;
    const h = dialog(
      title,
      el(
        'form',
        { onsubmit: (e) => e.preventDefault() },
        field('Name', name),
        field('Role', role, 'A manager also approves by PIN what the shop says needs one.'),
        field(c && !reactivate ? 'New PIN (leave empty to keep it)' : 'PIN', pin, '4 to 6 digits, unique in the shop. Let the cashier type it.'),
        field('The PIN again', pin2),
      ),
      { id: 'cashier-dialog' },
    );
    let key = null;
    h.button('Cancel', () => h.close());
    h.button(
      c ? 'Save' : 'Add',
      async (b) => {
        const p = pin.value.trim();
        if ((!c || reactivate || p) && !/^[0-9]{4,6}$/.test(p)) return h.say('bad', 'A PIN is 4 to 6 digits.');
        if (p !== pin2.value.trim()) return h.say('bad', 'The two PINs differ: type the PIN twice, the same.');
        await busy(b, 'Saving…', async () => {
          try {
            if (!c) {
              key = key || newKey();
              await S.api.write('POST', '/api/cashiers', { name: name.value.trim(), role: role.value, pin: p }, key);
              toast(`Added ${name.value.trim()}. They sign in at a till with their PIN.`);
            } else {
              const patch = { name: name.value.trim(), role: role.value };
              if (p) patch.pin = p;
              if (reactivate) patch.active = true;
              await S.api.write('PATCH', `/api/cashiers/${c.id}`, patch);
              toast(`Saved ${patch.name}${p ? ', with the new PIN' : ''}.`);
            }
            h.close();
            load();
          } catch (e) {
            h.say('bad', explain(e));
          }
        });
      },
      'primary',
    );
    name.focus();
  }

  async function deactivate(c) {
    try {
      await S.api.write('PATCH', `/api/cashiers/${c.id}`, { active: false });
      toast(`${c.name} is inactive: their PIN no longer signs in, and is free for someone else. Their sales keep their name.`);
      load();
    } catch (e) {
      toast(explain(e), 'bad');
    }
  }

  try {
    await load();
  } catch (e) {
    fill(note, message('bad', explain(e)));
  }
}
