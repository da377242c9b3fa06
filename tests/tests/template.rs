//! The table in `template.yaml` is the table the code creates: same keys,
//! same indexes, same TTL attribute. The production settings are wired and
//! documented: every parameter and output in the tables of
//! `docs/operations.md`, the throttles on the stage, a reserved concurrency
//! and a log group with the retention parameter for every function, the
//! alarm topic on every alarm, the signing key only in the device API, a
//! reason for every scanner skip (listed there too), auto scaling for every
//! capacity of a provisioned table.

use serde_yaml::Value;
use std::collections::{BTreeMap, BTreeSet};
use system_tests::{template, workspace_file};

fn names(list: &Value, field: &str) -> Vec<String> {
    list.as_sequence()
        .expect("a list")
        .iter()
        .map(|v| v[field].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn the_template_table_matches_the_code_definition() {
    let doc = template();
    let table = &doc["Resources"]["Table"]["Properties"];

    let declared: BTreeSet<String> = names(&table["AttributeDefinitions"], "AttributeName")
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = store::table::key_attributes()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(declared, expected, "attribute definitions");

    assert_eq!(
        names(&table["KeySchema"], "AttributeName"),
        [store::keys::PK, store::keys::SK]
    );

    let indexes = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes");
    assert_eq!(indexes.len(), store::table::INDEXES.len());
    for (name, hash, range) in store::table::INDEXES {
        let index = indexes
            .iter()
            .find(|i| i["IndexName"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("index {name} missing from template.yaml"));
        assert_eq!(
            names(&index["KeySchema"], "AttributeName"),
            [hash, range],
            "{name} keys"
        );
        assert_eq!(
            index["Projection"]["ProjectionType"].as_str(),
            Some("ALL"),
            "{name} projection"
        );
    }

    let ttl = &table["TimeToLiveSpecification"];
    assert_eq!(
        ttl["AttributeName"].as_str(),
        Some(store::table::TTL_ATTRIBUTE)
    );
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        doc["Resources"]["Table"]["DeletionPolicy"].as_str(),
        Some("Retain")
    );
}

/// The argument of an intrinsic function in short (`!Ref X`) or long
/// (`{Ref: X}`, `{"Fn::Sub": ...}`) form.
fn intrinsic<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == name => Some(&t.value),
        Value::Mapping(m) if m.len() == 1 => m
            .get(name)
            .or_else(|| m.get(format!("Fn::{name}").as_str())),
        _ => None,
    }
}

fn reference(v: &Value) -> Option<&str> {
    intrinsic(v, "Ref")?.as_str()
}

fn sub(v: &Value) -> Option<&str> {
    intrinsic(v, "Sub")?.as_str()
}

/// `!GetAtt X.Arn` or `{"Fn::GetAtt": [X, Arn]}` as `(X, Arn)`.
fn get_att(v: &Value) -> Option<(String, String)> {
    let arg = intrinsic(v, "GetAtt")?;
    if let Some(s) = arg.as_str() {
        let (r, a) = s.split_once('.')?;
        return Some((r.to_owned(), a.to_owned()));
    }
    let list = arg.as_sequence()?;
    Some((
        list.first()?.as_str()?.to_owned(),
        list.get(1)?.as_str()?.to_owned(),
    ))
}

fn resources_of_type<'a>(doc: &'a Value, kind: &str) -> Vec<(String, &'a Value)> {
    doc["Resources"]
        .as_mapping()
        .expect("resources")
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(k, r)| (k.as_str().expect("a name").to_owned(), r))
        .collect()
}

fn parameter_default(doc: &Value, name: &str) -> String {
    match &doc["Parameters"][name]["Default"] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => panic!("{name}: no default ({other:?})"),
    }
}

