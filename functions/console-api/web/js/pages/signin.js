// Sign in with an operator client's id and secret (OAuth client credentials).

import { signIn } from '../api.js';
import { h, field, errorNotice, replace } from '../ui.js';

export function render(main, { next, message, done }) {
  const errorBox = h('div', {});
  const id = h('input', { name: 'client_id', required: true, autocomplete: 'username', spellcheck: 'false', autocapitalize: 'off' });
  const secret = h('input', { name: 'client_secret', type: 'password', required: true, autocomplete: 'current-password' });
  const button = h('button', { type: 'submit', class: 'btn btn-primary', text: 'Sign in' });
  const form = h('form', { class: 'stack', 'aria-describedby': 'signin-note' },
    field('Client ID', id),
    field('Client secret', secret),
    button);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!form.reportValidity()) return;
    button.disabled = true;
    button.textContent = 'Signing in…';
    errorBox.replaceChildren();
    try {
      await signIn(id.value.trim(), secret.value);
      done(next);
    } catch (err) {
      replace(errorBox, errorNotice(err));
      button.disabled = false;
      button.textContent = 'Sign in';
      secret.select();
    }
  });

  main.append(h('div', { class: 'signin' },
    h('h1', { id: 'page-title', tabindex: '-1', text: 'Sign in' }),
    h('p', { class: 'muted', text: 'Use an operator API client of your organisation.' }),
    message && h('div', { class: 'notice notice-info', role: 'status', text: message }),
    errorBox,
    form,
    h('p', { id: 'signin-note', class: 'muted small', text: 'The access token is kept for this browser tab only and is forgotten when the tab closes.' })));
  id.focus();
}
