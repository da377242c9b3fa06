// CloudFront Function (cloudfront-js-2.0, viewer request) in front of the
// OCPP WebSocket API: chargers connect to /ocpp/<charge_point_id>, but API
// Gateway WebSocket URLs take no path after the stage, so the id moves
// into the query string and the path becomes the stage.
var STAGE_PATH = '/ocpp';
var ID = /^[A-Za-z0-9._:-]{1,48}$/;

function handler(event) {
  var request = event.request;
  var parts = request.uri.split('/');
  // ['', 'ocpp', '<id>'], with an optional trailing slash.
  if (parts.length === 4 && parts[3] === '') parts.pop();
  var id = null;
  if (parts.length === 3 && parts[0] === '' && parts[1] === 'ocpp') {
    try {
      id = decodeURIComponent(parts[2]);
    } catch (e) {
      id = null;
    }
  }
  if (id === null || !ID.test(id)) {
    return { statusCode: 404, statusDescription: 'Not Found' };
  }
  request.uri = STAGE_PATH;
  request.querystring = { charge_point_id: { value: id } };
  return request;
}
