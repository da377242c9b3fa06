//! The AWS SDK's requests handed to the engine in this process: the SDK
//! still builds, signs and parses every request (it stays the one storage
//! implementation), but the bytes go to the engine through a channel instead
//! of loopback HTTP, and one engine thread runs them so none blocks the
//! async runtime.

use crate::Storage;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region, StalledStreamProtectionConfig};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use dynoxide::{Database, DynoxideError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::mpsc;
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce(&Database) + Send>;

/// The engine in this process, for SDK clients made from
/// [`sdk_config`](Self::sdk_config).
#[derive(Clone)]
pub struct InProcess {
    db: Database,
    transport: Transport,
}

impl InProcess {
    /// Opens the engine and starts its thread, which runs until the last
    /// client made from it is gone.
    pub fn open(storage: &Storage) -> Result<Self, String> {
        let db = crate::open(storage)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let engine = db.clone();
        std::thread::Builder::new()
            .name("dynoxide".into())
            .spawn(move || {
                for job in queue {
                    job(&engine);
                }
            })
            .map_err(|e| format!("cannot start the embedded engine: {e}"))?;
        Ok(Self {
            db,
            transport: Transport { jobs },
        })
    }

    /// A DynamoDB client configuration whose requests go to this engine
    /// (add interceptors, then build).
    pub fn sdk_config(&self) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            // Resolved and signed like any endpoint, never dialled.
            .endpoint_url("http://dynoxide.in-process")
            .region(Region::new("us-east-1"))
            // The engine checks no signature: without credentials the SDK
            // sends requests unsigned, which spares a tenth of its work.
            .allow_no_auth()
            // Bodies are whole in memory: no stream here can stall.
            .stalled_stream_protection(StalledStreamProtectionConfig::disabled())
            .http_client(self.transport.clone())
    }

    /// Deletes the items whose `ttl` has passed, as DynamoDB's TTL does, and
    /// answers how many. The engine works a page of 25 rows at a time and
    /// lets waiting requests in between pages, so a sweep delays a request
    /// by at most one page.
    pub async fn sweep_expired(&self) -> Result<usize, String> {
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.sweep_ttl())
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("TTL sweep failed: {e}"))
    }
}

#[derive(Clone)]
struct Transport {
    jobs: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("in-process dynoxide")
    }
}

impl HttpClient for Transport {
    fn http_connector(
        &self,
        _settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(self.clone())
    }
}

impl HttpConnector for Transport {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let transport = self.clone();
        HttpConnectorFuture::new(async move {
            let operation = request
                .headers()
                .get("x-amz-target")
                .and_then(|t| t.strip_prefix("DynamoDB_20120810."))
                .unwrap_or_default();
            let body = request.body().bytes().unwrap_or_default();
            let (status, json) = match transport.dispatch(operation, body).await {
                Ok(json) => (200, json),
                Err(e) => (e.status_code(), e.to_json()),
            };
            let status =
                StatusCode::try_from(status).map_err(|e| ConnectorError::other(e.into(), None))?;
            let mut response = HttpResponse::new(status, SdkBody::from(json));
            response
                .headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            Ok(response)
        })
    }
}

/// The operations the engine serves, each with its request parsed here, run
/// on the engine thread and its answer serialised here.
macro_rules! dispatch {
    ($transport:ident, $operation:ident, $body:ident, { $($name:literal => $method:ident),* $(,)? }) => {
        match $operation {
            $($name => $transport.run($body, |db, request| db.$method(request)).await,)*
            other => Err(DynoxideError::ValidationException(format!(
                "operation {other:?} is not served in process"
            ))),
        }
    };
}

impl Transport {
    async fn dispatch(&self, operation: &str, body: &[u8]) -> dynoxide::Result<String> {
        dispatch!(self, operation, body, {
            "GetItem" => get_item,
            "PutItem" => put_item,
            "UpdateItem" => update_item,
            "DeleteItem" => delete_item,
            "Query" => query,
            "Scan" => scan,
            "BatchGetItem" => batch_get_item,
            "BatchWriteItem" => batch_write_item,
            "TransactGetItems" => transact_get_items,
            "TransactWriteItems" => transact_write_items,
            "ExecuteStatement" => execute_statement,
            "ExecuteTransaction" => execute_transaction,
            "BatchExecuteStatement" => batch_execute_statement,
            "CreateTable" => create_table,
            "DescribeTable" => describe_table,
            "UpdateTable" => update_table,
            "DeleteTable" => delete_table,
            "ListTables" => list_tables,
            "UpdateTimeToLive" => update_time_to_live,
            "DescribeTimeToLive" => describe_time_to_live,
            "TagResource" => tag_resource,
            "UntagResource" => untag_resource,
            "ListTagsOfResource" => list_tags_of_resource,
        })
    }

    async fn run<Req, Resp>(
        &self,
        body: &[u8],
        operation: impl FnOnce(&Database, Req) -> dynoxide::Result<Resp> + Send + 'static,
    ) -> dynoxide::Result<String>
    where
        Req: DeserializeOwned + Send + 'static,
        Resp: Serialize + Send + 'static,
    {
        let request: Req = serde_json::from_slice(body)
            .map_err(|e| DynoxideError::ValidationException(e.to_string()))?;
        let (answer, answered) = oneshot::channel();
        self.jobs
            .send(Box::new(move |db| {
                let _ = answer.send(operation(db, request));
            }))
            .map_err(|_| stopped())?;
        let response = answered.await.map_err(|_| stopped())??;
        serde_json::to_string(&response)
            .map_err(|e| DynoxideError::InternalServerError(e.to_string()))
    }
}

fn stopped() -> DynoxideError {
    DynoxideError::InternalServerError("the embedded engine has stopped".into())
}
