//! A question's words: what it asks (its intent), for when (its period)
//! and about where (a site, a device or the fleet).

use chrono::{DateTime, Datelike, Duration, DurationRound, Utc};
use kernel::model::{Device, Site};

kernel::wire_enum! {
    /// What a question asks for.
    pub enum Intent {
        Energy,
        DeviceStatus,
        LeastHealthy,
        Anomalies,
        Forecast,
        Firmware,
        Sessions,
        Unknown,
}
}

/// The intent of a question, by its words (lower case, with any place it
/// names already taken out); the first rule that matches wins. A question
/// with no word about charging is `Unknown`, whatever else it asks.
pub fn intent_of(q: &str) -> Intent {
    let words: Vec<&str> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    // A word that starts with one of these stems.
    let has = |stems: &[&str]| words.iter().any(|w| stems.iter().any(|s| w.starts_with(s)));
    let said = |phrases: &[&str]| phrases.iter().any(|p| q.contains(p));
    let energy = has(&[
        "energy", "kwh", "consum", "charg", "deliver", "demand", "usage",
    ]) || words.iter().any(|w| matches!(*w, "use" | "used" | "load"));
    let equipment = has(&[
        "charger",
        "device",
        "site",
        "station",
        "connector",
        "fleet",
        "network",
    ]);
    let ahead = has(&["forecast", "predict", "expect"])
        || said(&["tomorrow", "next 24", "next day", "next week"]);
    if ahead && (energy || has(&["session"])) {
        Intent::Forecast
    } else if has(&["health", "unhealthy", "score"]) || (has(&["worst"]) && equipment) {
        Intent::LeastHealthy
    } else if has(&["anomal", "alert", "finding"])
        || (has(&["problem", "issue", "wrong"]) && equipment)
    {
        Intent::Anomalies
    } else if has(&["firmware"]) || (has(&["version", "update"]) && equipment) {
        Intent::Firmware
    } else if has(&["session", "revenue", "earn", "income"]) || said(&["how many charges"]) {
        Intent::Sessions
    } else if has(&["status", "online", "offline", "fault", "connected"])
        || (has(&["down", "working"]) && equipment)
    {
        Intent::DeviceStatus
    } else if energy {
        Intent::Energy
    } else {
        Intent::Unknown
    }
}

