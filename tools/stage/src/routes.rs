//! API Gateway's route selection for an HTTP API: exact paths, `{param}`
//! segments and a greedy last `{name+}`; a method or `ANY`; the most
//! specific match wins (no greedy variable before a greedy one, literal
//! segments before parameters from the left, a method before `ANY`), and
//! `$default` takes what nothing else matched.

use axum::http::Method;
use std::collections::BTreeMap;
use std::fmt;

/// A route as the template names it and the event's `routeKey` spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteKey {
    Default,
    /// `method: None` is `ANY`.
    Route {
        method: Option<Method>,
        path: String,
    },
}

impl RouteKey {
    /// From an `HttpApi` event's `Method` and `Path`.
    pub fn parse(method: Option<&str>, path: Option<&str>) -> Result<Self, String> {
        let any = |m: &str| {
            m.eq_ignore_ascii_case("any")
                || m.eq_ignore_ascii_case("x-amazon-apigateway-any-method")
        };
        match (method, path) {
            (None, None) => Ok(Self::Default),
            (m, Some("$default")) if m.is_none_or(any) => Ok(Self::Default),
            (Some(m), Some(path)) if path.starts_with('/') => Ok(Self::Route {
                method: if any(m) {
                    None
                } else {
                    Some(
                        Method::from_bytes(m.to_uppercase().as_bytes())
                            .map_err(|_| format!("{m} is not a method"))?,
                    )
                },
                path: path.to_owned(),
            }),
            (m, p) => Err(format!("no route for Method {m:?} and Path {p:?}")),
        }
    }
}

impl fmt::Display for RouteKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("$default"),
            Self::Route { method, path } => {
                let method = method.as_ref().map_or("ANY", Method::as_str);
                write!(f, "{method} {path}")
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

impl Segment {
    /// Lower is more specific.
    fn rank(&self) -> u8 {
        match self {
            Self::Literal(_) => 0,
            Self::Param(_) => 1,
            Self::Greedy(_) => 2,
        }
    }
}

fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .skip(1)
        .map(
            |s| match s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(name) => match name.strip_suffix('+') {
                    Some(name) => Segment::Greedy(name.to_owned()),
                    None => Segment::Param(name.to_owned()),
                },
                None => Segment::Literal(s.to_owned()),
            },
        )
        .collect()
}

struct Entry<T> {
    key: RouteKey,
    method: Option<Method>,
    segments: Vec<Segment>,
    target: T,
}

impl<T> Entry<T> {
    /// The path parameters when `path` matches this route's path.
    fn capture(&self, path: &str) -> Option<BTreeMap<String, String>> {
        let given: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
        let mut params = BTreeMap::new();
        for (i, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(l) if given.get(i) == Some(&l.as_str()) => {}
                Segment::Param(name) => {
                    let value = given.get(i).filter(|v| !v.is_empty())?;
                    params.insert(name.clone(), (*value).to_owned());
                }
                Segment::Greedy(name) => {
                    let rest = given.get(i..).map(|r| r.join("/")).unwrap_or_default();
                    if rest.is_empty() {
                        return None;
                    }
                    params.insert(name.clone(), rest);
                    return Some(params);
                }
                Segment::Literal(_) => return None,
            }
        }
        (given.len() == self.segments.len()).then_some(params)
    }

    fn specificity(&self) -> (bool, Vec<u8>, bool) {
        let greedy = self
            .segments
            .iter()
            .any(|s| matches!(s, Segment::Greedy(_)));
        let ranks = self.segments.iter().map(Segment::rank).collect();
        (greedy, ranks, self.method.is_none())
    }
}

/// The route a request took.
#[derive(Debug)]
pub struct Matched<'a, T> {
    pub route_key: String,
    pub path_parameters: BTreeMap<String, String>,
    pub target: &'a T,
}

pub struct RouteTable<T> {
    routes: Vec<Entry<T>>,
    default: Option<T>,
}

impl<T> RouteTable<T> {
    /// Fails on a route key given twice, as API Gateway does.
    pub fn new(routes: impl IntoIterator<Item = (RouteKey, T)>) -> Result<Self, String> {
        let mut table = Self {
            routes: Vec::new(),
            default: None,
        };
        for (key, target) in routes {
            let taken = match &key {
                RouteKey::Default => table.default.is_some(),
                key => table.routes.iter().any(|e| &e.key == key),
            };
            if taken {
                return Err(format!("route {key} is defined twice"));
            }
            match &key {
                RouteKey::Default => table.default = Some(target),
                RouteKey::Route { method, path } => table.routes.push(Entry {
                    method: method.clone(),
                    segments: segments(path),
                    key,
                    target,
                }),
            }
        }
        Ok(table)
    }

