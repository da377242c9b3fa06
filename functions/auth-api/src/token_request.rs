//! An RFC 6749 client-credentials request, read from a JSON body, a form
//! body or HTTP Basic authentication.

use api::ApiError;
use axum::extract::{FromRequest, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use base64::Engine;
use domain::tenants::ClientLogin;
use kernel::Error;
use kernel::secret::Secret;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    #[schema(example = "client_credentials", pattern = "^client_credentials$")]
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    #[schema(value_type = Option<String>)]
    pub client_secret: Option<Secret<String>>,
}

impl TryFrom<TokenRequest> for ClientLogin {
    type Error = Error;

    fn try_from(r: TokenRequest) -> Result<Self, Error> {
        let missing = |field: &str| Error::bad_request(field, "is required");
        let grant = r.grant_type.ok_or_else(|| missing("grant_type"))?;
        domain::devices::credentials::client_credentials_grant(&grant)?;
        let client_id = r.client_id.ok_or_else(|| missing("client_id"))?;
        // An id no client can have is wrong credentials, and never reaches
        // the store (whose keys are bounded).
        if !ClientLogin::client_id_ok(&client_id) {
            return Err(Error::BadCredentials);
        }
        Ok(Self {
            client_id,
            client_secret: r.client_secret.ok_or_else(|| missing("client_secret"))?,
        })
    }
}

/// Basic credentials: `client_id:client_secret`, each form-encoded.
fn basic(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let unescape = |s: &str| {
        form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((unescape(id)?, unescape(secret)?))
}

impl<S: Send + Sync> FromRequest<S> for TokenRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let basic = req
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(basic);
        let form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let api::RawBody(bytes) = api::RawBody::from_request(req, state).await?;
        // A JSON object is JSON whatever the label (curl -d labels it a form).
        let json = bytes.trim_ascii_start().first() == Some(&b'{');
        let mut parsed = if form && !json {
            let mut r = TokenRequest::default();
            for (k, v) in form_urlencoded::parse(&bytes) {
                let v = Some(v.into_owned());
                match k.as_ref() {
                    "grant_type" => r.grant_type = v,
                    "client_id" => r.client_id = v,
                    "client_secret" => r.client_secret = v.map(Secret::new),
                    _ => {}
                }
            }
            r
        } else if bytes.iter().all(u8::is_ascii_whitespace) {
            TokenRequest::default()
        } else {
            api::parse_json(&bytes).map_err(ApiError)?
        };
        if let Some((id, secret)) = basic {
            parsed.client_id = Some(id);
            parsed.client_secret = Some(Secret::new(secret));
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_decoded_and_unescaped() {
        let header = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("my%20client:s%3Acret")
        );
        assert_eq!(basic(&header), Some(("my client".into(), "s:cret".into())));
        assert_eq!(basic("Bearer abc"), None);
        assert_eq!(basic("Basic !!!"), None);
    }
}
