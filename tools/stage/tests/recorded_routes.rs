//! The stage routes every recorded API Gateway event (`events/`) as API
//! Gateway did: to the same route key, and to the function whose folder
//! holds it.

use stage::routes::RouteTable;
use stage::template::{Locals, Stack};
use std::path::PathBuf;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn every_recorded_event_takes_its_recorded_route() {
    let locals = Locals {
        table_name: "t".into(),
        secrets: local_server::LOCAL_KEYS
            .iter()
            .map(|(variable, _)| ((*variable).to_owned(), "00".repeat(32)))
            .collect(),
        endpoints: [
            ("OCPP_CONNECTIONS_URL", "http://127.0.0.1:1/ocpp"),
            ("OCPP_URL", "ws://127.0.0.1:1/ocpp"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into(),
        ..Locals::default()
    };
    let stack = Stack::load(&workspace().join("template.yaml"), &locals).unwrap();
    let table = RouteTable::new(
        stack
            .routes
            .iter()
            .map(|r| (r.key.clone(), r.function.clone())),
    )
    .unwrap();
    let mut checked = 0;
    for function in &stack.functions {
        // Scheduled functions have no HTTP events, and the OCPP gateway's
        // are the WebSocket API's (replayed by its own tests).
        if !stack
            .routes
            .iter()
            .any(|r| r.function == function.logical_id)
        {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(workspace().join("events").join(&function.binary))
        else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            let event: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let method = event["requestContext"]["http"]["method"].as_str().unwrap();
            let raw_path = event["rawPath"].as_str().unwrap();
            let matched = table
                .find(&method.parse().unwrap(), raw_path)
                .unwrap_or_else(|| panic!("{}: no route", path.display()));
            assert_eq!(
                (matched.route_key.as_str(), matched.target.as_str()),
                (
                    event["routeKey"].as_str().unwrap(),
                    function.logical_id.as_str()
                ),
                "{}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 100, "only {checked} events");
}
