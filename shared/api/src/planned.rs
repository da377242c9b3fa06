//! Routes of the product that are not built yet answer 501 with a message
//! naming the route (never a fake success).

/// Declares a handler for a planned route, documented in the OpenAPI
/// document under the `planned` tag.
#[macro_export]
macro_rules! planned {
    ($name:ident, $method:ident, $path:literal) => {
        #[utoipa::path($method, path = $path, tag = "planned",
            responses((status = 501, description = "not available yet", body = $crate::ErrorEnvelope)))]
        async fn $name() -> $crate::ApiError {
            $crate::ApiError(domain::Error::NotImplemented(format!(
                "{} {}",
                stringify!($method).to_uppercase(),
                $path
            )))
        }
    };
}
