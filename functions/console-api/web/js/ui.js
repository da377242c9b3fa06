// Small DOM and formatting helpers shared by the pages. Text always goes in
// as text nodes, never as HTML, so API data cannot inject markup.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k in el && !k.includes('-') && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// Replaces a live region's content on refresh but gives focus back to the
// same control (same data-key or href), so polling never throws keyboard
// users out of a table they are working in.
export function refresh(el, ...children) {
  const active = document.activeElement;
  const keyOf = (n) => n.dataset.key || n.getAttribute('href');
  const key = active && active !== el && el.contains(active) ? keyOf(active) : null;
  replace(el, ...children);
  if (key) {
    const again = [...el.querySelectorAll('[data-key], a[href]')].find((n) => keyOf(n) === key);
    if (again) again.focus();
  }
  return el;
}

// ---- formatting (the browser's locale and time zone) ----

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTime.format(d);
}

export function fmtClock(iso) {
  return iso ? timeOnly.format(new Date(iso)) : '—';
}

export function fmtAgo(iso) {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function fmtNum(value, unit, digits = 1) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  // + 0 turns -0 (an empty sum in the API, e.g. nothing allocated) into 0.
  const n = (Number(value) + 0).toLocaleString(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${n}\u00a0${unit}` : n; // never break between number and unit
}

export const kW = (v) => fmtNum(v, 'kW', 1);
export const kWh = (v) => fmtNum(v, 'kWh', 2);
export const volts = (v) => fmtNum(v, 'V', 0);
export const amps = (v) => fmtNum(v, 'A', 1);
export const pct = (v, digits = 0) => fmtNum(v, '%', digits);

// `maxDigits` above 2 shows tariff prices and per-dimension amounts as exactly
// as the API keeps them (e.g. £0.2999), never fewer than the currency's own.
export function fmtMoney(amount, currency, maxDigits = 0) {
  if (amount === undefined || amount === null) return '—';
  try {
    const digits = new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().minimumFractionDigits;
    return new Intl.NumberFormat(undefined, {
      style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: Math.max(digits, maxDigits),
    }).format(amount);
  } catch {
    return `${fmtNum(amount, '', 2)} ${currency || ''}`.trim();
  }
}

export function fmtDuration(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(seconds)) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

export const shortId = (id) => (id ? String(id).slice(0, 8) : '—');

// ---- building blocks ----

// A status word in a coloured pill; the word itself carries the meaning.
export function badge(status) {
  return h('span', { class: `badge badge-${String(status).replace(/[^a-z_]/gi, '')}`, text: String(status).replace(/_/g, ' ') });
}

export function pageHeader(title, ...extra) {
  return h('header', { class: 'page-header' }, h('h1', { id: 'page-title', tabindex: '-1', text: title }), extra);
}

export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id, text: title }), children);
}

export function loading(what = 'Loading…') {
  return h('p', { class: 'muted', role: 'status', text: what });
}

export function errorNotice(err) {
  const errors = (err && err.errors) || [];
  return h('div', { class: 'notice notice-error', role: 'alert' },
    h('p', { text: err ? err.message : 'Something went wrong.' }),
    errors.length > 1 && h('ul', {}, errors.map((e) => h('li', { text: `${e.field}: ${e.problem}` }))));
}

export function unavailableNotice(feature, err) {
  return h('div', { class: 'notice notice-info', 'data-unavailable': '' },
    h('p', {}, h('strong', { text: 'Not available on this deployment yet.' })),
    h('p', { text: `${feature} will show here once the API offers it. The API answered: ${err.message}` }));
}

// Renders the failure of a read: "not available yet" for planned routes, the
// API's message otherwise.
export function failure(feature, err) {
  return err && err.unavailable ? unavailableNotice(feature, err) : errorNotice(err);
}

// columns: [{label, value: row => Node|string, class?}]. `cards` tables turn
// each row into a labelled card on narrow screens instead of scrolling.
export function table(caption, columns, rows, empty = 'Nothing to show.', { cards = false } = {}) {
  if (!rows.length) return h('p', { class: 'muted empty', text: empty });
  return h('div', { class: 'table-wrap' },
    h('table', { class: cards ? 'cards' : null },
      h('caption', { class: 'sr-only', text: caption }),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class, text: c.label })))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.value(r))))))));
}

export function link(href, text) {
  return h('a', { href, text });
}

export function pager({ page, size, total }, onChange, label = 'items') {
  const pages = Math.max(1, Math.ceil(total / size));
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', class: 'btn', 'data-key': 'page-prev', disabled: page <= 1, onclick: () => onChange(page - 1), text: '← Previous' }),
    h('span', { 'aria-live': 'polite', 'data-page': String(page), text: `Page ${page} of ${pages} · ${total} ${label}` }),
    h('button', { type: 'button', class: 'btn', 'data-key': 'page-next', disabled: page >= pages, onclick: () => onChange(page + 1), text: 'Next →' }));
}

export function stat(label, value, hint) {
  return h('div', { class: 'stat' },
    h('div', { class: 'stat-label', text: label }),
    h('div', { class: 'stat-value', text: value }),
    hint && h('div', { class: 'stat-hint muted', text: hint }));
}

// Labelled form control; `control` is an <input>/<select>/<textarea>.
let fieldSeq = 0;
export function field(label, control, hint) {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('span', { class: 'hint', id: `${id}-hint`, text: hint });
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hintEl);
}

export function select(name, options, value) {
  const el = h('select', { name }, options.map(([v, text]) => h('option', { value: v, text })));
  if (value !== undefined && value !== null) el.value = String(value);
  return el;
}

// ---- status messages ----

let statusTimer;
export function announce(message, kind = 'ok') {
  const el = document.getElementById('status');
  el.className = `toast toast-${kind}`;
  el.textContent = message;
  clearTimeout(statusTimer);
  statusTimer = setTimeout(() => { el.textContent = ''; el.className = 'toast'; }, 8000);
}

// ---- a confirmation dialog holding a form ----
// `submit(form)` returns a promise; a rejection keeps the dialog open and
// shows the error (the API's message) inside it.
export function dialogForm({ title, intro, fields = [], confirmLabel = 'Confirm', danger = false, wide = false, submit }) {
  const dialog = document.getElementById('dialog');
  dialog.classList.toggle('dialog-wide', wide);
  const errorBox = h('div', { class: 'dialog-error' });
  const confirmBtn = h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary', text: confirmLabel });
  const form = h('form', { method: 'dialog', class: 'dialog-form', novalidate: true },
    h('h2', { id: 'dialog-title', text: title }),
    intro && h('p', { text: intro }),
    fields,
    errorBox,
    h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'btn', value: 'cancel', onclick: () => dialog.close(), text: 'Cancel' }),
      confirmBtn));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    confirmBtn.disabled = true;
    errorBox.replaceChildren();
    try {
      await submit(form);
      dialog.close();
    } catch (err) {
      replace(errorBox, errorNotice(err));
    } finally {
      confirmBtn.disabled = false;
    }
  });
  replace(dialog, form);
  dialog.setAttribute('aria-labelledby', 'dialog-title');
  // Give focus back to the control that opened the dialog, or to its
  // replacement if a live refresh redrew it meanwhile.
  const opener = document.activeElement;
  const key = opener && opener.dataset ? opener.dataset.key : null;
  dialog.addEventListener('close', () => {
    const target = opener && opener.isConnected ? opener : key && document.querySelector(`[data-key="${key}"]`);
    if (target) target.focus();
  }, { once: true });
  dialog.showModal();
  const first = form.querySelector('input, select, textarea');
  (first || confirmBtn).focus();
}

// The inputs the API's field errors name get aria-invalid, and closed
// <details> holding one are opened, so the problem is where the eye goes.
export function markInvalid(form, paths, errors) {
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  for (const e of errors) {
    let path = e.field;
    let el = paths.get(path);
    while (!el && /[.[]/.test(path)) {
      path = path.replace(/(\[\d+\]|\.[^.[]+)$/, '');
      el = paths.get(path);
    }
    if (!el) continue;
    el.setAttribute('aria-invalid', 'true');
    const details = el.closest('details');
    if (details) details.open = true;
  }
}

// ---- polling that pauses in hidden tabs and never overlaps ----
// Returns a stop function; stop.now() runs a round at once (e.g. after an
// action) and then keeps the rhythm. `ms` may be a function, asked each time.
export function poll(fn, ms) {
  let stopped = false;
  let running = false;
  let again = false;
  let timer;
  const delay = () => (typeof ms === 'function' ? ms() : ms);
  const tick = async () => {
    clearTimeout(timer);
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = true;
    if (!document.hidden) {
      try {
        await fn();
      } catch {
        // the page shows its own errors; keep polling
      }
    }
    running = false;
    if (stopped) return;
    if (again) {
      again = false;
      tick();
    } else {
      timer = setTimeout(tick, delay());
    }
  };
  timer = setTimeout(tick, delay());
  const stop = () => { stopped = true; clearTimeout(timer); };
  stop.now = tick;
  return stop;
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function num(value) {
  return value === undefined || value === null || String(value).trim() === '' ? undefined : Number(value);
}
