//! Meter values of either version, read into the readings the platform
//! keeps: power in kW, energy registers in Wh, current, voltage, SoC.

use chrono::{DateTime, Utc};

/// One sampled value, as either version carries it, scaled to the base
/// unit (W, Wh, A, V, %).
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    pub measurand: String,
    pub phase: Option<String>,
    pub value: f64,
}

/// What one meter value at one time says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    pub timestamp: DateTime<Utc>,
    /// kW drawn from the grid (Power.Active.Import).
    pub power_import_kw: Option<f64>,
    /// kW fed back (Power.Active.Export).
    pub power_export_kw: Option<f64>,
    /// Energy.Active.Import.Register, Wh.
    pub import_register_wh: Option<f64>,
    /// Energy.Active.Export.Register, Wh.
    pub export_register_wh: Option<f64>,
    pub current_a: Option<f64>,
    pub voltage_v: Option<f64>,
    pub soc: Option<f64>,
}

/// The default measurand of both versions when a sampled value names none.
pub const DEFAULT_MEASURAND: &str = "Energy.Active.Import.Register";

/// Scales a value in `unit` to the base unit of its measurand.
pub fn to_base(value: f64, unit: Option<&str>) -> f64 {
    match unit {
        Some("kW" | "kWh" | "kvar" | "kvarh" | "kVA") => value * 1000.0,
        _ => value,
    }
}

impl Reading {
    /// A reading from one meter value's samples. A total (no phase) wins
    /// over phases; without one, phases of power and energy add up and the
    /// highest phase current and the first phase voltage stand for all.
    pub fn from_samples(timestamp: DateTime<Utc>, samples: &[Sampled]) -> Self {
        let pick = |measurand: &str, combine: fn(&[f64]) -> f64| -> Option<f64> {
            let of: Vec<&Sampled> = samples
                .iter()
                .filter(|s| s.measurand == measurand)
                .collect();
            if let Some(total) = of.iter().find(|s| s.phase.is_none()) {
                return Some(total.value);
            }
            let phases: Vec<f64> = of.iter().map(|s| s.value).collect();
            (!phases.is_empty()).then(|| combine(&phases))
        };
        let sum = |v: &[f64]| v.iter().sum();
        let max = |v: &[f64]| v.iter().copied().fold(f64::MIN, f64::max);
        let first = |v: &[f64]| v[0];
        Self {
            timestamp,
            power_import_kw: pick("Power.Active.Import", sum).map(|w| w / 1000.0),
            power_export_kw: pick("Power.Active.Export", sum).map(|w| w / 1000.0),
            import_register_wh: pick("Energy.Active.Import.Register", sum),
            export_register_wh: pick("Energy.Active.Export.Register", sum),
            current_a: pick("Current.Import", max),
            voltage_v: pick("Voltage", first),
            soc: pick("SoC", first),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(measurand: &str, phase: Option<&str>, value: f64) -> Sampled {
        Sampled {
            measurand: measurand.into(),
            phase: phase.map(Into::into),
            value,
        }
    }

    #[test]
    fn totals_win_and_phases_combine() {
        let r = Reading::from_samples(
            Utc::now(),
            &[
                s("Power.Active.Import", Some("L1"), 3000.0),
                s("Power.Active.Import", Some("L2"), 4000.0),
                s("Current.Import", Some("L1"), 13.0),
                s("Current.Import", Some("L2"), 16.0),
                s("Energy.Active.Import.Register", None, 1500.0),
                s("Energy.Active.Import.Register", Some("L1"), 700.0),
                s("SoC", None, 55.0),
            ],
        );
        assert_eq!(r.power_import_kw, Some(7.0));
        assert_eq!(r.current_a, Some(16.0));
        assert_eq!(r.import_register_wh, Some(1500.0));
        assert_eq!(r.soc, Some(55.0));
        assert_eq!(r.voltage_v, None);
    }

    #[test]
    fn kilo_units_scale_to_base() {
        assert_eq!(to_base(7.4, Some("kW")), 7400.0);
        assert_eq!(to_base(12.5, Some("kWh")), 12500.0);
        assert_eq!(to_base(230.0, Some("V")), 230.0);
        assert_eq!(to_base(230.0, None), 230.0);
    }
}
