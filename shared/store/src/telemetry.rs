//! What chargers report: the device's live state (one conditional update
//! per message), samples with their expiry, the hourly energy roll-ups each
//! sample is counted in once, and firmware installs with the operator's
//! adoption counters.

use crate::core::{DynamoStore, expiry, invalid_request, n, s, unless_condition_failed};
use crate::counters::{Deltas, device_moves};
use crate::devices::build_of;
use crate::errors::map_sdk;
use crate::items::{Attrs, Item, StoredEnergy, from_item, key_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::telemetry::{
    ConnectorWrite, EnergyAdd, EnergyHour, EnergyScope, FirmwareWrite, TelemetryStore,
};
use kernel::ids::OperatorId;
use kernel::model::{Device, Sample};
use kernel::storage::{StoreError, StoreResult, WriteOutcome};

/// Reads and conditional writes of one firmware install before giving up.
const INSTALL_ATTEMPTS: u32 = 3;

impl DynamoStore {
    fn sample_item<'a>(&self, sample: &'a Sample) -> Item<&'a Sample> {
        Item::new(
            keys::sample(sample.device_id, sample.ts, sample.connector_id),
            sample,
        )
        .expires(expiry(sample.ts, self.retention.samples))
    }

    /// Adds a sample's energy to its device's hour bucket, once: the
    /// bucket keeps each connector's last counted sample (`mark_NN`), and
    /// the addition applies only over the mark the sample follows. The
    /// bucket carries the site's index keys, so the site's hours are a
    /// query of its devices' buckets.
    async fn add_energy(&self, add: &EnergyAdd) -> StoreResult<WriteOutcome> {
        let mut raise = add.raise_max_kw;
        loop {
            let key = (
                keys::device_energy(&add.operator_id, add.device_id),
                keys::hour(add.hour),
            );
            let mark = keys::bucket_mark(add.connector_id);
            let mut set = vec!["operator_id = :op", "#mark = :ts"];
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key_attrs(key.clone())))
                .expression_attribute_names("#mark", &mark)
                .expression_attribute_values(":c", n(add.charge_kwh))
                .expression_attribute_values(":d", n(add.discharge_kwh))
                .expression_attribute_values(":op", s(add.operator_id.as_str()))
                .expression_attribute_values(":ts", s(keys::time(add.mark)))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                );
            let mut condition = match add.after {
                Some(after) => {
                    update = update.expression_attribute_values(":after", s(keys::time(after)));
                    "#mark = :after".to_owned()
                }
                None => "attribute_not_exists(#mark)".to_owned(),
            };
            if let Some(site) = add.site_id {
                set.extend(["GSI2PK = :gpk", "GSI2SK = :gsk"]);
                update = update
                    .expression_attribute_values(
                        ":gpk",
                        s(keys::site_energy(&add.operator_id, site)),
                    )
                    .expression_attribute_values(
                        ":gsk",
                        s(format!("{}#{}", keys::hour(add.hour), add.device_id)),
                    );
            }
            if let Some(kw) = raise {
                set.push("max_power = :m");
                condition.push_str(" AND (attribute_not_exists(max_power) OR max_power < :m)");
                update = update.expression_attribute_values(":m", n(kw));
            }
            let out = update
                .update_expression(format!(
                    "ADD charge_energy :c, discharge_energy :d SET {}",
                    set.join(", ")
                ))
                .condition_expression(condition)
                .send()
                .await;
            let err = match out {
                Ok(_) => return Ok(WriteOutcome::Written),
                Err(e) => e,
            };
            let old = match err.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(e)) => e.item().cloned(),
                _ => return Err(map_sdk(err)),
            };
            // Where the endpoint does not return the item, one read does.
            let old = match old.filter(|o| !o.is_empty()) {
                Some(old) => Some(old),
                None => self.get_attrs(key).await?,
            };
            let seen = old
                .as_ref()
                .and_then(|o| o.get(&mark))
                .and_then(|v| v.as_s().ok())
                .cloned();
            if seen.as_deref() == Some(keys::time(add.mark).as_str()) {
                // This very sample was counted: a retry, or an attempt whose
                // device write did not land.
                return Ok(WriteOutcome::Written);
            }
            let expected = add.after.map(keys::time);
            if seen == expected && raise.is_some() {
                // Only the peak failed: the hour has a higher one already.
                raise = None;
                continue;
            }
            return Ok(WriteOutcome::Conflict);
        }
    }

    fn connector_update(&self, w: &ConnectorWrite) -> StoreResult<Update> {
        let mut set = "SET connectors.#c = :conn, last_seen = :seen".to_owned();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(w.device_id))))
            .expression_attribute_names("#c", w.connector_id.to_string())
            .expression_attribute_values(":conn", to_value(&w.connector)?)
            .expression_attribute_values(":seen", to_value(&w.last_seen)?);
        // The connector as read, and the operator and site the energy is
        // attributed to, must still be what they were.
        let connector = match w.expected_version {
            None => "attribute_not_exists(connectors.#c)".to_owned(),
            Some(v) => {
                update = update.expression_attribute_values(":ver", n(v));
                "connectors.#c.version = :ver".to_owned()
            }
        };
        let site = match w.site_id {
            Some(site) => {
                update = update.expression_attribute_values(":site", s(site.to_string()));
                "site_id = :site"
            }
            None => {
                update = update.expression_attribute_values(":null", s("NULL"));
                "(attribute_not_exists(site_id) OR attribute_type(site_id, :null))"
            }
        };
        if let Some(fault) = &w.fault {
            set.push_str(", recent_faults = :faults");
            update = update.expression_attribute_values(":faults", to_value(&fault.recent)?);
        }
        update
            .update_expression(set)
            .condition_expression(format!(
                "attribute_exists(PK) AND {connector} AND operator_id = :op AND {site}"
            ))
            .expression_attribute_values(":op", s(w.operator_id.as_str()))
            .build()
            .map_err(invalid_request)
    }

    /// What is written with the connector: the raw sample, the activity
    /// line, partner pushes and a fault mark, in one transaction.
    fn companions(&self, w: &ConnectorWrite) -> StoreResult<Vec<TransactWriteItem>> {
        let mut items = Vec::new();
        if let Some(sample) = &w.sample {
            items.push(
                TransactWriteItem::builder()
                    .put(self.put_item(&self.sample_item(sample))?)
                    .build(),
            );
        }
        if let Some(activity) = &w.activity {
            items.push(self.activity_put(activity)?);
        }
        for push in &w.pushes {
            items.push(self.delivery_put(push)?);
        }
        if let Some(fault) = &w.fault {
            items.push(crate::observations::fault_put(self, &fault.mark)?);
        }
        Ok(items)
    }
}

