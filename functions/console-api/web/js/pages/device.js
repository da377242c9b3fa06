// One device: live connectors, remote commands (start, stop, discharge,
// schedule) behind a confirmation, and the lifecycle of recent commands.

import { api, tabStore, newIdempotencyKey } from '../api.js';
import {
  h, replace, refresh, pageHeader, section, stat, table, link, badge, loading, failure, field, select, poll,
  announce, dialogForm, formValues, num, kW, kWh, volts, amps, pct, fmtAgo, fmtTime, fmtClock,
} from '../ui.js';

const FINAL = ['completed', 'failed', 'rejected', 'expired'];
const LABELS = {
  start_charging: 'Start charging', stop_charging: 'Stop charging', start_discharging: 'Start discharging',
  set_schedule: 'Set schedule', set_power_limit: 'Power limit', update_firmware: 'Update firmware',
  apply_configuration: 'Apply configuration', reboot: 'Reboot',
};
const MAX_COMMANDS = 15;

export function render(main, deviceId) {
  const header = pageHeader('Device');
  const stats = h('div', { class: 'stats' }, loading());
  const connectorsBox = h('div', {}, loading());
  const commandsBox = h('div', { id: 'commands' }, loading());
  const ocppBox = h('div', { id: 'ocpp' });
  const ocppPanel = section('OCPP charge point', ocppBox);
  ocppPanel.hidden = true;
  main.append(header, stats, ocppPanel,
    section('Connectors', connectorsBox, h('p', { class: 'muted small', text: 'Live values, refreshed every 3 seconds.' })),
    section('Recent commands', commandsBox));

  const storeKey = `commands.${deviceId}`;
  const known = new Map(); // command_id -> command detail; final ones are not fetched again
  let device = null;
  let model = null;
  let activityAllowed = true;

  let siteName = '';
  let metaLoaded = false;

  async function loadModel() {
    const models = await api('/v1/models');
    model = models.items.find((m) => m.model === device.model) || null;
    if (device.site_id) siteName = (await api(`/v1/sites/${device.site_id}`)).name;
  }

  async function load() {
    // The device view leaves out connector schedules; the connectors route has them.
    const [d, connectors] = await Promise.all([
      api(`/v1/devices/${encodeURIComponent(deviceId)}`),
      api(`/v1/devices/${encodeURIComponent(deviceId)}/connectors`),
    ]);
    device = { ...d, connectors: connectors.items };
    if (!metaLoaded) {
      metaLoaded = true;
      await loadModel().catch(() => {});
    }
    header.querySelector('h1').textContent = device.sn;
    document.title = `${device.sn} · chargenet console`;
    if (!header.querySelector('.subtitle')) header.append(h('p', { class: 'subtitle muted' }));
    replace(header.querySelector('.subtitle'), `${device.manufacturer} ${device.model}`,
      model && model.max_power_kw ? ` · ${kW(model.max_power_kw)} ${model.current_type || ''}` : '',
      model && model.v2g ? ' · V2G' : '',
      ` · device ${device.device_id}`);
    const fw = device.firmware_update;
    replace(stats,
      h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: 'Status' }), h('div', { class: 'stat-value' }, badge(device.status))),
      stat('Last seen', fmtAgo(device.last_seen), fmtTime(device.last_seen)),
      stat('Firmware', device.firmware_version,
        fw ? `${fw.status} ${fw.firmware_version}${fw.progress !== null && fw.progress !== undefined ? ` (${fw.progress} %)` : ''}` : null),
      h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: 'Site' }),
        h('div', { class: 'stat-value' }, device.site_id ? link(`#/sites/${device.site_id}`, siteName || 'Site') : '—')));
    drawConnectors();
    if (device.charge_point_id) await drawChargePoint();
  }

  // An OCPP charger: its connection, what it said at boot, and what to
  // configure it with; operators may rotate its password (shown once).
  async function drawChargePoint() {
    const cpid = device.charge_point_id;
    const cp = await api(`/v1/ocpp/charge-points/${encodeURIComponent(cpid)}`);
    const boot = cp.boot;
    ocppPanel.hidden = false;
    replace(ocppBox,
      h('div', { class: 'stats' },
        h('div', { class: 'stat' }, h('div', { class: 'stat-label', text: 'Connection' }),
          h('div', { class: 'stat-value' }, badge(cp.connected ? 'connected' : 'disconnected')),
          cp.connected_since && h('div', { class: 'stat-hint muted', text: `since ${fmtTime(cp.connected_since)}` })),
        stat('Protocol', cp.protocol || '—', cp.protocol ? null : 'not connected yet'),
        stat('Last message', fmtAgo(cp.last_message_at), fmtTime(cp.last_message_at)),
        stat('Boot', boot ? `${boot.vendor} ${boot.model}` : '—',
          boot ? [boot.serial_number && `serial ${boot.serial_number}`, boot.firmware_version && `firmware ${boot.firmware_version}`, `at ${fmtTime(boot.at)}`].filter(Boolean).join(' · ') : 'no BootNotification yet')),
      h('dl', { class: 'facts' },
        h('dt', { text: 'Charge point id' }), h('dd', {}, h('code', { text: cpid })),
        h('dt', { text: 'Central system URL' }), h('dd', {}, h('code', { text: cp.url })),
        h('dt', { text: 'The charger connects to' }), h('dd', {}, h('code', { text: `${cp.url}/${cpid}` }))),
      h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'rotate-password', text: 'Rotate password…', onclick: openRotate }));
  }

  function openRotate() {
    dialogForm({
      title: `Rotate the password of ${device.charge_point_id}?`,
      intro: 'The current password stops working at once and an open connection that used it is closed. The new password is shown once.',
      confirmLabel: 'Rotate password',
      danger: true,
      submit: async () => {
        const res = await api(`/v1/ocpp/charge-points/${encodeURIComponent(device.charge_point_id)}/password`, { method: 'POST' });
        announce(`New password for ${res.charge_point_id}: ${res.password} (shown once; configure the charger with it now).`);
        return res;
      },
    });
  }

  function connectorRows() {
    const count = Math.max(model && model.connectors ? model.connectors : 1, ...device.connectors.map((c) => c.connector_id));
    const live = new Map(device.connectors.map((c) => [c.connector_id, c]));
    return Array.from({ length: count }, (_, i) => live.get(i + 1) || { connector_id: i + 1, status: null });
  }

  function drawConnectors() {
    // Neither OCPP version carries V2G discharge.
    const canDischarge = !device.charge_point_id && (!model || model.v2g);
    const v = (c, f) => (c.status ? f(c) : '—');
    refresh(connectorsBox, table('Connectors', [
      { label: 'Connector', value: (c) => `#${c.connector_id}` },
      {
        label: 'State',
        value: (c) => (c.status
          ? [badge(c.status), h('div', { class: 'muted small', title: fmtTime(c.updated_at), text: `updated ${fmtAgo(c.updated_at)}` })]
          : h('span', { class: 'muted', text: 'no report yet' })),
      },
      { label: 'Power', value: (c) => v(c, () => kW(c.power)), class: 'num' },
      { label: 'Voltage · current', value: (c) => v(c, () => `${volts(c.voltage)} · ${amps(c.current)}`), class: 'num' },
      { label: 'Session energy', value: (c) => v(c, () => kWh(c.energy_delivered)), class: 'num' },
      { label: 'SoC', value: (c) => v(c, () => pct(c.soc)), class: 'num' },
      { label: 'Schedule', value: (c) => (c.schedule ? scheduleText(c.schedule) : '—') },
      {
        label: 'Actions',
        value: (c) => h('div', { class: 'row-actions', 'data-connector': String(c.connector_id) },
          actionButton('Start', 'start', c, openStart),
          actionButton('Stop', 'stop', c, openStop),
          canDischarge && actionButton('Discharge', 'discharge', c, openDischarge),
          actionButton('Schedule', 'schedule', c, openSchedule)),
      },
    ], connectorRows(), 'No connectors.', { cards: true }));
  }

  function actionButton(label, action, c, open) {
    return h('button', {
      type: 'button', class: 'btn btn-small', 'data-action': action, 'data-key': `${action}-${c.connector_id}`,
      'aria-label': `${label} on connector ${c.connector_id}`, text: `${label}…`, onclick: () => open(c.connector_id),
    });
  }

  // Sends a command and remembers it for the list below; errors propagate
  // to the dialog, which shows the API's message.
  async function send(cid, action, body, key) {
    const res = await api(`/v1/devices/${encodeURIComponent(deviceId)}/connectors/${cid}/${action}`, {
      method: 'POST', body, headers: { 'Idempotency-Key': key },
    });
    const ids = tabStore.get(storeKey, []).filter((id) => id !== res.command_id);
    tabStore.set(storeKey, [res.command_id, ...ids].slice(0, MAX_COMMANDS));
    const when = device && device.charge_point_id ? 'it was sent to the charger over its connection' : "it goes out with the charger's next heartbeat";
    announce(`${res.note ? `${res.note} ` : ''}Command queued for connector ${cid}; ${when}.`);
    if (commandsPoll) commandsPoll.now();
    return res;
  }

  const sn = () => (device ? device.sn : 'the device');

  function openStart(cid) {
    const key = newIdempotencyKey();
    const rating = model && model.max_power_kw ? ` (rating ${kW(model.max_power_kw)})` : '';
    dialogForm({
      title: `Start charging on connector ${cid}?`,
      intro: `${sn()} will be asked to start a charging session on connector ${cid}.`,
      fields: [
        field('Charge power (kW)', h('input', { name: 'charge_power', type: 'number', step: 'any', min: '0' }), `Optional; the model's rating when empty${rating}.`),
        field('Target state of charge (%)', h('input', { name: 'target_soc', type: 'number', step: '1', min: '1', max: '100' }), 'Optional; 100 % when empty.'),
      ],
      confirmLabel: 'Start charging',
      submit: (form) => {
        const f = formValues(form);
        return send(cid, 'start', { charge_power: num(f.charge_power), target_soc: num(f.target_soc) }, key);
      },
    });
  }

  function openStop(cid) {
    const key = newIdempotencyKey();
    dialogForm({
      title: `Stop connector ${cid}?`,
      intro: `${sn()} will be asked to end the session on connector ${cid}.`,
      fields: [field('Reason', select('reason', [['user_request', 'Operator request'], ['emergency', 'Emergency'], ['maintenance', 'Maintenance']]))],
      confirmLabel: 'Stop session',
      danger: true,
      submit: (form) => send(cid, 'stop', { reason: formValues(form).reason }, key),
    });
  }

  function openDischarge(cid) {
    const key = newIdempotencyKey();
    dialogForm({
      title: `Discharge from connector ${cid}?`,
      intro: `${sn()} will be asked to feed power from the vehicle back (V2G) until the time is up or the battery reaches the minimum.`,
      fields: [
        field('Discharge power (kW)', h('input', { name: 'discharge_power', type: 'number', step: 'any', min: '0', required: true, value: '7' })),
        field('Duration (minutes)', h('input', { name: 'minutes', type: 'number', step: '1', min: '1', required: true, value: '30' })),
        field('Minimum state of charge (%)', h('input', { name: 'min_soc', type: 'number', step: '1', min: '0', max: '99', required: true, value: '40' })),
      ],
      confirmLabel: 'Start discharging',
      submit: (form) => {
        const f = formValues(form);
        return send(cid, 'discharge', { discharge_power: num(f.discharge_power), duration: Math.round(num(f.minutes) * 60), min_soc: num(f.min_soc) }, key);
      },
    });
  }

  function openSchedule(cid) {
    const key = newIdempotencyKey();
    dialogForm({
      title: `Limit connector ${cid} with a schedule?`,
      intro: `${sn()} will cap charging on connector ${cid} from now for the chosen time.`,
      fields: [
        field('Limit', h('input', { name: 'limit', type: 'number', step: 'any', min: '0', required: true, value: '7' })),
        field('Unit', select('unit', [['kW', 'kW'], ['A', 'A']])),
        field('For (hours)', h('input', { name: 'hours', type: 'number', step: 'any', min: '0.25', required: true, value: '2' })),
        field('Applies to', select('purpose', [['tx_default', 'Every session (default)'], ['tx_profile', 'The current session'], ['max_profile', 'The charger maximum']])),
      ],
      confirmLabel: 'Set schedule',
      submit: (form) => {
        const f = formValues(form);
        const from = new Date();
        const to = new Date(from.getTime() + num(f.hours) * 3600 * 1000);
        return send(cid, 'schedule', {
          purpose: f.purpose, kind: 'absolute', unit: f.unit, valid_from: from.toISOString(), valid_to: to.toISOString(),
          periods: [{ start_offset_s: 0, limit: num(f.limit) }],
        }, key);
      },
    });
  }

  // Commands sent from this tab, plus (for admins) those the activity feed
  // shows for this device: the API has no per-device command list.
  async function commandIds() {
    const ids = tabStore.get(storeKey, []);
    if (activityAllowed) {
      try {
        const feed = await api('/v1/internal/activity');
        for (const a of feed.items) {
          if (a.device_id === deviceId && a.command_id && !ids.includes(a.command_id)) ids.push(a.command_id);
        }
      } catch (err) {
        if (err.status === 403) activityAllowed = false;
      }
    }
    return ids;
  }

  async function loadCommands() {
    const ids = await commandIds();
    await Promise.all(ids.filter((id) => !FINAL.includes((known.get(id) || {}).status)).map(async (id) => {
      try {
        known.set(id, await api(`/v1/commands/${id}`));
      } catch (err) {
        if (err.status === 404) known.set(id, { command_id: id, status: 'expired', missing: true });
      }
    }));
    const rows = ids.map((id) => known.get(id)).filter((c) => c && !c.missing)
      .sort((a, b) => b.created_at.localeCompare(a.created_at)).slice(0, MAX_COMMANDS);
    refresh(commandsBox, rows.length ? commandTable(rows) : h('p', { class: 'muted empty', text: activityAllowed
      ? 'No recent commands for this device.'
      : 'Commands sent from this tab appear here with their progress.' }));
  }

  function commandTable(rows) {
    const wrap = table('Recent commands', [
      { label: 'Command', value: (c) => LABELS[c.command] || c.command },
      { label: 'Connector', value: (c) => (c.connector_id ? `#${c.connector_id}` : '—') },
      { label: 'Status', value: (c) => badge(c.status) },
      { label: 'Sent', value: (c) => fmtTime(c.created_at) },
      { label: 'Lifecycle', value: (c) => h('ol', { class: 'lifecycle' }, (c.history || []).map((s) => h('li', {}, badge(s.status), ` ${fmtClock(s.at)}`, s.message ? ` — ${s.message}` : ''))) },
      { label: 'Parameters', value: (c) => params(c) },
    ], rows, 'No commands.', { cards: true });
    const trs = wrap.querySelectorAll('tbody tr');
    rows.forEach((c, i) => { trs[i].dataset.commandId = c.command_id; trs[i].dataset.status = c.status; });
    return wrap;
  }

  function params(c) {
    const parts = [];
    if (c.charge_power !== undefined) parts.push(kW(c.charge_power));
    if (c.target_soc !== undefined) parts.push(`to ${pct(c.target_soc)}`);
    if (c.discharge_power !== undefined) parts.push(kW(c.discharge_power));
    if (c.duration !== undefined) parts.push(`${Math.round(c.duration / 60)} min`);
    if (c.min_soc !== undefined) parts.push(`min ${pct(c.min_soc)}`);
    if (c.limit_kw !== undefined) parts.push(`limit ${kW(c.limit_kw)}`);
    if (c.schedule) parts.push(scheduleText(c.schedule));
    if (c.reason) parts.push(c.reason);
    if (c.version) parts.push(`version ${c.version}`);
    return parts.join(' · ') || '—';
  }

  function scheduleText(s) {
    const first = s.periods && s.periods[0];
    const limit = first ? `${first.limit} ${s.unit}` : '';
    return `${limit}${s.valid_to ? ` until ${fmtClock(s.valid_to)}` : ''}`.trim() || s.purpose;
  }

  const pending = () => [...known.values()].some((c) => !FINAL.includes(c.status));
  let stops = [];
  let commandsPoll = null;
  load()
    .then(() => {
      loadCommands();
      commandsPoll = poll(loadCommands, () => (pending() ? 1500 : 10000));
      stops = [poll(load, 3000), commandsPoll];
    })
    .catch((err) => {
      replace(stats, failure('This device', err));
      connectorsBox.replaceChildren();
      commandsBox.replaceChildren();
    });
  return () => stops.forEach((stop) => stop());
}
