//! The template's environment values as a deployment would resolve them,
//! here: parameters take the given value or their default, `Ref` to the
//! table is its local name, `Fn::Sub` substitutes, `Fn::If` follows the
//! template's conditions, and what only a deployment has (a parameter
//! without a default, a `{{resolve:...}}` reference) takes the local value
//! kept for that variable.

use serde_yaml::Value;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("the template does not parse: {0}")]
    Parse(#[from] serde_yaml::Error),
    #[error("{0}")]
    Unsupported(String),
}

/// Local stand-ins for what only a deployment has.
#[derive(Debug, Clone, Default)]
pub struct Locals {
    /// Parameter values given on the command line (`Name=Value`).
    pub parameters: BTreeMap<String, String>,
    /// What `!Ref` to the table resource gives.
    pub table_name: String,
    /// Values of variables the template takes from a parameter without a
    /// default or a `{{resolve:...}}` reference, by variable name.
    pub secrets: BTreeMap<String, String>,
    /// Values of variables whose deployed value is the address of a
    /// resource the stage stands in for (the WebSocket API, its
    /// distribution): the stage's own, by variable name.
    pub endpoints: BTreeMap<String, String>,
}

pub(crate) fn unsupported(what: String) -> TemplateError {
    TemplateError::Unsupported(what)
}

pub struct Resolver<'a> {
    doc: &'a Value,
    locals: &'a Locals,
}

/// An intrinsic function call: its long name and its argument, from either
/// the short form (`!Sub x`) or the long one (`{"Fn::Sub": x}`).
fn intrinsic(value: &Value) -> Option<(String, &Value)> {
    match value {
        Value::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!');
            let long = match name {
                "Ref" | "Condition" => name.to_owned(),
                other => format!("Fn::{other}"),
            };
            Some((long, &t.value))
        }
        Value::Mapping(m) if m.len() == 1 => {
            let (key, arg) = m.iter().next()?;
            let key = key.as_str()?;
            (key == "Ref" || key == "Condition" || key.starts_with("Fn::"))
                .then(|| (key.to_owned(), arg))
        }
        _ => None,
    }
}

impl<'a> Resolver<'a> {
    pub fn new(doc: &'a Value, locals: &'a Locals) -> Self {
        Self { doc, locals }
    }

    /// `Environment.Variables`, resolved.
    pub fn environment(
        &self,
        variables: &Value,
    ) -> Result<BTreeMap<String, String>, TemplateError> {
        variables
            .as_mapping()
            .into_iter()
            .flatten()
            .map(|(name, value)| {
                let name = name.as_str().unwrap_or_default();
                if let Some(local) = self.locals.endpoints.get(name) {
                    return Ok((name.to_owned(), local.clone()));
                }
                Ok((name.to_owned(), self.value(name, value)?))
            })
            .collect()
    }

    /// `value`, the template's value of `variable`.
    fn value(&self, variable: &str, value: &Value) -> Result<String, TemplateError> {
        if let Some((function, arg)) = intrinsic(value) {
            return match function.as_str() {
                "Ref" => self.reference(variable, arg.as_str().unwrap_or_default()),
                "Fn::Sub" => self.sub(variable, arg),
                "Fn::If" => self.choose(variable, arg),
                other => Err(unsupported(format!(
                    "{variable}: {other} has no local value"
                ))),
            };
        }
        match value {
            Value::String(s) if s.contains("{{resolve:") => self.dynamic(variable),
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(unsupported(format!(
                "{variable}: {other:?} has no local value"
            ))),
        }
    }

    fn reference(&self, variable: &str, name: &str) -> Result<String, TemplateError> {
        if let Some(given) = self.locals.parameters.get(name) {
            return Ok(given.clone());
        }
        let parameter = &self.doc["Parameters"][name];
        if !parameter.is_null() {
            return match &parameter["Default"] {
                Value::Null => self.kept(
                    variable,
                    format!(
                        "parameter {name} has no default; give it with --parameter {name}=VALUE"
                    ),
                ),
                default => self.value(variable, default),
            };
        }
        match self.doc["Resources"][name]["Type"].as_str() {
            Some("AWS::DynamoDB::Table") => Ok(self.locals.table_name.clone()),
            _ => Err(unsupported(format!(
                "{variable}: Ref {name} has no local value"
            ))),
        }
    }

    /// `Fn::Sub` with a string, or with a string and its own variables.
    fn sub(&self, variable: &str, arg: &Value) -> Result<String, TemplateError> {
        let (text, own) = match arg {
            Value::Sequence(_) => (&arg[0], arg.get(1)),
            text => (text, None),
        };
        let text = text.as_str().unwrap_or_default();
        if text.contains("{{resolve:") {
            return self.dynamic(variable);
        }
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + len];
            let own_value = own.map(|o| &o[name]).filter(|v| !v.is_null());
            out.push_str(&match own_value {
                Some(v) => self.value(variable, v)?,
                None => self.reference(variable, name)?,
            });
            rest = &rest[start + len + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `Fn::If [condition, then, else]`.
    fn choose(&self, variable: &str, arg: &Value) -> Result<String, TemplateError> {
        let condition = arg[0].as_str().unwrap_or_default();
        let branch = if self.condition(variable, condition)? {
            &arg[1]
        } else {
            &arg[2]
        };
        self.value(variable, branch)
    }

    fn condition(&self, variable: &str, name: &str) -> Result<bool, TemplateError> {
        let expr = &self.doc["Conditions"][name];
        if expr.is_null() {
            return Err(unsupported(format!("{variable}: no condition {name}")));
        }
        self.holds(variable, expr)
    }

    fn holds(&self, variable: &str, expr: &Value) -> Result<bool, TemplateError> {
        let Some((function, arg)) = intrinsic(expr) else {
            return Err(unsupported(format!("{variable}: {expr:?} is no condition")));
        };
        let all = || arg.as_sequence().into_iter().flatten();
        match function.as_str() {
            "Fn::Equals" => Ok(self.value(variable, &arg[0])? == self.value(variable, &arg[1])?),
            "Fn::Not" => Ok(!self.holds(variable, &arg[0])?),
            "Fn::And" => all().try_fold(true, |acc, c| Ok(acc && self.holds(variable, c)?)),
            "Fn::Or" => all().try_fold(false, |acc, c| Ok(acc || self.holds(variable, c)?)),
            "Condition" => self.condition(variable, arg.as_str().unwrap_or_default()),
            other => Err(unsupported(format!("{variable}: {other} in a condition"))),
        }
    }

    fn dynamic(&self, variable: &str) -> Result<String, TemplateError> {
        self.kept(
            variable,
            "its dynamic reference has no local value".to_owned(),
        )
    }

    /// The local value kept for a variable only a deployment can fill.
    fn kept(&self, variable: &str, why: String) -> Result<String, TemplateError> {
        self.locals
            .secrets
            .get(variable)
            .cloned()
            .ok_or_else(|| unsupported(format!("{variable}: {why}")))
    }
}
