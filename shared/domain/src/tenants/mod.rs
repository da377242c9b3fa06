//! Operators (tenants), their API clients and operator access tokens.
//!
//! Client secrets and tokens are 32 random bytes; only their SHA-256 hashes
//! are stored. A token is a session item keyed by its hash that expires
//! after 24 h (checked on every request, and removed by DynamoDB TTL).

mod port;

pub use port::TenantStore;

use crate::throttle::{Attempt, Throttle};
use kernel::access::AccessToken;
use kernel::access::Caller;
use kernel::error::Error;
use kernel::ids::OperatorId;
use kernel::input::{Problems, text_ok};
use kernel::model::{Client, Operator, Role, Session};
use kernel::secret::Secret;
use kernel::secret::{hash_secret, new_secret, secret_matches};
use kernel::storage::WriteOutcome;
use kernel::{Clock, Settings};
use std::sync::Arc;

/// A console or partner client asking for a token (`client_credentials`).
#[derive(Debug, Clone)]
pub struct ClientLogin {
    pub client_id: String,
    pub client_secret: Secret<String>,
}

impl ClientLogin {
    /// Client ids are at most 128 visible ASCII characters.
    pub fn client_id_ok(id: &str) -> bool {
        (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_graphic())
    }
}

/// A new client's credentials; the secret is shown only once.
#[derive(Debug, Clone)]
pub struct NewClient {
    pub client_id: String,
    pub client_secret: Secret<String>,
}

const STATUSES: &[&str] = &["active", "suspended"];

/// Operators, their API clients and the clients' sessions.
#[derive(Clone)]
pub struct Tenants {
    store: Arc<dyn TenantStore>,
    settings: Arc<Settings>,
    clock: Arc<dyn Clock>,
    throttle: Throttle,
}

/// What `Tenants` is built on.
pub(crate) struct TenantsParts {
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) throttle: Throttle,
}

impl Tenants {
    pub(crate) fn new(store: Arc<dyn TenantStore>, parts: TenantsParts) -> Self {
        let TenantsParts {
            settings,
            clock,
            throttle,
        } = parts;
        Self {
            store,
            settings,
            clock,
            throttle,
        }
    }

    /// `client_credentials` grant for console and partner clients.
    /// Failures are counted per client and caller's address: the client is
    /// never locked out from elsewhere.
    pub async fn issue_operator_token(
        &self,
        login: ClientLogin,
        source: &str,
    ) -> Result<AccessToken, Error> {
        self.throttle
            .refuse_while_throttled(Attempt::ClientAuth, &login.client_id, source)
            .await?;
        let client = self
            .store
            .get_client(&login.client_id)
            .await?
            .filter(|c| secret_matches(login.client_secret.expose(), &c.secret_hash));
        let Some(client) = client else {
            self.throttle
                .count_attempt(Attempt::ClientAuth, Some(&login.client_id), source)
                .await?;
            return Err(Error::BadCredentials);
        };
        let token = new_secret()?;
        let expires_at = self.clock.now() + self.settings.token_ttl;
        let session = Session {
            client_id: client.client_id,
            role: client.role,
            operator_ids: client.operator_ids,
            expires_at,
        };
        self.store
            .put_session(&hash_secret(&token), &session)
            .await?;
        Ok(AccessToken {
            access_token: Secret::new(token),
            expires_in: self.settings.token_ttl.num_seconds(),
        })
    }

