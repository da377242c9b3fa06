//! The answer to each intent, from the same queries as the API.

use super::parse::{Period, Place, intent_of, period_of, resolve, without_place};
use super::{Answer, Intent, Question, Scope, Source};
use crate::console::{EnergyQuery, EnergyTarget, Granularity};
use crate::intelligence::Intelligence;
use crate::intelligence::Subject;
use crate::intelligence::agents::AgentId;
use crate::intelligence::forecast::{
    DEFAULT_HISTORY_DAYS, ForecastStatus, ForecastSubject, answer,
};
use crate::intelligence::health::DEFAULT_WINDOW_HOURS;
use crate::intelligence::{Window, round2};
use crate::telemetry::EnergyScope;
use chrono::{DateTime, Duration, Utc};
use kernel::access::Caller;
use kernel::error::Error;
use kernel::input::rfc3339;
use kernel::model::DeviceStatus;
use kernel::model::{Device, Site};
use serde_json::{Value, json};
use std::collections::BTreeMap;

const EXAMPLES: [&str; 7] = [
    "How much energy did the fleet charge yesterday?",
    "How many devices are offline?",
    "Which devices are least healthy?",
    "Any anomalies today?",
    "What is the energy forecast for tomorrow?",
    "How many devices run the latest firmware?",
    "How many sessions and how much revenue this month?",
];

/// What every intent's answer starts from: who asks, about what, when.
struct Asked<'a> {
    caller: &'a Caller,
    subject: Subject,
    /// The operator's devices (the subject's are among them).
    fleet: Vec<Device>,
    /// The question, lower case.
    text: String,
    period: Period,
    now: DateTime<Utc>,
    /// How the answer names the subject: a serial number, a site's name
    /// or "Your fleet".
    what: String,
    parameters: Value,
}

impl Asked<'_> {
    fn answer(self, intent: Intent, answer: String, data: Value) -> Answer {
        Answer {
            answer,
            intent,
            parameters: self.parameters,
            data,
            sources: Vec::new(),
            follow_ups: Vec::new(),
        }
    }
}

impl Answer {
    fn from(mut self, sources: Vec<Source>) -> Self {
        self.sources = sources;
        self
    }

    fn then_ask(mut self, follow_ups: &[&str]) -> Self {
        self.follow_ups = follow_ups.iter().map(|f| (*f).to_owned()).collect();
        self
    }
}

impl Intelligence {
    /// `POST /v1/intelligence/ask`: names the place first, judges the
    /// intent on the rest of the question, and answers that intent.
    pub async fn ask(&self, caller: &Caller, q: Question) -> Result<Answer, Error> {
        let text = q.text.to_lowercase();
        let named = self.subject(caller, q.scope).await?;
        let op = named.operator.clone();
        let fleet = self.access.operator_devices(&op).await?;
        let sites = self.store.operator_sites(&op).await?;
        let place = match &named.site {
            Some(site) => Place::Site(Box::new(site.clone())),
            None => resolve(&q.text, &sites, &fleet),
        };
        // The place named, the rest of the question says what is asked.
        let text = without_place(&text, &place);
        let intent = intent_of(&text);
        if let Place::Unknown(name) = &place
            && intent != Intent::Unknown
        {
            return Ok(no_such_site(intent, name, &sites));
        }
        let subject = match place {
            Place::Site(s) => Subject {
                site: Some(*s),
                ..Subject::fleet(&op)
            },
            Place::Device(d) => Subject {
                device: Some(*d),
                ..Subject::fleet(&op)
            },
            Place::Fleet | Place::Unknown(_) => Subject::fleet(&op),
        };
        let now = self.clock.now();
        let mut parameters = json!({ "operator_id": op });
        if let Some(s) = subject.site_id() {
            parameters["site_id"] = json!(s);
        }
        if let Some(d) = &subject.device {
            parameters["device_id"] = json!(d.device_id);
            parameters["sn"] = json!(d.sn);
        }
        let what = match (&subject.site, &subject.device) {
            (_, Some(d)) => d.sn.to_string(),
            (Some(s), None) => s.name.clone(),
            (None, None) => "Your fleet".into(),
        };
        let asked = Asked {
            caller,
            subject,
            fleet,
            period: period_of(&text, now),
            text,
            now,
            what,
            parameters,
        };
        match intent {
            Intent::Energy => self.energy_answer(asked).await,
            Intent::DeviceStatus => Ok(self.status_answer(asked)),
            Intent::LeastHealthy => self.health_answer(asked).await,
            Intent::Anomalies => self.anomalies_answer(asked).await,
            Intent::Forecast => self.forecast_answer(asked).await,
            Intent::Firmware => Ok(firmware_answer(asked)),
            Intent::Sessions => self.sessions_answer(asked).await,
            Intent::Unknown => Ok(unknown_answer()),
        }
    }

