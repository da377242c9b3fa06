//! Test support: a fresh table per test on the embedded engine, or on the
//! DynamoDB endpoint named by `TEST_DYNAMODB_ENDPOINT` (moto in the test
//! script), and helpers to drive routers the way API Gateway does.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DurationRound, TimeDelta, Utc};
use domain::clock::ManualClock;
use domain::{Domain, Settings};
use http_body_util::BodyExt;
use local_dynamo::{Engine, Storage};
use serde_json::Value;
use std::sync::Arc;
use store::{DynamoStore, RequestCounter};
use tower::ServiceExt;

/// The signing key tests use; never a deployment's.
pub const TEST_SIGNING_KEY: [u8; 32] = [42; 32];

pub struct TestEnv {
    pub domain: Domain,
    pub store: DynamoStore,
    pub counter: RequestCounter,
    pub clock: Arc<ManualClock>,
    /// Which endpoint the suite runs on, for messages.
    pub backend: &'static str,
    _engine: Option<Engine>,
}

impl TestEnv {
    pub async fn new() -> Self {
        Self::with_settings(|_| {}).await
    }

    /// A fresh table, with settings adjusted by `tweak`.
    pub async fn with_settings(tweak: impl FnOnce(&mut Settings)) -> Self {
        let table = format!("test-{}", uuid::Uuid::new_v4().simple());
        let counter = RequestCounter::default();
        let (client, engine, backend) = match std::env::var("TEST_DYNAMODB_ENDPOINT") {
            Ok(endpoint) if !endpoint.is_empty() => (
                store::client_for_endpoint(&endpoint, Some(counter.clone())),
                None,
                "external",
            ),
            _ => {
                let engine = Engine::start(&Storage::Memory, 0)
                    .await
                    .expect("embedded engine starts");
                let client = store::client_for_endpoint(&engine.endpoint(), Some(counter.clone()));
                (client, Some(engine), "dynoxide")
            }
        };
        store::table::ensure_table(&client, &table)
            .await
            .expect("table is created");
        let store = DynamoStore::new(client, &table);
        let mut settings = Settings::new(&table, TEST_SIGNING_KEY.to_vec());
        tweak(&mut settings);
        let start = Utc::now()
            .duration_trunc(TimeDelta::seconds(1))
            .expect("truncation of now");
        let clock = Arc::new(ManualClock::new(start));
        let domain = Domain::new(Arc::new(store.clone()), settings, clock.clone());
        counter.reset();
        Self {
            domain,
            store,
            counter,
            clock,
            backend,
            _engine: engine,
        }
    }

    /// Now, as the service sees it, in RFC 3339.
    pub fn now(&self) -> String {
        use domain::Clock;
        domain::validate::rfc3339(self.clock.now())
    }
}

/// A response as a test sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(-1)
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }
}

/// Sends one request through a router, as API Gateway would hand it over.
pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(path);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = match body {
        Some(v) => {
            req = req.header("content-type", "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    send(app, req.body(body).expect("request builds")).await
}

/// Sends a prepared request.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let bytes = res
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, body }
}

impl TestEnv {
    /// Every item in the table, for tests that prove nothing was written.
    /// (A Scan is fine here; request paths never scan.)
    pub async fn all_items(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .store
                .client()
                .scan()
                .table_name(self.store.table())
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .expect("scan");
            out.extend(page.items.unwrap_or_default());
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return out,
            }
        }
    }

    /// Items whose partition key starts with `prefix`.
    pub async fn items_with_pk_prefix(&self, prefix: &str) -> usize {
        self.all_items()
            .await
            .iter()
            .filter(|i| {
                i.get("PK")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|pk| pk.starts_with(prefix))
            })
            .count()
    }
}

impl TestEnv {
    /// The whole table in a stable textual form, to compare before/after.
    pub async fn snapshot(&self) -> String {
        let mut items: Vec<String> = self
            .all_items()
            .await
            .into_iter()
            .map(|item| {
                let sorted: std::collections::BTreeMap<_, _> = item.into_iter().collect();
                format!("{sorted:?}")
            })
            .collect();
        items.sort();
        items.join("\n")
    }
}
