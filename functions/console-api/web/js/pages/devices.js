// All devices, filtered by site, status and model.

import { api } from '../api.js';
import {
  h, replace, refresh, pageHeader, table, link, badge, loading, failure, pager, poll, field, select, fmtAgo,
  fmtTime,
} from '../ui.js';
import { connectorSummary } from './site.js';

export function render(main) {
  main.append(pageHeader('Devices'));
  const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter devices' });
  const box = h('div', { class: 'panel' }, loading());
  main.append(filters, box);
  const query = { page: 1, size: 20 };
  const siteNames = new Map();

  async function drawFilters() {
    const [sites, models] = await Promise.all([api('/v1/sites', { query: { size: 100 } }), api('/v1/models')]);
    sites.items.forEach((s) => siteNames.set(s.site_id, s.name));
    const siteSel = select('site_id', [['', 'All sites'], ...sites.items.map((s) => [s.site_id, s.name])]);
    const statusSel = select('status', [['', 'Any status'], ['online', 'Online'], ['offline', 'Offline'], ['fault', 'Fault']]);
    const modelSel = select('model', [['', 'All models'], ...models.items.filter((m) => m.devices > 0).map((m) => [m.model, `${m.model} (${m.devices})`])]);
    replace(filters, field('Site', siteSel), field('Status', statusSel), field('Model', modelSel));
    filters.addEventListener('change', () => {
      Object.assign(query, { site_id: siteSel.value, status: statusSel.value, model: modelSel.value, page: 1 });
      load().catch((err) => replace(box, failure('Devices', err)));
    });
  }

  async function load() {
    const data = await api('/v1/devices', { query });
    refresh(box,
      table('Devices', [
        { label: 'Serial number', value: (d) => link(`#/devices/${d.device_id}`, d.sn) },
        { label: 'Model', value: (d) => `${d.manufacturer} ${d.model}` },
        { label: 'Status', value: (d) => badge(d.status) },
        { label: 'Connectors', value: (d) => connectorSummary(d.connectors) },
        { label: 'Site', value: (d) => (d.site_id ? link(`#/sites/${d.site_id}`, siteNames.get(d.site_id) || d.site_id.slice(0, 8)) : '—') },
        { label: 'Last seen', value: (d) => h('span', { title: fmtTime(d.last_seen), text: fmtAgo(d.last_seen) }) },
        { label: 'Firmware', value: (d) => d.firmware_version },
      ], data.items, 'No devices match.'),
      data.total > data.size && pager(data, (p) => { query.page = p; load(); }, 'devices'));
  }

  // Site names come with the filters: draw the list once they are known.
  drawFilters()
    .catch(() => filters.replaceChildren())
    .finally(() => load().catch((err) => replace(box, failure('Devices', err))));
  return poll(load, 10000);
}
