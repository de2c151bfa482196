// views.js — the office's DOM helpers: building elements, tables that page
// and filter, dialogs, messages. Every text goes in as a text node (el()
// never sets HTML), so a product name or a supplier typed by anyone is shown
// as it is and never becomes markup or code.

export const $ = (id) => document.getElementById(id);

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'min', 'max', 'step', 'type', 'id', 'name', 'title', 'htmlFor']);

/** el builds an element: el('td', {class: 'num', onclick: f}, 'text', child…). */
export function el(tag, attrs = {}, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.setAttribute('class', v);
    else if (k === 'data') for (const [dk, dv] of Object.entries(v)) e.dataset[dk] = dv;
    else if (PROPS.has(k) && k in e) e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat(Infinity)) if (k !== null && k !== undefined && k !== false) e.append(k instanceof Node ? k : String(k));
  return e;
}

/** clear empties a node and fills it with kids. */
export function fill(node, ...kids) {
  node.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
  return node;
}

/** field is a labelled form control with an optional hint. */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return el('div', { class: 'field' }, el('label', { for: id }, label), control, hint ? el('small', { class: 'hint' }, hint) : null);
}

/** select builds a <select> from [{value, text}]. */
export function select(options, value, attrs = {}) {
  return el('select', attrs, options.map((o) => el('option', { value: o.value, selected: o.value === value }, o.text)));
}

/** message is a box that says something: kind is ok, warn, bad or info. */
export function message(kind, ...text) {
  return el('p', { class: `msg ${kind}`, role: kind === 'bad' ? 'alert' : 'status' }, ...text);
}

let toastTimer;
let shownScreen = null; // the screen the office shows, as showScreen was told
let toastScreen = null; // the screen the toast on show was raised on

/**
 * toast confirms something in words, for a few seconds, or says what went
 * wrong (kind 'bad'). It belongs to the screen it was raised on: showScreen
 * takes it away when the owner opens another one.
 */
export function toast(text, kind = 'ok') {
  const t = $('toast');
  t.textContent = text;
  t.dataset.kind = kind;
  t.hidden = false;
  toastScreen = shownScreen;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(hideToast, 8000);
}

/** hideToast takes the toast away now. */
export function hideToast() {
  clearTimeout(toastTimer);
  $('toast').hidden = true;
}

/**
 * showScreen is the router's word that the office now shows screen id
 * (null: none, signed out). A toast raised on another screen goes, an
 * error as well as a confirmation: every toast is about something done on
 * its screen ("Closed the day: Z-0003", "Type the limit like 2.00"), and
 * left on top of the next screen it reads as being about that one. A toast
 * stays when the same screen is drawn again with other filters (the
 * Journal opening the refund it just made), and one raised before any
 * screen was shown (the locations could not be read at sign-in) stays its
 * 8 s, since it is about the whole office.
 */
export function showScreen(id) {
  if (toastScreen !== null && toastScreen !== id) {
    hideToast();
    toastScreen = null;
  }
  shownScreen = id;
}

/**
 * busy runs fn with button disabled and saying what is happening, so a
 * second click cannot start a second write while the first is on its way.
 */
export async function busy(button, text, fn) {
  const old = button.textContent;
  button.disabled = true;
  button.dataset.busy = 'true';
  button.textContent = text;
  try {
    return await fn();
  } finally {
    button.disabled = false;
    delete button.dataset.busy;
    button.textContent = old;
  }
}

/**
 * dialog opens a modal <dialog> with a title, a body and buttons; it
 * resolves when closed. The returned handle can close it and show errors.
 */
