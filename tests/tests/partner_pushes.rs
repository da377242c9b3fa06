//! Where partner pushes may go (contract §9, hardened): a `notify_url` is a
//! public `https` host without credentials, checked at creation and again
//! at every push; redirects are never followed; a delivery record shows a
//! status class or a refusal, never what a target answered; and one slow
//! partner does not hold up the others.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use domain::Domain;
use domain::partners::outbox::{Delivery, DeliveryStatus};
use domain::partners::outbox::{Outgoing, Push};
use domain::partners::{Partner, PartnerStore};
use kernel::model::Role;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use system_tests::whole_app;
use tcec::WireKeys;
use testkit::partner::{TestPartner, new_code};
use testkit::{TestEnv, call_as};

/// A loopback endpoint that counts what reaches it and answers with
/// `answer` (a signed Ret 0 when it holds keys).
#[derive(Clone, Default)]
struct Hook {
    hits: Arc<AtomicU32>,
    keys: Arc<Mutex<Option<WireKeys>>>,
    delay: Duration,
    redirect_to: Option<String>,
}

async fn hook(State(h): State<Hook>, _: HeaderMap, _: Json<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    h.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(h.delay).await;
    if let Some(target) = &h.redirect_to {
        return (StatusCode::FOUND, [("location", target.clone())]).into_response();
    }
    let keys = h.keys.lock().unwrap().clone();
    match keys {
        Some(keys) => Json(keys.seal_answer(b"{\"Status\":0}").expect("sealed")).into_response(),
        None => (StatusCode::IM_A_TEAPOT, "internal secrets here").into_response(),
    }
}

/// Serves `h` on a loopback port; answers its base URL.
async fn serve(h: Hook) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/evcs/{route}", axum::routing::post(hook))
        .with_state(h);
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// The same table, served as a deployment would: no local pushes.
fn strict_domain(env: &TestEnv) -> Domain {
    Domain::new(
        Arc::new(env.store.clone()),
        kernel::Settings {
            allow_local_notify_urls: false,
            ..(*env.domain.settings).clone()
        },
        env.clock.clone(),
    )
}

fn local_env_settings(s: &mut kernel::Settings) {
    s.allow_local_notify_urls = true;
}

/// A message due now for `partner`.
async fn due_push(env: &TestEnv, partner: &TestPartner) -> Delivery {
    use kernel::Clock;
    let d = Delivery::new(
        partner.partner_id,
        "notification_stationStatus",
        json!({"ConnectorStatusInfo": {"ConnectorID": "x-1", "Status": 1}}),
        env.clock.now(),
    );
    env.store.save_delivery(&d).await.unwrap();
    d
}

async fn deliveries(env: &TestEnv, partner: &TestPartner) -> Vec<Delivery> {
    env.store
        .partner_deliveries(partner.partner_id)
        .await
        .unwrap()
}

#[tokio::test]
async fn notify_urls_must_be_public_https_hosts_without_credentials() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let admin = env.operator_token(Role::Admin, vec![]).await;
    let acme = env.domain.settings.default_operator.clone();
    let create = |url: &str| {
        json!({"partner_operator_id": new_code(), "name": "Hub", "operator_id": acme.as_str(),
            "notify_url": url})
    };
    for url in [
        "http://hub.example.net/evcs",
        "https://127.0.0.1/evcs",
        "https://0x7f000001/evcs",
        "https://2130706433/evcs",
        "https://[::1]/evcs",
        "https://169.254.169.254/latest",
        "https://10.1.2.3/evcs",
        "https://192.168.0.10/evcs",
        "https://172.20.0.1/evcs",
        "https://224.0.0.1/evcs",
        "https://0.0.0.0/evcs",
        "https://localhost:8443/evcs",
        "https://user:password@hub.example.net/evcs",
        "https://",
        "https://hub.example.net/a b",
    ] {
        let r = call_as(&app, &admin, "POST", "/admin/partners", Some(create(url))).await;
        assert_eq!(r.status.as_u16(), 422, "{url}: {:?}", r.body);
        assert_eq!(r.data()["errors"][0]["field"], "notify_url", "{url}");
    }
    let listed = call_as(&app, &admin, "GET", "/admin/partners", None).await;
    assert_eq!(listed.data(), &json!([]), "nothing was created");
    let fine = call_as(
        &app,
        &admin,
        "POST",
        "/admin/partners",
        Some(create("https://hub.example.net/evcs")),
    )
    .await;
    assert_eq!(fine.status, 200, "{:?}", fine.body);
}

