//! The charger model catalogue shipped with the service: ratings the
//! command checks use, and the newest firmware release per model. Models
//! seen only at registration get sane absolute limits and no V2G.

use crate::version::FirmwareVersion;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum CurrentType {
    AC,
    DC,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelSpec {
    pub model: String,
    pub manufacturer: String,
    pub current_type: CurrentType,
    pub max_power_kw: f64,
    pub max_current_a: f64,
    pub connectors: u32,
    pub v2g: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub latest_firmware: FirmwareVersion,
}

/// What a command may ask of a charger.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    pub max_power_kw: f64,
    pub max_current_a: f64,
    pub connectors: u32,
    pub v2g: bool,
}

/// Limits for a model the catalogue does not know: the largest public
/// chargers, one-sided, and no more connectors than OCPP chargers carry.
pub const UNKNOWN_MODEL: Rating = Rating {
    max_power_kw: 400.0,
    max_current_a: 1000.0,
    connectors: 32,
    v2g: false,
};

const MODELS_JSON: &str = include_str!("../catalogue/models.json");

pub fn models() -> &'static [ModelSpec] {
    static MODELS: OnceLock<Vec<ModelSpec>> = OnceLock::new();
    MODELS.get_or_init(|| serde_json::from_str(MODELS_JSON).unwrap_or_default())
}

pub fn spec(model: &str) -> Option<&'static ModelSpec> {
    models().iter().find(|m| m.model == model)
}

pub fn rating(model: &str) -> Rating {
    spec(model).map_or(UNKNOWN_MODEL, |m| Rating {
        max_power_kw: m.max_power_kw,
        max_current_a: m.max_current_a,
        connectors: m.connectors,
        v2g: m.v2g,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_parses_and_has_an_ac_and_a_dc_v2g_model() {
        assert!(models().len() >= 2, "catalogue failed to parse");
        let ac = spec("TP-AC22").unwrap();
        assert_eq!((ac.current_type, ac.v2g), (CurrentType::AC, false));
        assert!(
            models()
                .iter()
                .any(|m| m.current_type == CurrentType::DC && m.v2g)
        );
    }

    #[test]
    fn unknown_models_get_absolute_limits_and_no_v2g() {
        let r = rating("HOMEBREW-1");
        assert!(!r.v2g);
        assert_eq!(r.max_power_kw, UNKNOWN_MODEL.max_power_kw);
    }
}

/// A catalogue row as the console sees it, with the caller's device count.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelView {
    #[serde(flatten)]
    pub spec: ModelSpec,
    /// The caller's devices of this model.
    pub devices: u32,
}

/// The caller's devices whose model the catalogue does not rate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnknownModels {
    pub models: u32,
    pub devices: u32,
}

/// `GET /v1/models`: the catalogue, and the rest of the fleet counted apart.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ModelPage {
    pub items: Vec<ModelView>,
    pub total: usize,
    pub page: u32,
    pub size: u32,
    pub unknown_models: UnknownModels,
}
