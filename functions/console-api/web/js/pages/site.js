// One site: its devices with live connectors (refreshed every few seconds),
// a flexibility cap, and its energy over the last 7 days.

import { api } from '../api.js';
import {
  h, replace, refresh, pageHeader, section, stat, table, link, badge, loading, failure, field, poll, announce,
  dialogForm, formValues, num, kW, pct, fmtAgo, fmtTime,
} from '../ui.js';
import { energyChart, energyChartData } from '../chart.js';
import { hourRange } from './overview.js';
import { statusSummary } from './sites.js';

export function connectorSummary(connectors) {
  if (!connectors.length) return h('span', { class: 'muted', text: 'no reports yet' });
  return h('ul', { class: 'plain' }, connectors.map((c) => h('li', {},
    `#${c.connector_id} `, badge(c.status),
    c.power ? ` ${kW(c.power)}` : '',
    c.soc !== null && c.soc !== undefined && ['charging', 'discharging', 'suspended'].includes(c.status) ? ` · SoC ${pct(c.soc)}` : '')));
}

export function render(main, siteId) {
  const header = pageHeader('Site');
  const stats = h('div', { class: 'stats' }, loading());
  const devicesBox = h('div', {}, loading());
  const capBox = h('div', {});
  const chartHolder = h('div', { id: 'energy-chart' });
  main.append(header, stats,
    section('Devices and live connectors', devicesBox, h('p', { class: 'muted small', text: 'Refreshed every 5 seconds.' })),
    section('Flexibility cap', capBox),
    section('Energy, last 7 days', chartHolder));

  let site = null;
  let chart = null;
  let lastAllocation = null;

  async function load() {
    site = await api(`/v1/sites/${encodeURIComponent(siteId)}`);
    header.querySelector('h1').textContent = site.name;
    document.title = `${site.name} · chargenet console`;
    if (!header.querySelector('.subtitle')) {
      header.append(h('p', { class: 'subtitle muted', text: [site.address, site.postcode, site.operator_id].filter(Boolean).join(' · ') }));
    }
    replace(stats,
      stat('Power now', kW(site.current_power), `of ${kW(site.power_capacity)} capacity`),
      stat('Utilisation', pct(site.utilisation_percentage, 1)),
      stat('Devices', String(site.devices.length)),
      stat('Connectors', String(site.total_connectors)),
      h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: 'Live status' }), statusSummary(site.status_summary)));
    refresh(devicesBox, table('Devices of the site', [
      { label: 'Device', value: (d) => link(`#/devices/${d.device_id}`, d.sn) },
      { label: 'Model', value: (d) => d.model },
      { label: 'Status', value: (d) => badge(d.status) },
      { label: 'Connectors', value: (d) => connectorSummary(d.connectors) },
      { label: 'Last seen', value: (d) => h('span', { title: fmtTime(d.last_seen), text: fmtAgo(d.last_seen) }) },
      { label: 'Firmware', value: (d) => d.firmware_version },
    ], site.devices, 'No devices in this site.'));
  }

  function drawCap() {
    replace(capBox,
      h('p', { text: 'Cap the load of the whole site for a while. The cap is shared across its active connectors as power limits.' }),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: openCap, text: 'Set a cap…' }),
      lastAllocation);
  }

  function openCap() {
    const limit = h('input', { name: 'limit_kw', type: 'number', min: '0', step: '0.1', required: true, value: site ? String(site.power_capacity) : '' });
    const minutes = h('input', { name: 'minutes', type: 'number', min: '1', step: '1', required: true, value: '60' });
    dialogForm({
      title: `Cap ${site ? site.name : 'the site'}`,
      intro: 'Every active connector of the site gets a power limit so that together they stay under the cap.',
      fields: [field('Cap (kW)', limit), field('For (minutes)', minutes)],
      confirmLabel: 'Apply cap',
      submit: async (form) => {
        const v = formValues(form);
        const alloc = await api('/v1/control/flexibility', {
          method: 'POST', body: { site_id: siteId, limit_kw: num(v.limit_kw), duration_s: Math.round(num(v.minutes) * 60), mode: 'cap' },
        });
        const rows = alloc.flatMap((d) => d.connectors.map((c) => ({ ...c, device_id: d.device_id })));
        const sn = (id) => (site.devices.find((d) => d.device_id === id) || { sn: id }).sn;
        lastAllocation = h('div', { class: 'result' },
          h('h3', { text: `Cap of ${kW(num(v.limit_kw))} applied` }),
          table('Limits queued per connector', [
            { label: 'Device', value: (r) => link(`#/devices/${r.device_id}`, sn(r.device_id)) },
            { label: 'Connector', value: (r) => `#${r.connector_id}` },
            { label: 'State', value: (r) => badge(r.state) },
            { label: 'Power now', value: (r) => kW(r.power), class: 'num' },
            { label: 'Limit', value: (r) => kW(r.limit_kw), class: 'num' },
          ], rows, 'No active connectors right now: nothing needed a limit.'));
        drawCap();
        announce(`Cap of ${kW(num(v.limit_kw))} applied to ${rows.length} connectors.`);
      },
    });
  }

  async function loadChart() {
    const e = await api('/v1/aggregated/energy', { query: { granularity: 'hour', site_id: siteId, ...hourRange(168) } });
    if (chart) chart.update(energyChartData(e.series));
    else chart = energyChart(chartHolder, e.series, 'Site energy, last 7 days');
  }

  load().then(drawCap).catch((err) => {
    replace(stats, failure('This site', err));
    devicesBox.replaceChildren();
  });
  loadChart().catch((err) => replace(chartHolder, failure('Energy', err)));
  const stops = [poll(load, 5000), poll(loadChart, 60000)];
  return () => {
    stops.forEach((stop) => stop());
    if (chart) chart.destroy();
  };
}
