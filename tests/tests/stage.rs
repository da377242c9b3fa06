//! The deployed shape, through the stage (`tools/stage`): the contract's
//! answers at API Gateway's edge, and every recorded event replayed as the
//! HTTP request it records. It runs against the stage at `STAGE_URL`,
//! whose table is at `STAGE_DYNAMODB_ENDPOINT` with the keys
//! `TOKEN_SIGNING_KEY` and `PARTNER_SECRETS_KEY` (`scripts/test` starts one
//! and sets all four).
//! Without `STAGE_URL` there is no stage to test, and each test says so.

use base64::Engine as _;
use kernel::Settings;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use system_tests::fixtures::{self, Setup};
use testkit::TestEnv;

struct Stage {
    url: String,
    http: reqwest::Client,
}

fn stage(test: &str) -> Option<Stage> {
    let Ok(url) = std::env::var("STAGE_URL") else {
        println!("{test}: skipped, STAGE_URL is not set (scripts/test starts a stage and sets it)");
        return None;
    };
    // Redirects are answers to check, not to follow.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    Some(Stage {
        url: url.trim_end_matches('/').to_owned(),
        http,
    })
}

impl Stage {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut req = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            req = req.header("content-type", "application/json").body(body);
        }
        let res = req.send().await.expect("the stage answers");
        let (status, headers) = (res.status(), res.headers().clone());
        (status, headers, res.json().await.unwrap_or(Value::Null))
    }

    /// The stage's table, to make what the events refer to.
    fn table(&self) -> TestEnv {
        let endpoint = std::env::var("STAGE_DYNAMODB_ENDPOINT")
            .expect("STAGE_DYNAMODB_ENDPOINT names the stage's table endpoint");
        let settings = Settings::from_lookup(|name| match name {
            "TABLE_NAME" => Some(stage::TABLE_NAME.to_owned()),
            "TOKEN_SIGNING_KEY" | "PARTNER_SECRETS_KEY" => {
                Some(std::env::var(name).unwrap_or_else(|_| panic!("{name} is the stage's key")))
            }
            _ => None,
        })
        .expect("settings");
        TestEnv::attached(&endpoint, settings)
    }
}

#[tokio::test]
async fn unmatched_requests_answer_the_envelope_with_allow() {
    let Some(stage) = stage("unmatched_requests_answer_the_envelope_with_allow") else {
        return;
    };
    let (status, _, body) = stage.send(Method::GET, "/v1/no-such-route", None).await;
    assert_eq!(
        (status.as_u16(), &body["code"]),
        (404, &Value::from(40400)),
        "{body}"
    );
    for (method, path, allow) in [
        (Method::DELETE, "/v1/health", "GET"),
        (Method::GET, "/v1/device/heartbeat", "POST"),
        (
            Method::GET,
            "/v1/devices/8c7d6e4a-34b1-4a57-9a87-1f0b0b8f6c01/connectors/1/start",
            "POST",
        ),
    ] {
        let (status, headers, body) = stage.send(method.clone(), path, None).await;
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(body["code"], 40500, "{method} {path}: {body}");
        assert_eq!(headers["allow"], allow, "{method} {path}");
    }
}

