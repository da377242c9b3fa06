//! The live activity feed: notable domain events, written in the same
//! request as the change they describe, kept for a week.

use crate::Domain;
use crate::error::Error;
use crate::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use crate::model::Activity;
use chrono::Duration;

const KEPT: Duration = Duration::days(7);
/// Most lines one read of the feed returns.
pub const FEED_LIMIT: u32 = 200;

/// Builds one activity line; the subject ids are set with the `with_*`s.
pub struct Event {
    activity: Activity,
}

impl Event {
    pub fn with_device(mut self, id: DeviceId) -> Self {
        self.activity.device_id = Some(id);
        self
    }

    pub fn with_site(mut self, id: Option<SiteId>) -> Self {
        self.activity.site_id = id;
        self
    }

    pub fn with_command(mut self, id: CommandId) -> Self {
        self.activity.command_id = Some(id);
        self
    }

    pub fn with_record(mut self, id: RecordId) -> Self {
        self.activity.record_id = Some(id);
        self
    }

    pub fn done(self) -> Activity {
        self.activity
    }
}

impl Domain {
    pub(crate) fn event(&self, kind: &str, operator: &OperatorId, summary: String) -> Event {
        let at = self.clock.now();
        Event {
            activity: Activity {
                at,
                kind: kind.to_owned(),
                operator_id: operator.clone(),
                device_id: None,
                site_id: None,
                command_id: None,
                record_id: None,
                summary,
                ttl: (at + KEPT).timestamp(),
            },
        }
    }

    /// Activity newer than `since`, newest first, with the cursor to poll
    /// from next (the newest line's, or `since` again when nothing is new).
    pub async fn activity_feed(
        &self,
        since: Option<&str>,
    ) -> Result<(Vec<Activity>, Option<String>), Error> {
        let lines = self
            .store
            .activity_since(since, FEED_LIMIT, self.clock.now())
            .await?;
        let cursor = lines
            .first()
            .map(|(c, _)| c.clone())
            .or_else(|| since.map(str::to_owned));
        Ok((lines.into_iter().map(|(_, a)| a).collect(), cursor))
    }
}
