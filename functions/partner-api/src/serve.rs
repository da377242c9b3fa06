//! The one shape of every legacy handler: open the envelope (`tcec`),
//! parse `Data` into the route's typed input, run the domain, seal the
//! answer. Every outcome is `{Ret, Msg, Data, Sig}` with HTTP 200, except a
//! throttled credential check, which is HTTP 429.

use axum::Json;
use axum::http::StatusCode;
use axum::http::request::Parts;
use domain::Domain;
use domain::partners::{Partner, TokenRule};
use kernel::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tcec::{Refusal, Ret, WireAnswer};

pub async fn serve<D, I, O, F, Fut>(
    domain: &Domain,
    parts: &Parts,
    body: &[u8],
    rule: TokenRule,
    handle: F,
) -> (StatusCode, Json<WireAnswer>)
where
    D: DeserializeOwned,
    I: TryFrom<D, Error = Refusal>,
    O: Serialize,
    F: FnOnce(Domain, Partner, I) -> Fut,
    Fut: Future<Output = Result<O, Error>>,
{
    let opened = match tcec::open(domain, body, api::bearer_token(parts), rule).await {
        Ok(opened) => opened,
        Err(refused) => return (StatusCode::OK, Json(refused)),
    };
    api::CallerSlot::set(parts, format!("partner:{}", opened.partner.partner_id));
    let out = match opened.payload::<D>().and_then(I::try_from) {
        Ok(input) => handle(domain.clone(), opened.partner.clone(), input)
            .await
            .map_err(tcec::refusal),
        Err(refusal) => Err(refusal),
    };
    let status = match &out {
        Err(refusal) if refusal.ret == Ret::Throttled => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::OK,
    };
    (status, Json(opened.answer(out)))
}