    async fn energy_answer(&self, mut a: Asked<'_>) -> Result<Answer, Error> {
        let (from, to) = (a.period.from, a.period.to);
        a.parameters["from"] = json!(rfc3339(from));
        a.parameters["to"] = json!(rfc3339(to));
        let (mut charged, mut discharged) = (0.0, 0.0);
        let mut sources = Vec::new();
        for of in self.energy_scopes(&a.subject, &a.fleet).await? {
            let target = match of {
                EnergyScope::Site(s) => EnergyTarget::Site(s),
                EnergyScope::Device(d) => EnergyTarget::Device(d),
            };
            let query = EnergyQuery {
                granularity: Granularity::Hour,
                from: Some(from),
                to: Some(to),
                target,
            };
            let series = self.console.energy(a.caller, query).await?;
            charged += series.total.charge_energy;
            discharged += series.total.discharge_energy;
            sources.push(Source::Energy { of, from, to });
        }
        let (charged, discharged) = (round2(charged), round2(discharged));
        let text = format!(
            "{} charged {charged} kWh {} (discharged {discharged} kWh).",
            a.what, a.period.label
        );
        let data = json!({ "charge_energy": charged, "discharge_energy": discharged,
            "from": rfc3339(from), "to": rfc3339(to) });
        Ok(a.answer(Intent::Energy, text, data)
            .from(sources)
            .then_ask(&[
                "What is the energy forecast for tomorrow?",
                "How many sessions today?",
            ]))
    }

    fn status_answer(&self, mut a: Asked<'_>) -> Answer {
        let devices: Vec<&Device> = a
            .fleet
            .iter()
            .filter(|d| a.subject.covers(d.device_id, d.site_id))
            .collect();
        let mut counts: BTreeMap<&str, u32> =
            BTreeMap::from([("online", 0), ("offline", 0), ("fault", 0)]);
        let wanted = [
            DeviceStatus::Offline,
            DeviceStatus::Fault,
            DeviceStatus::Online,
        ]
        .into_iter()
        .find(|s| {
            a.text
                .split(|c: char| !c.is_alphanumeric())
                .any(|w| w == s.as_str())
        });
        let mut listed = Vec::new();
        for d in &devices {
            let status = d.status(a.now, self.settings.offline_after());
            *counts.entry(status.as_str()).or_default() += 1;
            if wanted == Some(status) {
                listed.push(json!({ "sn": d.sn, "device_id": d.device_id, "status": status }));
            }
        }
        let mut text = format!(
            "{}: {} devices, {} online, {} offline, {} in fault.",
            a.what,
            devices.len(),
            counts["online"],
            counts["offline"],
            counts["fault"]
        );
        if let Some(w) = wanted {
            let names: Vec<&str> = listed
                .iter()
                .take(10)
                .filter_map(|d| d["sn"].as_str())
                .collect();
            if !names.is_empty() {
                text.push_str(&format!(
                    " {}: {}.",
                    capitalised(w.as_str()),
                    names.join(", ")
                ));
            }
            a.parameters["status"] = json!(w);
        }
        let source = Source::Devices {
            site_id: a.subject.site_id(),
            status: wanted,
        };
        let data = json!({ "total": devices.len(), "counts": counts, "devices": listed });
        a.answer(Intent::DeviceStatus, text, data)
            .from(vec![source])
            .then_ask(&["Which devices are least healthy?", "Any anomalies today?"])
    }

