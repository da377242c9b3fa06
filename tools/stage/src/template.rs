//! The stack as `template.yaml` describes it: each function's binary,
//! memory, timeout and environment, and the HTTP API's routes. Everything
//! comes from the template, so the stage keeps no second list of either.

pub use crate::intrinsics::{Locals, TemplateError};
use crate::intrinsics::{Resolver, unsupported};
use crate::routes::RouteKey;
use serde_yaml::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Lambda's defaults when neither the function nor `Globals` sets them.
const DEFAULT_MEMORY_MB: u64 = 128;
const DEFAULT_TIMEOUT_S: u64 = 3;
/// API Gateway's integration timeout unless a route sets `TimeoutInMillis`.
const DEFAULT_INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Function {
    pub logical_id: String,
    pub binary: String,
    pub memory_mb: u64,
    pub timeout: Duration,
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub key: RouteKey,
    pub function: String,
    pub integration_timeout: Duration,
}

/// An EventBridge schedule that invokes a function.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub function: String,
    /// The event's name in the template.
    pub name: String,
    /// `rate(...)` or `cron(...)`.
    pub expression: String,
}

/// A WebSocket API (API Gateway v2) and the CloudFront distribution in
/// front of it.
#[derive(Debug, Clone)]
pub struct WebSocketApi {
    /// The function its integration invokes.
    pub function: String,
    pub stage: String,
    /// The viewer-request CloudFront Function's code, if the distribution
    /// in front of the API has one.
    pub viewer_request: Option<String>,
}

#[derive(Debug)]
pub struct Stack {
    pub functions: Vec<Function>,
    pub routes: Vec<Route>,
    /// Enabled `Schedule` and `ScheduleV2` events.
    pub schedules: Vec<Schedule>,
    pub websocket: Option<WebSocketApi>,
    /// The environment of `Globals`, resolved: the settings all share.
    pub shared_environment: BTreeMap<String, String>,
}

impl Stack {
    pub fn load(path: &Path, locals: &Locals) -> Result<Self, TemplateError> {
        Self::parse(&read(path)?, locals)
    }

    pub fn parse(text: &str, locals: &Locals) -> Result<Self, TemplateError> {
        let doc: Value = serde_yaml::from_str(text)?;
        let resolver = Resolver::new(&doc, locals);
        let globals = &doc["Globals"]["Function"];
        let shared_environment = resolver.environment(&globals["Environment"]["Variables"])?;
        let mut functions = Vec::new();
        let mut routes = Vec::new();
        let mut schedules = Vec::new();
        for (id, resource) in mapping(&doc["Resources"]) {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let id = id.as_str().unwrap_or_default().to_owned();
            let props = &resource["Properties"];
            let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .ok_or_else(|| unsupported(format!("{id}: no Metadata.BuildProperties.Binary")))?;
            let setting = |name: &str, default: u64| {
                props[name]
                    .as_u64()
                    .or_else(|| globals[name].as_u64())
                    .unwrap_or(default)
            };
            let mut environment = shared_environment.clone();
            environment.extend(resolver.environment(&props["Environment"]["Variables"])?);
            functions.push(Function {
                logical_id: id.clone(),
                binary: binary.to_owned(),
                memory_mb: setting("MemorySize", DEFAULT_MEMORY_MB),
                timeout: Duration::from_secs(setting("Timeout", DEFAULT_TIMEOUT_S)),
                environment,
            });
            for (name, event) in mapping(&props["Events"]) {
                let name = name.as_str().unwrap_or_default();
                let props = &event["Properties"];
                match event["Type"].as_str() {
                    Some("HttpApi") => routes.push(route(&id, name, props)?),
                    Some("Schedule") if props["Enabled"].as_bool() != Some(false) => {
                        schedules.push(schedule(&id, name, &props["Schedule"])?);
                    }
                    Some("ScheduleV2") if props["State"].as_str() != Some("DISABLED") => {
                        schedules.push(schedule(&id, name, &props["ScheduleExpression"])?);
                    }
                    _ => {}
                }
            }
        }
        Ok(Self {
            functions,
            routes,
            schedules,
            websocket: websocket(&doc),
            shared_environment,
        })
    }
}

/// The name a `!Ref`, `!GetAtt` or `${...}` of `value` points at.
fn referenced(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(t) => referenced(&t.value),
        Value::String(s) => Some(s.split('.').next().unwrap_or(s).to_owned()),
        Value::Sequence(parts) => parts.first().and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// The names `${...}` in a `!Sub` text points at.
fn substituted(value: &Value) -> Vec<String> {
    let text = match value {
        Value::Tagged(t) => t.value.as_str().unwrap_or_default(),
        other => other.as_str().unwrap_or_default(),
    };
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split('}').next())
        .map(|name| name.split('.').next().unwrap_or(name).to_owned())
        .collect()
}