    /// The route API Gateway would choose; `None` is its own 404.
    pub fn find(&self, method: &Method, path: &str) -> Option<Matched<'_, T>> {
        let best = self
            .routes
            .iter()
            .filter(|e| e.method.as_ref().is_none_or(|m| m == method))
            .filter_map(|e| e.capture(path).map(|params| (e, params)))
            .min_by_key(|(e, _)| e.specificity());
        match best {
            Some((entry, path_parameters)) => Some(Matched {
                route_key: entry.key.to_string(),
                path_parameters,
                target: &entry.target,
            }),
            None => self.default.as_ref().map(|target| Matched {
                route_key: RouteKey::Default.to_string(),
                path_parameters: BTreeMap::new(),
                target,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(method: &str, path: &str) -> RouteKey {
        RouteKey::parse(Some(method), Some(path)).unwrap()
    }

    fn table(with_default: bool) -> RouteTable<&'static str> {
        let mut routes = vec![
            (key("GET", "/v1/devices"), "list"),
            (key("GET", "/v1/devices/{id}"), "one"),
            (key("GET", "/v1/devices/mine"), "mine"),
            (
                key("POST", "/v1/devices/{id}/connectors/{cid}/start"),
                "start",
            ),
            (key("ANY", "/files/{path+}"), "files-any"),
            (key("GET", "/files/{path+}"), "files-get"),
            (key("GET", "/files/special/{name}"), "special"),
        ];
        if with_default {
            routes.push((RouteKey::Default, "default"));
        }
        RouteTable::new(routes).unwrap()
    }

    fn target(t: &RouteTable<&'static str>, method: Method, path: &str) -> Option<&'static str> {
        t.find(&method, path).map(|m| *m.target)
    }

    #[test]
    fn exact_paths_and_parameters_match_with_the_method() {
        let t = table(false);
        let m = t
            .find(&Method::POST, "/v1/devices/abc/connectors/2/start")
            .unwrap();
        assert_eq!(*m.target, "start");
        assert_eq!(m.route_key, "POST /v1/devices/{id}/connectors/{cid}/start");
        assert_eq!(m.path_parameters["id"], "abc");
        assert_eq!(m.path_parameters["cid"], "2");
        assert_eq!(target(&t, Method::GET, "/v1/devices"), Some("list"));
        assert_eq!(target(&t, Method::DELETE, "/v1/devices"), None);
        assert_eq!(target(&t, Method::GET, "/v1/devices/"), None);
        assert_eq!(target(&t, Method::GET, "/v1/devices/a/b"), None);
    }

    #[test]
    fn a_literal_segment_wins_over_a_parameter() {
        let t = table(false);
        assert_eq!(target(&t, Method::GET, "/v1/devices/mine"), Some("mine"));
        assert_eq!(target(&t, Method::GET, "/v1/devices/other"), Some("one"));
    }

    #[test]
    fn a_greedy_variable_takes_the_rest_and_loses_to_a_full_match() {
        let t = table(false);
        let m = t.find(&Method::GET, "/files/a/b/c").unwrap();
        assert_eq!(
            (*m.target, m.path_parameters["path"].as_str()),
            ("files-get", "a/b/c")
        );
        assert_eq!(target(&t, Method::PUT, "/files/a"), Some("files-any"));
        assert_eq!(target(&t, Method::GET, "/files/special/x"), Some("special"));
        assert_eq!(target(&t, Method::GET, "/files/"), None);
    }

    #[test]
    fn default_takes_what_nothing_else_matched() {
        let t = table(true);
        let m = t.find(&Method::DELETE, "/v1/devices").unwrap();
        assert_eq!((*m.target, m.route_key.as_str()), ("default", "$default"));
        assert_eq!(target(&t, Method::GET, "/nowhere"), Some("default"));
        assert_eq!(target(&t, Method::GET, "/v1/devices"), Some("list"));
    }

    #[test]
    fn a_route_defined_twice_is_refused() {
        let twice = vec![(key("GET", "/a"), 1), (key("get", "/a"), 2)];
        assert!(RouteTable::new(twice).is_err());
    }

    #[test]
    fn route_keys_read_as_sam_writes_them() {
        assert_eq!(RouteKey::parse(None, None), Ok(RouteKey::Default));
        assert_eq!(
            RouteKey::parse(Some("ANY"), Some("$default")),
            Ok(RouteKey::Default)
        );
        assert_eq!(key("any", "/x").to_string(), "ANY /x");
        assert!(RouteKey::parse(Some("GET"), Some("x")).is_err());
        assert!(RouteKey::parse(Some("GET"), Some("$default")).is_err());
    }
}
