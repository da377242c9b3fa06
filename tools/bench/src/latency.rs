//! How long a console command takes to reach a charger that holds an open
//! long-poll.

use crate::percentile;
use crate::service::Service;
use serde_json::json;
use std::time::{Duration, Instant};

pub async fn run(rounds: usize) -> Result<(), String> {
    let svc = Service::start(None, None, |_| {}).await?;
    let device = svc.device("LAT-1", "TP-AC22").await?;
    let operator = svc.operator_token().await?;
    let mut samples = Vec::new();
    for round in 0..rounds {
        let poll = {
            let (http, url, token) = (
                svc.http.clone(),
                format!("{}/v1/device/commands?wait=20", svc.base),
                device.token.clone(),
            );
            tokio::spawn(async move {
                let res = http
                    .get(url)
                    .bearer_auth(token)
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                let body: serde_json::Value = res.json().await.map_err(|e| e.to_string())?;
                Ok::<_, String>((Instant::now(), body))
            })
        };
        // Queue at a different point of the poll's backoff each round.
        tokio::time::sleep(Duration::from_millis(100 + (round as u64 * 137) % 2500)).await;
        let sent = Instant::now();
        let (status, reply) = svc
            .post(
                &format!("/v1/devices/{}/connectors/1/stop", device.id),
                Some(&operator),
                &json!({"reason": "bench"}),
            )
            .await?;
        if status != 202 {
            return Err(format!("stop answered {status}: {reply}"));
        }
        let (arrived, body) = poll.await.map_err(|e| e.to_string())??;
        if body["data"]["command_id"] != reply["data"]["command_id"] {
            return Err(format!("the poll returned another command: {body}"));
        }
        samples.push(arrived.duration_since(sent).as_secs_f64() * 1000.0);
        let id = reply["data"]["command_id"].as_str().unwrap_or_default();
        for status in ["accepted", "completed"] {
            svc.post(
                "/v1/device/command-status",
                Some(&device.token),
                &json!({"command_id": id, "status": status, "timestamp": crate::service::now()}),
            )
            .await?;
        }
    }
    samples.sort_by(f64::total_cmp);
    println!("command delivery with an open long-poll, {rounds} rounds (embedded engine):");
    println!(
        "  p50 {:.0} ms  p95 {:.0} ms  max {:.0} ms  (goal: p50 <= 1000 ms)",
        percentile(&samples, 0.5),
        percentile(&samples, 0.95),
        samples.last().copied().unwrap_or(0.0)
    );
    Ok(())
}
