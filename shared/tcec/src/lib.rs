//! The T/CEC 102 "evcs" partner protocol at the edge (contract §9): the
//! wire format and its cryptography (`wire`), partners' secrets sealed at
//! rest (`vault`, `secrets`), opening a request and sealing its answer
//! (`envelope`), and how the domain's outcomes read as `Ret` codes
//! (`refusal`). The domain sees partners, tokens, sessions and pushes; it
//! never handles a cipher, a signature or a sealed secret's contents.

pub mod envelope;
pub mod refusal;
pub mod secrets;
pub mod vault;
pub mod wire;

pub use envelope::{Opened, open};
pub use refusal::refusal;
pub use secrets::{CreatedPartner, PartnerDraft, create_partner};
pub use wire::{Refusal, Ret, WireAnswer, WireKeys, WireRequest};
