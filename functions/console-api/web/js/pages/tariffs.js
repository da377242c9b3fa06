// Tariffs: what sessions cost, for one device, one site or the operator's
// whole fleet. A session is priced at its end by the tariff in force at its
// start; restrictions are read in the site's time zone.

import { api, tabStore } from '../api.js';
import {
  h, replace, pageHeader, table, link, badge, loading, failure, field, select, announce, dialogForm, formValues,
  markInvalid, num, fmtTime, fmtMoney, fmtDuration, fmtNum,
} from '../ui.js';

// One row per dimension in the dialog: the API takes each type at most once
// per element, so a fixed row per type cannot send a duplicate.
export const TYPES = [
  { type: 'ENERGY', label: 'Energy', per: 'per kWh', step: 'Wh' },
  { type: 'TIME', label: 'Charging time', per: 'per hour', step: 's' },
  { type: 'PARKING_TIME', label: 'Parking time', per: 'per hour', step: 's' },
  { type: 'FLAT', label: 'Flat fee', per: 'per session' },
];
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'];
const titleCase = (d) => d.charAt(0) + d.slice(1).toLowerCase();
const duration = (s) => fmtDuration(s).replace(/ 0 min$/, '');

// VAT as written (7.7 % stays 7.7 %), without trailing zeros.
export const vatText = (v) => `${Number(v).toLocaleString(undefined, { maximumFractionDigits: 2 })}\u00a0%`;
const READ_ONLY = 'tariffs.read-only';

// ---- words for a tariff (also used by the site page) ----

function stepText(c) {
  if (!c.step_size || c.step_size === 1) return '';
  if (c.type === 'ENERGY') return ` (billed per ${fmtNum(c.step_size, 'Wh', 0)})`;
  if (c.type === 'FLAT') return '';
  return ` (billed per ${duration(c.step_size)})`;
}

export function componentText(c, currency) {
  const spec = TYPES.find((t) => t.type === c.type) || { per: c.type.toLowerCase() };
  const what = { TIME: 'per hour charging', PARKING_TIME: 'per hour parked' }[c.type] || spec.per;
  return `${fmtMoney(c.price, currency, 4)} ${what}${stepText(c)}`;
}

const given = (v) => v !== undefined && v !== null;

// Minimums are inclusive and maximums exclusive, as the API reads them.
function range(min, max, fmt, words) {
  if (given(min) && given(max)) return `${words.from} ${fmt(min)} ${words.to} ${fmt(max)}`;
  if (given(min)) return `${words.from} ${fmt(min)}`;
  if (given(max)) return `${words.below} ${fmt(max)}`;
  return null;
}

export function restrictionText(r) {
  if (!r) return '';
  const parts = [];
  if (r.start_time || r.end_time) parts.push(`${r.start_time || '00:00'}–${r.end_time || '24:00'}`);
  if (r.day_of_week && r.day_of_week.length) parts.push(r.day_of_week.map((d) => titleCase(d).slice(0, 3)).join(', '));
  const dates = range(r.start_date, r.end_date, (d) => d, { from: 'from', to: 'until before', below: 'before' });
  if (dates) parts.push(dates);
  const kwh = range(r.min_kwh, r.max_kwh, (v) => fmtNum(v, 'kWh', 1), { from: 'from', to: 'to below', below: 'below' });
  if (kwh) parts.push(`${kwh} charged`);
  const time = range(r.min_duration, r.max_duration, duration, { from: 'from', to: 'to', below: 'within the first' });
  if (time) parts.push(given(r.max_duration) && !given(r.min_duration) ? time : `${time} into the session`);
  return parts.join(' · ');
}

export function elementText(e, currency) {
  const prices = e.price_components.map((c) => componentText(c, currency)).join(', ');
  const when = restrictionText(e.restrictions);
  return when ? `${prices} — when ${when}` : prices;
}