fn energy_hour(attrs: Attrs) -> StoreResult<EnergyHour> {
    let item = from_item::<StoredEnergy>(attrs)?;
    let hour = keys::parse_hour(&item.sk)
        .ok_or_else(|| StoreError::internal(format!("energy hour key {:?}", item.sk)))?;
    Ok(EnergyHour {
        hour,
        charge_energy: item.body.charge_energy,
        discharge_energy: item.body.discharge_energy,
        max_power: item.body.max_power,
    })
}

#[async_trait]
impl TelemetryStore for DynamoStore {
    async fn apply_connector(&self, write: &ConnectorWrite) -> StoreResult<WriteOutcome> {
        if let Some(add) = &write.energy
            && self.add_energy(add).await? == WriteOutcome::Conflict
        {
            return Ok(WriteOutcome::Conflict);
        }
        let update = self.connector_update(write)?;
        let companions = self.companions(write)?;
        if companions.is_empty() {
            // The usual sample: one conditional update of the device.
            let out = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(update.key))
                .update_expression(update.update_expression)
                .set_condition_expression(update.condition_expression)
                .set_expression_attribute_names(update.expression_attribute_names)
                .set_expression_attribute_values(update.expression_attribute_values)
                .send()
                .await;
            return Ok(match unless_condition_failed(out)? {
                Some(_) => WriteOutcome::Written,
                None => WriteOutcome::Conflict,
            });
        }
        let mut items = vec![TransactWriteItem::builder().update(update).build()];
        items.extend(companions);
        self.transact(items).await
    }

    async fn put_sample(&self, sample: &Sample) -> StoreResult<()> {
        self.put(&self.sample_item(sample)).await
    }

    async fn set_firmware(&self, w: FirmwareWrite<'_>) -> StoreResult<()> {
        let missing = || {
            StoreError::internal(format!(
                "firmware status for missing device {}",
                w.device_id
            ))
        };
        // An install moves the device from one firmware count to another:
        // it is read first and written only if it still runs what was read
        // (tried again when it changed in between).
        for _ in 0..INSTALL_ATTEMPTS {
            let mut expr = "SET firmware_update = :p, last_seen = :now".to_owned();
            let mut condition = "attribute_exists(PK)".to_owned();
            let mut deltas = Deltas::new();
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key_attrs(keys::device(w.device_id))))
                .expression_attribute_values(":p", to_value(w.progress)?)
                .expression_attribute_values(":now", to_value(&w.now)?);
            if let Some(version) = w.installed {
                let before: Device = self
                    .get(keys::device(w.device_id))
                    .await?
                    .ok_or_else(missing)?;
                expr.push_str(", firmware_version = :v");
                update = update.expression_attribute_values(":v", s(version));
                if before.firmware_version != *version {
                    condition.push_str(
                        " AND operator_id = :op AND model = :m AND manufacturer = :mf \
                         AND firmware_version = :old",
                    );
                    update = update
                        .expression_attribute_values(":op", s(before.operator_id.as_str()))
                        .expression_attribute_values(":m", s(&before.model))
                        .expression_attribute_values(":mf", s(&before.manufacturer))
                        .expression_attribute_values(":old", s(before.firmware_version.as_str()));
                    device_moves(
                        &mut deltas,
                        Some((&before.operator_id, build_of(&before))),
                        Some((
                            &before.operator_id,
                            (&before.model, &before.manufacturer, version),
                        )),
                    );
                }
            }
            let update = update
                .update_expression(expr)
                .condition_expression(condition)
                .build()
                .map_err(invalid_request)?;
            let mut items = vec![TransactWriteItem::builder().update(update).build()];
            if let Some(activity) = w.activity {
                items.push(self.activity_put(activity)?);
            }
            items.extend(self.counter_updates(&deltas)?);
            match self.transact_contended(items).await? {
                WriteOutcome::Written => return Ok(()),
                WriteOutcome::Conflict if w.installed.is_some() => continue,
                WriteOutcome::Conflict => return Err(missing()),
            }
        }
        Err(StoreError::Unavailable(
            "the device kept changing during a firmware install".into(),
        ))
    }

    async fn energy_hours(
        &self,
        operator: &OperatorId,
        scope: EnergyScope,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<EnergyHour>> {
        let hours = match scope {
            EnergyScope::Device(device) => {
                self.query_items(
                    None,
                    "PK = :pk AND SK BETWEEN :from AND :to",
                    vec![
                        (":pk", s(keys::device_energy(operator, device))),
                        (":from", s(keys::hour(from))),
                        (":to", s(keys::hour(to))),
                    ],
                    false,
                )
                .await?
            }
            // The site's devices' buckets, summed per hour.
            EnergyScope::Site(site) => {
                self.query_items(
                    Some(keys::GSI2),
                    "GSI2PK = :pk AND GSI2SK BETWEEN :from AND :to",
                    vec![
                        (":pk", s(keys::site_energy(operator, site))),
                        (":from", s(keys::hour(from))),
                        (":to", s(format!("{}~", keys::hour(to)))),
                    ],
                    false,
                )
                .await?
            }
        };
        let mut out: Vec<EnergyHour> = Vec::new();
        for attrs in hours {
            let h = energy_hour(attrs)?;
            match out.last_mut() {
                Some(last) if last.hour == h.hour => {
                    last.charge_energy += h.charge_energy;
                    last.discharge_energy += h.discharge_energy;
                    last.max_power = match (last.max_power, h.max_power) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    };
                }
                _ => out.push(h),
            }
        }
        Ok(out)
    }
}
