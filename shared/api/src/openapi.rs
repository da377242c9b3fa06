//! Assembles the one OpenAPI document from every function's part.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};

/// The whole API: every function's operations, with the title, version and
/// the Bearer scheme their `security` entries name.
pub fn document(parts: impl IntoIterator<Item = OpenApi>, version: &str) -> OpenApi {
    let mut doc = OpenApi::new(
        InfoBuilder::new()
            .title("EV charging network API")
            .version(version)
            .description(Some(
                "Charger side under /v1/device/*, console side under flat /v1/*. \
                 Every answer but /v1/health is the envelope {code, message, data}.",
            ))
            .build(),
        utoipa::openapi::Paths::new(),
    );
    for part in parts {
        doc.merge(part);
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}