export function validityText(t) {
  if (!t.valid_from && !t.valid_to) return 'always';
  if (!t.valid_to) return `from ${fmtTime(t.valid_from)}`;
  if (!t.valid_from) return `until ${fmtTime(t.valid_to)}`;
  return `${fmtTime(t.valid_from)} until ${fmtTime(t.valid_to)}`;
}

// valid_from inclusive, valid_to exclusive, as the API reads them.
export function tariffState(t, now = Date.now()) {
  if (t.valid_from && Date.parse(t.valid_from) > now) return 'scheduled';
  if (t.valid_to && Date.parse(t.valid_to) <= now) return 'ended';
  return 'in_force';
}

export async function allTariffs(query = {}) {
  const items = [];
  for (let page = 1; page <= 20; page += 1) {
    const data = await api('/v1/tariffs', { query: { ...query, page, size: 100 } });
    items.push(...data.items);
    if (data.items.length < 100 || items.length >= data.total) break;
  }
  return items;
}

// datetime-local values are in the browser's zone; the API wants RFC 3339.
const toIso = (local) => (local ? new Date(local).toISOString() : null);
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}
const text = (v) => (v === undefined || v === null ? '' : String(v));

// ---- the page ----

export function render(main) {
  // Enabled once the sites it offers are loaded.
  const newBtn = h('button', { type: 'button', class: 'btn btn-primary', 'data-key': 'new-tariff', disabled: true, onclick: () => openEdit(null), text: 'New tariff…' });
  main.append(pageHeader('Tariffs', h('div', { class: 'header-actions' }, newBtn)));
  const readOnlyNote = h('p', { class: 'notice notice-info', 'data-read-only': '', text: 'This client may read tariffs but not change them.' });
  const box = h('div', { class: 'panel', id: 'tariffs' }, loading());
  main.append(
    h('p', { class: 'muted', text: 'A session is priced by the tariff in force when it started: its device’s, else its site’s, else the whole fleet’s. Times of day are the site’s local time.' }),
    readOnlyNote, box);

  let sites = [];
  let operators = [];
  const deviceNames = new Map();
  let readOnly = tabStore.get(READ_ONLY, false);

  // The API is the only judge of roles: a 403 on a change means this client
  // reads only, so the tab stops offering changes.
  function showRole() {
    newBtn.hidden = readOnly;
    readOnlyNote.hidden = !readOnly;
  }
  async function write(path, options) {
    try {
      return await api(path, options);
    } catch (err) {
      if (err.status === 403 && !readOnly) {
        readOnly = true;
        tabStore.set(READ_ONLY, true);
        showRole();
        load();
      }
      throw err;
    }
  }
  showRole();

  function scopeCell(t) {
    if (t.device_id) return ['Device ', link(`#/devices/${t.device_id}`, deviceNames.get(t.device_id) || t.device_id.slice(0, 8))];
    if (t.site_id) {
      const s = sites.find((x) => x.site_id === t.site_id);
      return ['Site ', link(`#/sites/${t.site_id}`, s ? s.name : t.site_id.slice(0, 8))];
    }
    return 'Whole fleet';
  }

  let latest = 0;
  async function load() {
    const mine = ++latest;
    let items;
    try {
      const [tariffs, sitePage, devicePage, ops] = await Promise.all([
        allTariffs(),
        api('/v1/sites', { query: { size: 100 } }),
        api('/v1/devices', { query: { size: 100 } }).catch(() => ({ items: [] })),
        api('/v1/operators').catch(() => []),
      ]);
      items = tariffs;
      sites = sitePage.items;
      devicePage.items.forEach((d) => deviceNames.set(d.device_id, d.sn));
      operators = Array.isArray(ops) ? ops : ops.items || [];
    } catch (err) {
      if (mine === latest) replace(box, failure('Tariffs', err));
      return;
    }
    if (mine !== latest) return;
    newBtn.disabled = false;
    const columns = [
      // `version` is in the contract but not every deployment sends it.
      { label: 'Tariff', value: (t) => [h('strong', { text: t.name }), t.version && h('div', { class: 'muted small', text: `version ${t.version}` })] },
      { label: 'Applies to', value: scopeCell },
      { label: 'State', value: (t) => badge(tariffState(t)) },
      { label: 'Valid', value: validityText },
      { label: 'Currency', value: (t) => t.currency },
      { label: 'VAT', value: (t) => vatText(t.vat_percent), class: 'num' },
      {
        label: 'Elements',
        value: (t) => h('ol', { class: 'elements' }, t.elements.map((e) => h('li', { text: elementText(e, t.currency) }))),
      },
      { label: 'Updated', value: (t) => fmtTime(t.updated_at) },
    ];
    if (!readOnly) {
      columns.push({
        label: 'Actions',
        value: (t) => h('div', { class: 'row-actions', 'data-tariff': t.tariff_id },
          h('button', { type: 'button', class: 'btn btn-small', 'data-key': `edit-${t.tariff_id}`, 'aria-label': `Edit ${t.name}`, onclick: () => openEdit(t), text: 'Edit…' }),
          h('button', { type: 'button', class: 'btn btn-small', 'data-key': `delete-${t.tariff_id}`, 'aria-label': `Delete ${t.name}`, onclick: () => openDelete(t), text: 'Delete…' })),
      });
    }
    replace(box, table('Tariffs', columns, items, 'No tariffs yet: sessions are not priced.', { cards: true }));
    box.querySelectorAll('tbody tr').forEach((tr, i) => { tr.dataset.tariffId = items[i].tariff_id; });
    box.dataset.total = String(items.length);
  }

  function openDelete(t) {
    dialogForm({
      title: `Delete ${t.name}?`,
      intro: 'Records already priced keep their price. Sessions that start from now on are priced by whichever other tariff applies, or not at all.',
      confirmLabel: 'Delete tariff',
      danger: true,
      submit: async () => {
        await write(`/v1/tariffs/${encodeURIComponent(t.tariff_id)}`, { method: 'DELETE' });
        announce(`${t.name} deleted.`);
        load();
      },
    });
  }

  function openEdit(t) {
    const editors = [];
    const elementsBox = h('div', { class: 'stack' });
    const addBtn = h('button', { type: 'button', class: 'btn btn-small', text: 'Add element', onclick: () => addElement(null, true) });
    function renumber() {
      editors.forEach((e, i) => e.number(i + 1, editors.length > 1));
      addBtn.disabled = editors.length >= 20;
    }
    function addElement(element, focus) {
      const editor = elementEditor(element, () => {
        editors.splice(editors.indexOf(editor), 1);
        editor.el.remove();
        renumber();
      });
      editors.push(editor);
      elementsBox.append(editor.el);
      renumber();
      if (focus) editor.el.querySelector('input').focus();
    }
    (t ? t.elements : [null]).forEach((e) => addElement(e, false));

    const scopeValue = t ? (t.device_id ? 'device' : t.site_id ? `site:${t.site_id}` : 'fleet') : 'fleet';
    const scope = select('scope', [['fleet', 'The whole fleet'],
      ...sites.map((s) => [`site:${s.site_id}`, `Site: ${s.name}`]), ['device', 'One device (by id)']], scopeValue);
    const deviceId = h('input', { name: 'device_id', autocomplete: 'off', spellcheck: false, value: t && t.device_id ? t.device_id : '' });
    const deviceField = field('Device id', deviceId, 'As shown on the device’s page.');
    const operator = operators.length > 1 && !t
      ? select('operator_id', operators.map((o) => [o.id, o.name || o.id])) : null;
    const operatorField = operator && field('Operator', operator, 'Whose fleet or device: a site’s tariff belongs to the site’s operator.');
    const showScope = () => {
      deviceField.hidden = scope.value !== 'device';
      if (operatorField) operatorField.hidden = scope.value.startsWith('site:');
    };
    scope.addEventListener('change', showScope);
    showScope();

    const inputs = {
      name: h('input', { name: 'name', required: true, maxlength: '64', value: t ? t.name : '' }),
      currency: h('input', { name: 'currency', required: true, maxlength: '3', size: '4', autocomplete: 'off', value: t ? t.currency : '', placeholder: 'GBP' }),
      vat_percent: h('input', { name: 'vat_percent', type: 'number', step: 'any', value: t ? text(t.vat_percent) : '0' }),
      valid_from: h('input', { name: 'valid_from', type: 'datetime-local', value: t ? toLocalInput(t.valid_from) : '' }),
      valid_to: h('input', { name: 'valid_to', type: 'datetime-local', value: t ? toLocalInput(t.valid_to) : '' }),
    };
    const form = () => inputs.name.form;

    dialogForm({
      title: t ? `Edit ${t.name}${t.version ? ` (becomes version ${t.version + 1})` : ''}` : 'New tariff',
      intro: 'Prices exclude VAT. In each part of a session the first element whose restrictions hold prices it, so put restricted elements (peak hours, say) before a general one. Leave a price empty to leave it out.',
      wide: true,
      fields: [
        h('div', { class: 'form-grid' },
          field('Name', inputs.name),
          field('Currency', inputs.currency, 'ISO 4217, e.g. GBP or EUR.'),
          field('VAT (%)', inputs.vat_percent),
          field('Applies to', scope),
          deviceField,
          operatorField,
          field('Valid from', inputs.valid_from, 'Empty: since always.'),
          field('Valid until', inputs.valid_to, 'Empty: open-ended.')),
        elementsBox,
        h('div', {}, addBtn),
      ],
      confirmLabel: t ? 'Save tariff' : 'Create tariff',
      submit: async () => {
        const f = formValues(form());
        const paths = new Map([['name', inputs.name], ['currency', inputs.currency], ['vat_percent', inputs.vat_percent],
          ['valid_from', inputs.valid_from], ['valid_to', inputs.valid_to], ['device_id', deviceId], ['site_id', scope]]);
        const body = {
          name: f.name.trim(),
          currency: f.currency.trim().toUpperCase(),
          vat_percent: num(f.vat_percent),
          elements: editors.map((e, i) => e.read(`elements[${i}]`, paths)),
          site_id: scope.value.startsWith('site:') ? scope.value.slice(5) : null,
          device_id: scope.value === 'device' ? f.device_id.trim() || null : null,
          valid_from: toIso(f.valid_from),
          valid_to: toIso(f.valid_to),
        };
        if (body.site_id) body.operator_id = (sites.find((s) => s.site_id === body.site_id) || {}).operator_id;
        else if (operator) body.operator_id = operator.value;
        markInvalid(form(), paths, []);
        let saved;
        try {
          saved = t
            ? await write(`/v1/tariffs/${encodeURIComponent(t.tariff_id)}`, { method: 'PUT', body })
            : await write('/v1/tariffs', { method: 'POST', body });
        } catch (err) {
          markInvalid(form(), paths, err.errors || []);
          throw err;
        }
        announce(t ? `${saved.name} saved${saved.version ? ` as version ${saved.version}` : ''}.` : `${saved.name} created.`);
        load();
      },
    });
  }

  load();
}

