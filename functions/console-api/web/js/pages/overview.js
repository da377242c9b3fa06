// Fleet overview: devices by status, sites, today's energy, a 7-day hourly
// energy chart of the chosen site, and the last 30 days' revenue.

import { api, tabStore } from '../api.js';
import {
  h, replace, refresh, pageHeader, section, stat, table, link, loading, failure, field, select, poll, kWh, kW,
  fmtMoney,
} from '../ui.js';
import { energyChart, energyChartData } from '../chart.js';
import { statusSummary } from './sites.js';

const HOUR = 3600 * 1000;
const DAY = 24 * HOUR;

export function hourRange(hours) {
  const to = Math.floor(Date.now() / HOUR) * HOUR + HOUR;
  return { from: new Date(to - hours * HOUR).toISOString(), to: new Date(to).toISOString() };
}

// Today (UTC, as the API's day buckets) and the 29 days before it.
function last30Days() {
  const today = Math.floor(Date.now() / DAY) * DAY;
  return { from: new Date(today - 29 * DAY).toISOString(), to: new Date().toISOString() };
}

function todayRange() {
  const midnight = new Date();
  midnight.setHours(0, 0, 0, 0);
  const from = Math.floor(midnight.getTime() / HOUR) * HOUR;
  return { from: new Date(from).toISOString(), to: new Date(Math.floor(Date.now() / HOUR) * HOUR + HOUR).toISOString() };
}

export function render(main) {
  main.append(pageHeader('Fleet overview'));
  const stats = h('div', { class: 'stats' }, loading());
  const sitesBox = h('div', {}, loading());
  const chartBox = h('div', {}, loading());
  const revenueBox = h('div', { id: 'revenue' }, loading());
  main.append(stats, section('Energy, last 7 days', chartBox), section('Revenue, last 30 days', revenueBox), section('Sites', sitesBox));

  let siteList = [];
  let chart = null;
  let chartSite = null;

  async function loadStats() {
    const count = (status) => api('/v1/devices', { query: { status, size: 1 } }).then((d) => d.total);
    const [total, online, offline, fault, sitePage] = await Promise.all([
      count(), count('online'), count('offline'), count('fault'), api('/v1/sites', { query: { size: 100 } }),
    ]);
    siteList = sitePage.items;
    const range = todayRange();
    const energies = await Promise.all(siteList.map((s) =>
      api('/v1/aggregated/energy', { query: { granularity: 'hour', site_id: s.site_id, ...range } })));
    const today = energies.reduce((sum, e) => sum + e.total.charge_energy, 0);
    const todayOut = energies.reduce((sum, e) => sum + e.total.discharge_energy, 0);
    const charging = siteList.reduce((n, s) => n + s.status_summary.charging, 0);
    replace(stats,
      stat('Devices', String(total), `${sitePage.total} sites`),
      stat('Online', String(online)),
      stat('Offline', String(offline)),
      stat('Fault', String(fault)),
      stat('Charging now', String(charging), 'connectors'),
      stat('Energy today', kWh(today), todayOut ? `charged; ${kWh(todayOut)} discharged` : 'charged since midnight'));
    stats.dataset.devices = String(total);
    refresh(sitesBox, table('Sites', [
      { label: 'Site', value: (s) => link(`#/sites/${s.site_id}`, s.name) },
      { label: 'Connectors', value: (s) => String(s.total_connectors), class: 'num' },
      { label: 'Status', value: (s) => statusSummary(s.status_summary) },
      { label: 'Capacity', value: (s) => kW(s.power_capacity), class: 'num' },
    ], siteList, 'No sites yet. Sites appear when chargers register them.'));
    if (!chartSite) drawChartPanel();
  }

  function drawChartPanel() {
    if (!siteList.length) {
      replace(chartBox, h('p', { class: 'muted', text: 'No sites yet.' }));
      return;
    }
    const saved = tabStore.get('overview.site');
    chartSite = siteList.some((s) => s.site_id === saved) ? saved : siteList[0].site_id;
    const picker = select('site', siteList.map((s) => [s.site_id, s.name]), chartSite);
    picker.addEventListener('change', () => {
      chartSite = picker.value;
      tabStore.set('overview.site', chartSite);
      loadChart();
    });
    const holder = h('div', { id: 'energy-chart' });
    replace(chartBox, h('div', { class: 'toolbar' }, field('Site', picker)), holder,
      h('p', { class: 'muted small', text: 'Hourly charged and discharged energy; hover for values.' }));
    loadChart();
  }

  async function loadChart() {
    const holder = chartBox.querySelector('#energy-chart');
    try {
      const e = await api('/v1/aggregated/energy', { query: { granularity: 'hour', site_id: chartSite, ...hourRange(168) } });
      if (chart) chart.update(energyChartData(e.series));
      else chart = energyChart(holder, e.series, 'Site energy, last 7 days');
    } catch (err) {
      if (chart) chart.destroy();
      chart = null;
      replace(holder, failure('Energy', err));
    }
  }

  // One row per currency: amounts in different currencies are never added.
  async function loadRevenue() {
    let r;
    try {
      r = await api('/v1/aggregated/revenue', { query: { granularity: 'day', ...last30Days() } });
    } catch (err) {
      replace(revenueBox, failure('Revenue', err));
      return;
    }
    refresh(revenueBox,
      table('Revenue of the last 30 days per currency', [
        { label: 'Currency', value: (t) => t.currency },
        { label: 'Sessions', value: (t) => String(t.sessions), class: 'num' },
        { label: 'Energy', value: (t) => kWh(t.energy), class: 'num' },
        { label: 'Excl. VAT', value: (t) => fmtMoney(t.excl_vat, t.currency), class: 'num' },
        { label: 'Incl. VAT', value: (t) => fmtMoney(t.incl_vat, t.currency), class: 'num' },
      ], r.total, 'No priced sessions yet.'),
      r.total.length > 0 && h('p', { class: 'muted small', text: 'Priced sessions by the day they ended (UTC days); a session without a tariff is not counted.' }));
    revenueBox.querySelectorAll('tbody tr').forEach((tr, i) => { tr.dataset.currency = r.total[i].currency; });
  }

  loadStats().catch((err) => replace(stats, failure('The overview', err)));
  loadRevenue();
  const stops = [poll(loadStats, 15000), poll(() => chartSite && loadChart(), 60000), poll(loadRevenue, 60000)];
  return () => {
    stops.forEach((stop) => stop());
    if (chart) chart.destroy();
  };
}
