//! One route table: `template.yaml`, the routers and the OpenAPI document
//! must list the same routes, and the committed `docs/openapi.json` must be
//! what the code generates (`UPDATE_OPENAPI=1` rewrites it).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use system_tests::{function_routes, openapi_document, template, workspace_file};
use testkit::{TestEnv, call};

type Routes = BTreeSet<(String, String)>;

fn openapi_routes(doc: &Value) -> Routes {
    let mut out = Routes::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

/// The operator console's pages: routed by the template, served by the
/// console function, and not operations of the API document.
fn is_console_page(path: &str) -> bool {
    path == "/console" || path.starts_with("/console/")
}

/// API Gateway's catch-all route key; not a route of the OpenAPI document.
const DEFAULT_ROUTE: &str = "$default";

/// Each function's `HttpApi` events as (method, path); `$default` is
/// `("ANY", "$default")`, as SAM also writes it with no method and path.
fn template_events() -> BTreeMap<String, Routes> {
    let doc = template();
    let mut out = BTreeMap::new();
    for (name, res) in doc["Resources"].as_mapping().expect("resources") {
        if res["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let mut routes = Routes::new();
        if let Some(events) = res["Properties"]["Events"].as_mapping() {
            for event in events.values() {
                if event["Type"].as_str() == Some("HttpApi") {
                    let p = &event["Properties"];
                    let path = p["Path"].as_str().unwrap_or(DEFAULT_ROUTE);
                    let method = p["Method"].as_str().unwrap_or("ANY");
                    routes.insert((method.to_uppercase(), path.to_owned()));
                }
            }
        }
        // Scheduled functions (the notifier) serve no routes.
        if !routes.is_empty() {
            out.insert(name.as_str().expect("name").to_owned(), routes);
        }
    }
    out
}

/// The template's routes per function, without `$default`.
fn template_routes() -> BTreeMap<String, Routes> {
    let mut out = template_events();
    for routes in out.values_mut() {
        routes.retain(|(_, path)| path != DEFAULT_ROUTE);
    }
    out
}

#[test]
fn every_function_serves_exactly_the_routes_the_template_sends_it() {
    let template = template_routes();
    for (function, openapi) in function_routes() {
        let in_template = template
            .get(function)
            .unwrap_or_else(|| panic!("{function} is missing from template.yaml"));
        let in_code = openapi_routes(&serde_json::to_value(openapi).unwrap());
        let in_template: Routes = in_template
            .iter()
            .filter(|(_, path)| !is_console_page(path))
            .cloned()
            .collect();
        let in_template = &in_template;
        let only_template: Vec<_> = in_template.difference(&in_code).collect();
        let only_code: Vec<_> = in_code.difference(in_template).collect();
        assert!(
            only_template.is_empty() && only_code.is_empty(),
            "{function}: only in template.yaml {only_template:?}; only in the router {only_code:?}"
        );
    }
    let functions: BTreeSet<_> = function_routes()
        .into_iter()
        .map(|(f, _)| f.to_owned())
        .collect();
    // Scheduled functions serve no route.
    let templated: BTreeSet<_> = template
        .iter()
        .filter(|(_, routes)| !routes.is_empty())
        .map(|(name, _)| name.clone())
        .collect();
    assert_eq!(functions, templated, "functions in template.yaml");
}

#[tokio::test]
async fn every_template_route_reaches_a_handler_of_its_function() {
    let env = TestEnv::new().await;
    let template = template_routes();
    for (function, app) in system_tests::function_apps(&env.domain) {
        for (method, path) in &template[function] {
            let concrete = path
                .replace("{id}", "8c7d6e4a-34b1-4a57-9a87-1f0b0b8f6c01")
                .replace("{cid}", "1")
                .replace("{proxy+}", "index.html");
            let reply = call(&app, method, &concrete, &[], None).await;
            let unrouted = reply.status == 405
                || reply.body["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("no route"));
            assert!(
                !unrouted,
                "{function} does not serve {method} {path}: {reply:?}"
            );
        }
    }
}

#[test]
fn the_default_route_sends_unmatched_requests_to_the_console_function() {
    let defaults: Vec<_> = template_events()
        .into_iter()
        .flat_map(|(function, routes)| {
            routes
                .into_iter()
                .filter(|(_, path)| path == DEFAULT_ROUTE)
                .map(move |(method, _)| (function.clone(), method))
        })
        .collect();
    assert_eq!(
        defaults,
        [("ConsoleApiFunction".to_owned(), "ANY".to_owned())],
        "exactly one $default route, for any method, to the console function"
    );
}

/// What the `$default` route hands the console function: a request to an
/// API path some function serves, with a method none does, is 405 naming
/// the methods; a path no function serves is 404. (The console's pages are
/// not API operations; their router names their methods itself.)
#[tokio::test]
async fn the_console_function_answers_unmatched_requests_for_the_whole_api() {
    let env = TestEnv::new().await;
    let apps: BTreeMap<_, _> = system_tests::function_apps(&env.domain)
        .into_iter()
        .collect();
    let console = &apps["ConsoleApiFunction"];
    let mut methods: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for routes in template_routes().into_values() {
        for (method, path) in routes {
            if !is_console_page(&path) {
                methods.entry(path).or_default().push(method);
            }
        }
    }
    for (path, allowed) in &methods {
        let concrete = path
            .replace("{id}", "8c7d6e4a-34b1-4a57-9a87-1f0b0b8f6c01")
            .replace("{cid}", "1");
        let wrong = if allowed.contains(&"DELETE".to_owned()) {
            "PATCH"
        } else {
            "DELETE"
        };
        let req = axum::http::Request::builder()
            .method(wrong)
            .uri(&concrete)
            .body(axum::body::Body::empty())
            .unwrap();
        let res = tower::ServiceExt::oneshot(console.clone(), req)
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{wrong} {concrete}");
        let allow: BTreeSet<&str> = res.headers()["allow"]
            .to_str()
            .unwrap()
            .split(',')
            .collect();
        let expected: BTreeSet<&str> = allowed.iter().map(String::as_str).collect();
        assert_eq!(allow, expected, "Allow of {concrete}");
    }
    let reply = call(console, "GET", "/v1/no-such-route", &[], None).await;
    assert_eq!((reply.status.as_u16(), reply.code()), (404, 40400));
}

#[test]
fn every_operation_answers_with_the_envelope() {
    let doc = serde_json::to_value(openapi_document()).unwrap();
    let flat = ["/v1/health", "/v1/openapi.json"];
    for (path, item) in doc["paths"].as_object().unwrap() {
        if flat.contains(&path.as_str()) {
            continue;
        }
        for (method, op) in item.as_object().unwrap() {
            // The T/CEC routes answer the standard's own envelope.
            let legacy = op["tags"]
                .as_array()
                .is_some_and(|tags| tags.iter().any(|t| t == "legacy"));
            let fields: &[&str] = if legacy {
                &["Ret", "Msg", "Data", "Sig"]
            } else {
                &["code", "message", "data"]
            };
            for (status, response) in op["responses"].as_object().unwrap() {
                // Only the body limit answers a legacy route with our envelope.
                if legacy && status == "413" {
                    continue;
                }
                let schema = &response["content"]["application/json"]["schema"];
                let reference = schema["$ref"].as_str().unwrap_or_default();
                let props = if reference.is_empty() {
                    schema["properties"].clone()
                } else {
                    let name = reference.rsplit('/').next().unwrap();
                    doc["components"]["schemas"][name]["properties"].clone()
                };
                for field in fields {
                    assert!(
                        props.get(field).is_some(),
                        "{method} {path} {status}: response is not an envelope ({schema})"
                    );
                }
            }
        }
    }
}

#[test]
fn the_committed_openapi_document_is_the_generated_one() {
    let generated = serde_json::to_string_pretty(&openapi_document()).unwrap() + "\n";
    let path = workspace_file("docs/openapi.json");
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap();
    assert!(
        committed == generated,
        "docs/openapi.json is stale: run UPDATE_OPENAPI=1 cargo test -p system-tests --test routes"
    );
}

#[test]
fn every_schema_reference_in_the_document_resolves() {
    let doc = serde_json::to_value(openapi_document()).unwrap();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let text = doc.to_string();
    let missing: BTreeSet<&str> = text
        .match_indices("#/components/schemas/")
        .map(|(i, m)| {
            let rest = &text[i + m.len()..];
            &rest[..rest.find('"').unwrap_or(rest.len())]
        })
        .filter(|name| !schemas.contains_key(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "dangling schema references: {missing:?}"
    );
}

#[tokio::test]
async fn the_console_pages_are_routed_to_the_console_function_and_served() {
    let env = TestEnv::new().await;
    let template = template_routes();
    let pages: Vec<_> = template
        .iter()
        .flat_map(|(f, routes)| routes.iter().map(move |r| (f.as_str(), r)))
        .filter(|(_, (_, path))| is_console_page(path))
        .collect();
    assert_eq!(
        pages.len(),
        2,
        "/console and /console/{{proxy+}}: {pages:?}"
    );
    assert!(pages.iter().all(|(f, _)| *f == "ConsoleApiFunction"));
    let app = system_tests::whole_app(&env.domain);
    let index = testkit::send(
        &app,
        axum::http::Request::get("/console/")
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(index.status, 200);
    let redirect = call(&app, "GET", "/console", &[], None).await;
    assert_eq!(redirect.status.as_u16(), 308);
    let missing = call(&app, "GET", "/console/no-such-page.js", &[], None).await;
    assert_eq!((missing.status.as_u16(), missing.code()), (404, 40400));
    let script = call(&app, "GET", "/console/js/app.js", &[], None).await;
    // No page of the console can be framed by another site, nor leak its
    // address in a Referer.
    for (what, r) in [
        ("index", &index),
        ("redirect", &redirect),
        ("missing", &missing),
        ("script", &script),
    ] {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
        assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{what}");
    }
}
