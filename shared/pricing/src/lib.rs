//! Tariffs and the pricing of charging sessions by them (contract §14).
//! Money is exact (`rust_decimal`), restrictions are read in the site's
//! time zone from the IANA database (`chrono-tz`), and nothing here does
//! input or output: the domain hands a tariff and a session in.

mod price;
mod tariff;

pub use chrono_tz::Tz;
pub use price::{Activity, Period, Price, Session, periods, price};
pub use rust_decimal::Decimal;
pub use tariff::{Dimension, Element, PriceComponent, Restrictions, TariffContent};

#[cfg(test)]
mod tests;
