//! The kernel of the charging network's domain: what every capability
//! shares and nothing capability-specific. Identifier newtypes (`ids`), the
//! entities as the domain keeps them (`model`), the model catalogue, the
//! clock, settings, the caller and its roles (`access`), secrets, typed
//! inputs (`input`), the one error type and what storage ports share
//! (`storage`). It depends on no capability; every capability depends on it.

/// An enum of the wire: one snake-case name per variant, the same for serde,
/// for parsing at the edge (`strum`: value lists come from the enum itself)
/// and in the OpenAPI document.
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident,)+ }) => {
        $(#[$meta])*
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            serde::Serialize,
            serde::Deserialize,
            strum::EnumString,
            strum::IntoStaticStr,
            strum::EnumIter,
        )]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

pub mod access;
pub mod catalogue;
pub mod clock;
pub mod command;
pub mod connector;
pub mod error;
pub mod ids;
pub mod input;
pub mod model;
pub mod paging;
pub mod schedule;
pub mod secret;
pub mod settings;
pub mod storage;
pub mod text;
pub mod version;

pub use clock::{Clock, SystemClock};
pub use error::{Error, FieldError};
pub use settings::Settings;
