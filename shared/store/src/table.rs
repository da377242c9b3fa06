//! The table's definition, written once: the create-tables routine uses it
//! against any endpoint, and a test holds `template.yaml` to it.

use crate::errors::map_sdk;
use crate::keys::{GSI1, GSI2, PK, SK, TTL};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use kernel::storage::StoreError;

/// Index name with its hash and range attribute names.
pub const INDEXES: [(&str, &str, &str); 2] =
    [(GSI1, "GSI1PK", "GSI1SK"), (GSI2, "GSI2PK", "GSI2SK")];

/// Every key attribute of the table and its indexes (all strings).
pub fn key_attributes() -> Vec<&'static str> {
    let mut attrs = vec![PK, SK];
    for (_, hash, range) in INDEXES {
        attrs.extend([hash, range]);
    }
    attrs
}

pub const TTL_ATTRIBUTE: &str = TTL;

fn key(name: &str, kind: KeyType) -> Result<KeySchemaElement, StoreError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .map_err(StoreError::internal)
}

/// Creates the table (and turns TTL on) unless it exists already.
pub async fn ensure_table(client: &Client, name: &str) -> Result<(), StoreError> {
    let exists = client.describe_table().table_name(name).send().await;
    match exists {
        Ok(_) => return Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_not_found_exception()) => {}
        Err(e) => return Err(map_sdk(e)),
    }
    let internal = |e: aws_sdk_dynamodb::error::BuildError| StoreError::internal(e);
    let mut create = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .key_schema(key(PK, KeyType::Hash)?)
        .key_schema(key(SK, KeyType::Range)?);
    for attr in key_attributes() {
        create = create.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(internal)?,
        );
    }
    for (index, hash, range) in INDEXES {
        create = create.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(index)
                .key_schema(key(hash, KeyType::Hash)?)
                .key_schema(key(range, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .map_err(internal)?,
        );
    }
    match create.send().await {
        Ok(_) => {}
        // Another process created it first.
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) => {}
        Err(e) => return Err(map_sdk(e)),
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name(TTL)
                .enabled(true)
                .build()
                .map_err(internal)?,
        )
        .send()
        .await
        .map_err(map_sdk)?;
    Ok(())
}
