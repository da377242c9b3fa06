//! The local server's default store keeps the fleet across a restart.

use local_dynamo::{Engine, Storage};

#[tokio::test]
async fn data_written_before_a_restart_is_there_after_it() {
    let dir = std::env::temp_dir().join(format!("chargenet-persist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = Storage::File(dir.join("data.sqlite"));

    let engine = Engine::start(&file, 0).await.unwrap();
    let client = store::client_for_endpoint(&engine.endpoint(), None);
    store::table::ensure_table(&client, "fleet").await.unwrap();
    client
        .put_item()
        .table_name("fleet")
        .item(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S("DEV#1".into()),
        )
        .item(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("DEV".into()),
        )
        .send()
        .await
        .unwrap();
    engine.stop().await;

    let engine = Engine::start(&file, 0).await.unwrap();
    let client = store::client_for_endpoint(&engine.endpoint(), None);
    store::table::ensure_table(&client, "fleet").await.unwrap();
    let item = client
        .get_item()
        .table_name("fleet")
        .key(
            "PK",
            aws_sdk_dynamodb::types::AttributeValue::S("DEV#1".into()),
        )
        .key(
            "SK",
            aws_sdk_dynamodb::types::AttributeValue::S("DEV".into()),
        )
        .send()
        .await
        .unwrap()
        .item;
    engine.stop().await;
    std::fs::remove_dir_all(&dir).ok();
    assert!(item.is_some(), "the item did not survive the restart");
}
