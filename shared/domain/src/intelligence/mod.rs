//! Fleet intelligence (contract §8): outages and anomalies kept as they
//! happen, health scores, forecasts, the daily briefing, the agents that
//! compute them on a schedule, and questions asked in words. Every figure
//! is made from data the platform already keeps, and says how.

pub mod agents;
pub mod anomalies;
pub mod ask;
pub mod briefing;
pub mod forecast;
pub mod health;
mod port;
mod subject;

pub use crate::observations::{FaultMark, Outage, Window, round2};
pub use port::IntelligenceStore;
pub use subject::{Scope, Subject};
