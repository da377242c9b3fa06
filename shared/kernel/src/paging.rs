//! `?page=&size=` of every list, parsed at the edge, and the page a list
//! answers.

use crate::error::Error;
use crate::input::Problems;
use serde::Serialize;

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

/// A page of a list: `{items, total, page, size}`.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total: usize,
    pub page: u32,
    pub size: u32,
}

impl<T> ListPage<T> {
    pub fn slice(all: Vec<T>, page: u32, size: u32) -> Self {
        let total = all.len();
        let start = ((page.saturating_sub(1)) as usize).saturating_mul(size as usize);
        let items = all.into_iter().skip(start).take(size as usize).collect();
        Self {
            items,
            total,
            page,
            size,
        }
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