/// The section on production settings of `docs/operations.md`.
fn production_settings() -> String {
    let doc =
        std::fs::read_to_string(workspace_file("docs/operations.md")).expect("docs/operations.md");
    let start = doc
        .find("\n## Production settings\n")
        .expect("docs/operations.md has a section ## Production settings");
    let rest = &doc[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// The rows of the Markdown table whose header starts with `| first |`,
/// keyed by the name in backticks of their first cell.
fn table_rows(section: &str, first: &str) -> BTreeMap<String, Vec<String>> {
    let header = format!("| {first} |");
    let mut lines = section.lines().skip_while(|l| !l.starts_with(&header));
    assert!(lines.next().is_some(), "no table starting {header}");
    let mut rows = BTreeMap::new();
    for line in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let cells: Vec<String> = line
            .trim_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_owned())
            .collect();
        let name = cells[0].trim_matches('`').to_owned();
        rows.insert(name, cells[1..].to_vec());
    }
    rows
}

#[test]
fn the_readme_documents_every_parameter_with_its_default_and_every_output() {
    let doc = template();
    let section = production_settings();

    let documented = table_rows(&section, "parameter");
    let params: BTreeSet<String> = doc["Parameters"]
        .as_mapping()
        .expect("parameters")
        .keys()
        .map(|k| k.as_str().expect("a name").to_owned())
        .collect();
    assert_eq!(
        documented.keys().cloned().collect::<BTreeSet<_>>(),
        params,
        "parameters in the README table and in template.yaml"
    );
    for (name, cells) in &documented {
        let default = parameter_default(&doc, name);
        let expected = if default.is_empty() {
            "empty".to_owned()
        } else {
            format!("`{default}`")
        };
        assert_eq!(cells[0], expected, "README default of {name}");
    }

    let outputs: BTreeSet<String> = doc["Outputs"]
        .as_mapping()
        .expect("outputs")
        .keys()
        .map(|k| k.as_str().expect("a name").to_owned())
        .collect();
    let documented: BTreeSet<String> = table_rows(&section, "output").into_keys().collect();
    assert_eq!(
        documented, outputs,
        "outputs in the README table and in template.yaml"
    );
    for output in [
        "ApiUrl",
        "TableName",
        "DashboardUrl",
        "AlarmTopic",
        "TokenSigningKeySecretArn",
    ] {
        assert!(outputs.contains(output), "output {output}");
    }
}

