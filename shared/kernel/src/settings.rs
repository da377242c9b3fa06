//! Settings read from the environment once per cold start.

use crate::ids::OperatorId;
use crate::secret::Secret;
use crate::storage::Retention;

/// Which requests go to the shared request log (`GET /v1/debug/requests`).
/// Each logged request costs one more write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestLogMode {
    All,
    Errors,
    Off,
}
use chrono::Duration;

/// A setting the environment gives in a form the service cannot use.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{name} must be {expected}, not {value:?}")]
    Malformed {
        name: &'static str,
        expected: &'static str,
        value: String,
    },
    #[error("TOKEN_SIGNING_KEY must be hex of at least 32 bytes (64 hex characters)")]
    SigningKey,
    #[error("PARTNER_SECRETS_KEY must be hex of exactly 32 bytes (64 hex characters)")]
    PartnerSecretsKey,
}

fn malformed(name: &'static str, expected: &'static str, value: &str) -> SettingsError {
    SettingsError::Malformed {
        name,
        expected,
        value: value.to_owned(),
    }
}

/// How many attempts a source may make in a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    /// 0 turns the limit off.
    pub attempts: u32,
    pub window: Duration,
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// Name of the single DynamoDB table.
    pub table_name: String,
    /// Key that signs device access tokens (HMAC-SHA256); only functions
    /// that issue or check device tokens have one.
    pub token_signing_key: Option<Secret<Vec<u8>>>,
    pub token_ttl: Duration,
    /// AES-256 key that seals partners' shared secrets at rest; only the
    /// function that speaks to partners has one.
    pub partner_secrets_key: Option<Secret<[u8; 32]>>,
    /// Lets a serial number re-register without proof (simulation, staging).
    pub allow_reregister: bool,
    /// Lets partner `notify_url`s use plain `http` and loopback or private
    /// addresses: a developer's partner simulator on this machine. Off in
    /// every deployment, where pushes go to public `https` hosts only.
    pub allow_local_notify_urls: bool,
    /// When set, `register` and `site` require it in `X-Provisioning-Key`.
    pub provisioning_key: Option<Secret<String>>,
    /// The WebSocket URL OCPP chargers are configured with (`OCPP_URL`,
    /// e.g. `wss://ocpp.example.com/ocpp`); unset, it is derived from the
    /// request that provisions them.
    pub ocpp_url: Option<String>,
    pub default_operator: OperatorId,
    /// Upper bound for `GET /v1/device/commands?wait=`.
    pub long_poll_max: Duration,
    pub command_expiry: Duration,
    pub command_redelivery: Duration,
    pub heartbeat_interval: Duration,
    /// Failed credential attempts per credential, source address and window.
    pub auth_failure_limit: Limit,
    /// Registrations per source address and window while no provisioning
    /// key is required.
    pub registration_limit: Limit,
    pub request_log: RequestLogMode,
    /// Whether raw telemetry samples are kept (for `retention.samples`):
    /// nothing reads them, so by default they cost nothing.
    pub keep_samples: bool,
    pub retention: Retention,
}

/// API Gateway ends a request at 30 s; a long-poll must answer before that.
const LONG_POLL_CEILING_S: i64 = 25;

impl Settings {
    /// Defaults that suit a developer machine; a deployment sets its own key.
    pub fn new(table_name: impl Into<String>, token_signing_key: Option<Vec<u8>>) -> Self {
        Self {
            table_name: table_name.into(),
            token_signing_key: token_signing_key.map(Secret::new),
            token_ttl: Duration::hours(24),
            partner_secrets_key: None,
            allow_reregister: false,
            allow_local_notify_urls: false,
            provisioning_key: None,
            ocpp_url: None,
            default_operator: OperatorId::parse("acme-charging-uk").expect("valid slug"),
            long_poll_max: Duration::seconds(20),
            command_expiry: Duration::minutes(5),
            command_redelivery: Duration::seconds(60),
            heartbeat_interval: Duration::seconds(30),
            auth_failure_limit: Limit {
                attempts: 10,
                window: Duration::minutes(5),
            },
            registration_limit: Limit {
                attempts: 100,
                window: Duration::minutes(10),
            },
            request_log: RequestLogMode::All,
            keep_samples: false,
            retention: Retention::default(),
        }
    }

