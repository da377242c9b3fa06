// The only module that talks to the API: sends the Bearer token, unwraps the
// envelope {code, message, data} and turns failures into ApiError with the
// API's own message. The token lives in sessionStorage, so it dies with the tab.

const SESSION_KEY = 'chargenet.console.session';
const PREFIX = 'chargenet.console.';

export class ApiError extends Error {
  constructor(status, body, fallback) {
    super((body && body.message) || fallback || `The API answered HTTP ${status}.`);
    this.status = status;
    this.code = body && body.code;
    this.errors = (body && body.data && body.data.errors) || [];
  }

  // A route this deployment does not offer yet: 501, or no such route.
  get unavailable() {
    return this.status === 501 || this.status === 404 || this.status === 405;
  }
}

export function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(SESSION_KEY));
    if (s && s.token && s.expiresAt > Date.now()) return s;
  } catch {
    // unreadable: treated as signed out
  }
  return null;
}

export function signOut(message) {
  for (const key of Object.keys(sessionStorage)) {
    if (key.startsWith(PREFIX)) sessionStorage.removeItem(key);
  }
  window.dispatchEvent(new CustomEvent('console:signed-out', { detail: { message } }));
}

async function readBody(res) {
  try {
    return await res.json();
  } catch {
    return null;
  }
}

async function send(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError(0, null, 'The API could not be reached. Check the connection and try again.');
  }
}

export async function signIn(clientId, clientSecret) {
  const res = await send('/v1/oauth/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  const body = await readBody(res);
  if (!res.ok || !body || body.code !== 0) throw new ApiError(res.status, body);
  const data = body.data || body;
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({
    token: data.access_token,
    clientId,
    expiresAt: Date.now() + (data.expires_in || 3600) * 1000,
  }));
}

function withQuery(path, query) {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// GET by default; `body` is sent as JSON. Resolves to the envelope's data.
export async function api(path, { method = 'GET', query, body, headers = {} } = {}) {
  const s = session();
  if (!s) {
    signOut('Your session has ended. Sign in again.');
    throw new ApiError(401, null, 'Not signed in.');
  }
  const init = { method, headers: { Authorization: `Bearer ${s.token}`, ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await send(withQuery(path, query), init);
  const data = await readBody(res);
  if (res.status === 401) {
    signOut('Your session has expired or was revoked. Sign in again.');
    throw new ApiError(401, data);
  }
  if (!res.ok || !data || data.code !== 0) throw new ApiError(res.status, data);
  return data.data;
}

// Per-tab memory for small things (e.g. the commands sent from this tab).
export const tabStore = {
  get(key, fallback) {
    try {
      return JSON.parse(sessionStorage.getItem(PREFIX + key)) ?? fallback;
    } catch {
      return fallback;
    }
  },
  set(key, value) {
    sessionStorage.setItem(PREFIX + key, JSON.stringify(value));
  },
};

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}
