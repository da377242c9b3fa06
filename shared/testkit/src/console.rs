//! The operator console as an end-to-end test drives it: a real HTTP
//! client against a service on a loopback port, with an operator's token.

use serde_json::Value;

pub struct HttpConsole {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl HttpConsole {
    /// A console at `base` (`http://127.0.0.1:<port>`) using `token`.
    pub fn new(base: &str, token: String) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: base.to_owned(),
            token,
        }
    }

    /// One request; the status and the JSON body (`null` when none).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("console request");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    /// `data` of a GET that must answer 200.
    pub async fn get(&self, path: &str) -> Value {
        let (status, body) = self.call(reqwest::Method::GET, path, None).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body["data"].clone()
    }

    /// `data` of a POST that must answer `expected`.
    pub async fn post(&self, path: &str, body: Value, expected: u16) -> Value {
        let (status, reply) = self.call(reqwest::Method::POST, path, Some(body)).await;
        assert_eq!(status, expected, "POST {path}: {reply}");
        reply["data"].clone()
    }
}
