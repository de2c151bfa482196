// tokens.js — the Tokens screen (owner only): managers' and integrations'
// tokens. A new token's secret is shown once, here, and never again: posd
// keeps only its hash. Tills are better added by pairing (Tills screen).
import { S, when, locationName, locationLabel } from '../state.js';
import { explain, newKey } from '../api.js';
import { el, fill, table, dialog, field, busy, toast, select, confirmDialog, message } from '../views.js';

const ROLE_TEXT = { owner: 'Owner', manager: 'Manager', till: 'Till / API' };

export async function render({ root }) {
  const t = table({
    columns: [
      { title: 'Name', get: (k) => k.name },
      { title: 'Role', get: (k) => el('span', { class: `badge ${k.role === 'owner' ? 'warn' : ''}` }, ROLE_TEXT[k.role] || k.role) },
      { title: 'Location', get: (k) => (k.role === 'till' ? locationName(k.locationId) : '') },
      { title: 'Created', get: (k) => when(k.createdAt) },
      { title: '', get: (k) => (k.id === S.me.token.id ? el('span', { class: 'hint' }, 'this sign-in') : el('button', { type: 'button', class: 'small', onclick: () => revoke(k) }, 'Revoke')) },
    ],
    filter: (k, q) => k.name.toLowerCase().includes(q) || k.role.includes(q),
    placeholder: 'Filter tokens',
    rowAttrs: (k) => ({ data: { name: k.name } }),
  });
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Tokens'), el('button', { type: 'button', class: 'primary', id: 'new-token', onclick: create }, 'New token')),
    el('p', { class: 'hint' }, 'A token is a key to posd. Managers can do everything but tokens and backups; a till/API token can sell and read. To add a till, use ', el('a', { href: '#/tills' }, 'Tills → Add a till'), ' instead: it needs no token typed in.'),
    t.el,
  );

  async function reload() {
    const r = await S.api.get('/api/tokens');
    t.update(r.tokens.sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name)));
  }

  function create() {
    const role = select(
      [
        { value: 'manager', text: 'Manager (runs the shop, no tokens or backups)' },
        { value: 'till', text: 'Till / API (sells and reads)' },
        { value: 'owner', text: 'Owner (everything)' },
      ],
      'manager',
    );
    const name = el('input', { required: true, maxlength: 100, placeholder: 'e.g. Anna (manager)' });
    const loc = select([{ value: '', text: 'Any location' }, ...S.locations.map((l) => ({ value: l.id, text: locationLabel(l) }))], '');
    const locField = field('Location', loc, 'A till token bound to a location sells only there.');
    locField.hidden = true;
    role.addEventListener('change', () => (locField.hidden = role.value !== 'till'));
    const h = dialog('New token', el('form', { onsubmit: (e) => e.preventDefault() }, field('Role', role), field('Name', name, 'Who or what will use it.'), locField));
    let key = null;
    let sent = null;
    h.button('Cancel', () => h.close());
    h.button(
      'Create token',
      async (b) => {
        const req = { role: role.value, name: name.value.trim() };
        if (role.value === 'till' && loc.value) req.locationId = loc.value;
        if (!key || sent !== JSON.stringify(req)) [key, sent] = [newKey(), JSON.stringify(req)];
        await busy(b, 'Creating…', async () => {
          let out;
          try {
            out = await S.api.write('POST', '/api/tokens', req, key);
          } catch (e) {
            return h.say('bad', explain(e));
          }
          h.close();
          reload();
          showSecret(out);
        });
      },
      'primary',
    );
    name.focus();
  }

  function showSecret(out) {
    if (!out.token) {
      toast(`The token “${out.name}” was made, but its secret was already shown once and cannot be shown again. Revoke it and make a new one.`, 'bad');
      return;
    }
    const secret = el('div', { class: 'secret', id: 'token-secret' }, out.token);
    const h = dialog(`Token for ${out.name}`, el('div', {}, message('warn', 'Copy it now: this is the only time posd shows it. posd keeps only a fingerprint of it.'), secret));
    h.button('Copy', async (b) => {
      try {
        await navigator.clipboard.writeText(out.token);
        b.textContent = 'Copied';
      } catch {
        const r = document.createRange();
        r.selectNodeContents(secret);
        getSelection().removeAllRanges();
        getSelection().addRange(r);
        b.textContent = 'Selected: press Ctrl+C';
      }
    });
    h.button('Done', () => h.close(), 'primary');
    toast(`Created the ${ROLE_TEXT[out.role] || out.role} token “${out.name}”.`);
  }

  async function revoke(k) {
    const yes = await confirmDialog(`Revoke ${k.name}?`, `Whoever uses the token “${k.name}” is refused from its next request on. Everything it already did stays. This cannot be undone: make a new token if needed.`, 'Revoke');
    if (!yes) return;
    try {
      await S.api.write('DELETE', `/api/tokens/${k.id}`);
      toast(`Revoked “${k.name}”. Its next request is refused.`);
    } catch (e) {
      if (e.code === 'not_found') toast(`“${k.name}” was already revoked.`);
      else toast(explain(e), 'bad');
    }
    reload();
  }

  await reload();
}
