//! Feeds of what happened: the activity feed and the shared request log.

mod activity;
mod port;
mod request_log;

pub use activity::{ActivityLine, FEED_LIMIT};
pub use port::FeedStore;
