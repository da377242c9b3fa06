//! Assembles the one OpenAPI document from every function's part.

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// The whole API: every function's operations, with the title, version,
/// the Bearer scheme their `security` entries name, and the error answers
/// every operation can give.
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
    for (path, item) in doc.paths.paths.iter_mut() {
        let has_params = path.contains('{');
        for op in [
            &mut item.get,
            &mut item.post,
            &mut item.put,
            &mut item.delete,
        ]
        .into_iter()
        .flatten()
        {
            add_common_errors(op, has_params);
        }
        // One handler serving POST and PUT (the T/CEC routes) documents one
        // operation id twice; operation ids must be unique.
        if let (Some(post), Some(put)) = (&item.post, &mut item.put)
            && let (Some(id), Some(put_id)) = (&post.operation_id, &mut put.operation_id)
            && id == put_id
        {
            put_id.push_str("_put");
        }
    }
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    doc
}

/// The errors any operation may answer (the envelope maps them all), added
/// where the operation does not describe them itself.
fn add_common_errors(op: &mut Operation, has_path_params: bool) {
    let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
    // The T/CEC routes answer every refusal as 200 with a Ret code; only
    // the body limit comes before them.
    let legacy = op
        .tags
        .as_ref()
        .is_some_and(|tags| tags.iter().any(|t| t == "legacy"));
    let mut common = if legacy {
        vec![("413", "body over 64 KiB")]
    } else {
        vec![
            ("400", "malformed JSON, query or missing field"),
            ("500", "internal error"),
            ("503", "the store is unavailable; retry"),
        ]
    };
    if secured {
        common.push(("401", "no valid Bearer token"));
        common.push(("403", "the caller's role does not allow it"));
    }
    // An id in the path, or a filter naming a site or device, may name
    // something the caller cannot see.
    let names_an_object =
        op.parameters.iter().flatten().any(
            |p| matches!(p, RefOr::T(p) if matches!(p.name.as_str(), "site_id" | "device_id")),
        );
    if has_path_params || names_an_object {
        common.push(("404", "no such resource visible to the caller"));
    }
    if op.request_body.is_some() && !legacy {
        common.push(("413", "body over 64 KiB"));
        common.push(("422", "values out of range"));
    }
    for (status, description) in common {
        op.responses
            .responses
            .entry(status.into())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorEnvelope")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}
