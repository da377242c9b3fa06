//! The HTTP API payload format 2.0 event API Gateway hands a function:
//! header names in lower case with repeated ones joined by commas, cookies
//! apart, query parameters decoded and joined likewise, the body as text
//! only for text content types and in base64 otherwise.

use axum::http::{HeaderMap, Method, Uri, header};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::SocketAddr;

/// Stand-ins for what only a deployment has.
const ACCOUNT_ID: &str = "123456789012";
const API_ID: &str = "local";

/// What arrived, and what the gateway knows about it.
pub struct Incoming<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub peer: SocketAddr,
    pub local_port: u16,
    pub request_id: &'a str,
    pub trace_id: &'a str,
    pub received: DateTime<Utc>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    version: &'static str,
    route_key: String,
    raw_path: String,
    raw_query_string: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<String>,
    headers: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    query_string_parameters: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    path_parameters: BTreeMap<String, String>,
    request_context: RequestContext,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    is_base64_encoded: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext {
    account_id: &'static str,
    api_id: &'static str,
    domain_name: String,
    domain_prefix: String,
    http: Http,
    request_id: String,
    route_key: String,
    stage: &'static str,
    time: String,
    time_epoch: i64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Http {
    method: String,
    path: String,
    protocol: &'static str,
    source_ip: String,
    user_agent: String,
}

pub fn build(
    incoming: &Incoming<'_>,
    route_key: &str,
    path_parameters: BTreeMap<String, String>,
) -> Event {
    let mut headers = joined_headers(incoming.headers);
    let cookies = headers
        .remove("cookie")
        .map(|c| {
            c.split(';')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let source_ip = incoming.peer.ip().to_string();
    let forwarded = match headers.get("x-forwarded-for") {
        Some(earlier) => format!("{earlier}, {source_ip}"),
        None => source_ip.clone(),
    };
    headers.insert("x-forwarded-for".into(), forwarded);
    headers.insert("x-forwarded-proto".into(), "http".into());
    headers.insert("x-forwarded-port".into(), incoming.local_port.to_string());
    headers.insert("x-amzn-trace-id".into(), incoming.trace_id.to_owned());
    let domain_name = headers
        .get("host")
        .cloned()
        .unwrap_or_else(|| format!("127.0.0.1:{}", incoming.local_port));
    let domain_prefix = domain_name.split('.').next().unwrap_or_default().to_owned();
    let user_agent = headers.get("user-agent").cloned().unwrap_or_default();
    let raw_query = incoming.uri.query().unwrap_or_default().to_owned();
    let (body, is_base64_encoded) = body(incoming.body, incoming.headers);
    Event {
        version: "2.0",
        route_key: route_key.to_owned(),
        raw_path: incoming.uri.path().to_owned(),
        query_string_parameters: query_parameters(&raw_query),
        raw_query_string: raw_query,
        cookies,
        headers,
        path_parameters,
        request_context: RequestContext {
            account_id: ACCOUNT_ID,
            api_id: API_ID,
            domain_name,
            domain_prefix,
            http: Http {
                method: incoming.method.to_string(),
                path: incoming.uri.path().to_owned(),
                protocol: "HTTP/1.1",
                source_ip,
                user_agent,
            },
            request_id: incoming.request_id.to_owned(),
            route_key: route_key.to_owned(),
            stage: "$default",
            time: incoming.received.format("%d/%b/%Y:%H:%M:%S %z").to_string(),
            time_epoch: incoming.received.timestamp_millis(),
        },
        body,
        is_base64_encoded,
    }
}

fn joined_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        out.entry(name.as_str().to_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

fn query_parameters(raw: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
        out.entry(name.into_owned())
            .and_modify(|v| {
                v.push(',');
                v.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    out
}

/// Text content types pass as they are; anything else (a form, no type at
/// all) goes in base64, as API Gateway sends it.
fn body(bytes: &[u8], headers: &HeaderMap) -> (Option<String>, bool) {
    if bytes.is_empty() {
        return (None, false);
    }
    let text = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_text);
    match std::str::from_utf8(bytes) {
        Ok(s) if text => (Some(s.to_owned()), false),
        _ => (
            Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            true,
        ),
    }
}

fn is_text(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence.starts_with("text/")
        || [
            "application/json",
            "application/xml",
            "application/javascript",
        ]
        .contains(&essence.as_str())
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
}

/// An X-Ray trace id, which API Gateway sends in `x-amzn-trace-id` and
/// Lambda hands the runtime with the invocation.
pub fn trace_id(at: DateTime<Utc>) -> String {
    let random: String = (0..24)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect();
    format!("Root=1-{:08x}-{random}", at.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::Value;

    fn event(uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Value {
        let uri: Uri = uri.parse().unwrap();
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let incoming = Incoming {
            method: &Method::POST,
            uri: &uri,
            headers: &map,
            body,
            peer: "127.0.0.1:50000".parse().unwrap(),
            local_port: 3000,
            request_id: "req-1",
            trace_id: "Root=1-test",
            received: DateTime::from_timestamp(1_795_563_600, 0).unwrap(),
        };
        let params = BTreeMap::from([("id".to_owned(), "abc".to_owned())]);
        serde_json::to_value(build(&incoming, "POST /v1/x/{id}", params)).unwrap()
    }

    #[test]
    fn the_event_is_payload_format_2() {
        let e = event("/v1/x/abc?a=1&b=2&a=3", &[("User-Agent", "curl/8")], b"");
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "POST /v1/x/{id}");
        assert_eq!(e["rawPath"], "/v1/x/abc");
        assert_eq!(e["rawQueryString"], "a=1&b=2&a=3");
        assert_eq!(e["queryStringParameters"]["a"], "1,3");
        assert_eq!(e["pathParameters"]["id"], "abc");
        let ctx = &e["requestContext"];
        assert_eq!(ctx["http"]["method"], "POST");
        assert_eq!(ctx["http"]["userAgent"], "curl/8");
        assert_eq!(ctx["http"]["sourceIp"], "127.0.0.1");
        assert_eq!(ctx["stage"], "$default");
        assert_eq!(ctx["routeKey"], "POST /v1/x/{id}");
        assert_eq!(ctx["requestId"], "req-1");
        assert_eq!(ctx["time"], "24/Nov/2026:23:40:00 +0000");
        assert_eq!(ctx["timeEpoch"], 1_795_563_600_000_i64);
        assert!(e.get("body").is_none());
        assert_eq!(e["isBase64Encoded"], false);
    }

    #[test]
    fn repeated_headers_are_joined_and_cookies_set_apart() {
        let e = event(
            "/v1/x/abc",
            &[("X-Tag", "a"), ("x-tag", "b"), ("Cookie", "s=1; t=2")],
            b"",
        );
        assert_eq!(e["headers"]["x-tag"], "a,b");
        assert!(e["headers"].get("cookie").is_none());
        assert_eq!(e["cookies"], serde_json::json!(["s=1", "t=2"]));
        assert_eq!(e["headers"]["x-forwarded-for"], "127.0.0.1");
    }

    #[test]
    fn text_bodies_pass_as_they_are_and_others_in_base64() {
        let json = event("/v1/x/abc", &[("content-type", "application/json")], b"{}");
        assert_eq!(
            (json["body"].as_str(), json["isBase64Encoded"].as_bool()),
            (Some("{}"), Some(false))
        );
        let form = event(
            "/v1/x/abc",
            &[("content-type", "application/x-www-form-urlencoded")],
            b"a=1",
        );
        assert_eq!(
            (form["body"].as_str(), form["isBase64Encoded"].as_bool()),
            (Some("YT0x"), Some(true))
        );
        let untyped = event("/v1/x/abc", &[], b"{}");
        assert_eq!(untyped["isBase64Encoded"], true);
    }
}
