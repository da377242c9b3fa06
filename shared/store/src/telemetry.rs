//! What chargers report: the device's live state (one conditional update
//! per message), samples with their expiry, and the hourly energy roll-ups
//! added in the same transaction as the sample they come from.

use crate::core::{
    DynamoStore, cancelled_items, expiry, invalid_request, n, s, unless_condition_failed,
};
use crate::counters::{Deltas, device_moves};
use crate::devices::build_of;
use crate::errors::map_sdk;
use crate::items::{Attrs, Item, StoredEnergy, from_attrs, from_item, key_attrs, to_value};
use crate::keys;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::ids::{DeviceId, OperatorId};
use domain::model::{Device, Sample};
use domain::storage::{StoreError, StoreResult, WriteOutcome};
use domain::telemetry::{
    ConnectorWrite, EnergyAdd, EnergyHour, EnergyScope, FirmwareWrite, TelemetryStore,
};

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

    fn energy_update(&self, add: &EnergyAdd, with_max: bool) -> StoreResult<TransactWriteItem> {
        let pk = keys::energy(&add.operator_id, add.scope);
        let mut expr = "ADD charge_energy :c, discharge_energy :d SET operator_id = :op".to_owned();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key_attrs((pk, keys::hour(add.hour)))))
            .expression_attribute_values(":c", n(add.charge_kwh))
            .expression_attribute_values(":d", n(add.discharge_kwh))
            .expression_attribute_values(":op", s(add.operator_id.as_str()));
        if let (true, Some(kw)) = (with_max, add.raise_max_kw) {
            expr.push_str(", max_power = :m");
            update = update
                .condition_expression("attribute_not_exists(max_power) OR max_power < :m")
                .expression_attribute_values(":m", n(kw));
        }
        let update = update
            .update_expression(expr)
            .build()
            .map_err(invalid_request)?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    fn connector_items(
        &self,
        w: &ConnectorWrite,
        raise_max: &[bool],
    ) -> StoreResult<Vec<TransactWriteItem>> {
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
        update = update
            .update_expression(set)
            .condition_expression(format!(
                "attribute_exists(PK) AND {connector} AND operator_id = :op AND {site}"
            ))
            .expression_attribute_values(":op", s(w.operator_id.as_str()));
        let mut items = vec![
            TransactWriteItem::builder()
                .update(update.build().map_err(invalid_request)?)
                .build(),
        ];
        if let Some(sample) = &w.sample {
            items.push(
                TransactWriteItem::builder()
                    .put(self.put_item(&self.sample_item(sample))?)
                    .build(),
            );
        }
        for (add, with_max) in w.energy.iter().zip(raise_max) {
            items.push(self.energy_update(add, *with_max)?);
        }
        if let Some(activity) = &w.activity {
            items.push(self.activity_put(activity)?);
        }
        for push in &w.pushes {
            items.push(self.delivery_put(push)?);
        }
        if let Some(fault) = &w.fault {
            items.push(crate::intelligence::fault_put(self, &fault.mark)?);
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
    async fn touch_device(
        &self,
        id: DeviceId,
        token_issued_ms: i64,
        now: DateTime<Utc>,
        status: Option<&str>,
    ) -> StoreResult<Option<Device>> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(keys::device(id))))
            .condition_expression("attribute_exists(PK) AND revoked_before <= :issued")
            .expression_attribute_values(":now", to_value(&now)?)
            .expression_attribute_values(":issued", n(token_issued_ms));
        update = match status {
            Some(status) => update
                .update_expression("SET last_seen = :now, reported_status = :st")
                .expression_attribute_values(":st", s(status)),
            None => update.update_expression("SET last_seen = :now"),
        };
        // The device as it was: its old `last_seen` shows an outage.
        let out = update.return_values(ReturnValue::AllOld).send().await;
        match unless_condition_failed(out)? {
            Some(out) => out.attributes.map(from_attrs).transpose(),
            None => Ok(None),
        }
    }

    async fn apply_connector(&self, write: &ConnectorWrite) -> StoreResult<WriteOutcome> {
        let mut raise_max = vec![true; write.energy.len()];
        // Energy hours sit after the device update and the sample.
        let first_hour = 1 + usize::from(write.sample.is_some());
        loop {
            let items = self.connector_items(write, &raise_max)?;
            let err = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
            {
                Ok(_) => return Ok(WriteOutcome::Written),
                Err(e) => e,
            };
            let Some(failed) = cancelled_items(&err) else {
                return Err(map_sdk(err));
            };
            if failed.first().copied().unwrap_or(true) {
                return Ok(WriteOutcome::Conflict);
            }
            // Only `max_power` conditions failed: an hour already has a
            // higher peak. Write again without raising those.
            let mut changed = false;
            for (i, raise) in raise_max.iter_mut().enumerate() {
                if *raise && failed.get(first_hour + i).copied().unwrap_or(false) {
                    *raise = false;
                    changed = true;
                }
            }
            if !changed {
                return Ok(WriteOutcome::Conflict);
            }
        }
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
                if before.firmware_version != version {
                    condition.push_str(
                        " AND operator_id = :op AND model = :m AND manufacturer = :mf \
                         AND firmware_version = :old",
                    );
                    update = update
                        .expression_attribute_values(":op", s(before.operator_id.as_str()))
                        .expression_attribute_values(":m", s(&before.model))
                        .expression_attribute_values(":mf", s(&before.manufacturer))
                        .expression_attribute_values(":old", s(&before.firmware_version));
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
        self.query_items(
            None,
            "PK = :pk AND SK BETWEEN :from AND :to",
            vec![
                (":pk", s(keys::energy(operator, scope))),
                (":from", s(keys::hour(from))),
                (":to", s(keys::hour(to))),
            ],
            false,
        )
        .await?
        .into_iter()
        .map(energy_hour)
        .collect()
    }
}