    async fn health_answer(&self, a: Asked<'_>) -> Result<Answer, Error> {
        let scores = self.scores_of(&a.subject, DEFAULT_WINDOW_HOURS).await?;
        let worst: Vec<_> = scores.iter().take(5).collect();
        let list: Vec<String> = worst
            .iter()
            .map(|s| format!("{} ({}, grade {})", s.sn, s.score, s.grade))
            .collect();
        let text = if list.is_empty() {
            format!("{} has no devices to score.", a.what)
        } else {
            format!("Least healthy: {}.", list.join(", "))
        };
        let source = Source::HealthScores {
            scope: Scope::of(&a.subject),
            size: 5,
        };
        let data = json!({ "items": worst });
        Ok(a.answer(Intent::LeastHealthy, text, data)
            .from(vec![source])
            .then_ask(&["Any anomalies today?", "How many devices are offline?"]))
    }

    async fn anomalies_answer(&self, mut a: Asked<'_>) -> Result<Answer, Error> {
        let named_period = a
            .text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| matches!(w, "today" | "yesterday" | "last" | "this" | "past"));
        let window = if named_period {
            Window {
                from: a.period.from,
                to: a.period.to,
            }
        } else {
            Window {
                from: a.now - Duration::hours(24),
                to: a.now,
            }
        };
        let found = self.findings(&a.subject, window, None, None).await?;
        let mut by_kind: BTreeMap<&str, u32> = BTreeMap::new();
        for f in &found {
            *by_kind.entry(f.kind.as_str()).or_default() += 1;
        }
        let text = if found.is_empty() {
            format!(
                "No anomalies for {} between {} and {}.",
                lower_first(&a.what),
                rfc3339(window.from),
                rfc3339(window.to)
            )
        } else {
            let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{n} {k}")).collect();
            format!(
                "{} anomalies: {}. Newest: {}",
                found.len(),
                kinds.join(", "),
                found[0].explanation
            )
        };
        a.parameters["since"] = json!(rfc3339(window.from));
        a.parameters["until"] = json!(rfc3339(window.to));
        let source = Source::Anomalies {
            scope: Scope::of(&a.subject),
            since: window.from,
            until: window.to,
        };
        let data = json!({ "total": found.len(), "by_kind": by_kind,
            "items": found.iter().take(10).collect::<Vec<_>>() });
        Ok(a.answer(Intent::Anomalies, text, data)
            .from(vec![source])
            .then_ask(&["Which devices are least healthy?"]))
    }

    async fn forecast_answer(&self, a: Asked<'_>) -> Result<Answer, Error> {
        self.ensure_ran(&a.subject.operator, &[AgentId::EnergyForecaster])
            .await?;
        let until = crate::telemetry::energy::hour_of(a.now);
        let history = self
            .subject_history(&a.subject, &a.fleet, until, DEFAULT_HISTORY_DAYS)
            .await?;
        let of = ForecastSubject {
            site_id: a.subject.site_id(),
            device_id: a.subject.device_id(),
        };
        let f = answer(of, "kWh", history, 24, f64::INFINITY);
        let text = if f.status == ForecastStatus::Ok {
            let sum = |g: fn(&crate::intelligence::forecast::ForecastPoint) -> f64| {
                round2(f.series.iter().map(g).sum())
            };
            format!(
                "{}: about {} kWh expected in the next 24 hours (80 % interval {}–{} kWh).",
                a.what,
                sum(|p| p.value),
                sum(|p| p.lower),
                sum(|p| p.upper)
            )
        } else {
            format!(
                "{}: not enough history for a forecast ({}).",
                a.what,
                f.reason.clone().unwrap_or_default()
            )
        };
        // The fleet's forecast is the sum of its sites' (and unplaced
        // devices') forecasts, each a read of its own.
        let sources = match (a.subject.site_id(), a.subject.device_id()) {
            (None, None) => self
                .energy_scopes(&a.subject, &a.fleet)
                .await?
                .into_iter()
                .map(|s| {
                    let scope = match s {
                        EnergyScope::Site(id) => Scope {
                            site_id: Some(id),
                            device_id: None,
                        },
                        EnergyScope::Device(id) => Scope {
                            site_id: None,
                            device_id: Some(id),
                        },
                    };
                    Source::Forecast { scope }
                })
                .collect(),
            _ => vec![Source::Forecast {
                scope: Scope::of(&a.subject),
            }],
        };
        let data = serde_json::to_value(&f).unwrap_or(Value::Null);
        Ok(a.answer(Intent::Forecast, text, data)
            .from(sources)
            .then_ask(&["How much energy did the fleet charge yesterday?"]))
    }

    async fn sessions_answer(&self, mut a: Asked<'_>) -> Result<Answer, Error> {
        let (from, to) = (a.period.from, a.period.to);
        a.parameters["from"] = json!(rfc3339(from));
        a.parameters["to"] = json!(rfc3339(to));
        let records = self
            .store
            .operator_records(&a.subject.operator, from, to)
            .await?;
        let records: Vec<_> = records
            .iter()
            .filter(|r| a.subject.covers(r.device_id, r.site_id))
            .collect();
        let energy = round2(records.iter().map(|r| r.energy).sum());
        let revenue = crate::intelligence::briefing::revenue_of(records.iter().copied());
        let money: Vec<String> = revenue
            .iter()
            .map(|r| format!("{} {}", json!(r.amount), r.currency))
            .collect();
        let mut text = format!(
            "{}: {} sessions {} ({energy} kWh).",
            a.what,
            records.len(),
            a.period.label
        );
        if !money.is_empty() {
            text.push_str(&format!(" Revenue: {}.", money.join(", ")));
        }
        let source = Source::ChargingRecords {
            scope: Scope::of(&a.subject),
            from,
            to,
        };
        let data = json!({ "sessions": records.len(), "energy_kwh": energy, "revenue": revenue });
        Ok(a.answer(Intent::Sessions, text, data)
            .from(vec![source])
            .then_ask(&["How much energy did the fleet charge this month?"]))
    }
}

