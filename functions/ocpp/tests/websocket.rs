//! The `ocpp-gateway` function's handler on API Gateway's WebSocket events
//! (the recorded ones under `events/ocpp-gateway/`), on the store: a
//! connection checked at `$connect`, each frame answered as `$default`'s
//! route response, the device disconnected at `$disconnect`.

use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use domain::chargepoints::NewChargePoint;
use domain::storage::ports::*;
use kernel::access::Caller;
use kernel::model::Role;
use ocpp_gateway::websocket::{Answer, on_event};
use serde_json::{Value, json};
use std::path::PathBuf;
use testkit::TestEnv;

fn recorded(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../events/ocpp-gateway/{name}.json"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("a recorded event")).expect("JSON")
}

fn event(value: Value) -> ApiGatewayWebsocketProxyRequest {
    serde_json::from_value(value).expect("an API Gateway WebSocket event")
}

fn basic(id: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{password}"))
    )
}

/// The recorded `$connect` for charge point `id` with `password`.
fn connect(id: &str, password: &str, connection: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut e = recorded("connect");
    e["headers"]["Authorization"] = json!(basic(id, password));
    e["multiValueHeaders"]["Authorization"] = json!([basic(id, password)]);
    e["queryStringParameters"]["charge_point_id"] = json!(id);
    e["multiValueQueryStringParameters"]["charge_point_id"] = json!([id]);
    e["requestContext"]["connectionId"] = json!(connection);
    event(e)
}

fn message(connection: &str, body: &str) -> ApiGatewayWebsocketProxyRequest {
    let mut e = recorded("default");
    e["requestContext"]["connectionId"] = json!(connection);
    e["body"] = json!(body);
    event(e)
}

async fn provisioned(env: &TestEnv, id: &str) -> (String, kernel::ids::DeviceId) {
    let admin = Caller {
        client_id: "test-admin".into(),
        role: Role::Admin,
        operators: vec![],
    };
    let new = NewChargePoint {
        charge_point_id: id.into(),
        operator_id: None,
        site_id: None,
        model: None,
        manufacturer: None,
    };
    let p = env
        .domain
        .charge_points
        .provision_charge_point(&admin, new, "wss://example.cloudfront.net/ocpp".into())
        .await
        .unwrap();
    (p.password.expose().clone(), p.device_id)
}

#[tokio::test]
async fn the_recorded_events_connect_answer_and_disconnect_a_charger() {
    let env = TestEnv::new().await;
    let (password, device_id) = provisioned(&env, "CP-EVENT-1").await;
    let opened = on_event(&env.domain, &connect("CP-EVENT-1", &password, "conn-A")).await;
    assert_eq!(
        (opened.status, opened.subprotocol),
        (200, Some("ocpp2.0.1"))
    );
    let device = env.store.get_device(device_id).await.unwrap().unwrap();
    assert_eq!(device.connection.as_ref().unwrap().connection_id, "conn-A");

    // The recorded frame is a 1.6 boot; this connection chose 2.0.1.
    let wrong = on_event(
        &env.domain,
        &message("conn-A", recorded("default")["body"].as_str().unwrap()),
    )
    .await;
    let frame: Value = serde_json::from_str(wrong.frame.as_deref().unwrap()).unwrap();
    assert_eq!(
        (frame[0].as_i64(), frame[2].as_str()),
        (Some(4), Some("ProtocolError"))
    );
    let boot = r#"[2,"b1","BootNotification",{"chargingStation":{"vendorName":"Acme","model":"DC50"},"reason":"PowerUp"}]"#;
    let answered = on_event(&env.domain, &message("conn-A", boot)).await;
    let frame: Value = serde_json::from_str(answered.frame.as_deref().unwrap()).unwrap();
    assert_eq!(frame[0], 3);
    assert_eq!(frame[1], "b1");
    assert_eq!(frame[2]["status"], "Accepted");
    assert!(!answered.close);

    let closed = on_event(
        &env.domain,
        &event(recorded("disconnect")).with_connection("conn-A"),
    )
    .await;
    assert_eq!(closed.status, 200);
    let device = env.store.get_device(device_id).await.unwrap().unwrap();
    assert!(device.connection.is_none());
    // A message on a connection the table no longer knows closes it.
    let stray = on_event(&env.domain, &message("conn-A", r#"[2,"h","Heartbeat",{}]"#)).await;
    assert!(stray.close);
    assert_eq!(stray.frame, None);
}

#[tokio::test]
async fn connect_refuses_a_wrong_password_an_unknown_id_and_no_common_protocol() {
    let env = TestEnv::new().await;
    let (password, device_id) = provisioned(&env, "CP-EVENT-2").await;
    let refused: Answer = on_event(&env.domain, &connect("CP-EVENT-2", "0000", "conn-B")).await;
    assert_eq!(refused.status, 401);
    let unknown = on_event(&env.domain, &connect("CP-NOBODY", &password, "conn-B")).await;
    assert_eq!(unknown.status, 401);
    let mut e = recorded("connect");
    e["headers"]["Sec-WebSocket-Protocol"] = json!("ocpp2.1, mqtt");
    e["multiValueHeaders"]["Sec-WebSocket-Protocol"] = json!(["ocpp2.1, mqtt"]);
    assert_eq!(on_event(&env.domain, &event(e)).await.status, 400);
    let device = env.store.get_device(device_id).await.unwrap().unwrap();
    assert!(device.connection.is_none(), "nothing happened");
    let mut e = recorded("connect");
    e["queryStringParameters"] = json!({});
    e["multiValueQueryStringParameters"] = json!({});
    assert_eq!(on_event(&env.domain, &event(e)).await.status, 401);
}

trait WithConnection {
    fn with_connection(self, id: &str) -> Self;
}

impl WithConnection for ApiGatewayWebsocketProxyRequest {
    fn with_connection(mut self, id: &str) -> Self {
        self.request_context.connection_id = Some(id.into());
        self
    }
}
