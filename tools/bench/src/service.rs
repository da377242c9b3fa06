//! The whole service in this process on a loopback port, on the embedded
//! engine or a given DynamoDB endpoint, with a charger and clients to
//! drive it.

use domain::Domain;
use kernel::model::Role;
use kernel::{Settings, SystemClock};
use local_dynamo::{Engine, Storage};
use serde_json::{Value, json};
use std::sync::Arc;
use store::{DynamoStore, RequestCounter};

pub struct Service {
    pub base: String,
    pub domain: Domain,
    pub http: reqwest::Client,
    _engine: Option<Engine>,
}

pub struct Device {
    pub id: String,
    pub token: String,
}

impl Service {
    pub async fn start(
        endpoint: Option<&str>,
        counter: Option<RequestCounter>,
        tweak: impl FnOnce(&mut Settings),
    ) -> Result<Self, String> {
        let (client, engine) = match endpoint {
            Some(url) => (store::client_for_endpoint(url, counter), None),
            None => {
                let engine = Engine::start(&Storage::Memory, 0).await?;
                (
                    store::client_for_endpoint(&engine.endpoint(), counter),
                    Some(engine),
                )
            }
        };
        let table = format!("bench-{}", std::process::id());
        store::table::ensure_table(&client, &table)
            .await
            .map_err(|e| e.to_string())?;
        let mut settings = Settings::new(&table, Some(vec![7; 32]));
        tweak(&mut settings);
        let store = DynamoStore::new(client, &table).with_retention(settings.retention);
        // As the local server: OCPP chargers' sockets, and commands sent
        // through them.
        let store = Arc::new(store);
        let sockets = Arc::new(local_server::ocpp::Sockets::default());
        let domain = Domain::new(store.clone(), settings, Arc::new(SystemClock));
        let domain = sockets.attached(domain, store);
        let app = local_server::app(&domain, sockets, "bench");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let base = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        // As the local server: every frame and answer sent at once.
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        tokio::spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        });
        Ok(Self {
            base,
            domain,
            http: reqwest::Client::new(),
            _engine: engine,
        })
    }

    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<(u16, Value), String> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    pub async fn device(&self, sn: &str, model: &str) -> Result<Device, String> {
        let (_, reg) = self
            .post(
                "/v1/device/register",
                None,
                &json!({"sn": sn, "model": model,
                "manufacturer": "Tellus Power", "firmware_version": "1.5.0"}),
            )
            .await?;
        let id = reg["data"]["device_id"]
            .as_str()
            .ok_or("register failed")?
            .to_owned();
        let (_, auth) = self
            .post(
                "/v1/device/auth",
                None,
                &json!({"device_id": id,
                "device_secret": reg["data"]["device_secret"], "grant_type": "client_credentials"}),
            )
            .await?;
        let token = auth["access_token"]
            .as_str()
            .ok_or("auth failed")?
            .to_owned();
        let device = Device { id, token };
        self.post(
            "/v1/device/heartbeat",
            Some(&device.token),
            &json!({"timestamp": now(), "status": "online"}),
        )
        .await?;
        Ok(device)
    }

    pub async fn operator_token(&self) -> Result<String, String> {
        let op = self.domain.settings.default_operator.clone();
        let c = self
            .domain
            .tenants
            .bootstrap_client(None, None, Role::Operator, vec![op], None)
            .await
            .map_err(|e| e.to_string())?;
        let (_, t) = self
            .post(
                "/v1/oauth/token",
                None,
                &json!({"grant_type": "client_credentials",
                "client_id": c.client_id, "client_secret": c.client_secret}),
            )
            .await?;
        t["access_token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| "no operator token".into())
    }
}

pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
