//! The shared request log: the last requests across every function, kept
//! in the table (with a TTL) because each Lambda container only sees its own.

use crate::Domain;
use crate::model::RequestLogEntry;
use crate::settings::RequestLogMode;

impl Domain {
    /// Whether a request with this status goes to the log.
    pub fn logs_request(&self, status: u16) -> bool {
        match self.settings.request_log {
            RequestLogMode::All => true,
            RequestLogMode::Errors => status >= 400,
            RequestLogMode::Off => false,
        }
    }

    /// Appends a line; a failure is logged, never the caller's problem.
    pub async fn log_request(&self, mut entry: RequestLogEntry) {
        entry.ttl = (entry.at + self.settings.request_log_ttl).timestamp();
        if let Err(e) = self.store.log_request(&entry).await {
            tracing::warn!(error = %e, "request log write failed");
        }
    }
}
