// Configuration profiles: versioned charger settings, applied per site.

import { api } from '../api.js';
import { h, replace, pageHeader, table, loading, failure, field, select, announce, dialogForm, formValues, num, fmtTime } from '../ui.js';

const yesNo = (v) => (v ? 'yes' : 'no');

export function render(main) {
  main.append(pageHeader('Configuration profiles'));
  const box = h('div', { class: 'panel', id: 'profiles' }, loading());
  main.append(box);
  let models = [];
  let sites = [];

  async function load() {
    let data;
    try {
      data = await api('/v1/configuration/profiles', { query: { size: 100 } });
    } catch (err) {
      replace(box, failure('Configuration profiles', err));
      return;
    }
    [models, sites] = await Promise.all([
      api('/v1/models').then((d) => d.items).catch(() => []),
      api('/v1/sites', { query: { size: 100 } }).then((d) => d.items).catch(() => []),
    ]);
    const items = data.items || data;
    replace(box,
      h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'btn btn-primary', onclick: () => openEdit(null), text: 'New profile…' })),
      table('Configuration profiles', [
        { label: 'Profile', value: (p) => p.name },
        { label: 'Model', value: (p) => p.model || 'any' },
        { label: 'Version', value: (p) => String(p.version), class: 'num' },
        { label: 'Heartbeat', value: (p) => `${p.settings.heartbeat_interval_s} s`, class: 'num' },
        { label: 'Meter values', value: (p) => `${p.settings.meter_interval_s} s`, class: 'num' },
        { label: 'Max current', value: (p) => `${p.settings.max_current_a} A`, class: 'num' },
        { label: 'Offline charging', value: (p) => yesNo(p.settings.offline_charging) },
        { label: 'Free vend', value: (p) => yesNo(p.settings.free_vend) },
        { label: 'Devices', value: (p) => (p.devices ? `${p.devices.applied} applied · ${p.devices.pending} pending · ${p.devices.drifted} drifted` : '—') },
        { label: 'Updated', value: (p) => fmtTime(p.updated_at) },
        {
          label: 'Actions',
          value: (p) => h('div', { class: 'row-actions' },
            h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Edit ${p.name}`, onclick: () => openEdit(p), text: 'Edit…' }),
            h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Apply ${p.name}`, onclick: () => openApply(p), text: 'Apply…' })),
        },
      ], items, 'No profiles yet.'));
  }

  function openEdit(p) {
    const s = (p && p.settings) || { heartbeat_interval_s: 30, meter_interval_s: 60, max_current_a: 32, offline_charging: true, free_vend: false };
    const input = (name, min, max, value) => h('input', { name, type: 'number', min: String(min), max: String(max), step: '1', required: true, value: String(value) });
    const check = (name, checked) => h('input', { name, type: 'checkbox', checked });
    dialogForm({
      title: p ? `Edit ${p.name} (becomes version ${p.version + 1})` : 'New configuration profile',
      fields: [
        field('Name', h('input', { name: 'name', required: true, value: p ? p.name : '' })),
        field('Model', select('model', [['', 'Any model'], ...models.map((m) => [m.model, `${m.manufacturer} ${m.model}`])], p ? p.model || '' : '')),
        field('Heartbeat interval (s)', input('heartbeat_interval_s', 10, 3600, s.heartbeat_interval_s)),
        field('Meter interval (s)', input('meter_interval_s', 5, 3600, s.meter_interval_s)),
        field('Maximum current (A)', input('max_current_a', 1, 1000, s.max_current_a)),
        h('div', { class: 'field field-check' }, h('label', {}, check('offline_charging', s.offline_charging), ' Allow charging while offline')),
        h('div', { class: 'field field-check' }, h('label', {}, check('free_vend', s.free_vend), ' Free vend (no authorisation)')),
      ],
      confirmLabel: p ? 'Save new version' : 'Create profile',
      submit: async (form) => {
        const f = formValues(form);
        const body = {
          name: f.name.trim(),
          model: f.model || null,
          settings: {
            heartbeat_interval_s: num(f.heartbeat_interval_s), meter_interval_s: num(f.meter_interval_s),
            max_current_a: num(f.max_current_a), offline_charging: 'offline_charging' in f, free_vend: 'free_vend' in f,
          },
        };
        if (p) await api(`/v1/configuration/profiles/${encodeURIComponent(p.profile_id)}`, { method: 'PUT', body });
        else await api('/v1/configuration/profiles', { method: 'POST', body });
        announce(p ? `${body.name} saved as version ${p.version + 1}.` : `${body.name} created.`);
        load();
      },
    });
  }

  function openApply(p) {
    dialogForm({
      title: `Apply ${p.name} v${p.version}?`,
      intro: 'Every device of the site gets an apply-configuration command.',
      fields: [field('Site', select('site_id', sites.map((s) => [s.site_id, s.name])))],
      confirmLabel: 'Apply to site',
      submit: async (form) => {
        const res = await api(`/v1/configuration/profiles/${encodeURIComponent(p.profile_id)}/apply`, { method: 'POST', body: { site_id: formValues(form).site_id } });
        const count = Array.isArray(res) ? res.length : (res && res.command_ids ? res.command_ids.length : 0);
        announce(`${p.name} queued for ${count} devices.`);
        load();
      },
    });
  }

  load();
}