    /// Reads every setting through `var` (the process environment in
    /// production); unknown or malformed values are errors, not defaults.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let key = match var("TOKEN_SIGNING_KEY").filter(|k| !k.is_empty()) {
            None => None,
            Some(hex_key) => Some(
                hex::decode(hex_key.trim())
                    .ok()
                    .filter(|k| k.len() >= 32)
                    .ok_or(SettingsError::SigningKey)?,
            ),
        };
        let mut s = Self::new(var("TABLE_NAME").unwrap_or_else(|| "chargenet".into()), key);
        if let Some(hex_key) = var("PARTNER_SECRETS_KEY").filter(|k| !k.is_empty()) {
            let key = hex::decode(hex_key.trim())
                .ok()
                .and_then(|k| <[u8; 32]>::try_from(k).ok())
                .ok_or(SettingsError::PartnerSecretsKey)?;
            s.partner_secrets_key = Some(Secret::new(key));
        }
        if let Some(v) = var("ALLOW_REREGISTER") {
            s.allow_reregister = parse_bool("ALLOW_REREGISTER", &v)?;
        }
        if let Some(v) = var("PARTNER_NOTIFY_ALLOW_LOCAL") {
            s.allow_local_notify_urls = parse_bool("PARTNER_NOTIFY_ALLOW_LOCAL", &v)?;
        }
        s.ocpp_url = var("OCPP_URL")
            .map(|u| u.trim_end_matches('/').to_owned())
            .filter(|u| !u.is_empty());
        s.provisioning_key = var("PROVISIONING_KEY")
            .filter(|k| !k.is_empty())
            .map(Secret::new);
        if let Some(v) = var("DEFAULT_OPERATOR_ID") {
            s.default_operator = OperatorId::parse(&v).ok_or_else(|| {
                malformed(
                    "DEFAULT_OPERATOR_ID",
                    "an operator slug such as acme-uk",
                    &v,
                )
            })?;
        }
        if let Some(v) = var("LONG_POLL_MAX_SECONDS") {
            let secs = parse_num("LONG_POLL_MAX_SECONDS", &v)?;
            s.long_poll_max = Duration::seconds(secs.clamp(0, LONG_POLL_CEILING_S));
        }
        if let Some(v) = var("SAMPLE_TTL_DAYS") {
            // 0 keeps no raw samples; telemetry up to the default age is
            // still accepted and rolled up.
            let days = parse_num("SAMPLE_TTL_DAYS", &v)?;
            s.keep_samples = days > 0;
            if days > 0 {
                s.retention.samples = Duration::days(days);
            }
        }
        if let Some(v) = var("COMMAND_EXPIRY_SECONDS") {
            s.command_expiry = Duration::seconds(parse_num("COMMAND_EXPIRY_SECONDS", &v)?.max(1));
        }
        if let Some(v) = var("REGISTRATION_LIMIT") {
            s.registration_limit.attempts =
                u32::try_from(parse_num("REGISTRATION_LIMIT", &v)?.max(0)).unwrap_or(u32::MAX);
        }
        if let Some(v) = var("REQUEST_LOG") {
            s.request_log = match v.as_str() {
                "all" => RequestLogMode::All,
                "errors" => RequestLogMode::Errors,
                "off" => RequestLogMode::Off,
                _ => return Err(malformed("REQUEST_LOG", "all, errors or off", &v)),
            };
        }
        Ok(s)
    }

    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Devices are offline after three missed heartbeats.
    pub fn offline_after(&self) -> Duration {
        self.heartbeat_interval * 3
    }
}

fn parse_bool(name: &'static str, v: &str) -> Result<bool, SettingsError> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(malformed(name, "true or false", v)),
    }
}

fn parse_num(name: &'static str, v: &str) -> Result<i64, SettingsError> {
    v.trim()
        .parse()
        .map_err(|_| malformed(name, "a whole number", v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    const KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn long_poll_cap_never_exceeds_the_gateway_limit() {
        let s = Settings::from_lookup(lookup(&[
            ("TOKEN_SIGNING_KEY", KEY),
            ("LONG_POLL_MAX_SECONDS", "60"),
        ]))
        .unwrap();
        assert_eq!(s.long_poll_max, Duration::seconds(25));
    }

    #[test]
    fn a_short_signing_key_is_refused() {
        let err = Settings::from_lookup(lookup(&[("TOKEN_SIGNING_KEY", "abcd")])).unwrap_err();
        assert!(err.to_string().contains("32 bytes"), "{err}");
    }

    #[test]
    fn functions_without_device_tokens_need_no_signing_key() {
        let s = Settings::from_lookup(lookup(&[])).unwrap();
        assert!(s.token_signing_key.is_none());
        let s = Settings::from_lookup(lookup(&[("TOKEN_SIGNING_KEY", KEY)])).unwrap();
        assert_eq!(s.token_signing_key.unwrap().expose().len(), 32);
    }

    #[test]
    fn the_signing_key_never_shows_in_debug_output() {
        let s = Settings::from_lookup(lookup(&[("TOKEN_SIGNING_KEY", KEY)])).unwrap();
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("42, 42") && !shown.contains("17, 34"),
            "{shown}"
        );
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn malformed_booleans_are_errors_not_defaults() {
        let err = Settings::from_lookup(lookup(&[
            ("TOKEN_SIGNING_KEY", KEY),
            ("ALLOW_REREGISTER", "maybe"),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("ALLOW_REREGISTER"));
    }
}
