// Charging records: filters and paging kept in the address (so a view can be
// shared or reloaded), and a CSV export of every record the filters match.

import { api } from '../api.js';
import { csvLine } from '../csv.js';
import {
  h, replace, pageHeader, table, link, loading, failure, pager, field, select, announce, errorNotice, kWh,
  kW, fmtTime, fmtMoney, fmtDuration, badge,
} from '../ui.js';
import { vatText } from './tariffs.js';

const SIZES = [5, 10, 20, 50, 100];
const EXPORT_LIMIT = 10000;
const CSV_COLUMNS = ['record_id', 'device_id', 'serial_number', 'site_id', 'connector_id', 'start_time', 'end_time',
  'energy_kwh', 'max_power_kw', 'cost', 'currency', 'stop_reason'];

// datetime-local values are in the browser's zone; the API wants RFC 3339.
const toIso = (local) => (local ? new Date(local).toISOString() : undefined);
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

export function render(main, query) {
  const state = {
    site_id: query.get('site_id') || '',
    device_id: query.get('device_id') || '',
    from: query.get('from') || '',
    to: query.get('to') || '',
    page: Number(query.get('page')) || 1,
    size: SIZES.includes(Number(query.get('size'))) ? Number(query.get('size')) : 20,
  };
  const exportBtn = h('button', { type: 'button', class: 'btn', id: 'export-csv', text: 'Export CSV' });
  main.append(pageHeader('Charging records', h('div', { class: 'header-actions' }, exportBtn)));
  const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter records' });
  const exportStatus = h('div', { 'aria-live': 'polite' });
  const box = h('div', { class: 'panel' }, loading());
  main.append(filters, exportStatus, box);
  const deviceNames = new Map();

  const filterQuery = () => ({ site_id: state.site_id, device_id: state.device_id, from: state.from, to: state.to });

  function remember() {
    const q = new URLSearchParams(Object.entries(state).filter(([, v]) => v !== '' && v !== undefined));
    history.replaceState(null, '', `#/records?${q}`);
  }

  async function drawFilters() {
    const [sites, devices] = await Promise.all([api('/v1/sites', { query: { size: 100 } }), api('/v1/devices', { query: { size: 100 } })]);
    devices.items.forEach((d) => deviceNames.set(d.device_id, d.sn));
    const siteSel = select('site_id', [['', 'All sites'], ...sites.items.map((s) => [s.site_id, s.name])], state.site_id);
    const deviceSel = select('device_id', [['', 'All devices'], ...devices.items.map((d) => [d.device_id, d.sn])], state.device_id);
    const from = h('input', { type: 'datetime-local', name: 'from', value: toLocalInput(state.from) });
    const to = h('input', { type: 'datetime-local', name: 'to', value: toLocalInput(state.to) });
    const size = select('size', SIZES.map((n) => [n, `${n} per page`]), state.size);
    replace(filters,
      field('Site', siteSel), field('Device', deviceSel),
      field('Started from', from), field('Started until', to), field('Page size', size),
      h('div', { class: 'field field-button' },
        h('button', { type: 'submit', class: 'btn btn-primary', text: 'Apply' }),
        h('button', { type: 'reset', class: 'btn', text: 'Clear' })));
    const apply = () => {
      Object.assign(state, {
        site_id: siteSel.value, device_id: deviceSel.value, from: toIso(from.value), to: toIso(to.value), size: Number(size.value), page: 1,
      });
      load();
    };
    filters.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
    size.addEventListener('change', apply);
    filters.addEventListener('reset', () => setTimeout(apply));
  }

  // The cost, and for a priced record a button that opens its breakdown in
  // a row of its own below, so the table keeps one line per record.
  function costCell(r) {
    const cost = fmtMoney(r.cost, r.currency);
    if (!r.price) return [cost, h('div', { class: 'muted small', text: 'not priced' })];
    const id = `price-${r.record_id}`;
    const btn = h('button', {
      type: 'button', class: 'btn btn-small', 'aria-expanded': 'false', 'aria-controls': id, text: 'Breakdown',
      'aria-label': `Price breakdown of the session on ${deviceNames.get(r.device_id) || r.device_id.slice(0, 8)} started ${fmtTime(r.start_time)}`,
    });
    btn.addEventListener('click', () => {
      const tr = btn.closest('tr');
      const open = document.getElementById(id);
      if (open) open.remove();
      else tr.after(breakdownRow(r, id, tr.cells.length));
      btn.setAttribute('aria-expanded', String(!open));
    });
    return [cost, ' ', btn];
  }

  function breakdownRow(r, id, span) {
    const p = r.price;
    const money = (v) => fmtMoney(v, p.currency, 4);
    const pair = (term, value) => h('div', {}, h('dt', { text: term }), h('dd', { text: value }));
    return h('tr', { class: 'record-details', id, 'data-breakdown': r.record_id },
      h('td', { colspan: String(span) },
        h('dl', { class: 'breakdown' },
          pair('Energy', money(p.energy)),
          pair('Charging time', money(p.time)),
          pair('Parking time', money(p.parking_time)),
          pair('Flat fee', money(p.flat)),
          pair('Excl. VAT', fmtMoney(p.excl_vat, p.currency)),
          pair(`VAT ${vatText(p.vat_percent)}`, fmtMoney(Math.round((p.incl_vat - p.excl_vat) * 100) / 100, p.currency)),
          pair('Incl. VAT', fmtMoney(p.incl_vat, p.currency)),
          pair('Currency', p.currency),
          pair('Parked', fmtDuration(r.parking_time_s)),
          h('div', {}, h('dt', { text: 'Tariff' }), h('dd', {}, link('#/tariffs', p.tariff_id.slice(0, 8)))))));
  }

  // Only the latest load is drawn: an earlier one answered late (the page
  // before a new page size, say) would show what is no longer asked for.
  let latest = 0;
  async function load() {
    remember();
    const mine = ++latest;
    try {
      const data = await api('/v1/charging-records', { query: { ...filterQuery(), page: state.page, size: state.size } });
      if (mine !== latest) return;
      replace(box,
        table('Charging records', [
          { label: 'Started', value: (r) => fmtTime(r.start_time) },
          { label: 'Duration', value: (r) => fmtDuration((Date.parse(r.end_time) - Date.parse(r.start_time)) / 1000) },
          { label: 'Device', value: (r) => link(`#/devices/${r.device_id}`, deviceNames.get(r.device_id) || r.device_id.slice(0, 8)) },
          { label: 'Connector', value: (r) => `#${r.connector_id}` },
          { label: 'Energy', value: (r) => kWh(r.energy), class: 'num' },
          { label: 'Max power', value: (r) => kW(r.max_power), class: 'num' },
          { label: 'Parked', value: (r) => fmtDuration(r.parking_time_s), class: 'num' },
          { label: 'Cost', value: costCell, class: 'num' },
          { label: 'Stop reason', value: (r) => (r.stop_reason || '—').replace(/_/g, ' ') },
          // A session on a refused token is kept and shown, not counted in revenue.
          { label: 'Token', value: (r) => (r.authorization && r.authorization !== 'accepted' ? badge(r.authorization) : '—') },
        ], data.items, 'No charging records match these filters.'),
        pager(data, (p) => { state.page = p; load(); }, 'records'));
      box.querySelectorAll('tbody tr').forEach((tr, i) => { tr.dataset.recordId = data.items[i].record_id; });
      box.dataset.total = String(data.total);
    } catch (err) {
      if (mine === latest) replace(box, failure('Charging records', err));
    }
  }

  async function exportCsv() {
    exportBtn.disabled = true;
    try {
      const rows = [];
      for (let page = 1; rows.length < EXPORT_LIMIT; page += 1) {
        const data = await api('/v1/charging-records', { query: { ...filterQuery(), page, size: 100 } });
        rows.push(...data.items);
        replace(exportStatus, h('p', { class: 'muted', text: `Exporting… ${rows.length} of ${data.total} records` }));
        if (data.items.length < 100 || rows.length >= data.total) break;
      }
      const lines = [csvLine(CSV_COLUMNS)];
      for (const r of rows) {
        lines.push(csvLine([r.record_id, r.device_id, deviceNames.get(r.device_id) || '', r.site_id, r.connector_id,
          r.start_time, r.end_time, r.energy, r.max_power, r.cost, r.currency, r.stop_reason]));
      }
      const blob = new Blob([`${lines.join('\r\n')}\r\n`], { type: 'text/csv' });
      const url = URL.createObjectURL(blob);
      const stamp = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
      const a = h('a', { href: url, download: `charging-records-${stamp}.csv` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      exportStatus.replaceChildren();
      announce(`Exported ${rows.length} records as CSV (times in UTC).`);
    } catch (err) {
      replace(exportStatus, errorNotice(err));
    } finally {
      exportBtn.disabled = false;
    }
  }

  exportBtn.addEventListener('click', exportCsv);
  drawFilters().catch(() => filters.replaceChildren()).finally(load);
}
