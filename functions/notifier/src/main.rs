//! Lambda entry point of `notifier`, run by a one-minute schedule.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let domain = store::bootstrap::domain_from_env().await?;
    let push = notifier::HttpPush::new(&domain)?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| {
        let (domain, push) = (&domain, &push);
        async move {
            let delivered = notifier::drain(domain, push).await?;
            Ok::<_, Error>(json!({ "delivered": delivered }))
        }
    }))
    .await
}
