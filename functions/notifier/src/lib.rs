//! `notifier`: delivers the partner outbox (see `domain::partners::outbox`).
//! In AWS a schedule runs [`drain`] every minute; the local server runs
//! [`run_forever`] as a background task. Either way the request that
//! wrote a message never waits for the partner.

use async_trait::async_trait;
use domain::Domain;
use domain::partners::notify::{REFUSED_PRIVATE, is_loopback, is_public};
use domain::partners::outbox::{Outgoing, PUSH_TIMEOUT_SECONDS, Push};
use kernel::Error;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tcec::envelope::partner_keys;
use tcec::{WireAnswer, WireRequest};
use url::Url;

/// Messages sent per store read.
const BATCH: usize = 25;
/// A partner that does not accept the connection by then is down.
const CONNECT_TIMEOUT_SECONDS: u64 = 3;

/// A name that resolved to an address outside the public internet.
#[derive(Debug, thiserror::Error)]
#[error("{REFUSED_PRIVATE}")]
struct PrivateAddress;

/// Resolves names for pushes and refuses any name with a non-public
/// address among its answers (loopback too, unless local addresses are
/// allowed for development). The client connects only to the addresses
/// checked here, so a name cannot pass the check and then rebind.
struct PublicOnly {
    loopback: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let loopback = self.loopback;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed = |ip| is_public(ip) || (loopback && is_loopback(ip));
            if addrs.is_empty() || addrs.iter().any(|a| !allowed(a.ip())) {
                return Err(Box::new(PrivateAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Pushes over HTTP in the partners' wire format: sealed with each
/// partner's secrets (unsealed with this function's key, from the
/// domain's settings), a bounded wait per partner, no redirects (a 3xx is
/// a failed attempt), no proxy, and, unless local addresses are allowed for
/// development, only public addresses.
pub struct HttpPush(reqwest::Client, Domain);

impl HttpPush {
    pub fn new(domain: &Domain) -> Result<Self, Error> {
        let allow_local = domain.settings.allow_local_notify_urls;
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(PUSH_TIMEOUT_SECONDS))
            .connect_timeout(Duration::from_secs(CONNECT_TIMEOUT_SECONDS))
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_proxy();
        // Names are resolved here whatever the setting: it allows this
        // machine's loopback, not the network around it.
        builder = builder.dns_resolver(Arc::new(PublicOnly {
            loopback: allow_local,
        }));
        let client = builder.build().map_err(Error::internal)?;
        Ok(Self(client, domain.clone()))
    }
}

/// What a failed send records: whether a refused address was the cause,
/// else only that no answer came.
fn send_failure(e: &reqwest::Error) -> String {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.is::<PrivateAddress>() {
            return REFUSED_PRIVATE.to_owned();
        }
        cause = c.source();
    }
    if e.is_timeout() {
        "no answer: timed out".to_owned()
    } else {
        "no answer: could not connect".to_owned()
    }
}

impl HttpPush {
    /// POSTs one sealed envelope and reads `{Ret, Msg, Data, Sig}`.
    async fn post(&self, url: &Url, body: &WireRequest) -> Result<WireAnswer, String> {
        let res = self
            .0
            .post(url.clone())
            .json(body)
            .send()
            .await
            .map_err(|e| send_failure(&e))?;
        let status = res.status();
        if !status.is_success() {
            // The class only: a target's own status text is not ours to show.
            return Err(format!("HTTP {}xx", status.as_u16() / 100));
        }
        res.json()
            .await
            .map_err(|_| "the answer is not {Ret, Msg, Data, Sig}".to_owned())
    }
}

#[async_trait]
impl Push for HttpPush {
    async fn push(&self, m: Outgoing<'_>) -> Result<(), String> {
        let keys = partner_keys(&self.1, m.partner).map_err(|r| r.message)?;
        let request = keys
            .seal_request(
                &m.partner.partner_operator_id,
                m.payload.to_string().as_bytes(),
                m.time_stamp,
                m.seq,
            )
            .map_err(|r| r.message)?;
        let answer = self.post(m.url, &request).await?;
        let ret = answer.ret.to_string();
        if !answer.sig.is_empty() && !keys.verify(&[&ret, &answer.msg, &answer.data], &answer.sig) {
            return Err("the answer's Sig does not verify".into());
        }
        // Only the code: what a partner's server says is not ours to show.
        match answer.ret {
            0 => Ok(()),
            other => Err(format!("Ret {other}")),
        }
    }
}

/// Delivers every message due now; answers how many were delivered.
pub async fn drain(domain: &Domain, push: &dyn Push) -> Result<usize, Error> {
    let mut total = 0;
    loop {
        let before = total;
        total += domain.partners.deliver_pushes(push, BATCH).await?;
        // A short batch, or nothing delivered in a full one: the rest wait
        // for their next attempt.
        if total == before {
            return Ok(total);
        }
    }
}

/// Drains the outbox every `every`, for ever.
pub async fn run_forever(domain: Domain, every: Duration) {
    let push = match HttpPush::new(&domain) {
        Ok(push) => push,
        Err(e) => {
            tracing::error!(error = %e, "the partner notifier cannot start");
            return;
        }
    };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match drain(&domain, &push).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(delivered = n, "partner pushes delivered"),
            Err(e) => tracing::warn!(error = %e, "partner pushes failed; retrying later"),
        }
    }
}