export function dialog(title, body, { wide = false, id } = {}) {
  const err = el('div', { class: 'dialog-msg' });
  const actions = el('div', { class: 'actions' });
  const closeBtn = el('button', { type: 'button', class: 'link close', 'aria-label': 'Close' }, '✕');
  const d = el('dialog', { class: wide ? 'wide' : '', id }, el('header', {}, el('h2', {}, title), closeBtn), el('div', { class: 'dialog-body' }, body), err, actions);
  document.body.append(d);
  const h = {
    el: d,
    actions,
    closed: new Promise((r) => d.addEventListener('close', () => r(d.returnValue))),
    close(v = '') {
      if (d.open) d.close(v);
    },
    say(kind, ...text) {
      fill(err, text.length ? message(kind, ...text) : null);
    },
    button(text, onClick, cls = '') {
      const b = el('button', { type: 'button', class: cls, onclick: () => onClick(b) }, text);
      actions.append(b);
      return b;
    },
  };
  closeBtn.addEventListener('click', () => h.close());
  h.closed.then(() => d.remove());
  d.showModal();
  return h;
}

/** confirmDialog asks a yes/no question in words; resolves true for yes. */
export function confirmDialog(title, text, yes = 'Yes', no = 'Cancel') {
  const h = dialog(title, el('p', {}, text));
  h.button(no, () => h.close('no'));
  h.button(yes, () => h.close('yes'), 'primary danger');
  return h.closed.then((v) => v === 'yes');
}

/**
 * table draws rows in pages of pageSize, with an optional filter box.
 * columns: [{title, get(row) → text|Node, num, class}]. Returns {el,
 * update(rows)} so a screen can refresh it without losing the page or the
 * filter text.
 */
export function table({ columns, rows = [], pageSize = 25, filter, placeholder = 'Filter', empty = 'Nothing here yet.', rowAttrs, toolbar = [] }) {
  let page = 0;
  let data = rows;
  const q = filter ? el('input', { type: 'search', class: 'filter', placeholder, 'aria-label': placeholder }) : null;
  const tbody = el('tbody');
  const info = el('span', { class: 'pageinfo' });
  const prev = el('button', { type: 'button', class: 'small', onclick: () => go(page - 1) }, '‹ Previous');
  const next = el('button', { type: 'button', class: 'small', onclick: () => go(page + 1) }, 'Next ›');
  const emptyRow = el('p', { class: 'hint empty' }, empty);
  const tbl = el('table', { class: 'data' }, el('thead', {}, el('tr', {}, columns.map((c) => el('th', { class: c.num ? 'num' : c.class || '' }, c.title)))), tbody);
  const wrap = el('div', { class: 'table' }, el('div', { class: 'toolbar' }, q, ...toolbar), el('div', { class: 'scroll' }, tbl), emptyRow, el('div', { class: 'pager' }, prev, info, next));
  const visible = () => (q && q.value.trim() ? data.filter((r) => filter(r, q.value.trim().toLowerCase())) : data);
  function go(p) {
    const v = visible();
    const pages = Math.max(1, Math.ceil(v.length / pageSize));
    page = Math.min(Math.max(0, p), pages - 1);
    const slice = v.slice(page * pageSize, page * pageSize + pageSize);
    fill(
      tbody,
      slice.map((r) =>
        el(
          'tr',
          rowAttrs ? rowAttrs(r) : {},
          columns.map((c) => el('td', { class: c.num ? 'num' : c.class || '' }, c.get(r))),
        ),
      ),
    );
    emptyRow.hidden = v.length > 0;
    if (data.length > 0 && v.length === 0) emptyRow.textContent = 'Nothing matches the filter.';
    else emptyRow.textContent = empty;
    info.textContent = v.length > pageSize ? `${page * pageSize + 1}–${page * pageSize + slice.length} of ${v.length}` : '';
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    prev.hidden = next.hidden = pages <= 1;
  }
  if (q) q.addEventListener('input', () => go(0));
  go(0);
  return {
    el: wrap,
    filterBox: q,
    update(rows2) {
      data = rows2;
      go(page);
    },
    rows: () => visible(),
  };
}

/** stat is one figure with its label and a line of comparison. */
export function stat(label, value, sub, attrs = {}) {
  return el('div', { class: 'stat', ...attrs }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value), sub ? el('div', { class: 'sub' }, sub) : null);
}

/** download offers text as a file to save. */
export function download(name, text, type = 'text/plain') {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  setTimeout(() => {
    URL.revokeObjectURL(url);
    a.remove();
  }, 1000);
}
