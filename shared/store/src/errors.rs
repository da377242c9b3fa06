//! SDK errors to store errors: throttling and transport trouble become
//! `Unavailable` (the API answers 503), everything else `Internal`.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use domain::store::StoreError;

const RETRYABLE_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    // Reached only when no condition failed: a concurrent transaction won.
    "TransactionCanceledException",
    "TransactionConflictException",
    "TransactionInProgressException",
];

pub fn map_sdk<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // A server-side failure that outlived the SDK's retries is the store
    // being unavailable, whatever its body said.
    let server_failure = err
        .raw_response()
        .is_some_and(|r| r.status().is_server_error());
    match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            StoreError::Unavailable(describe(&err))
        }
        _ if server_failure => StoreError::Unavailable(describe(&err)),
        SdkError::ServiceError(s)
            if s.err().code().is_some_and(|c| RETRYABLE_CODES.contains(&c)) =>
        {
            StoreError::Unavailable(describe(&err))
        }
        _ => StoreError::Internal(describe(&err)),
    }
}

/// The full cause chain, for the logs (never for the client).
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

pub fn codec(err: serde_dynamo::Error) -> StoreError {
    StoreError::Internal(format!("item encoding: {err}"))
}
