// Driver tokens: the RFID cards and app tokens OCPP chargers check.
// Add, block or unblock, set an expiry, and see a card's last sessions.

import { api } from '../api.js';
import { h, replace, pageHeader, section, table, loading, failure, field, select, badge, announce, dialogForm, formValues, kWh, fmtTime } from '../ui.js';

const LAST_SESSIONS = 10;

export function render(main) {
  main.append(pageHeader('Driver tokens'));
  const filter = select('status', [['', 'Every status'], ['accepted', 'Accepted'], ['blocked', 'Blocked']]);
  filter.setAttribute('aria-label', 'Status');
  filter.addEventListener('change', () => load());
  const box = h('div', { id: 'tokens' }, loading());
  const sessionsBox = h('div', { id: 'token-sessions' }, h('p', { class: 'muted', text: 'Choose a token to see its last sessions.' }));
  main.append(section('Tokens',
    h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'btn btn-primary', onclick: openAdd, text: 'Add token…' }), filter),
    box), section('Last sessions', sessionsBox));

  // Only the latest list is drawn: an earlier one answered late would show
  // a token as it was before the last change.
  let latest = 0;
  async function load() {
    const mine = ++latest;
    let data;
    try {
      data = await api('/v1/id-tags', { query: { size: 100, status: filter.value || undefined } });
    } catch (err) {
      if (mine === latest) replace(box, failure('Driver tokens', err));
      return;
    }
    if (mine !== latest) return;
    replace(box, table('Driver tokens', [
      { label: 'Token', value: (t) => h('code', { text: t.id_tag }) },
      { label: 'Label', value: (t) => t.label || '—' },
      { label: 'Status', value: (t) => badge(t.expired && t.status === 'accepted' ? 'expired' : t.status) },
      { label: 'Expires', value: (t) => (t.expires_at ? fmtTime(t.expires_at) : 'never') },
      { label: 'Updated', value: (t) => fmtTime(t.updated_at) },
      {
        label: 'Actions',
        value: (t) => h('div', { class: 'row-actions', 'data-token': t.id_tag },
          h('button', {
            type: 'button', class: 'btn btn-small', 'data-action': 'toggle', text: t.status === 'blocked' ? 'Unblock' : 'Block',
            'aria-label': `${t.status === 'blocked' ? 'Unblock' : 'Block'} ${t.id_tag}`, onclick: () => toggle(t),
          }),
          h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Expiry of ${t.id_tag}`, onclick: () => openExpiry(t), text: 'Expiry…' }),
          h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Sessions of ${t.id_tag}`, onclick: () => sessions(t), text: 'Sessions' })),
      },
    ], data.items, 'No driver tokens yet.'));
  }

  const path = (t) => `/v1/id-tags/${encodeURIComponent(t.id_tag)}`;

  async function toggle(t) {
    const status = t.status === 'blocked' ? 'accepted' : 'blocked';
    try {
      await api(path(t), { method: 'PATCH', body: { status } });
      announce(status === 'blocked' ? `${t.id_tag} is blocked from its next Authorize.` : `${t.id_tag} is accepted again.`);
    } catch (err) {
      announce(err.message, 'error');
    }
    load();
  }

  function openAdd() {
    dialogForm({
      title: 'Add a driver token',
      intro: 'An RFID card or app token: up to 20 printable characters; case does not matter.',
      fields: [
        field('Token', h('input', { name: 'id_tag', required: true, maxlength: '20', autocomplete: 'off' })),
        field('Label', h('input', { name: 'label', maxlength: '64' }), 'Optional: who holds it.'),
        field('Status', select('status', [['accepted', 'Accepted'], ['blocked', 'Blocked']])),
        field('Expires', h('input', { name: 'expires_at', type: 'datetime-local' }), 'Optional; never when empty.'),
      ],
      confirmLabel: 'Add token',
      submit: async (form) => {
        const f = formValues(form);
        const body = { id_tag: f.id_tag.trim(), status: f.status, label: f.label.trim() || null };
        if (f.expires_at) body.expires_at = new Date(f.expires_at).toISOString();
        const t = await api('/v1/id-tags', { method: 'POST', body });
        announce(`${t.id_tag} added.`);
        load();
      },
    });
  }

  function openExpiry(t) {
    dialogForm({
      title: `Expiry of ${t.id_tag}`,
      intro: 'After this time its chargers answer Expired. Leave it empty for a token that never expires.',
      fields: [field('Expires', h('input', { name: 'expires_at', type: 'datetime-local' }))],
      confirmLabel: 'Save expiry',
      submit: async (form) => {
        const f = formValues(form);
        await api(path(t), { method: 'PATCH', body: { expires_at: f.expires_at ? new Date(f.expires_at).toISOString() : null } });
        announce(f.expires_at ? `${t.id_tag} expires ${fmtTime(new Date(f.expires_at).toISOString())}.` : `${t.id_tag} never expires.`);
        load();
      },
    });
  }

  async function sessions(t) {
    replace(sessionsBox, loading());
    try {
      const data = await api('/v1/charging-records', { query: { id_tag: t.id_tag, size: LAST_SESSIONS } });
      replace(sessionsBox, table(`Sessions of ${t.id_tag}`, [
        { label: 'Started', value: (r) => fmtTime(r.start_time) },
        { label: 'Ended', value: (r) => fmtTime(r.end_time) },
        { label: 'Energy', value: (r) => kWh(r.energy), class: 'num' },
        { label: 'Device', value: (r) => h('a', { href: `#/devices/${r.device_id}`, text: r.device_id.slice(0, 8) }) },
        { label: 'Stop reason', value: (r) => r.stop_reason || '—' },
      ], data.items, `No sessions with ${t.id_tag} yet.`));
    } catch (err) {
      replace(sessionsBox, failure('Sessions', err));
    }
  }

  load();
}