#[tokio::test]
async fn health_and_a_console_read_with_a_token() {
    let Some(stage) = stage("health_and_a_console_read_with_a_token") else {
        return;
    };
    let (status, _, body) = stage.send(Method::GET, "/v1/health", None).await;
    assert_eq!(
        (status.as_u16(), &body["status"]),
        (200, &Value::from("ok")),
        "{body}"
    );
    let setup = Setup::new(&stage.table()).await;
    // Client ids and secrets are URL-safe as they are.
    let form = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        setup.value("CLIENT_ID"),
        setup.value("CLIENT_SECRET")
    );
    let res = stage
        .http
        .post(format!("{}/v1/oauth/token", stage.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("token answer");
    assert_eq!(
        res.status(),
        200,
        "a form body reaches the function in base64"
    );
    let token: Value = res.json().await.expect("token JSON");
    let access = token["access_token"].as_str().expect("access token");
    let res = stage
        .http
        .get(format!("{}/v1/devices?size=100", stage.url))
        .bearer_auth(access)
        .send()
        .await
        .expect("devices answer");
    assert_eq!(res.status(), 200);
    let devices: Value = res.json().await.expect("devices JSON");
    assert_eq!(devices["code"], 0);
    assert!(devices["data"]["total"].as_u64() >= Some(1), "{devices}");
}

#[tokio::test]
async fn bodies_over_the_limits_are_refused_where_the_deployment_refuses_them() {
    let Some(stage) = stage("bodies_over_the_limits_are_refused_where_the_deployment_refuses_them")
    else {
        return;
    };
    let over_gateway = vec![b' '; 10 * 1024 * 1024 + 1];
    let (status, _, body) = stage
        .send(Method::POST, "/v1/device/register", Some(over_gateway))
        .await;
    assert_eq!(status, 413);
    assert_eq!(
        body,
        serde_json::json!({"message": "Request Entity Too Large"})
    );
    let over_contract = vec![b' '; 64 * 1024 + 1];
    let (status, _, body) = stage
        .send(Method::POST, "/v1/device/register", Some(over_contract))
        .await;
    assert_eq!(
        (status.as_u16(), &body["code"]),
        (413, &Value::from(41300)),
        "{body}"
    );
}

/// An event as the request a client sent.
fn request(stage: &Stage, event: &Value) -> reqwest::RequestBuilder {
    let method = event["requestContext"]["http"]["method"]
        .as_str()
        .unwrap_or_default();
    let mut url = format!(
        "{}{}",
        stage.url,
        event["rawPath"].as_str().unwrap_or_default()
    );
    if let Some(query) = event["rawQueryString"].as_str().filter(|q| !q.is_empty()) {
        url = format!("{url}?{query}");
    }
    let method = Method::from_bytes(method.as_bytes()).expect("a method");
    let mut req = stage.http.request(method, url);
    for (name, value) in event["headers"].as_object().into_iter().flatten() {
        if !["host", "content-length"].contains(&name.as_str()) {
            req = req.header(name, value.as_str().unwrap_or_default());
        }
    }
    if let Some(cookies) = event["cookies"].as_array() {
        let joined: Vec<&str> = cookies.iter().filter_map(Value::as_str).collect();
        req = req.header("cookie", joined.join("; "));
    }
    if let Some(body) = event["body"].as_str() {
        let bytes = if event["isBase64Encoded"] == true {
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .expect("a base64 body")
        } else {
            body.as_bytes().to_vec()
        };
        req = req.body(bytes);
    }
    req
}

#[tokio::test]
async fn every_recorded_event_gets_its_status_through_the_stage() {
    let Some(stage) = stage("every_recorded_event_gets_its_status_through_the_stage") else {
        return;
    };
    let env = stage.table();
    let setup = Setup::new(&env).await;
    let mut wrong = Vec::new();
    let recorded = fixtures::recorded();
    for event in &recorded {
        let parsed: Value =
            serde_json::from_str(&event.prepared(&env, &setup)).expect("event JSON");
        let res = request(&stage, &parsed)
            .send()
            .await
            .expect("the stage answers");
        let status = res.status().as_u16();
        let body = res.text().await.unwrap_or_default();
        let ret = serde_json::from_str::<Value>(&body)
            .ok()
            .map(|b| b["Ret"].clone());
        let ret_wrong = event
            .ret()
            .is_some_and(|expected| ret != Some(Value::from(expected)));
        if status != event.status || ret_wrong {
            wrong.push(format!("{}/{}: {status} {body}", event.dir, event.name));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} events: {wrong:#?}",
        wrong.len(),
        recorded.len()
    );
}
