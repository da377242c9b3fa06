// The CloudFront Function that routes chargers to the OCPP WebSocket API,
// run as CloudFront runs it: its own file, a `handler(event)` and nothing
// else (no modules in cloudfront-js-2.0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const code = readFileSync(new URL('../../functions/ocpp/cloudfront/ocpp-path.js', import.meta.url), 'utf8');
const handler = new Function(`${code}\nreturn handler;`)();

const viewer = (uri, querystring = {}) => handler({
  version: '1.0',
  context: { eventType: 'viewer-request' },
  viewer: { ip: '192.0.2.10' },
  request: { method: 'GET', uri, querystring, headers: { 'sec-websocket-protocol': { value: 'ocpp1.6' } }, cookies: {} },
});

test('the charge point id moves from the path into the query string', () => {
  const out = viewer('/ocpp/ACME-0042');
  assert.equal(out.uri, '/ocpp');
  assert.deepEqual(out.querystring, { charge_point_id: { value: 'ACME-0042' } });
  assert.equal(out.headers['sec-websocket-protocol'].value, 'ocpp1.6', 'headers pass untouched');
});

test('an encoded colon and a trailing slash are read', () => {
  assert.deepEqual(viewer('/ocpp/site%3A7/').querystring, { charge_point_id: { value: 'site:7' } });
  assert.deepEqual(viewer('/ocpp/site:7').querystring, { charge_point_id: { value: 'site:7' } });
});

test('a query string the charger sent cannot smuggle another id', () => {
  const out = viewer('/ocpp/ACME-1', { charge_point_id: { value: 'OTHER' } });
  assert.deepEqual(out.querystring, { charge_point_id: { value: 'ACME-1' } });
});

test('anything else is not found', () => {
  for (const uri of ['/', '/ocpp', '/ocpp/', '/ocpp/a/b', '/v1/health', '/ocpp/has%20space',
    `/ocpp/${'x'.repeat(49)}`, '/ocpp/%E0%A4%A', '/OCPP/ACME-1']) {
    assert.equal(viewer(uri).statusCode, 404, uri);
  }
});