#[test]
fn the_stage_has_access_logs_and_throttles_from_the_parameters() {
    let doc = template();
    let api = &doc["Resources"]["HttpApi"]["Properties"];

    let (group, attribute) =
        get_att(&api["AccessLogSettings"]["DestinationArn"]).expect("access log destination");
    assert_eq!(attribute, "Arn");
    assert_eq!(
        doc["Resources"][group.as_str()]["Type"].as_str(),
        Some("AWS::Logs::LogGroup"),
        "the access log goes to a log group of the stack"
    );
    let format = api["AccessLogSettings"]["Format"].as_str().expect("format");
    for field in [
        "$context.requestId",
        "$context.routeKey",
        "$context.status",
        "$context.responseLatency",
        "$context.integrationErrorMessage",
        "$context.identity.sourceIp",
    ] {
        assert!(format.contains(field), "access log format lacks {field}");
    }

    let default = &api["DefaultRouteSettings"];
    assert_eq!(
        reference(&default["ThrottlingRateLimit"]),
        Some("ApiThrottleRate")
    );
    assert_eq!(
        reference(&default["ThrottlingBurstLimit"]),
        Some("ApiThrottleBurst")
    );

    let settings = api["RouteSettings"].as_mapping().expect("route settings");
    for route in [
        "POST /v1/device/register",
        "POST /v1/device/auth",
        "POST /v1/device/token",
        "POST /v1/oauth/token",
    ] {
        let s = settings
            .get(route)
            .unwrap_or_else(|| panic!("no route settings for {route}"));
        assert_eq!(
            reference(&s["ThrottlingRateLimit"]),
            Some("AuthThrottleRate"),
            "{route}"
        );
        assert_eq!(
            reference(&s["ThrottlingBurstLimit"]),
            Some("AuthThrottleBurst"),
            "{route}"
        );
    }

    // A route setting for a route the API does not have fails the deploy.
    let mut routes = BTreeSet::new();
    for (_, function) in resources_of_type(&doc, "AWS::Serverless::Function") {
        // The OCPP gateway has no events: the WebSocket API invokes it.
        let Some(events) = function["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events
            .values()
            .filter(|e| e["Type"].as_str() == Some("HttpApi"))
        {
            let p = &event["Properties"];
            routes.insert(format!(
                "{} {}",
                p["Method"].as_str().expect("method").to_uppercase(),
                p["Path"].as_str().expect("path")
            ));
        }
    }
    for (key, s) in settings {
        let key = key.as_str().expect("a route key");
        assert!(
            routes.contains(key),
            "route settings for {key}, which no function serves"
        );
        assert!(
            s.get("ThrottlingRateLimit").is_some() && s.get("ThrottlingBurstLimit").is_some(),
            "{key} must name its throttles (route settings replace the default ones)"
        );
    }
}

#[test]
fn every_function_has_its_concurrency_parameter_and_its_own_log_group() {
    let doc = template();
    let functions = resources_of_type(&doc, "AWS::Serverless::Function");
    assert_eq!(functions.len(), 10);
    let mut concurrency_params = BTreeSet::new();
    let mut function_groups = BTreeSet::new();
    for (name, function) in &functions {
        let p = &function["Properties"];

        let param = reference(&p["ReservedConcurrentExecutions"])
            .unwrap_or_else(|| panic!("{name}: ReservedConcurrentExecutions is not a parameter"));
        assert_eq!(
            format!("{}Concurrency", name.trim_end_matches("Function")),
            param
        );
        assert!(doc["Parameters"][param].is_mapping(), "parameter {param}");
        assert!(concurrency_params.insert(param), "{param} used twice");

        let group = reference(&p["LoggingConfig"]["LogGroup"]).unwrap_or_else(|| {
            panic!("{name}: LoggingConfig.LogGroup is not a log group of the stack")
        });
        assert_eq!(
            doc["Resources"][group]["Type"].as_str(),
            Some("AWS::Logs::LogGroup"),
            "{name} logs to {group}"
        );
        let function_name =
            sub(&p["FunctionName"]).unwrap_or_else(|| panic!("{name}: FunctionName"));
        assert_eq!(
            sub(&doc["Resources"][group]["Properties"]["LogGroupName"]),
            Some(format!("/aws/lambda/{function_name}").as_str()),
            "{name}'s log group is named after it"
        );
        assert!(function_groups.insert(group), "{group} shared");
    }

    let groups = resources_of_type(&doc, "AWS::Logs::LogGroup");
    assert_eq!(
        groups.len(),
        functions.len() + 2,
        "a group per function and the two APIs' access logs"
    );
    for (name, group) in groups {
        assert_eq!(
            reference(&group["Properties"]["RetentionInDays"]),
            Some("LogRetentionDays"),
            "{name} retention"
        );
    }
}

#[test]
fn the_scheduler_runs_every_five_minutes_and_one_at_a_time() {
    let doc = template();
    let function = &doc["Resources"]["SchedulerFunction"]["Properties"];
    let events = function["Events"].as_mapping().expect("events");
    assert_eq!(events.len(), 1, "one schedule");
    let schedule = events.values().next().expect("a schedule");
    assert_eq!(schedule["Type"].as_str(), Some("ScheduleV2"));
    assert_eq!(
        schedule["Properties"]["ScheduleExpression"].as_str(),
        Some("rate(5 minutes)")
    );
    assert_eq!(parameter_default(&doc, "SchedulerConcurrency"), "1");
}

#[test]
fn provisioned_mode_scales_every_capacity_of_the_table_and_its_indexes() {
    let doc = template();
    let equals = intrinsic(&doc["Conditions"]["ProvisionedTable"], "Equals")
        .expect("ProvisionedTable is an Equals");
    assert_eq!(reference(&equals[0]), Some("TableCapacityMode"));
    assert_eq!(equals[1].as_str(), Some("provisioned"));
    assert_eq!(parameter_default(&doc, "TableCapacityMode"), "on-demand");

    let table = &doc["Resources"]["Table"]["Properties"];
    let mode = intrinsic(&table["BillingMode"], "If").expect("a conditional billing mode");
    assert_eq!(
        (mode[0].as_str(), mode[1].as_str(), mode[2].as_str()),
        (
            Some("ProvisionedTable"),
            Some("PROVISIONED"),
            Some("PAY_PER_REQUEST")
        )
    );
    let mut throughputs = vec![("table".to_owned(), &table["ProvisionedThroughput"])];
    for index in table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes")
    {
        let name = index["IndexName"].as_str().expect("a name");
        throughputs.push((
            format!("table/index/{name}"),
            &index["ProvisionedThroughput"],
        ));
    }
    for (what, throughput) in &throughputs {
        let branches =
            intrinsic(throughput, "If").unwrap_or_else(|| panic!("{what}: not conditional"));
        assert_eq!(branches[0].as_str(), Some("ProvisionedTable"), "{what}");
        assert_eq!(
            reference(&branches[1]["ReadCapacityUnits"]),
            Some("TableMinReadCapacity"),
            "{what}"
        );
        assert_eq!(
            reference(&branches[1]["WriteCapacityUnits"]),
            Some("TableMinWriteCapacity"),
            "{what}"
        );
        assert_eq!(reference(&branches[2]), Some("AWS::NoValue"), "{what}");
    }

    let targets = resources_of_type(&doc, "AWS::ApplicationAutoScaling::ScalableTarget");
    let policies = resources_of_type(&doc, "AWS::ApplicationAutoScaling::ScalingPolicy");
    let mut scaled = BTreeSet::new();
    for (name, target) in &targets {
        assert_eq!(
            target["Condition"].as_str(),
            Some("ProvisionedTable"),
            "{name}"
        );
        let p = &target["Properties"];
        assert_eq!(p["ServiceNamespace"].as_str(), Some("dynamodb"), "{name}");
        let resource = sub(&p["ResourceId"])
            .expect("a table resource")
            .replace("/${Table}", "");
        let dimension = p["ScalableDimension"].as_str().expect("a dimension");
        let kind = if dimension.ends_with(":ReadCapacityUnits") {
            "Read"
        } else {
            "Write"
        };
        let level = if resource == "table" {
            "table"
        } else {
            "index"
        };
        assert_eq!(
            dimension,
            format!("dynamodb:{level}:{kind}CapacityUnits"),
            "{name}"
        );
        assert_eq!(
            reference(&p["MinCapacity"]),
            Some(format!("TableMin{kind}Capacity").as_str()),
            "{name}"
        );
        assert_eq!(
            reference(&p["MaxCapacity"]),
            Some(format!("TableMax{kind}Capacity").as_str()),
            "{name}"
        );
        let tracking: Vec<_> = policies
            .iter()
            .filter(|(_, policy)| {
                reference(&policy["Properties"]["ScalingTargetId"]) == Some(name.as_str())
            })
            .collect();
        assert_eq!(tracking.len(), 1, "{name}: one policy");
        let (policy_name, policy) = tracking[0];
        assert_eq!(
            policy["Condition"].as_str(),
            Some("ProvisionedTable"),
            "{policy_name}"
        );
        let config = &policy["Properties"]["TargetTrackingScalingPolicyConfiguration"];
        assert_eq!(config["TargetValue"].as_u64(), Some(70), "{policy_name}");
        assert_eq!(
            config["PredefinedMetricSpecification"]["PredefinedMetricType"].as_str(),
            Some(format!("DynamoDB{kind}CapacityUtilization").as_str()),
            "{policy_name}"
        );
        assert!(scaled.insert((resource, kind)), "{name}: scaled twice");
    }
    let expected: BTreeSet<(String, &str)> = throughputs
        .iter()
        .flat_map(|(what, _)| [(what.clone(), "Read"), (what.clone(), "Write")])
        .collect();
    assert_eq!(scaled, expected, "every capacity has its scaling, once");
    assert_eq!(policies.len(), targets.len());
}

#[test]
fn every_alarm_notifies_the_optional_topic() {
    let doc = template();
    let condition = &doc["Conditions"]["HasAlarmTopic"];
    let not = intrinsic(condition, "Not").expect("HasAlarmTopic is a Not");
    let equals = intrinsic(&not[0], "Equals").expect("of an Equals");
    assert_eq!(reference(&equals[0]), Some("AlarmTopicArn"));
    assert_eq!(equals[1].as_str(), Some(""));
    assert_eq!(parameter_default(&doc, "AlarmTopicArn"), "");

    let alarms = resources_of_type(&doc, "AWS::CloudWatch::Alarm");
    for (name, alarm) in &alarms {
        for actions in ["AlarmActions", "OKActions"] {
            let branches = intrinsic(&alarm["Properties"][actions], "If")
                .unwrap_or_else(|| panic!("{name}: {actions} is not conditional"));
            assert_eq!(
                branches[0].as_str(),
                Some("HasAlarmTopic"),
                "{name} {actions}"
            );
            assert_eq!(
                reference(&branches[1][0]),
                Some("AlarmTopicArn"),
                "{name} {actions}"
            );
            assert_eq!(
                reference(&branches[2]),
                Some("AWS::NoValue"),
                "{name} {actions}"
            );
        }
    }

    // Each function has its errors and its throttles alarm.
    for (function, _) in resources_of_type(&doc, "AWS::Serverless::Function") {
        for metric in ["Errors", "Throttles"] {
            let found = alarms.iter().any(|(_, a)| {
                let p = &a["Properties"];
                p["Namespace"].as_str() == Some("AWS/Lambda")
                    && p["MetricName"].as_str() == Some(metric)
                    && reference(&p["Dimensions"][0]["Value"]) == Some(function.as_str())
            });
            assert!(found, "no {metric} alarm for {function}");
        }
    }
    let heartbeat = &doc["Resources"]["HeartbeatLatencyAlarm"]["Properties"];
    assert_eq!(
        reference(&heartbeat["Threshold"]),
        Some("HeartbeatLatencyAlarmMs")
    );
}

#[test]
fn only_the_device_api_gets_the_signing_key_and_it_comes_from_the_secret() {
    let doc = template();
    assert!(
        !doc["Parameters"]
            .as_mapping()
            .expect("parameters")
            .contains_key("TokenSigningKey"),
        "the signing key is no parameter"
    );
    assert!(
        doc["Globals"]["Function"]["Environment"]["Variables"]
            .get("TOKEN_SIGNING_KEY")
            .is_none(),
        "TOKEN_SIGNING_KEY is not global"
    );
    for (name, function) in resources_of_type(&doc, "AWS::Serverless::Function") {
        let key = function["Properties"]["Environment"]["Variables"].get("TOKEN_SIGNING_KEY");
        if name != "DeviceApiFunction" {
            assert!(key.is_none(), "{name} must not get the signing key");
            continue;
        }
        // Pinned to a version or not, both branches resolve the secret.
        let key = key.expect("DeviceApiFunction gets the signing key");
        let branches = intrinsic(key, "If").expect("a choice of version");
        assert_eq!(branches[0].as_str(), Some("PinsSigningKeyVersion"));
        for branch in [&branches[1], &branches[2]] {
            let text = sub(branch).expect("a Sub");
            assert!(
                text.starts_with("{{resolve:secretsmanager:${TokenSigningKeySecret}:SecretString"),
                "{text}"
            );
        }
    }

    let secret = &doc["Resources"]["TokenSigningKeySecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    let generate = &secret["Properties"]["GenerateSecretString"];
    assert_eq!(generate["PasswordLength"].as_u64(), Some(64));
    assert_eq!(generate["ExcludeUppercase"].as_bool(), Some(true));
    assert_eq!(generate["ExcludePunctuation"].as_bool(), Some(true));
    assert_eq!(generate["IncludeSpace"].as_bool(), Some(false));
    let excluded = generate["ExcludeCharacters"]
        .as_str()
        .expect("excluded characters");
    assert!(
        ('g'..='z').all(|c| excluded.contains(c)),
        "only hex digits remain"
    );
    assert!(
        generate.get("SecretStringTemplate").is_none(),
        "the key is the whole string"
    );
}

#[test]
fn only_the_partner_functions_get_the_partner_secrets_key_from_the_secret() {
    let doc = template();
    for (name, function) in resources_of_type(&doc, "AWS::Serverless::Function") {
        let key = function["Properties"]["Environment"]["Variables"].get("PARTNER_SECRETS_KEY");
        if !["PartnerApiFunction", "NotifierFunction"].contains(&name.as_str()) {
            assert!(key.is_none(), "{name} must not get the partner secrets key");
            continue;
        }
        let text = key
            .and_then(sub)
            .expect("the partner functions get the key");
        assert_eq!(
            text,
            "{{resolve:secretsmanager:${PartnerSecretsKeySecret}:SecretString}}"
        );
    }
    let secret = &doc["Resources"]["PartnerSecretsKeySecret"];
    assert_eq!(secret["Type"].as_str(), Some("AWS::SecretsManager::Secret"));
    assert_eq!(secret["DeletionPolicy"].as_str(), Some("Retain"));
    let generate = &secret["Properties"]["GenerateSecretString"];
    assert_eq!(generate["PasswordLength"].as_u64(), Some(64));
    let excluded = generate["ExcludeCharacters"].as_str().unwrap_or_default();
    assert!(('g'..='z').all(|c| excluded.contains(c)), "only hex digits");
}

#[test]
fn every_scanner_skip_has_a_reason_and_is_in_the_readme() {
    let doc = template();
    let mut skipped = BTreeSet::new();
    for (name, resource) in doc["Resources"].as_mapping().expect("resources") {
        let name = name.as_str().expect("a name");
        let Some(skips) = resource["Metadata"]["checkov"]["skip"].as_sequence() else {
            continue;
        };
        for skip in skips {
            let id = skip["id"].as_str().expect("a check id");
            let comment = skip["comment"].as_str().unwrap_or_default();
            assert!(comment.len() > 20, "{name}: skip of {id} without a reason");
            skipped.insert(id.to_owned());
        }
    }
    let section = production_settings();
    // Each line names its checks in backticks before the arrow.
    let listed: BTreeSet<String> = section
        .lines()
        .filter(|l| l.starts_with("- `CKV"))
        .filter_map(|l| l.split('→').next())
        .flat_map(|l| l.split('`').skip(1).step_by(2).map(str::to_owned))
        .filter(|id| id.starts_with("CKV"))
        .collect();
    assert_eq!(
        listed, skipped,
        "checks skipped in template.yaml and listed in the README"
    );
}

#[test]
fn the_cloudfront_function_deployed_is_the_one_node_tests() {
    let doc = template();
    let function = &doc["Resources"]["OcppPathFunction"]["Properties"];
    assert_eq!(
        function["FunctionConfig"]["Runtime"].as_str(),
        Some("cloudfront-js-2.0")
    );
    let inline = function["FunctionCode"].as_str().expect("inline code");
    let file = std::fs::read_to_string(workspace_file("functions/ocpp/cloudfront/ocpp-path.js"))
        .expect("the function's file");
    assert_eq!(inline, file, "template.yaml's copy of ocpp-path.js differs");
    let distribution = &doc["Resources"]["OcppDistribution"]["Properties"]["DistributionConfig"];
    let behaviour = &distribution["DefaultCacheBehavior"];
    assert_eq!(
        behaviour["FunctionAssociations"][0]["EventType"].as_str(),
        Some("viewer-request")
    );
    assert_eq!(
        doc["Resources"]["OcppStage"]["Properties"]["StageName"].as_str(),
        Some("ocpp"),
        "the function rewrites the path to the stage /ocpp"
    );
}
