//! Stored item shapes: a domain struct flattened beside its keys, so keys
//! never leak into domain values or responses.

use aws_sdk_dynamodb::types::AttributeValue;
use kernel::ids::{CommandId, ConnectorId, DeviceId};
use kernel::storage::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub type Attrs = HashMap<String, AttributeValue>;

#[derive(Debug, Serialize, Deserialize)]
pub struct Item<T> {
    #[serde(rename = "PK")]
    pub pk: String,
    #[serde(rename = "SK")]
    pub sk: String,
    #[serde(rename = "GSI1PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(rename = "GSI1SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(rename = "GSI2PK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(rename = "GSI2SK", default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    /// Epoch seconds after which DynamoDB TTL may delete the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(flatten)]
    pub body: T,
}

impl<T> Item<T> {
    pub fn new((pk, sk): (String, String), body: T) -> Self {
        Self {
            pk,
            sk,
            gsi1pk: None,
            gsi1sk: None,
            gsi2pk: None,
            gsi2sk: None,
            ttl: None,
            body,
        }
    }

    pub fn expires(mut self, ttl: i64) -> Self {
        self.ttl = Some(ttl);
        self
    }

    pub fn gsi1(mut self, pk: String, sk: String) -> Self {
        self.gsi1pk = Some(pk);
        self.gsi1sk = Some(sk);
        self
    }

    pub fn gsi2(mut self, pk: String, sk: String) -> Self {
        self.gsi2pk = Some(pk);
        self.gsi2sk = Some(sk);
        self
    }
}

/// The claim on a serial number that makes the first registration win.
#[derive(Debug, Serialize, Deserialize)]
pub struct SerialClaim {
    pub device_id: DeviceId,
}

/// A device's listing item: what the operator and site indexes hold, so
/// that the device item itself carries no index keys.
#[derive(Debug, Serialize, Deserialize)]
pub struct ListingItem {
    pub device_id: DeviceId,
}

/// An idempotency key's claim on the command it first created.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredClaim {
    pub command_id: CommandId,
    /// What the key is bound to; a claim from before digests had none.
    #[serde(default)]
    pub request_digest: String,
}

/// The schedule last sent to a connector.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredSchedule {
    pub connector_id: ConnectorId,
    pub command_id: CommandId,
    pub schedule: domain::commands::schedule::Schedule,
}

/// The counters of one energy hour (its hour is the sort key).
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredEnergy {
    #[serde(default)]
    pub charge_energy: f64,
    #[serde(default)]
    pub discharge_energy: f64,
    pub max_power: Option<f64>,
}

pub fn key_attrs((pk, sk): (String, String)) -> Attrs {
    HashMap::from([
        (crate::keys::PK.to_owned(), AttributeValue::S(pk)),
        (crate::keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}

pub fn to_attrs<T: Serialize>(value: &T) -> Result<Attrs, StoreError> {
    serde_dynamo::to_item(value).map_err(crate::errors::codec)
}

/// The whole stored item, keys included.
pub fn from_item<T: serde::de::DeserializeOwned>(attrs: Attrs) -> Result<Item<T>, StoreError> {
    serde_dynamo::from_item(attrs).map_err(crate::errors::codec)
}

/// The domain value of a stored item.
pub fn from_attrs<T: serde::de::DeserializeOwned>(attrs: Attrs) -> Result<T, StoreError> {
    Ok(from_item(attrs)?.body)
}

pub fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(crate::errors::codec)
}
