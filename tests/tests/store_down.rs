//! When the store fails (a 5xx that outlives the SDK's retries, or no
//! answer at all), callers get 503 with the envelope, never a 500.

use axum::http::StatusCode;
use domain::Domain;
use kernel::{Settings, SystemClock};
use std::sync::Arc;
use store::DynamoStore;
use testkit::call;

async fn failing_store() -> String {
    let app = axum::Router::new().fallback(|| async {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "RuntimeError: dictionary changed size",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn domain_on(endpoint: &str) -> Domain {
    let client = store::client_for_endpoint(endpoint, None);
    let settings = Settings::new("down", Some(testkit::TEST_SIGNING_KEY.to_vec()));
    Domain::new(
        Arc::new(DynamoStore::new(client, "down")),
        settings,
        Arc::new(SystemClock),
    )
}

#[tokio::test]
async fn a_failing_store_answers_503_not_500() {
    let domain = domain_on(&failing_store().await);
    let app = system_tests::whole_app(&domain);
    let health = call(&app, "GET", "/v1/health?deep=true", &[], None).await;
    assert_eq!((health.status.as_u16(), health.code()), (503, 50300));
    let register = call(&app, "POST", "/v1/device/register", &[], Some(serde_json::json!({
        "sn": "DOWN-1", "model": "TP-AC22", "manufacturer": "Tellus Power", "firmware_version": "1.0"
    }))).await;
    assert_eq!((register.status.as_u16(), register.code()), (503, 50300));
    assert!(
        !register.body["message"]
            .as_str()
            .unwrap()
            .contains("dictionary"),
        "no internals leak"
    );
}

#[tokio::test]
async fn an_unreachable_store_answers_503() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let domain = domain_on(&format!("http://127.0.0.1:{port}"));
    let app = system_tests::whole_app(&domain);
    let health = call(&app, "GET", "/v1/health?deep=true", &[], None).await;
    assert_eq!((health.status.as_u16(), health.code()), (503, 50300));
}
