//! Commands to OCPP chargers, one way: commands hand the line what they
//! have marked delivered; the line turns each into the OCPP call (or
//! calls) of the charger's version, notes them in the table as waiting for
//! their answers, and posts the frames through a [`Transport`] (API
//! Gateway's `@connections` in AWS, the local server's own sockets). The
//! answers come back with the charger's next frames, whichever process
//! gets them: [`answers`] settles their commands.

pub mod answers;
mod calls;
pub mod connections;
mod line;

pub use answers::ANSWER_TIMEOUT;
pub use calls::{Call, answer_of, calls_for};
pub use line::{Gone, OcppLine, Transport};
