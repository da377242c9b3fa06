//! Test support: a fresh table per test on the embedded engine, or on the
//! DynamoDB endpoint named by `TEST_DYNAMODB_ENDPOINT` (moto in the test
//! script), and helpers to drive routers the way API Gateway does.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DurationRound, TimeDelta, Utc};
use domain::Domain;
use domain::admin::AdminCommand;
use domain::commands::CommandStore;
use domain::devices::Registration;
use domain::tenants::{ClientLogin, TenantStore};
use http_body_util::BodyExt;
use kernel::Settings;
use kernel::access::Caller;
use kernel::clock::ManualClock;
use kernel::command::{Command, CommandParams};
use kernel::ids::{ConnectorId, DeviceId, OperatorId};
use kernel::model::{CommandKind, Device, Operator, Role};
use local_dynamo::{Engine, Storage};
use serde_json::{Value, json};
use std::sync::Arc;
use store::{DynamoStore, RequestCounter};
use tower::ServiceExt;

pub mod console;
pub mod partner;

/// The signing key tests use; never a deployment's.
pub const TEST_SIGNING_KEY: [u8; 32] = [42; 32];
/// Seals partners' secrets in tests.
pub const TEST_PARTNER_KEY: [u8; 32] = [7; 32];

/// A device as registration stores it, before it has been seen: for store
/// tests that write devices directly.
pub fn unseen_device(sn: &str, operator: &str, now: chrono::DateTime<Utc>) -> Device {
    Registration {
        sn: kernel::ids::SerialNumber::parse(sn).expect("a serial number"),
        model: "TP-AC22".into(),
        manufacturer: "Tellus Power".into(),
        firmware_version: kernel::version::FirmwareVersion::parse("1.5.0").expect("a version"),
    }
    .device(
        "hash".into(),
        OperatorId::parse(operator).expect("an operator id"),
        now,
    )
}

/// Where every test's clock starts: now, or `TEST_CLOCK_START` (an RFC
/// 3339 instant), so that the suite can be run as if at any time of day
/// (`scripts/test` runs the moto pass at 00:30 UTC) and a test that
/// depends on when it runs shows itself.
fn clock_start() -> chrono::DateTime<Utc> {
    match std::env::var("TEST_CLOCK_START") {
        Ok(at) if !at.is_empty() => at.parse().expect("TEST_CLOCK_START is an RFC 3339 instant"),
        _ => Utc::now(),
    }
}

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
        Self::fresh(tweak, clock_start()).await
    }

    /// For tests whose clients keep their own time (the Twin, a browser):
    /// the service's clock starts at the real now whatever
    /// `TEST_CLOCK_START` says, so the clients' times stay believable.
    pub async fn live(tweak: impl FnOnce(&mut Settings)) -> Self {
        Self::fresh(tweak, Utc::now()).await
    }

    async fn fresh(tweak: impl FnOnce(&mut Settings), start: chrono::DateTime<Utc>) -> Self {
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
        let mut settings = Settings::new(&table, Some(TEST_SIGNING_KEY.to_vec()));
        settings.partner_secrets_key = Some(kernel::secret::Secret::new(TEST_PARTNER_KEY));
        tweak(&mut settings);
        Self::on(client, engine, backend, settings, counter, start)
    }

    /// The table of a service that is already running (the stage), on
    /// its endpoint and with its settings (its table, its signing key),
    /// instead of a fresh one.
    pub fn attached(endpoint: &str, settings: Settings) -> Self {
        let counter = RequestCounter::default();
        let client = store::client_for_endpoint(endpoint, Some(counter.clone()));
        Self::on(client, None, "external", settings, counter, Utc::now())
    }

    fn on(
        client: aws_sdk_dynamodb::Client,
        engine: Option<Engine>,
        backend: &'static str,
        settings: Settings,
        counter: RequestCounter,
        start: chrono::DateTime<Utc>,
    ) -> Self {
        let store =
            DynamoStore::new(client, &settings.table_name).with_retention(settings.retention);
        let start = start
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
        use kernel::Clock;
        kernel::input::rfc3339(self.clock.now())
    }

    /// A Bearer token of a new client with this role and these operators.
    pub async fn operator_token(&self, role: Role, operators: Vec<OperatorId>) -> String {
        let client = self
            .domain
            .tenants
            .bootstrap_client(None, None, role, operators, None)
            .await
            .expect("client is created");
        let login = ClientLogin {
            client_id: client.client_id,
            client_secret: client.client_secret,
        };
        let token = self
            .domain
            .tenants
            .issue_operator_token(login, "testkit")
            .await
            .expect("token is issued");
        token.access_token.expose().clone()
    }

    /// Queues a command that needs no parameters (a start at full power,
    /// a stop, a reboot) as a platform admin would, and reads it back.
    pub async fn queue(
        &self,
        device: DeviceId,
        connector: Option<u32>,
        kind: CommandKind,
    ) -> Command {
        let admin = Caller {
            client_id: "test-admin".into(),
            role: Role::Admin,
            operators: vec![],
        };
        let params = match kind {
            CommandKind::StartCharging => CommandParams::StartCharging(Default::default()),
            CommandKind::StopCharging => CommandParams::StopCharging(Default::default()),
            CommandKind::Reboot => CommandParams::Reboot(Default::default()),
            other => panic!("{other:?} needs parameters: queue it through its route"),
        };
        let command = AdminCommand {
            device_id: device,
            connector_id: connector.and_then(ConnectorId::new),
            params,
        };
        let queued = self
            .domain
            .admin
            .queue_admin_command(&admin, command)
            .await
            .expect("command is queued");
        self.store
            .get_command(queued.command_id)
            .await
            .expect("command reads")
            .expect("command exists")
    }

    /// Creates an operator (tests may set up around the domain's rules).
    pub async fn operator(&self, slug: &str) -> OperatorId {
        let id = OperatorId::parse(slug).expect("a slug");
        self.store
            .ensure_operator(&Operator {
                id: id.clone(),
                name: slug.into(),
                country: "GB".into(),
                status: "active".into(),
            })
            .await
            .expect("operator is stored");
        id
    }
}

