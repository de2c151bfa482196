// tills.js — the Tills screen: every till of the shop with what it last
// reported (online or offline since when, sales waiting on it, refused ones,
// its version and clock), adding a till with a one-time code and a QR code
// (valid 5 minutes, shown once), renaming and revoking. posd sees every
// till's queue here, centrally: a till that stops reporting shows offline
// within 30 s.
import { S, when, ago, duration, locationName, pct, since, locationLabel } from '../state.js';
import { explain, newKey } from '../api.js';
import { el, fill, table, dialog, field, busy, toast, select, confirmDialog, message } from '../views.js';

export async function render({ root, refreshShared }) {
  const setup = el('section', { class: 'panel', id: 'setup-panel', hidden: true });
  const t = table({
    columns: [
      { title: 'Till', get: (x) => el('strong', {}, x.name) },
      { title: 'Location', get: (x) => locationName(x.locationId) },
      { title: 'Status', get: status },
      { title: 'Last seen', get: (x) => (x.lastSeenAt ? el('span', { title: when(x.lastSeenAt) }, ago(x.lastSeenAt)) : 'never') },
      { title: 'Queued', num: true, get: (x) => el('span', { class: x.queued > 0 ? 'negative' : '' }, x.lastSeenAt ? String(x.queued) : '—') },
      { title: 'Refused', num: true, get: (x) => el('span', { class: x.parked > 0 ? 'negative' : '' }, x.lastSeenAt ? String(x.parked) : '—') },
      { title: 'Oldest', get: (x) => (x.oldestQueuedAt ? ago(x.oldestQueuedAt).replace(' ago', '') : '') },
      { title: 'Version', get: (x) => x.version || '' },
      { title: 'Clock', get: skew },
      { title: 'Retries OK', num: true, get: (x) => (x.indicators && x.indicators.retrySuccessRate !== null ? pct(x.indicators.retrySuccessRate) : x.counters ? 'no retries' : '—') },
      { title: '', class: 'actions-cell', get: (x) => el('span', {}, el('button', { type: 'button', class: 'small', onclick: () => rename(x) }, 'Rename'), ' ', el('button', { type: 'button', class: 'small', onclick: () => revoke(x) }, 'Revoke')) },
    ],
    filter: (x, q) => x.name.toLowerCase().includes(q),
    placeholder: 'Filter tills',
    empty: 'No tills yet. Add one: posd shows a code to type on the till, or a QR code to scan with it.',
    rowAttrs: (x) => ({ data: { till: x.name, online: String(x.online) } }),
  });
  const summary = el('div');
  fill(
    root,
    el('div', { class: 'head' }, el('h1', {}, 'Tills'), el('button', { type: 'button', class: 'primary', id: 'add-till', onclick: add }, 'Add a till')),
    summary,
    t.el,
    setup,
  );

  function status(x) {
    if (x.online) return el('span', { class: 'badge ok' }, 'Online');
    if (!x.lastSeenAt) return el('span', { class: 'badge' }, 'Never reported');
    return el('span', { class: 'badge bad', title: when(x.lastSeenAt) }, `Offline since ${since(x.lastSeenAt)}`);
  }
  function skew(x) {
    if (x.clockSkewSeconds === null || x.clockSkewSeconds === undefined) return '';
    const s = x.clockSkewSeconds;
    if (Math.abs(s) < 5) return 'right';
    return el('span', { class: Math.abs(s) > 120 ? 'negative' : '' }, `${duration(s)} ${s > 0 ? 'ahead' : 'behind'}`);
  }

  let known = new Set();
  let waitingFor = null; // the name of a till being paired
  async function reload() {
    const r = await S.api.get('/api/tills');
    S.tills = r.tills;
    const tills = r.tills.sort((a, b) => a.name.localeCompare(b.name));
    t.update(tills);
    const off = tills.filter((x) => !x.online && x.lastSeenAt);
    const queued = tills.reduce((n, x) => n + (x.queued || 0), 0);
    const parts = [];
    if (off.length) parts.push(message('warn', `${off.length} till${off.length === 1 ? ' is' : 's are'} offline: ${off.map((x) => x.name).join(', ')}. A till that is off or out of the network sells on; its sales arrive when it is back.`));
    if (queued) parts.push(message('warn', `${queued} sale${queued === 1 ? '' : 's'} waiting on tills to reach posd.`));
    fill(summary, parts);
    if (waitingFor) {
      const fresh = tills.find((x) => !known.has(x.id) && x.name === waitingFor.name);
      if (fresh) {
        waitingFor.done(fresh);
        waitingFor = null;
      }
    }
    known = new Set(tills.map((x) => x.id));
  }

  function add() {
    const name = el('input', { required: true, maxlength: 100, value: `Till ${S.tills.length + 1}`, id: 'till-name' });
    const loc = select(
      [{ value: '', text: S.locations.length > 1 ? 'Chosen on the till' : 'Any location' }, ...S.locations.map((l) => ({ value: l.id, text: locationLabel(l) }))],
      S.locations.length === 1 ? S.locations[0].id : '',
      { id: 'till-location' },
    );
    const box = el('div', {}, el('form', { onsubmit: (e) => e.preventDefault() }, field('Name', name, 'How the till is shown here and on the Today screen.'), field('Location', loc, 'A till bound to a location sells only there.')));
    const h = dialog('Add a till', box, { id: 'pair-dialog' });
    let key = null;
    let sent = null;
    h.button('Cancel', () => h.close());
    const go = h.button(
      'Make a pairing code',
      async (b) => {
        const req = { name: name.value.trim() };
        if (loc.value) req.locationId = loc.value;
        if (!key || sent !== JSON.stringify(req)) [key, sent] = [newKey(), JSON.stringify(req)];
        await busy(b, 'Making…', async () => {
          let code;
          try {
            code = await S.api.write('POST', '/api/pairing-codes', req, key);
          } catch (e) {
            return h.say('bad', explain(e));
          }
          b.hidden = true;
          h.actions.querySelector('button').textContent = 'Close';
          showCode(h, box, req.name, code);
        });
      },
      'primary',
    );
    name.select();
    name.focus();
    name.addEventListener('keydown', (e) => e.key === 'Enter' && go.click());
  }

  async function showCode(h, box, name, code) {
    const left = el('span', { id: 'code-left' });
    const url = await reachableURL(code.url);
    const img = el('img', { class: 'qr', alt: `QR code of ${url.href}`, id: 'pair-qr' });
    const state = el('div', { id: 'pair-state' }, message('info', 'Waiting for the till…'));
    fill(
      box,
      el('p', {}, 'On the new till, open the till page and type this code — or scan the QR code with the till (tablet camera) to open the till page with the code in it.'),
      el('div', { class: 'code', id: 'pair-code' }, code.code),
      img,
      el('p', { class: 'hint' }, el('code', { id: 'pair-url' }, url.href)),
      url.loopback
        ? el('div', { id: 'pair-loopback' }, message('warn', `This office is open on the PC's own address (${new URL(code.url).host}), which a till cannot reach: type the code on the till instead, or open the office at this PC's network address (the one posd printed when it started, like http://192.168.1.20:8080/office/) for a QR code a tablet can scan.`))
        : null,
      el('p', { class: 'hint' }, 'Valid for ', left, ', once. It is shown only now: close this and make a new one if needed.'),
      state,
    );
    try {
      const q = await S.api.get(`/api/qr?text=${encodeURIComponent(url.href)}`);
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(q.svg)}`;
    } catch {
      img.hidden = true;
    }
    const until = new Date(code.expiresAt).getTime();
    const tick = setInterval(() => {
      const s = Math.max(0, Math.round((until - Date.now()) / 1000));
      left.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
      if (s === 0) {
        clearInterval(tick);
        if (waitingFor) fill(state, message('warn', 'The code has expired. Close this and add the till again for a new code.'));
      }
    }, 500);
    waitingFor = {
      name,
      done(till) {
        clearInterval(tick);
        fill(state, message('ok', `“${till.name}” is paired and ready to sell.`));
        toast(`Paired the till “${till.name}”.`);
      },
    };
    h.closed.then(() => {
      clearInterval(tick);
      waitingFor = null;
    });
  }

  /**
   * reachableURL is the pairing link a till can open. posd builds it on the
   * address the office was reached at; opened on the PC itself (localhost,
   * 127.0.0.1) that address means the tablet itself, so the link moves to
   * posd's network address when posd knows one (its setup addresses, with
   * HTTPS), and is marked loopback when it does not.
   */
  async function reachableURL(link) {
    const u = new URL(link);
    if (!isLoopback(u.hostname)) return { href: link, loopback: false };
    try {
      const s = await S.api.get('/api/setup');
      const lan = (s.setupUrls || []).map((x) => new URL(x)).find((x) => !isLoopback(x.hostname));
      if (lan) return { href: `${lan.origin}${u.pathname}${u.hash}`, loopback: false };
    } catch {
      // no setup facts: keep the link as posd gave it
    }
    return { href: link, loopback: true };
  }

  function rename(x) {
    const name = el('input', { value: x.name, required: true, maxlength: 100, id: 'rename-till' });
    const h = dialog(`Rename ${x.name}`, el('form', { onsubmit: (e) => e.preventDefault() }, field('Name', name)));
    h.button('Cancel', () => h.close());
    h.button(
      'Rename',
      async (b) => {
        await busy(b, 'Saving…', async () => {
          try {
            await S.api.write('PATCH', `/api/tills/${x.id}`, { name: name.value.trim() });
            toast(`Renamed “${x.name}” to “${name.value.trim()}”.`);
            h.close();
            await reload();
            refreshShared();
          } catch (e) {
            h.say('bad', explain(e));
          }
        });
      },
      'primary',
    );
    name.focus();
  }

  async function revoke(x) {
    const waiting = x.queued > 0 ? ` It last reported ${x.queued} sale(s) not yet sent: they will be refused when it sends them (they stay on the till, in its refused list).` : '';
    const yes = await confirmDialog(`Revoke ${x.name}?`, `The till “${x.name}” is refused from its next request on and has to be paired again to sell. Every sale it already sent stays in posd.${waiting}`, 'Revoke the till');
    if (!yes) return;
    try {
      await S.api.write('DELETE', `/api/tills/${x.id}`);
      toast(`Revoked “${x.name}”. Its next request is refused; its sales are kept.`);
    } catch (e) {
      if (e.code === 'not_found') toast(`“${x.name}” was already revoked.`);
      else toast(explain(e), 'bad');
    }
    reload();
  }

  /** drawSetup shows how to set a till up for offline use (HTTPS), once posd offers it. */
  async function drawSetup() {
    let s;
    try {
      s = await S.api.get('/api/setup');
    } catch {
      setup.hidden = true; // not offered by this posd
      return;
    }
    if (!s.https) {
      setup.hidden = true; // this posd serves no HTTPS: nothing to set up
      return;
    }
    const url = (s.setupUrls && s.setupUrls[0]) || `${location.origin}/till/setup.html`;
    const img = el('img', { class: 'qr', alt: `QR code of ${url}` });
    fill(
      setup,
      el('h2', {}, 'Set up a till for offline use'),
      el('p', {}, 'A till page can reload while posd is unreachable only over HTTPS. Once on each till: open the setup page (scan this code with the till), install the shop’s certificate, then use the HTTPS address.'),
      img,
      el('p', { class: 'hint' }, el('code', {}, url)),
      s.caFingerprint ? el('p', {}, 'The certificate’s fingerprint, to compare on the till: ', el('code', { id: 'ca-fingerprint' }, s.caFingerprint)) : null,
      s.httpsUrls && s.httpsUrls.length ? el('p', { class: 'hint' }, 'HTTPS addresses: ', s.httpsUrls.join(', ')) : null,
    );
    setup.hidden = false;
    try {
      const q = await S.api.get(`/api/qr?text=${encodeURIComponent(url)}`);
      img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(q.svg)}`;
    } catch {
      img.hidden = true;
    }
  }

  await reload();
  drawSetup();
  // Every 5 s; every second while a new till is being paired, so the
  // office says "paired" as soon as the till has its token.
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    if (waitingFor || ticks % 5 === 0) reload().catch(() => {});
  }, 1000);
  return () => clearInterval(timer);
}

/** isLoopback tells whether a host name means the device it is typed on. */
export function isLoopback(host) {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\./.test(h);
}