/// A name that is no site of the caller's: the sites it has instead.
fn no_such_site(intent: Intent, name: &str, sites: &[Site]) -> Answer {
    Answer {
        answer: format!("There is no site named \"{name}\" in your fleet."),
        intent,
        parameters: json!({ "site_name": name }),
        data: json!({ "sites": sites.iter().map(|s| &s.name).collect::<Vec<_>>() }),
        sources: vec![Source::Sites],
        follow_ups: sites
            .iter()
            .take(3)
            .map(|s| format!("How much energy did {} charge today?", s.name))
            .collect(),
    }
}

fn firmware_answer(a: Asked<'_>) -> Answer {
    let devices: Vec<&Device> = a
        .fleet
        .iter()
        .filter(|d| a.subject.covers(d.device_id, d.site_id))
        .collect();
    let latest = crate::intelligence::health::latest_firmware(&a.fleet);
    let mut models: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for d in &devices {
        let e = models.entry(d.model.as_str()).or_default();
        e.0 += 1;
        if latest
            .get(&d.model)
            .is_some_and(|l| d.firmware_version >= *l)
        {
            e.1 += 1;
        }
    }
    let on: u32 = models.values().map(|m| m.1).sum();
    let items: Vec<Value> = models
        .iter()
        .map(|(m, (total, on))| {
            json!({ "model": m, "latest_version": latest.get(*m), "total_devices": total,
                "on_latest": on })
        })
        .collect();
    let text = format!(
        "{on} of {} devices run their model's latest firmware.",
        devices.len()
    );
    let data = json!({ "total_devices": devices.len(), "on_latest": on, "models": items });
    a.answer(Intent::Firmware, text, data)
        .from(vec![Source::FirmwareVersions])
        .then_ask(&["Which devices are least healthy?"])
}

fn unknown_answer() -> Answer {
    Answer {
        answer: "I can answer questions about energy, device status, the least healthy devices, \
                 anomalies, forecasts, firmware and sessions, for the fleet, a site (by name) \
                 or a device (by serial number)."
            .into(),
        intent: Intent::Unknown,
        parameters: json!({}),
        data: json!({ "intents": ["energy", "device_status", "least_healthy", "anomalies",
            "forecast", "firmware", "sessions"] }),
        sources: Vec::new(),
        follow_ups: EXAMPLES.iter().map(|e| (*e).to_owned()).collect(),
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}
