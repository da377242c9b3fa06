//! `?page=&size=` of every list route, as the document describes it.

use domain::console::Paging;
use kernel::Error;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page: Option<i64>,
    /// Items per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub size: Option<i64>,
}

impl TryFrom<&PageQuery> for Paging {
    type Error = Error;

    fn try_from(q: &PageQuery) -> Result<Self, Error> {
        Paging::parse(q.page, q.size)
    }
}
