//! Stored item shapes: a domain struct flattened beside its keys, so keys
//! never leak into domain values or responses.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::ids::DeviceId;
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
            body,
        }
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

/// A device's listing item: what the operator and site indexes hold.
#[derive(Debug, Serialize, Deserialize)]
pub struct Member {
    pub device_id: DeviceId,
}

/// An idempotency key's claim on the command it first created (24 h).
#[derive(Debug, Serialize, Deserialize)]
pub struct IdempotencyClaim {
    pub command_id: domain::ids::CommandId,
    pub ttl: i64,
}

/// The schedule last sent to a connector.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredSchedule {
    pub connector_id: u32,
    pub command_id: domain::ids::CommandId,
    pub schedule: domain::schedule::Schedule,
}

pub fn key_attrs((pk, sk): (String, String)) -> Attrs {
    HashMap::from([
        (crate::keys::PK.to_owned(), AttributeValue::S(pk)),
        (crate::keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}

pub fn to_attrs<T: Serialize>(value: &T) -> Result<Attrs, domain::store::StoreError> {
    serde_dynamo::to_item(value).map_err(crate::errors::codec)
}

pub fn from_attrs<T: serde::de::DeserializeOwned>(
    attrs: Attrs,
) -> Result<T, domain::store::StoreError> {
    let item: Item<T> = serde_dynamo::from_item(attrs).map_err(crate::errors::codec)?;
    Ok(item.body)
}

pub fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, domain::store::StoreError> {
    serde_dynamo::to_attribute_value(value).map_err(crate::errors::codec)
}
