// Firmware adoption per model, and firmware campaigns (staged roll-outs)
// where the deployment offers them.

import { api } from '../api.js';
import {
  h, replace, pageHeader, section, stat, table, loading, failure, field, select, announce, dialogForm,
  formValues, num, badge, pct, fmtTime,
} from '../ui.js';

function adoptionBar(value) {
  return h('span', { class: 'meter-cell' },
    h('meter', { min: '0', max: '100', value: String(value), 'aria-hidden': 'true' }),
    ` ${pct(value, 1)}`);
}

export function render(main) {
  main.append(pageHeader('Firmware'));
  const stats = h('div', { class: 'stats' }, loading());
  const adoptionBox = h('div', {}, loading());
  const campaignsBox = h('div', { id: 'campaigns' }, loading());
  main.append(stats, section('Adoption by model', adoptionBox), section('Campaigns', campaignsBox));
  let models = [];

  async function loadAdoption() {
    const data = await api('/v1/firmware/versions', { query: { size: 100 } });
    models = data.items;
    replace(stats,
      stat('Devices', String(data.summary.total_devices)),
      stat('On the latest version', String(data.summary.on_latest)),
      stat('Adoption', pct(data.summary.adoption_percentage, 1)));
    replace(adoptionBox, table('Firmware adoption by model', [
      { label: 'Model', value: (m) => `${m.manufacturer} ${m.model}` },
      { label: 'Latest', value: (m) => m.latest_version },
      { label: 'Devices', value: (m) => String(m.total_devices), class: 'num' },
      { label: 'On latest', value: (m) => String(m.on_latest), class: 'num' },
      { label: 'Adoption', value: (m) => adoptionBar(m.adoption_percentage) },
      { label: 'Versions in the field', value: (m) => m.versions.map((v) => `${v.version} × ${v.count}`).join(', ') },
    ], data.items, 'No devices yet.'));
  }

  async function loadCampaigns() {
    let data;
    try {
      data = await api('/v1/firmware/campaigns');
    } catch (err) {
      replace(campaignsBox, failure('Firmware campaigns', err));
      return;
    }
    const items = data.items || data;
    replace(campaignsBox,
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: openNew, text: 'New campaign…' })),
      table('Firmware campaigns', [
        { label: 'Model', value: (c) => c.model || '—' },
        { label: 'Target', value: (c) => c.target_version || '—' },
        { label: 'Status', value: (c) => [badge(c.status), c.paused_reason ? ` ${c.paused_reason}` : ''] },
        { label: 'Wave', value: (c) => String(c.wave ?? '—'), class: 'num' },
        { label: 'Eligible', value: (c) => String(c.counts ? c.counts.eligible : '—'), class: 'num' },
        { label: 'Pending', value: (c) => String(c.counts ? c.counts.pending : '—'), class: 'num' },
        { label: 'Updating', value: (c) => String(c.counts ? c.counts.updating : '—'), class: 'num' },
        { label: 'Installed', value: (c) => String(c.counts ? c.counts.installed : '—'), class: 'num' },
        { label: 'Failed', value: (c) => String(c.counts ? c.counts.failed : '—'), class: 'num' },
        { label: 'Created', value: (c) => fmtTime(c.created_at) },
        { label: 'Actions', value: (c) => campaignActions(c) },
      ], items, 'No campaigns yet.'));
  }

  function campaignActions(c) {
    const act = (action, label, danger) => h('button', {
      type: 'button', class: 'btn btn-small', 'aria-label': `${label} campaign for ${c.model} ${c.target_version}`, text: label,
      onclick: () => dialogForm({
        title: `${label} this campaign?`,
        intro: `${c.model} to ${c.target_version}: ${c.status}.`,
        confirmLabel: label,
        danger,
        submit: async () => {
          await api(`/v1/firmware/campaigns/${encodeURIComponent(c.campaign_id)}/${action}`, { method: 'POST' });
          announce(`Campaign ${action === 'cancel' ? 'cancelled' : `${action}d`}.`);
          loadCampaigns();
        },
      }),
    });
    return h('div', { class: 'row-actions' },
      c.status === 'running' && act('pause', 'Pause'),
      c.status === 'paused' && act('resume', 'Resume'),
      ['running', 'paused'].includes(c.status) && act('cancel', 'Cancel', true));
  }

  function openNew() {
    dialogForm({
      title: 'New firmware campaign',
      intro: 'Devices of the model get the update in waves; the campaign pauses itself when too many fail.',
      fields: [
        field('Model', select('model', models.map((m) => [m.model, `${m.manufacturer} ${m.model}`]))),
        field('Target version', h('input', { name: 'target_version', required: true })),
        field('Firmware URL', h('input', { name: 'firmware_url', type: 'url', required: true })),
        field('Waves (cumulative %)', h('input', { name: 'waves', value: '10, 50, 100', pattern: '\\s*\\d+(\\s*,\\s*\\d+)*\\s*' }), 'Comma separated, ending at 100.'),
        field('Pause above failure rate (%)', h('input', { name: 'failure_threshold_pct', type: 'number', min: '0', max: '100', value: '10' })),
      ],
      confirmLabel: 'Start campaign',
      submit: async (form) => {
        const f = formValues(form);
        await api('/v1/firmware/campaigns', {
          method: 'POST',
          body: {
            model: f.model, target_version: f.target_version.trim(), firmware_url: f.firmware_url.trim(),
            waves: f.waves.split(',').map((w) => num(w)).filter((w) => w !== undefined),
            failure_threshold_pct: num(f.failure_threshold_pct),
          },
        });
        announce('Campaign started.');
        loadCampaigns();
      },
    });
  }

  loadAdoption().catch((err) => {
    replace(stats, failure('Firmware adoption', err));
    adoptionBox.replaceChildren();
  });
  loadCampaigns();
}