    /// The caller behind an operator Bearer token.
    pub async fn operator_caller(&self, token: &str) -> Result<Caller, Error> {
        let invalid = || Error::Unauthorized("the Bearer token is invalid or expired".into());
        if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(invalid());
        }
        let session = self
            .store
            .get_session(&hash_secret(token))
            .await?
            .filter(|s| s.expires_at > self.clock.now())
            .ok_or_else(invalid)?;
        Ok(Caller {
            client_id: session.client_id,
            role: session.role,
            operators: session.operator_ids,
        })
    }

    /// Creates a client for existing operators (admin only).
    pub async fn create_client(
        &self,
        caller: &Caller,
        operator_ids: &[String],
        role: Role,
        name: Option<String>,
    ) -> Result<NewClient, Error> {
        caller.require(Role::Admin)?;
        let mut operators = Vec::new();
        let mut p = Problems::default();
        for raw in operator_ids {
            match OperatorId::parse(raw) {
                Some(op) => operators.push(op),
                None => p.add("operator_ids", format!("{raw:?} is not an operator slug")),
            }
        }
        p.check(
            !operators.is_empty() || role == Role::Admin,
            "operator_ids",
            "must name at least one operator",
        );
        if let Some(name) = &name {
            p.check(text_ok(name, 128), "name", "must be 1..128 characters");
        }
        p.finish()?;
        self.require_operators(&operators).await?;
        self.insert_client(None, None, role, operators, name).await
    }

    /// Creates a client without a caller: the local server's and the admin
    /// tool's bootstrap of the first administrator.
    pub async fn bootstrap_client(
        &self,
        client_id: Option<String>,
        client_secret: Option<String>,
        role: Role,
        operators: Vec<OperatorId>,
        name: Option<String>,
    ) -> Result<NewClient, Error> {
        self.require_operators(&operators).await?;
        self.insert_client(client_id, client_secret, role, operators, name)
            .await
    }

    /// Creates an operator without a caller (seeding a new table); `false`
    /// when it exists already.
    pub async fn seed_operator(&self, op: &Operator) -> Result<bool, Error> {
        Ok(self.store.ensure_operator(op).await? == WriteOutcome::Written)
    }

    /// Every operator must exist; the default one does even without a
    /// record (it owns the devices that are in no site).
    pub(crate) async fn require_operators(&self, operators: &[OperatorId]) -> Result<(), Error> {
        for op in operators {
            if *op != self.settings.default_operator && self.store.get_operator(op).await?.is_none()
            {
                return Err(Error::invalid(
                    "operator_ids",
                    format!("unknown operator {op}"),
                ));
            }
        }
        Ok(())
    }

    async fn insert_client(
        &self,
        client_id: Option<String>,
        client_secret: Option<String>,
        role: Role,
        operator_ids: Vec<OperatorId>,
        name: Option<String>,
    ) -> Result<NewClient, Error> {
        let client_id = match client_id {
            Some(id) => id,
            None => format!("cl_{}", &new_secret()?[..24]),
        };
        let client_secret = match client_secret {
            Some(secret) => secret,
            None => new_secret()?,
        };
        if client_secret.len() < 32 {
            return Err(Error::invalid(
                "client_secret",
                "must be at least 32 characters",
            ));
        }
        let client = Client {
            client_id: client_id.clone(),
            name: name.unwrap_or_else(|| client_id.clone()),
            role,
            operator_ids,
            secret_hash: hash_secret(&client_secret),
            created_at: self.clock.now(),
        };
        match self.store.insert_client(&client).await? {
            WriteOutcome::Written => Ok(NewClient {
                client_id,
                client_secret: Secret::new(client_secret),
            }),
            WriteOutcome::Conflict => Err(Error::Conflict(format!(
                "client {client_id} exists already"
            ))),
        }
    }

    /// Creates an operator (admin only); an existing id is a conflict.
    pub async fn create_operator(&self, caller: &Caller, op: Operator) -> Result<Operator, Error> {
        caller.require(Role::Admin)?;
        let mut p = Problems::default();
        p.check(text_ok(&op.name, 128), "name", "must be 1..128 characters");
        p.check(
            op.country.len() == 2 && op.country.bytes().all(|b| b.is_ascii_uppercase()),
            "country",
            "must be an ISO 3166-1 alpha-2 code such as GB",
        );
        p.check(
            STATUSES.contains(&op.status.as_str()),
            "status",
            "must be active or suspended",
        );
        p.finish()?;
        match self.store.ensure_operator(&op).await? {
            WriteOutcome::Written => Ok(op),
            WriteOutcome::Conflict => Err(Error::Conflict(format!(
                "operator {} exists already",
                op.id
            ))),
        }
    }

    /// The operators the caller may see.
    pub async fn visible_operators(&self, caller: &Caller) -> Result<Vec<Operator>, Error> {
        if caller.is_admin() {
            return Ok(self.store.all_operators().await?);
        }
        let mut out = Vec::new();
        for id in &caller.operators {
            if let Some(op) = self.store.get_operator(id).await? {
                out.push(op);
            }
        }
        Ok(out)
    }

    pub async fn operator(&self, caller: &Caller, id: &OperatorId) -> Result<Operator, Error> {
        // Another tenant's operator is not even read.
        let found = match caller.sees(id) {
            true => self.store.get_operator(id).await?,
            false => None,
        };
        caller.visible(found, |o| &o.id, &format!("operator {id}"))
    }
}