fn of_type<'a>(doc: &'a Value, kind: &'a str) -> impl Iterator<Item = (&'a str, &'a Value)> {
    mapping(&doc["Resources"])
        .filter(move |(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(id, r)| (id.as_str().unwrap_or_default(), r))
}

/// The template's WebSocket API, its function, stage and CloudFront
/// Function; `None` without one.
fn websocket(doc: &Value) -> Option<WebSocketApi> {
    let (api, _) = of_type(doc, "AWS::ApiGatewayV2::Api")
        .find(|(_, r)| r["Properties"]["ProtocolType"].as_str() == Some("WEBSOCKET"))?;
    let on_api = |r: &Value| referenced(&r["Properties"]["ApiId"]).as_deref() == Some(api);
    let function = of_type(doc, "AWS::ApiGatewayV2::Integration")
        .filter(|(_, r)| on_api(r))
        .flat_map(|(_, r)| substituted(&r["Properties"]["IntegrationUri"]))
        .find(|name| {
            doc["Resources"][name.as_str()]["Type"].as_str() == Some("AWS::Serverless::Function")
        })?;
    let stage = of_type(doc, "AWS::ApiGatewayV2::Stage")
        .find(|(_, r)| on_api(r))
        .and_then(|(_, r)| r["Properties"]["StageName"].as_str())?
        .to_owned();
    let viewer_request = of_type(doc, "AWS::CloudFront::Distribution")
        .filter(|(_, r)| {
            r["Properties"]["DistributionConfig"]["Origins"]
                .as_sequence()
                .into_iter()
                .flatten()
                .any(|o| substituted(&o["DomainName"]).iter().any(|n| n == api))
        })
        .flat_map(|(_, r)| {
            r["Properties"]["DistributionConfig"]["DefaultCacheBehavior"]["FunctionAssociations"]
                .as_sequence()
                .cloned()
                .unwrap_or_default()
        })
        .find(|a| a["EventType"].as_str() == Some("viewer-request"))
        .and_then(|a| referenced(&a["FunctionARN"]))
        .and_then(|f| {
            doc["Resources"][f.as_str()]["Properties"]["FunctionCode"]
                .as_str()
                .map(str::to_owned)
        });
    Some(WebSocketApi {
        function,
        stage,
        viewer_request,
    })
}

/// The function binaries the template names, for building them.
pub fn binaries(path: &Path) -> Result<Vec<String>, TemplateError> {
    let doc: Value = serde_yaml::from_str(&read(path)?)?;
    Ok(mapping(&doc["Resources"])
        .filter_map(|(_, r)| r["Metadata"]["BuildProperties"]["Binary"].as_str())
        .map(str::to_owned)
        .collect())
}

fn read(path: &Path) -> Result<String, TemplateError> {
    std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
        path: path.display().to_string(),
        source,
    })
}

fn mapping(value: &Value) -> impl Iterator<Item = (&Value, &Value)> {
    value.as_mapping().into_iter().flat_map(Mapping::iter)
}

fn schedule(function: &str, event: &str, expression: &Value) -> Result<Schedule, TemplateError> {
    let expression = expression
        .as_str()
        .ok_or_else(|| unsupported(format!("{function}.{event}: no schedule expression")))?;
    Ok(Schedule {
        function: function.to_owned(),
        name: event.to_owned(),
        expression: expression.to_owned(),
    })
}

