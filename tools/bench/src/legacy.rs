//! What the T/CEC envelope costs: the same remote start through the
//! legacy route (sealed, signed, token, replay guard) and through the
//! console route, alternated on one service; and the envelope's crypto
//! alone, in process.

use crate::percentile;
use crate::service::Service;
use domain::partners::DEFAULT_UTC_OFFSET_MINUTES;
use kernel::access::Caller;
use kernel::model::Role;
use kernel::secret::Secret;
use serde_json::{Value, json};
use std::time::Instant;
use tcec::{PartnerDraft, WireKeys};

pub async fn run(rounds: usize) -> Result<(), String> {
    let svc = Service::start(None, None, |s| {
        s.partner_secrets_key = Some(Secret::new([9; 32]));
    })
    .await?;
    let device = svc.device("LEG-1", "TP-AC22").await?;
    let operator = svc.operator_token().await?;
    let admin = Caller {
        client_id: "bench".into(),
        role: Role::Admin,
        operators: vec![],
    };
    let code = "BENCH0001";
    let created = tcec::create_partner(
        &svc.domain,
        &admin,
        PartnerDraft {
            partner_operator_id: code.into(),
            name: "bench".into(),
            operator_id: svc.domain.settings.default_operator.clone(),
            operator_secret: None,
            data_secret: None,
            data_secret_iv: None,
            sig_secret: None,
            notify_url: None,
            utc_offset_minutes: DEFAULT_UTC_OFFSET_MINUTES,
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    let keys = WireKeys {
        data_secret: created.data_secret,
        data_secret_iv: created.data_secret_iv,
        sig_secret: created.sig_secret,
    };
    let mut seq = 0u32;
    let mut seal = |payload: Value| {
        seq += 1;
        let at = chrono::Utc::now() + chrono::Duration::minutes(DEFAULT_UTC_OFFSET_MINUTES.into());
        let stamp = at.format("%Y%m%d%H%M%S").to_string();
        keys.seal_request(
            code,
            payload.to_string().as_bytes(),
            &stamp,
            &format!("{:04}", seq % 10_000),
        )
        .map(|r| serde_json::to_value(r).unwrap_or_default())
        .map_err(|e| e.message)
    };
    let login = json!({"OperatorID": code, "OperatorSecret": created.operator_secret.expose()});
    let (_, answer) = svc
        .post("/customer/query_token", None, &seal(login)?)
        .await?;
    let data = keys
        .decrypt(answer["Data"].as_str().unwrap_or_default())
        .map_err(|e| e.message)?;
    let token: Value = serde_json::from_slice(&data).map_err(|e| e.to_string())?;
    let token = token["AccessToken"].as_str().ok_or("no token")?.to_owned();

    let (mut plain, mut legacy) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let t = Instant::now();
        let status = svc
            .http
            .post(format!(
                "{}/v1/devices/{}/connectors/1/start",
                svc.base, device.id
            ))
            .bearer_auth(&operator)
            .header("idempotency-key", format!("bench-{round}"))
            .json(&json!({}))
            .send()
            .await
            .map_err(|e| e.to_string())?
            .status();
        plain.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 202 {
            return Err(format!("console start answered {status}"));
        }
        let body = seal(json!({
            "StartChargeSeq": format!("{code}{round:018}"),
            "ConnectorID": format!("{}-1", device.id),
        }))?;
        let t = Instant::now();
        let answer = svc
            .http
            .post(format!("{}/cp/start_charging", svc.base))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json::<Value>()
            .await
            .map_err(|e| e.to_string())?;
        legacy.push(t.elapsed().as_secs_f64() * 1000.0);
        if answer["Ret"] != 0 {
            return Err(format!("legacy start answered {answer}"));
        }
    }
    // The envelope's own work: seal and sign a request, verify and open it.
    let payload = json!({"StartChargeSeq": format!("{code}{:018}", 1), "ConnectorID": "x-1"});
    let crypto_rounds = 10_000;
    let t = Instant::now();
    for _ in 0..crypto_rounds {
        let req = keys
            .seal_request(
                code,
                payload.to_string().as_bytes(),
                "20261125080000",
                "0001",
            )
            .map_err(|e| e.message)?;
        if !keys.verify(&req.signed_parts(), &req.sig) || keys.decrypt(&req.data).is_err() {
            return Err("the envelope does not round-trip".into());
        }
    }
    let crypto_us = t.elapsed().as_secs_f64() * 1e6 / f64::from(crypto_rounds);

    plain.sort_by(f64::total_cmp);
    legacy.sort_by(f64::total_cmp);
    let (p50, l50) = (percentile(&plain, 0.5), percentile(&legacy, 0.5));
    let (p95, l95) = (percentile(&plain, 0.95), percentile(&legacy, 0.95));
    println!("remote start, {rounds} rounds each, alternated (embedded engine, loopback HTTP):");
    println!(
        "  console POST /v1/devices/{{id}}/connectors/1/start  p50 {p50:.2} ms  p95 {p95:.2} ms"
    );
    println!(
        "  legacy  POST /cp/start_charging                   p50 {l50:.2} ms  p95 {l95:.2} ms"
    );
    println!(
        "  envelope overhead per request: p50 {:+.2} ms  p95 {:+.2} ms",
        l50 - p50,
        l95 - p95
    );
    println!("  of which crypto (seal + sign + verify + decrypt, in process): {crypto_us:.1} µs");
    println!(
        "  the rest is the partner and token reads, the replay guard's conditional put and the device read the legacy route adds"
    );
    Ok(())
}