#[tokio::test]
async fn a_private_address_is_refused_again_at_delivery_and_nothing_is_sent() {
    // Created where local pushes were allowed; delivered where they are not.
    let env = TestEnv::with_settings(local_env_settings).await;
    let app = whole_app(&env.domain);
    let h = Hook::default();
    let base = serve(h.clone()).await;
    let acme = env.domain.settings.default_operator.clone();
    let partner = TestPartner::create_with(&env, &app, &acme, Some(format!("{base}/evcs"))).await;
    due_push(&env, &partner).await;
    let strict = strict_domain(&env);
    let push = notifier::HttpPush::new(&strict).unwrap();
    assert_eq!(notifier::drain(&strict, &push).await.unwrap(), 0);
    assert_eq!(h.hits.load(Ordering::SeqCst), 0, "nothing reached it");
    let [d] = deliveries(&env, &partner).await.try_into().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.last_error.as_deref(), Some("refused: private address"));
}

#[tokio::test]
async fn names_resolving_to_private_addresses_are_refused_by_the_sender() {
    let env = TestEnv::with_settings(local_env_settings).await;
    let app = whole_app(&env.domain);
    let h = Hook::default();
    let base = serve(h.clone()).await;
    let port = base.rsplit(':').next().unwrap();
    let acme = env.domain.settings.default_operator.clone();
    let partner = TestPartner::create_with(&env, &app, &acme, Some(format!("{base}/evcs"))).await;
    let partner = env
        .store
        .get_partner(partner.partner_id)
        .await
        .unwrap()
        .unwrap();
    // `localhost` resolves to loopback through the system resolver.
    let url = url::Url::parse(&format!("http://localhost:{port}/evcs/x")).unwrap();
    let message = Outgoing {
        partner: &partner,
        url: &url,
        payload: &json!({}),
        time_stamp: "20260101000000",
        seq: "0001",
    };
    let strict = notifier::HttpPush::new(&strict_domain(&env)).unwrap();
    assert_eq!(
        strict.push(message).await.unwrap_err(),
        "refused: private address"
    );
    assert_eq!(h.hits.load(Ordering::SeqCst), 0);
    // The development setting reaches it, and sees only a status class.
    let local = notifier::HttpPush::new(&env.domain).unwrap();
    assert_eq!(local.push(message).await.unwrap_err(), "HTTP 4xx");
    assert_eq!(h.hits.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn redirects_are_failed_attempts_and_never_followed() {
    let env = TestEnv::with_settings(local_env_settings).await;
    let app = whole_app(&env.domain);
    let target = Hook::default();
    let target_base = serve(target.clone()).await;
    let bouncer = Hook {
        redirect_to: Some(format!("{target_base}/evcs/stolen")),
        ..Hook::default()
    };
    let base = serve(bouncer.clone()).await;
    let acme = env.domain.settings.default_operator.clone();
    let partner = TestPartner::create_with(&env, &app, &acme, Some(format!("{base}/evcs"))).await;
    due_push(&env, &partner).await;
    let push = notifier::HttpPush::new(&env.domain).unwrap();
    assert_eq!(notifier::drain(&env.domain, &push).await.unwrap(), 0);
    assert_eq!(bouncer.hits.load(Ordering::SeqCst), 1);
    assert_eq!(target.hits.load(Ordering::SeqCst), 0, "not followed");
    let [d] = deliveries(&env, &partner).await.try_into().unwrap();
    assert_eq!(d.last_error.as_deref(), Some("HTTP 3xx"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_partner_does_not_hold_up_the_others() {
    let env = TestEnv::with_settings(local_env_settings).await;
    let app = whole_app(&env.domain);
    let acme = env.domain.settings.default_operator.clone();
    let slow = Hook {
        delay: Duration::from_secs(60),
        ..Hook::default()
    };
    let fast = Hook::default();
    let slow_base = serve(slow.clone()).await;
    let fast_base = serve(fast.clone()).await;
    let hanging =
        TestPartner::create_with(&env, &app, &acme, Some(format!("{slow_base}/evcs"))).await;
    let quick =
        TestPartner::create_with(&env, &app, &acme, Some(format!("{fast_base}/evcs"))).await;
    *fast.keys.lock().unwrap() = Some(quick.keys.clone());
    // The hanging partner's message is older, so it comes first.
    due_push(&env, &hanging).await;
    due_push(&env, &quick).await;
    let domain = env.domain.clone();
    let pass = tokio::spawn(async move {
        let push = notifier::HttpPush::new(&domain).unwrap();
        notifier::drain(&domain, &push).await.unwrap()
    });
    let mut waited = Duration::ZERO;
    while fast.hits.load(Ordering::SeqCst) == 0 && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert_eq!(
        fast.hits.load(Ordering::SeqCst),
        1,
        "reached while the other hangs"
    );
    assert!(
        !pass.is_finished(),
        "the hanging partner is still being waited for"
    );
    assert_eq!(pass.await.unwrap(), 1);
    let [d] = deliveries(&env, &quick).await.try_into().unwrap();
    assert_eq!(d.status, DeliveryStatus::Delivered);
    let [d] = deliveries(&env, &hanging).await.try_into().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert_eq!(d.last_error.as_deref(), Some("no answer: timed out"));
}

#[tokio::test]
async fn a_stored_url_with_credentials_is_never_shown() {
    let env = TestEnv::new().await;
    let app = whole_app(&env.domain);
    let acme = env.domain.settings.default_operator.clone();
    let created = TestPartner::create(&env, &app, &acme).await;
    // A partner kept from before the rule, with credentials in its URL.
    let mut old: Partner = env
        .store
        .get_partner(created.partner_id)
        .await
        .unwrap()
        .unwrap();
    old.partner_id = kernel::ids::PartnerId::time_ordered();
    old.partner_operator_id = new_code();
    old.notify_url = Some("https://hub-user:hub-secret@hub.example.net/evcs".into());
    env.store.insert_partner(&old).await.unwrap();
    let viewer = env.operator_token(Role::Viewer, vec![acme]).await;
    let admin = env.operator_token(Role::Admin, vec![]).await;
    for (token, path) in [(&viewer, "/v1/partners"), (&admin, "/admin/partners")] {
        let r = call_as(&app, token, "GET", path, None).await;
        let text = r.body.to_string();
        assert!(
            !text.contains("hub-secret") && !text.contains("hub-user"),
            "{path}: {text}"
        );
        assert!(
            text.contains("https://hub.example.net/evcs"),
            "{path}: {text}"
        );
    }
    // And nothing is pushed to it: credentials are refused at delivery.
    let d = Delivery::new(old.partner_id, "notification_stationStatus", json!({}), {
        use kernel::Clock;
        env.clock.now()
    });
    env.store.save_delivery(&d).await.unwrap();
    let push = notifier::HttpPush::new(&env.domain).unwrap();
    assert_eq!(notifier::drain(&env.domain, &push).await.unwrap(), 0);
    let kept = env.store.partner_deliveries(old.partner_id).await.unwrap();
    assert_eq!(
        kept[0].last_error.as_deref(),
        Some("refused: credentials in notify_url")
    );
}
