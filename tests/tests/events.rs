//! Replays every API Gateway event under `events/<function>/` through that
//! function's router and checks the status its name ends with. Fixtures
//! are real HTTP API (payload 2.0) events; `${...}` placeholders stand for
//! what only exists at run time (a registered device, its token, now).
//!
//! Legacy (T/CEC) requests must be signed and fresh, so a fixture body
//! `SEAL <payload>` becomes, at replay, the fixture partner's envelope of
//! that payload stamped now. Legacy routes always answer 200: their file
//! names say the `Ret` as well (`...-ret4002-200.json`), and a non-zero
//! `Ret` counts as the route's recorded failure.

use axum::body::Body;
use axum::http::Request;
use std::collections::BTreeMap;
use system_tests::fixtures::{self, FUNCTION_DIRS, Setup, expected_ret};
use system_tests::{function_apps, workspace_file};
use testkit::{TestEnv, send};

#[tokio::test]
async fn every_recorded_event_gets_the_status_in_its_name() {
    let env = TestEnv::new().await;
    let setup = Setup::new(&env).await;
    let apps: BTreeMap<_, _> = function_apps(&env.domain).into_iter().collect();
    let mut replayed = 0;
    for event in fixtures::recorded() {
        let (dir, name, expected) = (event.dir, &event.name, event.status);
        let req = lambda_http::request::from_str(&event.prepared(&env, &setup))
            .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"));
        let (parts, body) = req.into_parts();
        let req = Request::from_parts(parts, Body::from(body.to_vec()));
        let reply = send(&apps[event.function], req).await;
        assert_eq!(
            reply.status.as_u16(),
            expected,
            "{dir}/{name}: {}",
            reply.body
        );
        if let Some(ret) = event.ret() {
            assert_eq!(reply.body["Ret"], ret, "{dir}/{name}: {}", reply.body);
        }
        if expected >= 400 {
            assert_ne!(
                reply.code(),
                0,
                "{dir}/{name}: errors carry a non-zero code"
            );
        }
        replayed += 1;
    }
    assert!(replayed >= 30, "only {replayed} fixtures found");
}

/// Routes with no failure to record: a static document, a redirect.
const CANNOT_FAIL: &[&str] = &["GET /v1/openapi.json", "GET /console"];

/// API Gateway's route for requests no other route matched; it has no
/// success, only the 404 and 405 its function answers for the whole API.
const DEFAULT_ROUTE: &str = "$default";

/// Every route the template sends to a function has a recorded success and
/// a recorded failure (or, for a route not offered yet, its 501).
#[test]
fn every_route_has_a_recorded_success_and_failure() {
    let doc = system_tests::template();
    let mut missing = Vec::new();
    for (dir, function) in FUNCTION_DIRS {
        let mut seen: BTreeMap<String, Vec<u16>> = BTreeMap::new();
        for entry in std::fs::read_dir(workspace_file(&format!("events/{dir}"))).unwrap() {
            let path = entry.unwrap().path();
            let event: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let stem = path.file_stem().and_then(|s| s.to_str()).unwrap();
            let status: u16 = stem
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap();
            // A legacy refusal is a failure though its status is 200.
            let status = match expected_ret(stem) {
                Some(ret) if ret != 0 => 400,
                _ => status,
            };
            let key = event["routeKey"].as_str().unwrap().to_owned();
            seen.entry(key).or_default().push(status);
        }
        let events = doc["Resources"][function]["Properties"]["Events"]
            .as_mapping()
            .unwrap();
        for e in events.values() {
            let key = match (
                e["Properties"]["Method"].as_str(),
                e["Properties"]["Path"].as_str(),
            ) {
                (_, Some(DEFAULT_ROUTE)) | (None, None) => DEFAULT_ROUTE.to_owned(),
                (method, path) => format!(
                    "{} {}",
                    method.unwrap_or_default().to_uppercase(),
                    path.unwrap_or_default()
                ),
            };
            if CANNOT_FAIL.contains(&key.as_str()) {
                continue;
            }
            let statuses = seen.get(&key).cloned().unwrap_or_default();
            if key == DEFAULT_ROUTE {
                if !(statuses.contains(&404) && statuses.contains(&405)) {
                    missing.push(format!("{function}: $default needs a 404 and a 405"));
                }
                continue;
            }
            let planned = statuses.contains(&501);
            let ok = statuses.iter().any(|s| *s < 300);
            let failed = statuses.iter().any(|s| *s >= 400);
            if !(planned || ok && failed) {
                missing.push(format!("{function}: {key} has {statuses:?}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "routes without a recorded success and failure: {missing:#?}"
    );
}
