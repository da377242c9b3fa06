//! Who may do what: the authenticated console caller, its role, and the
//! one guard that turns "not yours" into "not found". Every permission
//! decision of the console side calls into here.

use crate::error::Error;
use crate::ids::OperatorId;
use crate::model::Role;

/// A Bearer token as issued: shown once, then kept only as a hash (operator
/// tokens) or not at all (self-verifying device tokens).
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub access_token: crate::secret::Secret<String>,
    pub expires_in: i64,
}

/// An authenticated console or partner caller.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    pub client_id: String,
    pub role: Role,
    pub operators: Vec<OperatorId>,
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether the caller may see this operator's objects.
    pub fn sees(&self, operator: &OperatorId) -> bool {
        self.is_admin() || self.operators.contains(operator)
    }

    /// Refuses callers below `role`.
    pub fn require(&self, role: Role) -> Result<(), Error> {
        if self.role >= role {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "this needs the {} role",
                role.as_str()
            )))
        }
    }

    /// `found` when the caller may see it; otherwise the same "not found"
    /// as for something that does not exist.
    pub fn visible<T>(
        &self,
        found: Option<T>,
        operator: impl Fn(&T) -> &OperatorId,
        what: &str,
    ) -> Result<T, Error> {
        found
            .filter(|t| self.sees(operator(t)))
            .ok_or_else(|| not_found(what))
    }
}

/// The answer for anything a caller may not see or that does not exist.
pub fn not_found(what: &str) -> Error {
    Error::NotFound(format!("{what} not found"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role) -> Caller {
        Caller {
            client_id: "c".into(),
            role,
            operators: vec![OperatorId::parse("acme").unwrap()],
        }
    }

    #[test]
    fn roles_are_ordered_viewer_operator_admin() {
        assert!(caller(Role::Viewer).require(Role::Operator).is_err());
        assert!(caller(Role::Operator).require(Role::Operator).is_ok());
        assert!(caller(Role::Operator).require(Role::Admin).is_err());
        assert!(caller(Role::Admin).require(Role::Operator).is_ok());
    }

    #[test]
    fn only_admins_see_operators_they_do_not_belong_to() {
        let other = OperatorId::parse("other").unwrap();
        assert!(!caller(Role::Operator).sees(&other));
        assert!(caller(Role::Admin).sees(&other));
        assert!(caller(Role::Viewer).sees(&OperatorId::parse("acme").unwrap()));
    }

    #[test]
    fn what_a_caller_may_not_see_is_not_found_like_what_does_not_exist() {
        let other = OperatorId::parse("other").unwrap();
        let hidden = caller(Role::Operator).visible(Some(other), |o| o, "thing 1");
        let missing = caller(Role::Operator).visible(None::<OperatorId>, |o| o, "thing 1");
        assert_eq!(
            format!("{:?}", hidden.unwrap_err()),
            format!("{:?}", missing.unwrap_err())
        );
    }
}
