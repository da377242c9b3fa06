//! The operator console: static pages embedded in this binary and served
//! on the API's own origin (so the browser needs no CORS), using only the
//! public API with the operator's token. Not part of the OpenAPI document.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// The page's policy, sent as a header: only a header can forbid framing
/// (`frame-ancestors`), which the page's own `<meta>` copy cannot.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; \
    frame-ancestors 'none'";

/// The console's routes; the template sends `/console` and `/console/*` here.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::permanent("/console/") }),
        )
        .route("/console/", get(|| async { asset("index.html") }))
        .route(
            "/console/{*path}",
            get(|Path(path): Path<String>| async move { asset(&path) }),
        )
        .layer(axum::middleware::map_response(page_headers))
}

/// Every console answer (pages, redirect, not found) refuses to be framed
/// and sends no referrer to anyone.
async fn page_headers(mut res: Response) -> Response {
    let headers = res.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    res
}

fn content_type(path: &str) -> Option<&'static str> {
    Some(match path.rsplit_once('.')?.1 {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => return None,
    })
}

fn asset(path: &str) -> Response {
    let found = ASSETS
        .get_file(path)
        .and_then(|f| Some((content_type(path)?, f.contents())));
    let Some((kind, body)) = found else {
        return api::ApiError(kernel::Error::NotFound("no such console page".into()))
            .into_response();
    };
    let mut res = (StatusCode::OK, body).into_response();
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(kind));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Pages change with deployments; let browsers revalidate each time.
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_file_has_a_content_type_and_the_page_its_scripts() {
        let mut files = Vec::new();
        let mut dirs = vec![&ASSETS];
        while let Some(dir) = dirs.pop() {
            for entry in dir.entries() {
                match entry {
                    include_dir::DirEntry::Dir(d) => dirs.push(d),
                    include_dir::DirEntry::File(f) => {
                        files.push(f.path().to_string_lossy().into_owned())
                    }
                }
            }
        }
        assert!(files.iter().any(|f| f == "index.html"));
        for f in &files {
            assert!(content_type(f).is_some(), "{f} would not be served");
        }
        let index = std::str::from_utf8(ASSETS.get_file("index.html").unwrap().contents()).unwrap();
        assert!(
            !index.contains("http://") && !index.contains("https://"),
            "nothing fetched from elsewhere"
        );
    }
}
