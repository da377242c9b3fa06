// One site: where it is and the tariff its sessions are priced by, its
// devices with live connectors (refreshed every few seconds), its load
// management, a flexibility cap, and its energy over the last 7 days.

import { api } from '../api.js';
import {
  h, replace, refresh, pageHeader, section, stat, table, link, badge, loading, failure, field, poll, announce,
  dialogForm, formValues, markInvalid, num, kW, pct, fmtAgo, fmtTime,
} from '../ui.js';
import { energyChart, energyChartData, powerChart } from '../chart.js';
import { hourRange } from './overview.js';
import { statusSummary } from './sites.js';
import { allTariffs, elementText, tariffState, validityText, vatText } from './tariffs.js';

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
  const detailsBox = h('div', { id: 'site-details' }, loading());
  const chartHolder = h('div', { id: 'energy-chart' });
  const loadBox = h('div', { id: 'load-management' }, loading());
  const powerHolder = h('div', { id: 'load-chart' });
  main.append(header, stats,
    section('Location and tariff', detailsBox),
    section('Devices and live connectors', devicesBox, h('p', { class: 'muted small', text: 'Refreshed every 5 seconds.' })),
    section('Load management', loadBox, h('h3', { text: 'Power against capacity, last 24 hours' }), powerHolder),
    section('Flexibility cap', capBox),
    section('Energy, last 7 days', chartHolder));

  let site = null;
  let chart = null;
  let power = null;
  let energy = null;
  let lastAllocation = null;
  let tariff = { scope: 'loading' };
  let drawnDetails = '';

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
    drawDetails();
    drawLoad();
    drawPower();
  }

  // The site's own tariff in force, else its operator's fleet-wide one.
  async function loadTariff() {
    try {
      const now = Date.now();
      const own = await allTariffs({ site_id: siteId });
      const mine = own.find((t) => tariffState(t, now) === 'in_force');
      if (mine) {
        tariff = { scope: 'site', t: mine };
      } else {
        const fleet = (await allTariffs()).filter((t) => !t.site_id && !t.device_id && t.operator_id === site.operator_id);
        const wide = fleet.find((t) => tariffState(t, now) === 'in_force');
        tariff = wide ? { scope: 'operator', t: wide } : { scope: 'none', others: own.length };
      }
    } catch (err) {
      tariff = { scope: 'error', err };
    }
    drawDetails();
  }

  function tariffFacts() {
    if (tariff.scope === 'loading') return h('span', { class: 'muted', text: 'Loading…' });
    if (tariff.scope === 'error') return failure('Tariffs', tariff.err);
    if (tariff.scope === 'none') {
      return h('span', {
        text: `None in force: sessions here are not priced.${tariff.others ? ` (This site has ${tariff.others} scheduled or ended.)` : ''}`,
      });
    }
    const { t } = tariff;
    return [
      h('div', {}, link('#/tariffs', t.name), ' · ',
        tariff.scope === 'site' ? 'this site’s tariff' : h('strong', { text: 'operator-wide tariff' }),
        tariff.scope === 'operator' ? ' (the site has none of its own in force)' : ''),
      h('div', { class: 'muted small', text: `${t.currency}, VAT ${vatText(t.vat_percent)}, valid ${validityText(t)}` }),
      h('ol', { class: 'elements' }, t.elements.map((e) => h('li', { text: elementText(e, t.currency) }))),
    ];
  }

  // Drawn when something in it changed, not on every poll.
  function drawDetails() {
    if (!site) return;
    const key = JSON.stringify([site.city, site.country, site.time_zone, tariff.scope, tariff.t && tariff.t.tariff_id, tariff.t && tariff.t.version]);
    if (key === drawnDetails) return;
    drawnDetails = key;
    refresh(detailsBox,
      h('dl', { class: 'facts' },
        h('dt', { text: 'City' }), h('dd', { 'data-city': '', text: site.city || '—' }),
        h('dt', { text: 'Country' }), h('dd', { 'data-country': '', text: site.country || '—' }),
        h('dt', { text: 'Time zone' }), h('dd', {},
          h('span', { 'data-time-zone': '', text: site.time_zone || 'UTC' }),
          h('span', { class: 'muted small', text: ' · tariffs’ times of day are read in it' })),
        h('dt', { text: 'Tariff' }), h('dd', { 'data-tariff-scope': tariff.scope }, tariffFacts())),
      h('button', { type: 'button', class: 'btn', 'data-key': 'edit-site', onclick: openDetails, text: 'Edit details…' }));
  }

  function openDetails() {
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    const city = h('input', { name: 'city', maxlength: '128', value: site.city || '' });
    const country = h('input', { name: 'country', maxlength: '3', size: '4', autocomplete: 'off', value: site.country || '' });
    const zone = h('input', { name: 'time_zone', list: 'time-zones', autocomplete: 'off', spellcheck: false, value: site.time_zone || 'UTC' });
    dialogForm({
      title: `Details of ${site.name}`,
      intro: 'The time zone is the one tariffs’ times of day and days of the week are read in. A field left empty stays as it is.',
      fields: [
        field('City', city),
        field('Country', country, 'ISO 3166-1 alpha-3, e.g. GBR, DEU, FRA.'),
        field('Time zone', zone, 'IANA, e.g. Europe/London.'),
        h('datalist', { id: 'time-zones' }, ['UTC', ...zones.filter((z) => z !== 'UTC')].map((z) => h('option', { value: z }))),
      ],
      confirmLabel: 'Save details',
      submit: async (form) => {
        const f = formValues(form);
        const body = {};
        if (f.city.trim()) body.city = f.city.trim();
        if (f.country.trim()) body.country = f.country.trim().toUpperCase();
        if (f.time_zone.trim()) body.time_zone = f.time_zone.trim();
        await api(`/v1/sites/${encodeURIComponent(siteId)}`, { method: 'PATCH', body });
        announce(`Details of ${site.name} saved.`);
        await load().catch(() => {}); // the next poll tries again
      },
    });
  }

  // What the sharing works with: the stored settings, else the site's
  // connection with nothing kept back.
  function loadSettings() {
    const lm = site.load_management;
    return lm || { enabled: false, capacity_kw: site.power_capacity, min_session_kw: 1.4, reserve_kw: 0, allocated_kw: 0, connectors: [] };
  }

  function drawLoad() {
    const lm = site.load_management;
    const s = loadSettings();
    const state = !lm ? 'unset' : lm.enabled ? 'on' : 'off';
    const sn = (id) => (site.devices.find((d) => d.device_id === id) || { sn: String(id).slice(0, 8) }).sn;
    const rows = s.connectors;
    const shares = table('Power limit and draw of each connector in a session', [
      { label: 'Device', value: (r) => link(`#/devices/${r.device_id}`, sn(r.device_id)) },
      { label: 'Connector', value: (r) => `#${r.connector_id}` },
      { label: 'Limit', value: (r) => kW(r.limit_kw), class: 'num' },
      { label: 'Draw', value: (r) => kW(r.power), class: 'num' },
    ], rows, s.enabled ? 'No sessions right now: nothing is shared out.' : 'Nothing is shared out while it is off.');
    shares.querySelectorAll('tbody tr').forEach((tr, i) => {
      tr.dataset.deviceId = rows[i].device_id;
      tr.dataset.connectorId = String(rows[i].connector_id);
    });
    refresh(loadBox,
      h('p', { 'data-load-state': state },
        badge(state === 'on' ? 'on' : 'off'), ' ',
        {
          on: 'The capacity less the reserve is shared equally among the sessions, each at most its charger’s rating; the newest wait when not all can have the minimum.',
          off: 'Off: the platform sends no new power limits for this site.',
          unset: 'Not set up: nothing is shared out and no power limits are sent for it.',
        }[state]),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Capacity' }), h('dd', { 'data-capacity': '', text: kW(s.capacity_kw) }),
        h('dt', { text: 'Minimum per session' }), h('dd', { 'data-min-session': '', text: kW(s.min_session_kw) }),
        h('dt', { text: 'Reserve' }), h('dd', { 'data-reserve': '', text: kW(s.reserve_kw) }),
        h('dt', { text: 'Allocated' }), h('dd', { class: 'meter-cell' },
          h('meter', { min: '0', max: String(s.capacity_kw), value: String(s.allocated_kw), 'aria-hidden': 'true' }),
          h('span', { 'data-allocated': '', text: `${kW(s.allocated_kw)} of ${kW(s.capacity_kw)}` })),
        h('dt', { text: 'Power now' }), h('dd', { 'data-power-now': '', text: `${kW(site.current_power)} of ${kW(s.capacity_kw)}` })),
      // Limits are sent without an end, and turning it off sends none to lift them.
      lm && !lm.enabled && rows.length ? h('p', { class: 'muted small', text: 'The limits last shared out; none were sent to lift them:' }) : null,
      shares,
      h('p', {}, h('button', { type: 'button', class: 'btn', 'data-key': 'edit-load', onclick: openLoad, text: 'Edit load management…' })));
  }

  function openLoad() {
    const s = loadSettings();
    const enabled = h('input', { name: 'enabled', type: 'checkbox', checked: s.enabled });
    const number = (name, value) => h('input', { name, type: 'number', min: '0', step: '0.1', inputmode: 'decimal', value: String(value) });
    const capacity = number('capacity_kw', s.capacity_kw);
    const minimum = number('min_session_kw', s.min_session_kw);
    const reserve = number('reserve_kw', s.reserve_kw);
    dialogForm({
      title: `Load management of ${site.name}`,
      intro: 'The capacity less the reserve is shared equally among the site’s sessions and sent to the chargers as power limits. An empty field takes its default.',
      fields: [
        h('div', { class: 'field field-check' }, h('label', {}, enabled, ' Share the capacity among the sessions')),
        field('Capacity (kW)', capacity, `Default: the site’s connection, ${kW(site.power_capacity)}.`),
        field('Minimum per session (kW)', minimum, 'Default 1.4. Sessions that cannot all have it: the newest wait.'),
        field('Reserve (kW)', reserve, 'Kept free for other loads; under the capacity. Default 0.'),
      ],
      confirmLabel: 'Save load management',
      submit: async (form) => {
        const f = formValues(form);
        const body = { enabled: enabled.checked };
        for (const key of ['capacity_kw', 'min_session_kw', 'reserve_kw']) {
          if (num(f[key]) !== undefined) body[key] = num(f[key]);
        }
        const paths = new Map([['load_management.capacity_kw', capacity], ['load_management.min_session_kw', minimum],
          ['load_management.reserve_kw', reserve], ['load_management.enabled', enabled]]);
        markInvalid(form, paths, []);
        try {
          site = await api(`/v1/sites/${encodeURIComponent(siteId)}`, { method: 'PATCH', body: { load_management: body } });
        } catch (err) {
          markInvalid(form, paths, err.errors || []);
          throw err;
        }
        announce(`Load management of ${site.name} ${body.enabled ? 'on' : 'off'} and saved.`);
        drawLoad();
        drawPower();
        await load().catch(() => {}); // the next poll tries again
      },
    });
  }

  // The last 24 hours of the 7-day energy read, against the capacity.
  function drawPower() {
    if (!site || !energy) return;
    const s = loadSettings();
    const series = energy.slice(-24);
    const shared = s.enabled && s.reserve_kw > 0 ? s.capacity_kw - s.reserve_kw : null;
    if (power) power.update(series, s.capacity_kw, shared);
    else power = powerChart(powerHolder, series, s.capacity_kw, shared, `Power of ${site.name}`);
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
    energy = e.series;
    drawPower();
  }

  load().then(() => {
    drawCap();
    loadTariff();
  }).catch((err) => {
    replace(stats, failure('This site', err));
    devicesBox.replaceChildren();
    detailsBox.replaceChildren();
    loadBox.replaceChildren();
  });
  loadChart().catch((err) => {
    replace(chartHolder, failure('Energy', err));
    replace(powerHolder, failure('Power', err));
  });
  const stops = [poll(load, 5000), poll(loadChart, 60000)];
  return () => {
    stops.forEach((stop) => stop());
    if (chart) chart.destroy();
    if (power) power.destroy();
  };
}
