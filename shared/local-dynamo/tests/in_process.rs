//! The engine in this process, as the AWS SDK sees it: answers and errors
//! arrive as DynamoDB's, and the TTL sweep deletes what has expired.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use local_dynamo::{InProcess, Storage};
use std::time::{SystemTime, UNIX_EPOCH};

const TABLE: &str = "fleet";

async fn engine() -> (InProcess, Client) {
    let engine = InProcess::open(&Storage::Memory).unwrap();
    let client = Client::from_conf(engine.sdk_config().build());
    store::table::ensure_table(&client, TABLE).await.unwrap();
    (engine, client)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.into())
}

async fn put(client: &Client, pk: &str, ttl: Option<u64>) {
    let mut put = client
        .put_item()
        .table_name(TABLE)
        .item("PK", s(pk))
        .item("SK", s("ITEM"));
    if let Some(ttl) = ttl {
        put = put.item("ttl", AttributeValue::N(ttl.to_string()));
    }
    put.send().await.unwrap();
}

async fn exists(client: &Client, pk: &str) -> bool {
    client
        .get_item()
        .table_name(TABLE)
        .key("PK", s(pk))
        .key("SK", s("ITEM"))
        .send()
        .await
        .unwrap()
        .item
        .is_some()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn a_failed_condition_is_dynamodbs_error() {
    let (_engine, client) = engine().await;
    put(&client, "DEV#1", None).await;
    let err = client
        .put_item()
        .table_name(TABLE)
        .item("PK", s("DEV#1"))
        .item("SK", s("ITEM"))
        .condition_expression("attribute_not_exists(PK)")
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error()
            .is_some_and(|e| e.is_conditional_check_failed_exception()),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_cancelled_transaction_names_its_reasons() {
    let (_engine, client) = engine().await;
    put(&client, "SN#1", None).await;
    let claim = |pk: &str| {
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(TABLE)
                    .item("PK", s(pk))
                    .item("SK", s("ITEM"))
                    .condition_expression("attribute_not_exists(PK)")
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let err = client
        .transact_write_items()
        .transact_items(claim("SN#2"))
        .transact_items(claim("SN#1"))
        .send()
        .await
        .unwrap_err();
    let reasons: Vec<_> = match err.as_service_error() {
        Some(aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e)) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or_default().to_owned())
            .collect(),
        other => panic!("not a cancelled transaction: {other:?}"),
    };
    assert_eq!(reasons, ["None", "ConditionalCheckFailed"]);
    assert!(!exists(&client, "SN#2").await, "half a transaction applied");
}

#[tokio::test]
async fn a_sweep_deletes_expired_items_and_keeps_the_rest() {
    let (engine, client) = engine().await;
    put(&client, "SMP#old", Some(now() - 60)).await;
    put(&client, "SMP#new", Some(now() + 3600)).await;
    put(&client, "DEV#kept", None).await;

    assert_eq!(engine.sweep_expired().await.unwrap(), 1);

    assert!(!exists(&client, "SMP#old").await, "an expired item stayed");
    assert!(exists(&client, "SMP#new").await, "an unexpired item went");
    assert!(
        exists(&client, "DEV#kept").await,
        "an item without ttl went"
    );
}
