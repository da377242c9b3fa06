//! The shared request log: the last requests across every function, kept
//! in the table for a while because each Lambda container only sees its own.

use super::Feeds;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::model::{RequestLogEntry, Role};
use kernel::settings::RequestLogMode;

/// Lines one read of the request log returns (contract: the last 200).
const LOG_LIMIT: u32 = 200;

impl Feeds {
    /// Whether a request with this status goes to the log.
    pub fn logs_request(&self, status: u16) -> bool {
        match self.settings.request_log {
            RequestLogMode::All => true,
            RequestLogMode::Errors => status >= 400,
            RequestLogMode::Off => false,
        }
    }

    /// Appends a line; a failure is logged, never the caller's problem.
    pub async fn log_request(&self, entry: RequestLogEntry) {
        if let Err(e) = self.store.log_request(&entry).await {
            let chain = kernel::error::chain(&e);
            tracing::warn!(error = %chain, "request log write failed");
        }
    }

    /// The newest requests across every function (admin).
    pub async fn request_log(&self, caller: &Caller) -> Result<Vec<RequestLogEntry>, Error> {
        caller.require(Role::Admin)?;
        Ok(self
            .store
            .recent_requests(LOG_LIMIT, self.clock.now())
            .await?)
    }
}
