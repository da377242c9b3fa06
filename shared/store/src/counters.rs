//! An operator's counters: its sites, and its devices per model,
//! manufacturer and firmware version. They change with `ADD` in the same
//! transactions that register, move or change devices and create sites,
//! so the console's totals, firmware adoption and model counts are one
//! Query, whatever the fleet's size. Each count is a flat attribute: `ADD`
//! creates a missing top-level attribute but not a path in a missing map.

use crate::core::{DynamoStore, invalid_request, n, s};
use crate::errors::map_sdk;
use crate::items::{Attrs, key_attrs};
use crate::keys;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use domain::devices::{Build, FleetCounts};
use kernel::ids::OperatorId;
use kernel::storage::StoreResult;
use std::collections::BTreeMap;

const SITES: &str = "sites";
/// Build counts are named `fw` and the JSON array of model, manufacturer
/// and version: unambiguous whatever the text holds.
const BUILD_PREFIX: &str = "fw";

/// Changes to the counters of each operator a write touches.
pub(crate) type Deltas = BTreeMap<OperatorId, FleetCounts>;

/// The changes of one device counted out of one operator and into another
/// (either side may be absent).
pub(crate) fn device_moves(
    deltas: &mut Deltas,
    out_of: Option<(&OperatorId, (&str, &str, &str))>,
    into: Option<(&OperatorId, (&str, &str, &str))>,
) {
    if let Some((op, build)) = out_of {
        deltas.entry(op.clone()).or_default().add_device(build, -1);
    }
    if let Some((op, build)) = into {
        deltas.entry(op.clone()).or_default().add_device(build, 1);
    }
}

fn build_attribute((model, manufacturer, version): &Build) -> String {
    let json = serde_json::to_string(&[model, manufacturer, version]).unwrap_or_default();
    format!("{BUILD_PREFIX}{json}")
}

fn parse_build(name: &str) -> Option<Build> {
    serde_json::from_str(name.strip_prefix(BUILD_PREFIX)?).ok()
}

fn number(v: &AttributeValue) -> i64 {
    v.as_n().ok().and_then(|n| n.parse().ok()).unwrap_or(0)
}

impl DynamoStore {
    /// One `ADD` per operator whose counts change, on a shard picked at
    /// random (a transaction may touch an item only once, so one shard).
    pub(crate) fn counter_updates(&self, deltas: &Deltas) -> StoreResult<Vec<TransactWriteItem>> {
        let mut out = Vec::new();
        for (op, d) in deltas {
            let shard = fastrand::u8(..keys::COUNTER_SHARDS);
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::fleet_counter(op, shard))));
            let mut adds = Vec::new();
            if d.sites != 0 {
                adds.push("#s :s".to_owned());
                update = update
                    .expression_attribute_names("#s", SITES)
                    .expression_attribute_values(":s", n(d.sites));
            }
            for (i, (build, by)) in d.builds.iter().filter(|(_, by)| **by != 0).enumerate() {
                adds.push(format!("#b{i} :b{i}"));
                update = update
                    .expression_attribute_names(format!("#b{i}"), build_attribute(build))
                    .expression_attribute_values(format!(":b{i}"), n(by));
            }
            if adds.is_empty() {
                continue;
            }
            let update = update
                .update_expression(format!("ADD {}", adds.join(", ")))
                .build()
                .map_err(invalid_request)?;
            out.push(TransactWriteItem::builder().update(update).build());
        }
        Ok(out)
    }

    /// Every shard of an operator's counters, added up.
    pub(crate) async fn read_counts(&self, op: &OperatorId) -> StoreResult<FleetCounts> {
        let shards = self
            .query_items(
                None,
                "PK = :p",
                vec![(":p", s(keys::fleet_counts(op)))],
                false,
            )
            .await?;
        let mut counts = FleetCounts::default();
        for shard in shards {
            for (name, value) in &shard {
                if name == SITES {
                    counts.sites += number(value);
                } else if let Some(build) = parse_build(name) {
                    *counts.builds.entry(build).or_default() += number(value);
                }
            }
        }
        Ok(counts)
    }

    /// Replaces every shard with one holding `counts`.
    pub(crate) async fn write_counts(
        &self,
        op: &OperatorId,
        counts: &FleetCounts,
    ) -> StoreResult<()> {
        for shard in 1..keys::COUNTER_SHARDS {
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::fleet_counter(op, shard))))
                .send()
                .await
                .map_err(map_sdk)?;
        }
        let mut item: Attrs = key_attrs(keys::fleet_counter(op, 0));
        item.insert(SITES.into(), n(counts.sites));
        for (build, count) in &counts.builds {
            item.insert(build_attribute(build), n(count));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(map_sdk)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_names_round_trip_whatever_the_text() {
        let build: Build = (
            "TP-AC22".into(),
            "Tellus \"Power\", Ltd".into(),
            "1.5.0#2".into(),
        );
        assert_eq!(parse_build(&build_attribute(&build)), Some(build));
        assert_eq!(parse_build(SITES), None);
        assert_eq!(parse_build("PK"), None);
    }

    #[test]
    fn a_move_counts_out_of_one_operator_and_into_another() {
        let (a, b) = (
            OperatorId::parse("op-a").unwrap(),
            OperatorId::parse("op-b").unwrap(),
        );
        let mut deltas = Deltas::new();
        device_moves(
            &mut deltas,
            Some((&a, ("M", "F", "1"))),
            Some((&b, ("M", "F", "1"))),
        );
        assert_eq!(
            deltas[&a].builds.values().copied().collect::<Vec<_>>(),
            [-1]
        );
        assert_eq!(deltas[&b].builds.values().copied().collect::<Vec<_>>(), [1]);
    }
}