/// One `HttpApi` event; SAM reads no `Path` and no `Method` as `$default`.
fn route(function: &str, event: &str, props: &Value) -> Result<Route, TemplateError> {
    if let Some(version) = props["PayloadFormatVersion"]
        .as_str()
        .filter(|v| *v != "2.0")
    {
        return Err(unsupported(format!(
            "{function}.{event}: payload format {version} (the stage speaks 2.0)"
        )));
    }
    let key = RouteKey::parse(props["Method"].as_str(), props["Path"].as_str())
        .map_err(|e| unsupported(format!("{function}.{event}: {e}")))?;
    let integration_timeout = props["TimeoutInMillis"]
        .as_u64()
        .map_or(DEFAULT_INTEGRATION_TIMEOUT, Duration::from_millis);
    Ok(Route {
        key,
        function: function.to_owned(),
        integration_timeout,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  SigningKey: { Type: String, NoEcho: true }
  Poll: { Type: Number, Default: 20 }
  Mode: { Type: String, Default: "off" }
  Version: { Type: String, Default: "" }
Conditions:
  Pinned: !Not [!Equals [!Ref Version, ""]]
Globals:
  Function:
    MemorySize: 256
    Timeout: 29
    Environment:
      Variables:
        TABLE_NAME: !Ref Table
        KEY: !Ref SigningKey
        POLL: !Ref Poll
        MODE: { Ref: Mode }
Resources:
  Table: { Type: AWS::DynamoDB::Table }
  Api: { Type: AWS::Serverless::HttpApi }
  One:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: one-bin } }
    Properties:
      Timeout: 5
      Environment:
        Variables:
          MODE: "on"
          PASSWORD: "{{resolve:secretsmanager:pw}}"
          TOKEN: !If
            - Pinned
            - !Sub "{{resolve:secretsmanager:${Secret}:SecretString:::${Version}}}"
            - !Sub "{{resolve:secretsmanager:${Secret}:SecretString}}"
          PICK: !If [Pinned, pinned, latest]
          NAME: !Sub ["${Mode}-${Suffix}", { Suffix: !Ref Poll }]
      Events:
        Get:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: get
            Path: /v1/things/{id}
        Fallback: { Type: HttpApi, Properties: { ApiId: !Ref Api } }
        Slow: { Type: HttpApi, Properties: { Method: POST, Path: /slow, TimeoutInMillis: 5000 } }
        Tick: { Type: Schedule, Properties: { Schedule: rate(1 minute) } }
        Off: { Type: ScheduleV2, Properties: { ScheduleExpression: rate(5 minutes), State: DISABLED } }
"#;

    fn locals() -> Locals {
        Locals {
            parameters: BTreeMap::new(),
            table_name: "local-table".into(),
            secrets: BTreeMap::from([
                ("KEY".to_owned(), "kept-key".to_owned()),
                ("PASSWORD".to_owned(), "local-password".to_owned()),
                ("TOKEN".to_owned(), "kept-token".to_owned()),
            ]),
            endpoints: BTreeMap::new(),
        }
    }

    #[test]
    fn the_environment_is_globals_then_the_function_resolved_locally() {
        let stack = Stack::parse(TEMPLATE, &locals()).unwrap();
        let f = &stack.functions[0];
        assert_eq!((f.binary.as_str(), f.memory_mb), ("one-bin", 256));
        assert_eq!(f.timeout, Duration::from_secs(5));
        let env = &f.environment;
        assert_eq!(env["TABLE_NAME"], "local-table");
        assert_eq!(env["KEY"], "kept-key");
        assert_eq!(env["POLL"], "20");
        assert_eq!(env["MODE"], "on");
        assert_eq!(env["PASSWORD"], "local-password");
        assert_eq!(stack.shared_environment["MODE"], "off");
    }

    #[test]
    fn sub_and_if_resolve_as_a_deployment_would() {
        let env = &Stack::parse(TEMPLATE, &locals()).unwrap().functions[0].environment;
        assert_eq!(env["TOKEN"], "kept-token");
        assert_eq!(env["PICK"], "latest");
        assert_eq!(env["NAME"], "off-20");
        let mut pinned = locals();
        pinned.parameters.insert("Version".into(), "v2".into());
        let env = &Stack::parse(TEMPLATE, &pinned).unwrap().functions[0].environment;
        assert_eq!(
            (env["TOKEN"].as_str(), env["PICK"].as_str()),
            ("kept-token", "pinned")
        );
    }

    #[test]
    fn a_given_parameter_wins_over_its_default_and_over_a_local_secret() {
        let mut locals = locals();
        locals.parameters.insert("Poll".into(), "5".into());
        locals
            .parameters
            .insert("SigningKey".into(), "given".into());
        let stack = Stack::parse(TEMPLATE, &locals).unwrap();
        assert_eq!(stack.shared_environment["POLL"], "5");
        assert_eq!(stack.shared_environment["KEY"], "given");
    }

    #[test]
    fn a_value_only_a_deployment_has_needs_a_local_one() {
        let mut locals = locals();
        locals.secrets.remove("KEY");
        let err = Stack::parse(TEMPLATE, &locals).unwrap_err().to_string();
        assert!(err.contains("--parameter SigningKey=VALUE"), "{err}");
        let mut locals = self::locals();
        locals.secrets.remove("PASSWORD");
        let err = Stack::parse(TEMPLATE, &locals).unwrap_err().to_string();
        assert!(err.contains("PASSWORD: its dynamic reference"), "{err}");
    }

    #[test]
    fn enabled_schedules_are_read() {
        let stack = Stack::parse(TEMPLATE, &locals()).unwrap();
        let schedules: Vec<_> = stack
            .schedules
            .iter()
            .map(|s| (s.name.as_str(), s.expression.as_str()))
            .collect();
        assert_eq!(schedules, [("Tick", "rate(1 minute)")]);
    }

    #[test]
    fn events_become_routes_and_no_path_nor_method_is_default() {
        let stack = Stack::parse(TEMPLATE, &locals()).unwrap();
        let keys: Vec<String> = stack.routes.iter().map(|r| r.key.to_string()).collect();
        assert_eq!(keys, ["GET /v1/things/{id}", "$default", "POST /slow"]);
        assert_eq!(stack.routes[0].integration_timeout, Duration::from_secs(30));
        assert_eq!(stack.routes[2].integration_timeout, Duration::from_secs(5));
    }
}
