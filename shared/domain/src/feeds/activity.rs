//! The live activity feed: what happened in the fleet, written in the same
//! transaction as the change it describes, kept for a while.

use super::Feeds;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::{CommandId, DeviceId, OperatorId, RecordId, SiteId};
use kernel::model::{Activity, Role};

/// Most lines one read of the feed returns.
pub const FEED_LIMIT: u32 = 200;

/// Builds one activity line; the subject ids are set with the `with_*`s.
pub struct ActivityLine {
    activity: Activity,
}

impl ActivityLine {
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

impl Feeds {
    pub fn activity(&self, kind: &str, operator: &OperatorId, summary: String) -> ActivityLine {
        ActivityLine {
            activity: Activity {
                at: self.clock.now(),
                kind: kind.to_owned(),
                operator_id: operator.clone(),
                device_id: None,
                site_id: None,
                command_id: None,
                record_id: None,
                summary,
            },
        }
    }

    /// Activity newer than `since`, newest first, with the cursor to poll
    /// from next (the newest line's, or `since` again when nothing is new).
    pub async fn activity_feed(
        &self,
        caller: &Caller,
        since: Option<&str>,
    ) -> Result<(Vec<Activity>, Option<String>), Error> {
        caller.require(Role::Admin)?;
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
