//! A partner platform as tests drive it: created by an admin, sealing its
//! requests with its secrets and opening our answers.

use crate::{Reply, TestEnv, call};
use axum::Router;
use chrono::{DateTime, Duration, Utc};
use domain::partners::DEFAULT_UTC_OFFSET_MINUTES;
use kernel::Clock;
use kernel::access::Caller;
use kernel::ids::{OperatorId, PartnerId};
use kernel::model::Role;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use tcec::{PartnerDraft, WireAnswer, WireKeys, WireRequest};

pub struct TestPartner {
    pub partner_id: PartnerId,
    pub code: String,
    pub operator_secret: String,
    pub keys: WireKeys,
    pub offset_minutes: i32,
    pub token: String,
    seq: AtomicU32,
}

/// A fresh 9-character partner code.
pub fn new_code() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    raw[..9].to_owned()
}

/// An answer, opened.
#[derive(Debug)]
pub struct Opened {
    pub ret: u32,
    pub msg: String,
    pub data: Value,
    pub answer: WireAnswer,
}

impl TestPartner {
    /// A partner of `operator` created by an admin, holding a token.
    pub async fn create(env: &TestEnv, app: &Router, operator: &OperatorId) -> Self {
        Self::create_with(env, app, operator, None).await
    }

    pub async fn create_with(
        env: &TestEnv,
        app: &Router,
        operator: &OperatorId,
        notify_url: Option<String>,
    ) -> Self {
        let admin = Caller {
            client_id: "test-admin".into(),
            role: Role::Admin,
            operators: vec![],
        };
        let new = PartnerDraft {
            partner_operator_id: new_code(),
            name: "Test hub".into(),
            operator_id: operator.clone(),
            operator_secret: None,
            data_secret: None,
            data_secret_iv: None,
            sig_secret: None,
            notify_url,
            utc_offset_minutes: DEFAULT_UTC_OFFSET_MINUTES,
        };
        let created = tcec::create_partner(&env.domain, &admin, new)
            .await
            .expect("partner is created");
        let mut partner = Self {
            partner_id: created.partner.partner_id,
            code: created.partner.partner_operator_id,
            operator_secret: created.operator_secret.expose().clone(),
            keys: WireKeys {
                data_secret: created.data_secret,
                data_secret_iv: created.data_secret_iv,
                sig_secret: created.sig_secret,
            },
            offset_minutes: DEFAULT_UTC_OFFSET_MINUTES,
            token: String::new(),
            seq: AtomicU32::new(0),
        };
        let login = json!({"OperatorID": partner.code, "OperatorSecret": partner.operator_secret});
        let token = partner
            .call(env, app, "/customer/query_token", &login)
            .await;
        assert_eq!(token.ret, 0, "query_token: {}", token.msg);
        partner.token = token.data["AccessToken"]
            .as_str()
            .expect("a token")
            .to_owned();
        partner
    }

    /// `TimeStamp` for `at`, in the partner's offset.
    pub fn time_stamp(&self, at: DateTime<Utc>) -> String {
        (at + Duration::minutes(i64::from(self.offset_minutes)))
            .format("%Y%m%d%H%M%S")
            .to_string()
    }

    /// The next `Seq`.
    pub fn next_seq(&self) -> String {
        format!("{:04}", self.seq.fetch_add(1, Ordering::Relaxed) % 10_000)
    }

    /// A signed envelope of `payload` with a fresh Seq, stamped now.
    pub fn seal(&self, env: &TestEnv, payload: &[u8]) -> WireRequest {
        self.seal_at(env.clock.now(), payload)
    }

    pub fn seal_at(&self, at: DateTime<Utc>, payload: &[u8]) -> WireRequest {
        self.keys
            .seal_request(&self.code, payload, &self.time_stamp(at), &self.next_seq())
            .expect("the secrets are 16 bytes")
    }

    /// A new StartChargeSeq (the code and 18 digits).
    pub fn start_charge_seq(&self) -> String {
        let n = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000_000_000;
        format!("{}{n:018}", self.code)
    }

    /// Sends `payload` sealed to `route` with the partner's token.
    pub async fn call(&self, env: &TestEnv, app: &Router, route: &str, payload: &Value) -> Opened {
        let body = serde_json::to_value(self.seal(env, payload.to_string().as_bytes()))
            .expect("an envelope");
        self.send(app, route, body, Some(&self.token)).await
    }

    /// Sends a prepared body, with or without a token.
    pub async fn send(
        &self,
        app: &Router,
        route: &str,
        body: Value,
        token: Option<&str>,
    ) -> Opened {
        let bearer = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = bearer
            .as_deref()
            .map(|b| vec![("authorization", b)])
            .unwrap_or_default();
        let reply = call(app, "POST", route, &headers, Some(body)).await;
        self.open(reply)
    }

    /// Checks the answer's signature (when signed) and decrypts its Data.
    pub fn open(&self, reply: Reply) -> Opened {
        assert_eq!(
            reply.status, 200,
            "legacy routes answer 200: {}",
            reply.body
        );
        let answer: WireAnswer = serde_json::from_value(reply.body).expect("{Ret, Msg, Data, Sig}");
        if !answer.sig.is_empty() {
            let ret = answer.ret.to_string();
            assert!(
                self.keys
                    .verify(&[&ret, &answer.msg, &answer.data], &answer.sig),
                "the answer's Sig verifies"
            );
        }
        let data = if answer.data.is_empty() {
            Value::Null
        } else {
            let plain = self.keys.decrypt(&answer.data).expect("Data decrypts");
            serde_json::from_slice(&plain).expect("Data is JSON")
        };
        Opened {
            ret: answer.ret,
            msg: answer.msg.clone(),
            data,
            answer,
        }
    }
}
