//! The file-backed local server keeps what it answered success for when it
//! is killed mid-burst, and deletes expired items on its schedule.

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The server binary, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn start(data: &Path) -> (Server, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_local-server"))
        .args(["--port", &port.to_string(), "--data"])
        .arg(data)
        .env("REGISTRATION_LIMIT", "0")
        .env("REQUEST_LOG", "off")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server(child);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("{base}/v1/health")).await.is_err() {
        assert!(Instant::now() < deadline, "the local server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (server, base)
}

async fn post(http: &reqwest::Client, url: String, body: Value) -> Option<(u16, Value)> {
    let res = http.post(url).json(&body).send().await.ok()?;
    let status = res.status().as_u16();
    Some((status, res.json().await.ok()?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_answered_before_a_kill_survive_it() {
    let dir = std::env::temp_dir().join(format!("ls-kill-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("fleet.sqlite");
    let (mut server, base) = start(&data).await;

    // Writers register chargers until the server dies under them, keeping
    // every registration it answered with success.
    let answered = Arc::new(Mutex::new(Vec::new()));
    let http = reqwest::Client::new();
    let mut writers = Vec::new();
    for writer in 0..16 {
        let (http, base, answered) = (http.clone(), base.clone(), answered.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let body = json!({"sn": format!("KILL-{writer}-{i}"), "model": "TP-AC22",
                    "manufacturer": "Tellus Power", "firmware_version": "1.5.0"});
                match post(&http, format!("{base}/v1/device/register"), body).await {
                    Some((200, reg)) => answered.lock().unwrap().push((
                        reg["data"]["device_id"].as_str().unwrap().to_owned(),
                        reg["data"]["device_secret"].as_str().unwrap().to_owned(),
                    )),
                    Some((status, body)) => panic!("register: {status} {body}"),
                    None => break,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.0.kill().unwrap();
    server.0.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() >= 20,
        "too few registrations before the kill"
    );

    let (_server, base) = start(&data).await;
    let mut lost = Vec::new();
    for (device_id, secret) in &answered {
        let body = json!({"device_id": device_id, "device_secret": secret,
            "grant_type": "client_credentials"});
        let status = post(&http, format!("{base}/v1/device/auth"), body)
            .await
            .map(|(status, _)| status);
        if status != Some(200) {
            lost.push((device_id, status));
        }
    }
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        lost.is_empty(),
        "{} of {} answered registrations lost: {lost:?}",
        lost.len(),
        answered.len()
    );
}

#[tokio::test]
async fn the_schedule_keeps_deleting_expired_items() {
    let engine = local_dynamo::InProcess::open(&local_dynamo::Storage::Memory).unwrap();
    let client = aws_sdk_dynamodb::Client::from_conf(engine.sdk_config().build());
    store::table::ensure_table(&client, "fleet").await.unwrap();
    tokio::spawn(local_server::sweep_expired_every(
        engine,
        Duration::from_millis(50),
    ));
    // Written after the first sweep, so a later one must delete it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let expired = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 60;
    let key = [
        ("PK", AttributeValue::S("SMP#1".into())),
        ("SK", AttributeValue::S("1".into())),
    ];
    let mut put = client.put_item().table_name("fleet");
    for (name, value) in key.clone() {
        put = put.item(name, value);
    }
    put.item("ttl", AttributeValue::N(expired.to_string()))
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut get = client.get_item().table_name("fleet");
        for (name, value) in key.clone() {
            get = get.key(name, value);
        }
        if get.send().await.unwrap().item.is_none() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the expired item was never swept"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
