//! The answer to a question as the API shows it: the domain names the
//! reads that return the same data, and this writes each as the request a
//! client would send.

use domain::intelligence::ask::{self, Intent, Scope, Source};
use domain::telemetry::EnergyScope;
use kernel::input::rfc3339;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Answer {
    pub answer: String,
    pub intent: Intent,
    #[schema(value_type = Object)]
    pub parameters: Value,
    #[schema(value_type = Object)]
    pub data: Value,
    /// API requests that return the same data.
    pub sources: Vec<String>,
    pub follow_ups: Vec<String>,
}

impl From<ask::Answer> for Answer {
    fn from(a: ask::Answer) -> Self {
        Self {
            answer: a.answer,
            intent: a.intent,
            parameters: a.parameters,
            data: a.data,
            sources: a.sources.iter().map(request).collect(),
            follow_ups: a.follow_ups,
        }
    }
}

/// A query string from its parameters, with the characters of RFC 3339
/// times that a query would misread encoded.
fn query(params: &[(&str, String)]) -> String {
    let parts: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('+', "%2B").replace(':', "%3A")))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

fn scoped(scope: &Scope, rest: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut p = Vec::new();
    if let Some(s) = scope.site_id {
        p.push(("site_id", s.to_string()));
    }
    if let Some(d) = scope.device_id {
        p.push(("device_id", d.to_string()));
    }
    p.extend(rest.iter().cloned());
    p
}

/// The request that reads a source.
fn request(source: &Source) -> String {
    match source {
        Source::Sites => "/v1/sites".into(),
        Source::Energy { of, from, to } => {
            let (key, id) = match of {
                EnergyScope::Site(s) => ("site_id", s.to_string()),
                EnergyScope::Device(d) => ("device_id", d.to_string()),
            };
            let params = [
                (key, id),
                ("granularity", "hour".into()),
                ("from", rfc3339(*from)),
                ("to", rfc3339(*to)),
            ];
            format!("/v1/aggregated/energy{}", query(&params))
        }
        Source::Devices { site_id, status } => {
            let mut params = Vec::new();
            if let Some(s) = site_id {
                params.push(("site_id", s.to_string()));
            }
            if let Some(s) = status {
                params.push(("status", s.as_str().to_owned()));
            }
            format!("/v1/devices{}", query(&params))
        }
        Source::HealthScores { scope, size } => format!(
            "/v1/intelligence/health-scores{}",
            query(&scoped(scope, &[("size", size.to_string())]))
        ),
        Source::Anomalies {
            scope,
            since,
            until,
        } => format!(
            "/v1/intelligence/anomalies{}",
            query(&scoped(
                scope,
                &[("since", rfc3339(*since)), ("until", rfc3339(*until))]
            ))
        ),
        Source::Forecast { scope } => format!(
            "/v1/intelligence/forecasts/energy{}",
            query(&scoped(scope, &[("horizon_hours", "24".into())]))
        ),
        Source::FirmwareVersions => "/v1/firmware/versions".into(),
        Source::ChargingRecords { scope, from, to } => format!(
            "/v1/charging-records{}",
            query(&scoped(
                scope,
                &[("from", rfc3339(*from)), ("to", rfc3339(*to))]
            ))
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kernel::ids::SiteId;

    #[test]
    fn sources_are_requests_with_times_encoded() {
        let site = SiteId::random();
        let from = "2026-05-10T00:00:00Z".parse().unwrap();
        let to = "2026-05-10T14:00:00Z".parse().unwrap();
        let energy = Source::Energy {
            of: EnergyScope::Site(site),
            from,
            to,
        };
        assert_eq!(
            request(&energy),
            format!(
                "/v1/aggregated/energy?site_id={site}&granularity=hour\
                 &from=2026-05-10T00%3A00%3A00Z&to=2026-05-10T14%3A00%3A00Z"
            )
        );
        let forecast = Source::Forecast {
            scope: Scope {
                site_id: Some(site),
                device_id: None,
            },
        };
        assert_eq!(
            request(&forecast),
            format!("/v1/intelligence/forecasts/energy?site_id={site}&horizon_hours=24")
        );
        let all = Source::Devices {
            site_id: None,
            status: None,
        };
        assert_eq!(request(&all), "/v1/devices");
    }
}