/// The question without the words of the place it names, so that a site
/// called "Forecast Road" does not make a question about it a forecast.
pub(super) fn without_place(q: &str, place: &Place) -> String {
    let named: String = match place {
        Place::Fleet => String::new(),
        Place::Site(s) => format!("{} {}", s.name, s.site_id),
        Place::Device(d) => format!("{} {}", d.sn, d.device_id),
        Place::Unknown(name) => name.clone(),
    }
    .to_lowercase();
    let named: Vec<&str> = named.split_whitespace().collect();
    q.split(|c: char| c.is_whitespace() || matches!(c, '?' | ',' | '!' | '.'))
        .filter(|w| !w.is_empty() && !named.contains(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A period named in a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub label: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The period a question names; `today` when it names none.
pub fn period_of(q: &str, now: DateTime<Utc>) -> Period {
    let today = now.duration_trunc(Duration::days(1)).unwrap_or(now);
    let words: Vec<&str> = q
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    for pair in words.windows(3) {
        if let ([last, n, unit], true) = (pair, true)
            && (*last == "last" || *last == "past")
            && unit.starts_with("day")
            && let Ok(n) = n.parse::<i64>()
            && (1..=90).contains(&n)
        {
            return Period {
                label: format!("the last {n} days"),
                from: today - Duration::days(n - 1),
                to: now,
            };
        }
    }
    if q.contains("yesterday") {
        Period {
            label: "yesterday".into(),
            from: today - Duration::days(1),
            to: today,
        }
    } else if q.contains("this month") {
        Period {
            label: "this month".into(),
            from: today - Duration::days(i64::from(today.day0())),
            to: now,
        }
    } else if q.contains("this week") {
        Period {
            label: "this week".into(),
            from: today - Duration::days(i64::from(today.weekday().num_days_from_monday())),
            to: now,
        }
    } else {
        Period {
            label: "today".into(),
            from: today,
            to: now,
        }
    }
}

/// Words that end a place name in a question (`at Depot North yesterday`).
const STOP: [&str; 12] = [
    "today",
    "yesterday",
    "last",
    "past",
    "this",
    "in",
    "on",
    "over",
    "during",
    "since",
    "tomorrow",
    "and",
];

/// The place a question names after `at`, `site` or `for`, if any.
fn named_place(q: &str) -> Option<String> {
    let words: Vec<&str> = q
        .split(|c: char| c.is_whitespace() || c == '?' || c == ',' || c == '!')
        .filter(|w| !w.is_empty())
        .collect();
    let i = words
        .iter()
        .position(|w| matches!(*w, "at" | "site" | "for"))?;
    let name: Vec<&str> = words[i + 1..]
        .iter()
        .take_while(|w| !STOP.contains(w))
        .copied()
        .filter(|w| !matches!(*w, "the" | "site"))
        .collect();
    let name = name.join(" ").trim_end_matches('.').to_owned();
    let generic = [
        "fleet",
        "all",
        "everything",
        "all sites",
        "network",
        "me",
        "us",
        "my fleet",
        "our fleet",
        "the fleet",
    ];
    (!name.is_empty() && !generic.contains(&name.as_str())).then_some(name)
}

/// What the question names, resolved in the caller's fleet.
pub(super) enum Place {
    Fleet,
    Site(Box<Site>),
    Device(Box<Device>),
    /// A name that is no site of the caller's.
    Unknown(String),
}

/// Words that name no place: question words, intents and periods.
const COMMON: [&str; 72] = [
    "how",
    "much",
    "many",
    "what",
    "which",
    "who",
    "when",
    "where",
    "did",
    "does",
    "do",
    "is",
    "are",
    "was",
    "were",
    "the",
    "of",
    "at",
    "in",
    "on",
    "for",
    "to",
    "my",
    "our",
    "fleet",
    "site",
    "sites",
    "device",
    "devices",
    "charger",
    "chargers",
    "energy",
    "kwh",
    "charge",
    "charged",
    "charging",
    "today",
    "yesterday",
    "last",
    "past",
    "this",
    "month",
    "week",
    "days",
    "day",
    "use",
    "used",
    "delivered",
    "session",
    "sessions",
    "revenue",
    "forecast",
    "tomorrow",
    "status",
    "online",
    "offline",
    "fault",
    "faults",
    "health",
    "healthy",
    "least",
    "anomalies",
    "firmware",
    "and",
    "any",
    "all",
    "show",
    "tell",
    "total",
    "expect",
    "next",
    "latest",
];

/// Capitalised words in a row, not opening the question: a proper name
/// (`... did Secret Depot charge ...`).
fn proper_name(question: &str) -> Option<String> {
    let words: Vec<&str> = question
        .split(|c: char| c.is_whitespace() || matches!(c, '?' | ',' | '!' | '.'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut run: Vec<&str> = Vec::new();
    for w in words.iter().skip(1) {
        let capital = w.chars().next().is_some_and(char::is_uppercase);
        if capital && !COMMON.contains(&w.to_lowercase().as_str()) && *w != "kWh" {
            run.push(w);
        } else if !run.is_empty() {
            break;
        }
    }
    (!run.is_empty()).then(|| run.join(" ").to_lowercase())
}

pub(super) fn resolve(question: &str, sites: &[Site], fleet: &[Device]) -> Place {
    let q = question.to_lowercase();
    let tokens: Vec<&str> = q
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    if let Some(d) = fleet.iter().find(|d| {
        tokens
            .iter()
            .any(|t| t.eq_ignore_ascii_case(d.sn.as_str()) || *t == d.device_id.to_string())
    }) {
        return Place::Device(Box::new(d.clone()));
    }
    if let Some(s) = sites
        .iter()
        .filter(|s| {
            tokens.contains(&s.site_id.to_string().as_str()) || q.contains(&s.name.to_lowercase())
        })
        .max_by_key(|s| s.name.len())
    {
        return Place::Site(Box::new(s.clone()));
    }
    // A site named in part: the most of its name's words in the question.
    let named: Vec<&str> = tokens
        .iter()
        .copied()
        .filter(|t| t.len() >= 3 && !COMMON.contains(t))
        .collect();
    let best = sites
        .iter()
        .map(|s| {
            let name = s.name.to_lowercase();
            let words: Vec<&str> = name.split_whitespace().collect();
            (named.iter().filter(|t| words.contains(t)).count(), s)
        })
        .filter(|(n, _)| *n > 0)
        .max_by_key(|(n, _)| *n);
    if let Some((_, s)) = best {
        return Place::Site(Box::new(s.clone()));
    }
    match named_place(&q).or_else(|| proper_name(question)) {
        Some(name) => match sites.iter().find(|s| s.name.to_lowercase().contains(&name)) {
            Some(s) => Place::Site(Box::new(s.clone())),
            None => Place::Unknown(name),
        },
        None => Place::Fleet,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_map_to_intents_by_their_words() {
        assert_eq!(
            intent_of("how much energy did depot north use yesterday?"),
            Intent::Energy
        );
        assert_eq!(
            intent_of("what is the energy forecast for tomorrow"),
            Intent::Forecast
        );
        assert_eq!(
            intent_of("how many chargers are offline"),
            Intent::DeviceStatus
        );
        assert_eq!(
            intent_of("which devices are least healthy"),
            Intent::LeastHealthy
        );
        assert_eq!(intent_of("any anomalies today"), Intent::Anomalies);
        assert_eq!(intent_of("who runs old firmware"), Intent::Firmware);
        assert_eq!(intent_of("revenue this month"), Intent::Sessions);
        assert_eq!(intent_of("what is the meaning of life"), Intent::Unknown);
        assert_eq!(
            intent_of("what's the weather in paris tomorrow?"),
            Intent::Unknown
        );
        assert_eq!(intent_of("how much is a pizza"), Intent::Unknown);
        assert_eq!(intent_of("what went wrong"), Intent::Unknown);
        assert_eq!(intent_of("what went wrong at the site"), Intent::Anomalies);
        assert_eq!(
            intent_of("how many sessions do you expect tomorrow"),
            Intent::Forecast
        );
    }

    #[test]
    fn periods_are_read_from_the_question() {
        let now: DateTime<Utc> = "2026-05-14T15:30:00Z".parse().unwrap();
        let day: DateTime<Utc> = "2026-05-14T00:00:00Z".parse().unwrap();
        assert_eq!(period_of("yesterday", now).from, day - Duration::days(1));
        assert_eq!(period_of("yesterday", now).to, day);
        assert_eq!(
            period_of("in the last 7 days", now).from,
            day - Duration::days(6)
        );
        assert_eq!(
            period_of("this month", now).from,
            "2026-05-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(period_of("energy", now).from, day);
    }

    #[test]
    fn a_capitalised_name_is_a_place_even_without_at() {
        assert_eq!(
            proper_name("How much energy did Secret Depot charge today?").as_deref(),
            Some("secret depot")
        );
        assert_eq!(proper_name("How much energy today?"), None);
    }

    #[test]
    fn a_place_is_the_words_after_at_up_to_the_period() {
        assert_eq!(
            named_place("energy at depot north yesterday?").as_deref(),
            Some("depot north")
        );
        assert_eq!(named_place("energy for the fleet today"), None);
        assert_eq!(named_place("energy yesterday"), None);
    }
}
