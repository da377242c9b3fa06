//! Paging is the kernel's; re-exported where the console's lists live.

pub use kernel::paging::{ListPage, Paging};
