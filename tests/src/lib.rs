//! Helpers shared by the system tests: the functions as deployed, the
//! world most tests start from, the template, and files of the workspace.

pub mod fixtures;
pub mod world;

use domain::Domain;
use std::path::PathBuf;

/// Each function's logical id in `template.yaml` with its OpenAPI part.
pub fn function_routes() -> Vec<(&'static str, utoipa::openapi::OpenApi)> {
    vec![
        ("DeviceApiFunction", device_api::openapi()),
        ("ConsoleApiFunction", console_api::openapi()),
        ("CommandApiFunction", command_api::openapi()),
        ("IntelligenceApiFunction", intelligence_api::openapi()),
        ("AuthApiFunction", auth_api::openapi()),
        ("PartnerApiFunction", partner_api::openapi()),
        ("OcppApiFunction", ocpp_gateway::openapi()),
    ]
}

/// Each function's router as its Lambda binary serves it.
pub fn function_apps(domain: &Domain) -> Vec<(&'static str, axum::Router)> {
    vec![
        (
            "DeviceApiFunction",
            api::finish(device_api::router(domain.clone()), domain, "device-api"),
        ),
        (
            "ConsoleApiFunction",
            console_api::lambda_app(domain).expect("the OpenAPI document reads"),
        ),
        (
            "CommandApiFunction",
            api::finish(command_api::router(domain.clone()), domain, "command-api"),
        ),
        (
            "IntelligenceApiFunction",
            api::finish(
                intelligence_api::router(domain.clone()),
                domain,
                "intelligence-api",
            ),
        ),
        (
            "AuthApiFunction",
            api::finish(auth_api::router(domain.clone()), domain, "auth-api"),
        ),
        (
            "PartnerApiFunction",
            api::finish(partner_api::router(domain.clone()), domain, "partner-api"),
        ),
        (
            "OcppApiFunction",
            api::finish(ocpp_gateway::router(domain.clone()), domain, "ocpp-api"),
        ),
    ]
}

/// Every function's routes in one router, as the local server serves them.
pub fn whole_app(domain: &Domain) -> axum::Router {
    local_server::app(domain, Default::default(), "local-server")
}

/// The document served at `/v1/openapi.json`.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    api::openapi::document(
        function_routes().into_iter().map(|(_, doc)| doc),
        env!("CARGO_PKG_VERSION"),
    )
}

pub fn workspace_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

pub fn template() -> serde_yaml::Value {
    let text = std::fs::read_to_string(workspace_file("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml parses")
}

/// `app` on a loopback port, reached as a deployment is (by the Twin, an
/// HTTP console): its base URL, and the server's task to abort at the end.
pub async fn serve(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let base = format!("http://{}", listener.local_addr().expect("its address"));
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the test server runs");
    });
    (base, server)
}
