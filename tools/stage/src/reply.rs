//! A function's answer as API Gateway turns it into the HTTP response
//! (payload format 2.0), and API Gateway's own answers when there is none.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// API Gateway's own answers: a bare `{"message": ...}`.
pub fn not_found() -> Response {
    gateway_error(StatusCode::NOT_FOUND, "Not Found")
}

pub fn too_large() -> Response {
    gateway_error(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large")
}

pub fn internal_error() -> Response {
    gateway_error(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
}

pub fn unavailable() -> Response {
    gateway_error(StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable")
}

fn gateway_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "message": message }).to_string(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Structured {
    status_code: u16,
    #[serde(default)]
    headers: BTreeMap<String, Value>,
    #[serde(default)]
    cookies: Vec<String>,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    is_base64_encoded: bool,
}

/// The HTTP response for a function's output. Format 2.0 reads
/// `statusCode`, `headers`, `cookies` (each a `set-cookie`), `body` and
/// `isBase64Encoded` (it has no `multiValueHeaders`); other valid JSON is
/// itself the body of a 200; anything else is a 500, as API Gateway answers.
pub fn from_output(output: &[u8]) -> Response {
    let Ok(value) = serde_json::from_slice::<Value>(output) else {
        tracing::warn!("the function's output is not JSON");
        return internal_error();
    };
    if value.get("statusCode").is_none() {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            output.to_vec(),
        )
            .into_response();
    }
    match structured(value) {
        Ok(res) => res,
        Err(why) => {
            tracing::warn!(%why, "the function's output is not a valid response");
            internal_error()
        }
    }
}

fn structured(value: Value) -> Result<Response, String> {
    let out: Structured = serde_json::from_value(value).map_err(|e| e.to_string())?;
    let status = StatusCode::from_u16(out.status_code).map_err(|e| e.to_string())?;
    let body = match (out.body, out.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), false) => b.into_bytes(),
        (Some(b), true) => base64::engine::general_purpose::STANDARD
            .decode(b)
            .map_err(|e| format!("body: {e}"))?,
    };
    let mut res = Response::new(Body::from(body));
    *res.status_mut() = status;
    for (name, value) in out.headers {
        let value = match value {
            Value::String(s) => s,
            Value::Number(_) | Value::Bool(_) => value.to_string(),
            _ => continue,
        };
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        let value = HeaderValue::from_str(&value).map_err(|e| e.to_string())?;
        res.headers_mut().insert(name, value);
    }
    for cookie in out.cookies {
        let value = HeaderValue::from_str(&cookie).map_err(|e| e.to_string())?;
        res.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    async fn body(res: Response) -> String {
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn a_structured_answer_sets_status_headers_cookies_and_body() {
        let out =
            br#"{"statusCode":405,"headers":{"allow":"GET","content-type":"application/json"},
            "cookies":["a=1","b=2"],"body":"eyJjb2RlIjo0MDUwMH0=","isBase64Encoded":true}"#;
        let res = from_output(out);
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers()["allow"], "GET");
        let cookies: Vec<_> = res.headers().get_all("set-cookie").iter().collect();
        assert_eq!(cookies, ["a=1", "b=2"]);
        assert_eq!(body(res).await, r#"{"code":40500}"#);
    }

    #[tokio::test]
    async fn json_without_a_status_is_the_body_of_a_200() {
        let res = from_output(br#"{"hello":"world"}"#);
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "application/json");
        assert_eq!(body(res).await, r#"{"hello":"world"}"#);
    }

    #[tokio::test]
    async fn output_that_is_not_a_response_is_a_500() {
        assert_eq!(from_output(b"not json").status(), 500);
        let res = from_output(br#"{"statusCode":200,"body":"%%","isBase64Encoded":true}"#);
        assert_eq!(res.status(), 500);
        assert_eq!(body(res).await, r#"{"message":"Internal Server Error"}"#);
    }

    #[tokio::test]
    async fn gateway_errors_are_bare_messages() {
        assert_eq!(body(not_found()).await, r#"{"message":"Not Found"}"#);
        let res = too_large();
        assert_eq!(res.status(), 413);
        assert_eq!(body(res).await, r#"{"message":"Request Entity Too Large"}"#);
    }
}
