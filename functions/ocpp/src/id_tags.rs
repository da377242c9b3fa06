//! `/v1/id-tags`: operators' driver tokens (RFID cards, app tokens).
//! Parse, call the domain, wrap the envelope.

use api::{ApiResult, Console, Envelope, ErrorEnvelope, JsonBody, QueryParams, Reply};
use axum::extract::{Path, State};
use domain::Domain;
use domain::console::Paging;
use domain::console::views::ListPage;
use domain::idtags::{ID_TAG_RULE, IdTagChange, IdTagStatus, IdTagView, NewIdTag, valid_id_tag};
use kernel::Error;
use kernel::ids::OperatorId;
use kernel::input::{AllFields, Parsed, check, id, one_of, optional, short_text, time};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

type Failure = ErrorEnvelope;

const LABEL_MAX: usize = 64;

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdTagRequest {
    /// 1..20 printable ASCII characters; compared without regard to case.
    #[schema(min_length = 1, max_length = 20)]
    pub id_tag: String,
    #[schema(max_length = 64)]
    pub label: Option<String>,
    /// `accepted` (default) or `blocked`.
    #[schema(value_type = Option<IdTagStatus>)]
    pub status: Option<String>,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// The owning operator; required when the caller acts for several.
    pub operator_id: Option<String>,
}

fn status(raw: Option<&str>) -> Parsed<Option<IdTagStatus>> {
    optional(raw, |s| one_of::<IdTagStatus>(s, "status"))
}

impl TryFrom<IdTagRequest> for NewIdTag {
    type Error = Error;

    fn try_from(r: IdTagRequest) -> Result<Self, Error> {
        let (tag, label, status, expires_at, operator_id) = (
            check(valid_id_tag(&r.id_tag), "id_tag", ID_TAG_RULE),
            optional(r.label, |l| short_text(l, LABEL_MAX, "label")),
            status(r.status.as_deref()),
            optional(r.expires_at.as_deref(), |t| time(t, "expires_at")),
            optional(r.operator_id.as_deref(), |o| {
                id::<OperatorId>(o, "operator_id")
            }),
        )
            .all()?;
        let () = tag;
        Ok(Self {
            id_tag: r.id_tag,
            label,
            status: status.unwrap_or(IdTagStatus::Accepted),
            expires_at,
            operator_id,
        })
    }
}

/// A field that is there, `null` included (`null` clears it).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct IdTagPatch {
    /// A new label; `null` removes it.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, max_length = 64)]
    pub label: Option<Value>,
    #[schema(value_type = Option<IdTagStatus>)]
    pub status: Option<String>,
    /// A new expiry; `null` makes the token never expire.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Value>,
}

/// A field to set (`Some(Some)`), clear (`Some(None)`) or leave (`None`).
fn change<T>(
    raw: Option<Value>,
    field: &str,
    parse: impl FnOnce(&str) -> Parsed<T>,
) -> Parsed<Option<Option<T>>> {
    match raw {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => parse(&s).map(|v| Some(Some(v))),
        Some(_) => check(false, field, "must be a string or null").map(|()| None),
    }
}

impl TryFrom<IdTagPatch> for IdTagChange {
    type Error = Error;

    fn try_from(p: IdTagPatch) -> Result<Self, Error> {
        let (label, status, expires_at) = (
            change(p.label, "label", |l| {
                short_text(l.to_owned(), LABEL_MAX, "label")
            }),
            status(p.status.as_deref()),
            change(p.expires_at, "expires_at", |t| time(t, "expires_at")),
        )
            .all()?;
        Ok(Self {
            label,
            status,
            expires_at,
        })
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdTagQuery {
    #[param(value_type = Option<IdTagStatus>)]
    pub status: Option<String>,
    #[param(minimum = 1)]
    pub page: Option<i64>,
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

/// Add a driver token.
#[utoipa::path(post, path = "/v1/id-tags", tag = "ocpp",
    security(("bearer" = [])), request_body = IdTagRequest,
    responses(
        (status = 201, description = "the token", body = Envelope<IdTagView>),
        (status = 403, description = "viewers read only", body = Failure),
        (status = 409, description = "the operator has this token already", body = Failure),
        (status = 422, description = "a malformed token, status or time", body = Failure),
    ))]
pub async fn create_id_tag(
    State(domain): State<Domain>,
    Console(caller): Console,
    JsonBody(body): JsonBody<IdTagRequest>,
) -> ApiResult<IdTagView> {
    Ok(Reply::created(
        domain
            .id_tags
            .create_id_tag(&caller, body.try_into()?)
            .await?,
    ))
}

/// The caller's driver tokens.
#[utoipa::path(get, path = "/v1/id-tags", tag = "ocpp",
    security(("bearer" = [])), params(IdTagQuery),
    responses(
        (status = 200, description = "a page of tokens", body = Envelope<ListPage<IdTagView>>),
        (status = 422, description = "bad filter or paging", body = Failure),
    ))]
pub async fn list_id_tags(
    State(domain): State<Domain>,
    Console(caller): Console,
    QueryParams(q): QueryParams<IdTagQuery>,
) -> ApiResult<ListPage<IdTagView>> {
    let wanted = status(q.status.as_deref()).map_err(|e| Error::Invalid(vec![e]))?;
    let paging = Paging::parse(q.page, q.size)?;
    Ok(Reply::ok(
        domain.id_tags.id_tags(&caller, wanted, paging).await?,
    ))
}

/// One driver token.
#[utoipa::path(get, path = "/v1/id-tags/{id_tag}", tag = "ocpp",
    security(("bearer" = [])), params(("id_tag" = String, Path, description = "the token, any case")),
    responses(
        (status = 200, description = "the token", body = Envelope<IdTagView>),
        (status = 404, description = "not the caller's", body = Failure),
    ))]
pub async fn get_id_tag(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(tag): Path<String>,
) -> ApiResult<IdTagView> {
    Ok(Reply::ok(domain.id_tags.id_tag(&caller, &tag).await?))
}

/// Change a token's label, status or expiry; a block holds from the next
/// Authorize.
#[utoipa::path(patch, path = "/v1/id-tags/{id_tag}", tag = "ocpp",
    security(("bearer" = [])), request_body = IdTagPatch,
    params(("id_tag" = String, Path, description = "the token, any case")),
    responses(
        (status = 200, description = "the token as changed", body = Envelope<IdTagView>),
        (status = 403, description = "viewers read only", body = Failure),
        (status = 404, description = "not the caller's", body = Failure),
        (status = 422, description = "a malformed status or time", body = Failure),
    ))]
pub async fn patch_id_tag(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(tag): Path<String>,
    JsonBody(body): JsonBody<IdTagPatch>,
) -> ApiResult<IdTagView> {
    let change = body.try_into()?;
    Ok(Reply::ok(
        domain.id_tags.change_id_tag(&caller, &tag, change).await?,
    ))
}

/// Remove a token; its chargers answer `Invalid` from then on.
#[utoipa::path(delete, path = "/v1/id-tags/{id_tag}", tag = "ocpp",
    security(("bearer" = [])), params(("id_tag" = String, Path, description = "the token, any case")),
    responses(
        (status = 200, description = "the token removed", body = Envelope<IdTagView>),
        (status = 403, description = "viewers read only", body = Failure),
        (status = 404, description = "not the caller's", body = Failure),
    ))]
pub async fn delete_id_tag(
    State(domain): State<Domain>,
    Console(caller): Console,
    Path(tag): Path<String>,
) -> ApiResult<IdTagView> {
    Ok(Reply::ok(
        domain.id_tags.delete_id_tag(&caller, &tag).await?,
    ))
}
