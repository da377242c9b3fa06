//! Answers for requests no route of the deployed API matched. API Gateway
//! sends those to the function behind its `$default` route, which then
//! answers for the whole API: 405 with `Allow` when another method of the
//! path exists (whichever function serves it), else 404. The routes come
//! from the API's OpenAPI document, the one list of them.

use crate::error::ApiError;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use kernel::Error;
use serde::Deserialize;
use serde::de::IgnoredAny;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
#[error("the OpenAPI document cannot be read: {0}")]
pub struct RoutesError(#[from] serde_json::Error);

/// One path template split at `/`; `{name}` segments match any one segment.
#[derive(Debug)]
struct Template {
    segments: Vec<Option<String>>,
    methods: Vec<Method>,
}

impl Template {
    fn matches(&self, path: &str) -> bool {
        let mut given = path.split('/');
        let mut expected = self.segments.iter();
        loop {
            match (given.next(), expected.next()) {
                (None, None) => return true,
                (Some(seg), Some(None)) if !seg.is_empty() => {}
                (Some(seg), Some(Some(literal))) if seg == literal => {}
                _ => return false,
            }
        }
    }
}

/// Every path of the API with the methods it serves.
#[derive(Debug, Clone)]
pub struct ApiRoutes(Arc<Vec<Template>>);

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

impl ApiRoutes {
    pub fn from_openapi(document: &str) -> Result<Self, RoutesError> {
        #[derive(Deserialize)]
        struct Document {
            paths: BTreeMap<String, BTreeMap<String, IgnoredAny>>,
        }
        let doc: Document = serde_json::from_str(document)?;
        let templates = doc
            .paths
            .into_iter()
            .map(|(path, item)| Template {
                segments: path
                    .split('/')
                    .map(|s| {
                        let param = s.starts_with('{') && s.ends_with('}');
                        (!param).then(|| s.to_owned())
                    })
                    .collect(),
                methods: item
                    .keys()
                    .filter(|m| METHODS.contains(&m.as_str()))
                    .filter_map(|m| Method::from_bytes(m.to_uppercase().as_bytes()).ok())
                    .collect(),
            })
            .collect();
        Ok(Self(Arc::new(templates)))
    }

    /// The methods the API serves on this path, in document order; empty
    /// when no path of the API matches it.
    pub fn allowed(&self, path: &str) -> Vec<Method> {
        let mut out: Vec<Method> = Vec::new();
        for template in self.0.iter().filter(|t| t.matches(path)) {
            for m in &template.methods {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
        out
    }

    /// The answer to `method path` when no route of this function has the
    /// path: 405 when the API serves it with other methods, else 404.
    pub fn answer(&self, method: &Method, path: &str) -> Response {
        if self.allowed(path).is_empty() {
            return ApiError(Error::NotFound(format!("no route for {method} {path}")))
                .into_response();
        }
        self.wrong_method(method, path)
    }

    /// The answer when this function has the path but not the method: 405,
    /// with `Allow` from the API's document when it lists the path (else
    /// the router adds its own, as for pages that are not API operations).
    pub fn wrong_method(&self, method: &Method, path: &str) -> Response {
        let list = self
            .allowed(path)
            .iter()
            .map(Method::as_str)
            .collect::<Vec<_>>()
            .join(",");
        let mut res = ApiError(Error::MethodNotAllowed(format!(
            "{method} is not allowed on {path}"
        )))
        .into_response();
        if !list.is_empty()
            && let Ok(value) = HeaderValue::from_str(&list)
        {
            res.headers_mut().insert(header::ALLOW, value);
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    const DOC: &str = r#"{"paths": {
        "/v1/health": {"get": {}},
        "/v1/device/heartbeat": {"post": {}},
        "/v1/devices/{id}": {"get": {}, "parameters": []},
        "/v1/devices/{id}/connectors/{cid}/start": {"post": {}}
    }}"#;

    fn routes() -> ApiRoutes {
        ApiRoutes::from_openapi(DOC).unwrap()
    }

    #[test]
    fn a_path_template_matches_one_segment_per_parameter() {
        let r = routes();
        assert_eq!(r.allowed("/v1/devices/abc"), [Method::GET]);
        assert_eq!(
            r.allowed("/v1/devices/abc/connectors/1/start"),
            [Method::POST]
        );
        assert!(r.allowed("/v1/devices/").is_empty());
        assert!(r.allowed("/v1/devices/abc/extra").is_empty());
        assert!(r.allowed("/v1/health/").is_empty());
    }

    #[test]
    fn an_unknown_path_is_404_envelope() {
        let res = routes().answer(&Method::GET, "/v1/no-such-route");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.headers().get(header::ALLOW).is_none());
    }

    #[test]
    fn a_known_path_with_another_method_is_405_with_allow() {
        let res = routes().answer(&Method::GET, "/v1/device/heartbeat");
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(res.headers()[header::ALLOW], "POST");
    }

    #[test]
    fn a_path_outside_the_document_leaves_allow_to_the_router() {
        let res = routes().wrong_method(&Method::POST, "/console");
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(res.headers().get(header::ALLOW).is_none());
    }

    #[test]
    fn keys_that_are_not_methods_are_ignored() {
        assert_eq!(routes().allowed("/v1/devices/x"), [Method::GET]);
    }

    #[test]
    fn a_document_without_paths_is_an_error() {
        assert!(ApiRoutes::from_openapi("{}").is_err());
    }
}