/// A charger registered and authenticated through the routes, as a
/// charger does it.
#[derive(Debug, Clone)]
pub struct Charger {
    pub id: String,
    pub sn: String,
    pub secret: String,
    pub token: String,
}

pub async fn register(app: &Router, sn: &str, model: &str, firmware: &str) -> Reply {
    let body = json!({"sn": sn, "model": model, "manufacturer": "Tellus Power",
        "firmware_version": firmware});
    call(app, "POST", "/v1/device/register", &[], Some(body)).await
}

pub async fn authenticate(app: &Router, id: &str, secret: &str) -> Reply {
    let body = json!({"device_id": id, "device_secret": secret,
        "grant_type": "client_credentials"});
    call(app, "POST", "/v1/device/auth", &[], Some(body)).await
}

impl Charger {
    /// A `TP-AC22` on firmware 1.5.0.
    pub async fn new(app: &Router, sn: &str) -> Self {
        Self::of_model(app, sn, "TP-AC22", "1.5.0").await
    }

    pub async fn of_model(app: &Router, sn: &str, model: &str, firmware: &str) -> Self {
        let reg = register(app, sn, model, firmware).await;
        assert_eq!(reg.status, 200, "register {sn}: {:?}", reg.body);
        let id = reg.data()["device_id"]
            .as_str()
            .expect("device id")
            .to_owned();
        let secret = reg.data()["device_secret"]
            .as_str()
            .expect("device secret")
            .to_owned();
        let auth = authenticate(app, &id, &secret).await;
        assert_eq!(auth.status, 200, "authenticate {sn}: {:?}", auth.body);
        Self {
            id,
            sn: sn.into(),
            secret,
            token: auth.body["access_token"]
                .as_str()
                .expect("access token")
                .to_owned(),
        }
    }

    pub async fn post(&self, app: &Router, path: &str, body: Value) -> Reply {
        call_as(app, &self.token, "POST", path, Some(body)).await
    }

    /// A new access token, as a charger gets one when its 24 h run out.
    pub async fn renew(&mut self, app: &Router) {
        let auth = authenticate(app, &self.id, &self.secret).await;
        assert_eq!(
            auth.status, 200,
            "re-authenticate {}: {:?}",
            self.sn, auth.body
        );
        self.token = auth.body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned();
    }

    pub async fn get(&self, app: &Router, path: &str) -> Reply {
        call_as(app, &self.token, "GET", path, None).await
    }

    pub fn device_id(&self) -> DeviceId {
        DeviceId::parse(&self.id).expect("a device id")
    }
}

/// One request with a Bearer token.
pub async fn call_as(
    app: &Router,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let bearer = format!("Bearer {token}");
    call(app, method, path, &[("authorization", &bearer)], body).await
}

/// A response as a test sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn code(&self) -> i64 {
        self.body["code"].as_i64().unwrap_or(-1)
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// A response header as text, if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
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

/// Sends one request as if it came from `source` (an IP address), the
/// way the local server hands its peer address over.
pub async fn call_from(
    app: &Router,
    source: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let peer: std::net::IpAddr = source.parse().expect("an IP address");
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .expect("request builds");
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(
            peer, 40000,
        )));
    send(app, req).await
}

/// Sends a prepared request.
pub async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res
        .into_body()
        .collect()
        .await
        .expect("body reads")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
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
