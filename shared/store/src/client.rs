//! Building DynamoDB clients, and counting the requests they send (and,
//! on request, the capacity DynamoDB says they consumed).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::{Credentials, Region};
use aws_sdk_dynamodb::operation::{
    batch_get_item::{BatchGetItemInput, BatchGetItemOutput},
    delete_item::{DeleteItemInput, DeleteItemOutput},
    get_item::{GetItemInput, GetItemOutput},
    put_item::{PutItemInput, PutItemOutput},
    query::{QueryInput, QueryOutput},
    transact_write_items::{TransactWriteItemsInput, TransactWriteItemsOutput},
    update_item::{UpdateItemInput, UpdateItemOutput},
};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
    BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Requests and consumed capacity units of one operation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub requests: u64,
    pub read_units: f64,
    pub write_units: f64,
}

#[derive(Debug, Default)]
struct Counts {
    by_op: BTreeMap<String, Usage>,
    measure_capacity: bool,
}

/// Counts requests per DynamoDB operation; cloned handles share the counts.
#[derive(Debug, Clone, Default)]
pub struct RequestCounter(Arc<Mutex<Counts>>);

fn op_name(cfg: &ConfigBag) -> String {
    cfg.load::<Metadata>()
        .map_or_else(|| "unknown".to_owned(), |m| m.name().to_owned())
}

impl RequestCounter {
    /// A counter that also asks DynamoDB for the capacity each request
    /// consumes (for cost figures; production clients do not ask).
    pub fn measuring_capacity() -> Self {
        let counter = Self::default();
        if let Ok(mut c) = counter.0.lock() {
            c.measure_capacity = true;
        }
        counter
    }

    pub fn total(&self) -> u64 {
        self.usage().values().map(|u| u.requests).sum()
    }

    /// Requests per operation.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.usage()
            .into_iter()
            .map(|(op, u)| (op, u.requests))
            .collect()
    }

    pub fn usage(&self) -> BTreeMap<String, Usage> {
        self.0.lock().map(|c| c.by_op.clone()).unwrap_or_default()
    }

    pub fn reset(&self) {
        if let Ok(mut c) = self.0.lock() {
            c.by_op.clear();
        }
    }

    fn record_capacity(&self, op: &str, consumed: &[ConsumedCapacity], writes: bool) {
        let (mut read, mut write) = (0.0, 0.0);
        for c in consumed {
            let total = c.capacity_units().unwrap_or(0.0);
            match (c.read_capacity_units(), c.write_capacity_units()) {
                (None, None) if writes => write += total,
                (None, None) => read += total,
                (r, w) => {
                    read += r.unwrap_or(0.0);
                    write += w.unwrap_or(0.0);
                }
            }
        }
        if let Ok(mut c) = self.0.lock() {
            let usage = c.by_op.entry(op.to_owned()).or_default();
            usage.read_units += read;
            usage.write_units += write;
        }
    }
}

/// Sets `ReturnConsumedCapacity` on whichever input type this is.
macro_rules! ask_capacity {
    ($input:expr, $($t:ty),+) => {
        $(
            if let Some(i) = $input.downcast_mut::<$t>() {
                i.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
            }
        )+
    };
}

impl Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    /// Once per attempt: retries are requests too.
    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(mut c) = self.0.lock() {
            c.by_op.entry(op_name(cfg)).or_default().requests += 1;
        }
        Ok(())
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if self.0.lock().is_ok_and(|c| c.measure_capacity) {
            let input = context.input_mut();
            ask_capacity!(
                input,
                GetItemInput,
                PutItemInput,
                UpdateItemInput,
                DeleteItemInput,
                QueryInput,
                BatchGetItemInput,
                TransactWriteItemsInput
            );
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Ok(output) = context.output_or_error() else {
            return Ok(());
        };
        let op = op_name(cfg);
        let one = |c: Option<&ConsumedCapacity>| c.cloned().into_iter().collect::<Vec<_>>();
        if let Some(o) = output.downcast_ref::<GetItemOutput>() {
            self.record_capacity(&op, &one(o.consumed_capacity()), false);
        } else if let Some(o) = output.downcast_ref::<QueryOutput>() {
            self.record_capacity(&op, &one(o.consumed_capacity()), false);
        } else if let Some(o) = output.downcast_ref::<BatchGetItemOutput>() {
            self.record_capacity(&op, o.consumed_capacity(), false);
        } else if let Some(o) = output.downcast_ref::<PutItemOutput>() {
            self.record_capacity(&op, &one(o.consumed_capacity()), true);
        } else if let Some(o) = output.downcast_ref::<UpdateItemOutput>() {
            self.record_capacity(&op, &one(o.consumed_capacity()), true);
        } else if let Some(o) = output.downcast_ref::<DeleteItemOutput>() {
            self.record_capacity(&op, &one(o.consumed_capacity()), true);
        } else if let Some(o) = output.downcast_ref::<TransactWriteItemsOutput>() {
            self.record_capacity(&op, o.consumed_capacity(), true);
        }
        Ok(())
    }
}

/// A client from the standard AWS configuration chain; the standard
/// `AWS_ENDPOINT_URL_DYNAMODB` points it at any DynamoDB-compatible endpoint.
pub async fn client_from_env(counter: Option<RequestCounter>) -> Client {
    let shared = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&shared);
    if let Some(counter) = counter {
        builder = builder.interceptor(counter);
    }
    Client::from_conf(builder.build())
}

/// A client for a local emulator (embedded engine or moto), which accepts
/// any credentials.
pub fn client_for_endpoint(endpoint: &str, counter: Option<RequestCounter>) -> Client {
    let mut builder = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "local"));
    if let Some(counter) = counter {
        builder = builder.interceptor(counter);
    }
    Client::from_conf(builder.build())
}
