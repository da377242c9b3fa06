// Sites with their live connector status summaries.

import { api } from '../api.js';
import { h, replace, refresh, pageHeader, table, link, loading, failure, pager, poll, kW } from '../ui.js';

const STATES = ['charging', 'discharging', 'idle', 'fault', 'offline'];

// "3 charging · 1 idle" as small badges; states with none are left out.
export function statusSummary(summary) {
  const parts = STATES.filter((s) => summary[s] > 0)
    .map((s) => h('span', { class: `badge badge-${s}`, text: `${summary[s]} ${s}` }));
  return parts.length ? h('span', { class: 'badges' }, parts) : h('span', { class: 'muted', text: 'no connector reports yet' });
}

export function render(main) {
  main.append(pageHeader('Sites'));
  const box = h('div', { class: 'panel' }, loading());
  main.append(box);
  let page = 1;

  async function load() {
    const data = await api('/v1/sites', { query: { page, size: 20 } });
    refresh(box,
      table('Sites', [
        { label: 'Site', value: (s) => link(`#/sites/${s.site_id}`, s.name) },
        { label: 'Address', value: (s) => [s.address, s.postcode].filter(Boolean).join(', ') },
        { label: 'Connectors', value: (s) => String(s.total_connectors), class: 'num' },
        { label: 'Live status', value: (s) => statusSummary(s.status_summary) },
        { label: 'Capacity', value: (s) => kW(s.power_capacity), class: 'num' },
        { label: 'Operator', value: (s) => s.operator_id },
      ], data.items, 'No sites yet. Sites appear when chargers register them.'),
      data.total > data.size && pager(data, (p) => { page = p; load(); }, 'sites'));
  }

  load().catch((err) => replace(box, failure('Sites', err)));
  return poll(load, 10000);
}
