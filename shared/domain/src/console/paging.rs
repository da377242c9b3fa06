//! `?page=&size=` of every list, parsed at the edge.

use kernel::error::Error;
use kernel::input::Problems;

/// A valid page request: `page >= 1`, `1 <= size <= 100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub page: u32,
    pub size: u32,
}

impl Paging {
    pub const MAX_SIZE: i64 = 100;

    pub fn parse(page: Option<i64>, size: Option<i64>) -> Result<Self, Error> {
        let (page, size) = (page.unwrap_or(1), size.unwrap_or(20));
        let mut p = Problems::default();
        p.check(
            (1..=i64::from(u32::MAX)).contains(&page),
            "page",
            "must be 1 or more",
        );
        p.check(
            (1..=Self::MAX_SIZE).contains(&size),
            "size",
            "must be 1..100",
        );
        p.finish()?;
        Ok(Self {
            page: u32::try_from(page).unwrap_or(1),
            size: u32::try_from(size).unwrap_or(20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_is_validated() {
        assert!(Paging::parse(Some(0), None).is_err());
        assert!(Paging::parse(None, Some(101)).is_err());
        let p = Paging::parse(None, None).unwrap();
        assert_eq!((p.page, p.size), (1, 20));
    }
}