// One element's fieldset: a price and step size per dimension, and its
// optional restrictions.
let editorSeq = 0;
function elementEditor(element, onRemove) {
  const seq = ++editorSeq;
  const comps = new Map(((element && element.price_components) || []).map((c) => [c.type, c]));
  const r = (element && element.restrictions) || {};
  const legend = h('legend');
  const removeBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: onRemove, text: 'Remove' });
  const rows = TYPES.map((spec) => {
    const c = comps.get(spec.type);
    const id = `el${seq}-${spec.type.toLowerCase()}`;
    const price = h('input', { id, type: 'number', step: 'any', inputmode: 'decimal', 'data-type': spec.type, value: c ? text(c.price) : '' });
    const step = spec.step
      ? h('input', {
        type: 'number', step: '1', placeholder: `1 ${spec.step}`, 'aria-label': `${spec.label} step size (${spec.step})`,
        value: c && c.step_size && c.step_size !== 1 ? text(c.step_size) : '',
      })
      : h('span', { class: 'muted small', text: '—' });
    return { spec, price, step, label: h('label', { for: id, text: `${spec.label}, ${spec.per}` }) };
  });
  const input = (type, value, extra = {}) => h('input', { type, value: text(value), ...extra });
  const minutes = (s) => (s === undefined || s === null ? '' : s / 60);
  const limits = {
    start_time: input('time', r.start_time),
    end_time: input('time', r.end_time),
    start_date: input('date', r.start_date),
    end_date: input('date', r.end_date),
    min_kwh: input('number', r.min_kwh, { step: 'any' }),
    max_kwh: input('number', r.max_kwh, { step: 'any' }),
    min_duration: input('number', minutes(r.min_duration), { step: 'any' }),
    max_duration: input('number', minutes(r.max_duration), { step: 'any' }),
  };
  const days = DAYS.map((d) => h('input', { type: 'checkbox', value: d, checked: (r.day_of_week || []).includes(d) }));
  const restricted = Object.keys(r).some((k) => r[k] !== null && r[k] !== undefined);
  const el = h('fieldset', { class: 'element' },
    legend,
    h('div', { class: 'components' },
      h('span', { class: 'col-head', text: 'Dimension' }), h('span', { class: 'col-head', text: 'Price' }), h('span', { class: 'col-head', text: 'Step size' }),
      rows.map((row) => [row.label, row.price, row.step])),
    h('details', { class: 'restrictions', open: restricted },
      h('summary', { text: 'Restrictions (optional)' }),
      h('div', { class: 'form-grid' },
        field('Start time', limits.start_time, 'Site’s local time.'),
        field('End time', limits.end_time, 'Before the start: past midnight.'),
        field('Start date', limits.start_date),
        field('End date', limits.end_date, 'Exclusive.'),
        field('Minimum energy (kWh)', limits.min_kwh),
        field('Maximum energy (kWh)', limits.max_kwh),
        field('Minimum duration (minutes)', limits.min_duration),
        field('Maximum duration (minutes)', limits.max_duration)),
      h('fieldset', { class: 'days' }, h('legend', { text: 'Days of the week (none: every day)' }),
        days.map((box) => h('label', {}, box, ` ${titleCase(box.value)}`)))),
    h('div', {}, removeBtn));

  return {
    el,
    number(n, removable) {
      legend.textContent = `Element ${n}`;
      removeBtn.hidden = !removable;
      removeBtn.setAttribute('aria-label', `Remove element ${n}`);
    },
    // The element as the API takes it; `paths` learns which input each of
    // its fields came from.
    read(prefix, paths) {
      const components = [];
      for (const row of rows) {
        if (row.price.value.trim() === '') continue;
        const at = `${prefix}.price_components[${components.length}]`;
        const c = { type: row.spec.type, price: Number(row.price.value) };
        if (row.spec.step && row.step.value.trim() !== '') c.step_size = Number(row.step.value);
        components.push(c);
        paths.set(at, row.price);
        if (row.spec.step) paths.set(`${at}.step_size`, row.step);
      }
      paths.set(`${prefix}.price_components`, rows[0].price);
      const restrictions = {};
      for (const [k, inp] of Object.entries(limits)) {
        paths.set(`${prefix}.restrictions.${k}`, inp);
        if (inp.value.trim() === '') continue;
        const v = inp.value.trim();
        if (k.endsWith('_duration')) restrictions[k] = Math.round(Number(v) * 60);
        else if (k.endsWith('_kwh')) restrictions[k] = Number(v);
        else restrictions[k] = v;
      }
      const chosen = days.filter((d) => d.checked).map((d) => d.value);
      paths.set(`${prefix}.restrictions.day_of_week`, days[0]);
      if (chosen.length) restrictions.day_of_week = chosen;
      const out = { price_components: components };
      if (Object.keys(restrictions).length) out.restrictions = restrictions;
      return out;
    },
  };
}
