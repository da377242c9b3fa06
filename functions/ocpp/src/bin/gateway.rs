//! Lambda entry point of `ocpp-gateway`: the WebSocket API's `$connect`,
//! `$default` and `$disconnect` routes.

use aws_lambda_events::apigw::{ApiGatewayProxyResponse, ApiGatewayWebsocketProxyRequest};
use aws_lambda_events::encodings::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ocpp_gateway::websocket::on_event;
use ocpp_link::connections::Connections;

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let (store, domain) = store::bootstrap::from_env().await?;
    let link = Connections::from_env().await;
    let domain = match &link {
        Some(link) => link.attached(domain, store),
        None => domain,
    };
    let link = &link;
    let domain = &domain;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayWebsocketProxyRequest>| async move {
            let answer = on_event(domain, &event.payload).await;
            if answer.close
                && let (Some(link), Some(id)) = (link, &event.payload.request_context.connection_id)
            {
                link.close_connection(id).await;
            }
            let mut headers = HeaderMap::new();
            if let Some(protocol) = answer.subprotocol {
                headers.insert(
                    header::SEC_WEBSOCKET_PROTOCOL,
                    HeaderValue::from_static(protocol),
                );
            }
            let mut response = ApiGatewayProxyResponse::default();
            response.status_code = i64::from(answer.status);
            response.headers = headers;
            response.body = answer.frame.map(Body::Text);
            Ok::<_, Error>(response)
        },
    ))
    .await
}
