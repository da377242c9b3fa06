//! SDK errors to store errors: throttling and transport trouble become
//! `Unavailable` (the API answers 503), everything else `Internal`.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::http::Response as HttpResponse;
use kernel::storage::StoreError;

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
    let unavailable = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => true,
        _ if server_failure => true,
        SdkError::ServiceError(s) => s.err().code().is_some_and(|c| RETRYABLE_CODES.contains(&c)),
        _ => false,
    };
    if unavailable {
        StoreError::Unavailable(Box::new(err))
    } else {
        StoreError::Internal(Box::new(err))
    }
}

pub fn codec(err: serde_dynamo::Error) -> StoreError {
    StoreError::internal(err)
}
