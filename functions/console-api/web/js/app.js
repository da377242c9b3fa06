// Hash router and page shell. Every page module exports
// render(main, ...pathParams, query) that draws synchronously at least its heading and
// returns a cleanup function (timers, charts) or nothing.

import { session, signOut } from './api.js';
import { h, replace, announce, timeZone } from './ui.js';
import * as signin from './pages/signin.js';
import * as overview from './pages/overview.js';
import * as sites from './pages/sites.js';
import * as site from './pages/site.js';
import * as devices from './pages/devices.js';
import * as device from './pages/device.js';
import * as records from './pages/records.js';
import * as tariffs from './pages/tariffs.js';
import * as firmware from './pages/firmware.js';
import * as profiles from './pages/profiles.js';
import * as tokens from './pages/tokens.js';
import * as intelligence from './pages/intelligence.js';

const routes = [
  { nav: 'overview', pattern: /^\/overview$/, page: overview },
  { nav: 'sites', pattern: /^\/sites$/, page: sites },
  { nav: 'sites', pattern: /^\/sites\/([\w-]+)$/, page: site },
  { nav: 'devices', pattern: /^\/devices$/, page: devices },
  { nav: 'devices', pattern: /^\/devices\/([\w-]+)$/, page: device },
  { nav: 'records', pattern: /^\/records$/, page: records },
  { nav: 'tariffs', pattern: /^\/tariffs$/, page: tariffs },
  { nav: 'firmware', pattern: /^\/firmware$/, page: firmware },
  { nav: 'profiles', pattern: /^\/profiles$/, page: profiles },
  { nav: 'tokens', pattern: /^\/tokens$/, page: tokens },
  { nav: 'intelligence', pattern: /^\/intelligence$/, page: intelligence },
];

const main = document.getElementById('main');
let cleanup = null;
let firstRender = true;
let signedOutMessage = '';

function shell(s) {
  document.getElementById('nav').hidden = !s;
  document.getElementById('session').hidden = !s;
  document.getElementById('session-client').textContent = s ? `Signed in as ${s.clientId}` : '';
}

function markNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function route() {
  if (cleanup) cleanup();
  cleanup = null;
  const dialog = document.getElementById('dialog');
  if (dialog.open) dialog.close();
  const [path, search] = (location.hash.replace(/^#/, '') || '/overview').split('?');
  const s = session();
  shell(s);
  main.replaceChildren();
  if (!s) {
    markNav(null);
    document.title = 'Sign in · chargenet console';
    const next = path === '/signin' ? '/overview' : `${path}${search ? `?${search}` : ''}`;
    signin.render(main, { next, message: signedOutMessage, done: onSignedIn });
  } else {
    const found = routes.find((r) => r.pattern.test(path));
    if (!found) {
      location.replace('#/overview');
      return;
    }
    markNav(found.nav);
    const params = path.match(found.pattern).slice(1).map(decodeURIComponent);
    cleanup = found.page.render(main, ...params, new URLSearchParams(search || '')) || null;
    const title = main.querySelector('h1');
    document.title = `${title ? title.textContent : 'Console'} · chargenet console`;
  }
  // Move focus to the new page's heading so keyboard and screen-reader users
  // land on it, except on first load where the browser's default is better.
  if (!firstRender) (main.querySelector('h1') || main).focus();
  firstRender = false;
}

// Why the session ended stays on the sign-in page, whatever the operator
// opens meanwhile, until they sign in again.
function onSignedIn(next) {
  signedOutMessage = '';
  if (location.hash === `#${next}`) route();
  else location.hash = `#${next}`;
}

window.addEventListener('hashchange', route);
window.addEventListener('console:signed-out', (ev) => {
  signedOutMessage = (ev.detail && ev.detail.message) || '';
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  signOut('');
  announce('Signed out.');
});

replace(document.getElementById('footer'),
  `Times are shown in your browser's time zone (${timeZone}). `,
  h('a', { href: 'vendor/uplot/LICENSE.txt', text: 'Charts: uPlot (MIT licence)' }));
route();
