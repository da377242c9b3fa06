//! Feeds of what happened: the activity feed and the shared request log.

mod activity;
mod port;
mod request_log;

pub use activity::{ActivityLine, FEED_LIMIT};
pub use port::FeedStore;

use kernel::{Clock, Settings};
use std::sync::Arc;

/// The activity feed and the request log.
#[derive(Clone)]
pub struct Feeds {
    store: Arc<dyn FeedStore>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
}

/// What `Feeds` is built on.
pub(crate) struct FeedsParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
}

impl Feeds {
    pub(crate) fn new(store: Arc<dyn FeedStore>, parts: FeedsParts) -> Self {
        let FeedsParts { settings, clock } = parts;
        Self {
            store,
            settings,
            clock,
        }
    }
}
