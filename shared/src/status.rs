//! Service error codes carried in `Status.code` (spec grpc-api.md §3).
//!
//! Upstream treats the numbers as frozen API: new codes are only ever added. The message
//! that travels in `Status.message` is the bare name (no `DP_GRPC_ERR_` prefix); success
//! is code 0 with the message `Success`.

use crate::proto;

macro_rules! service_errors {
    ($($variant:ident = $code:literal, $name:literal;)+) => {
        /// A service error: the outcome of a call that passed validation but failed in
        /// execution. `Status.code` is the number, `Status.message` the name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(u32)]
        pub enum ServiceError {
            $($variant = $code,)+
        }

        impl ServiceError {
            /// Every code, in ascending order.
            pub const ALL: &'static [ServiceError] = &[$(ServiceError::$variant,)+];

            /// The number that travels in `Status.code`.
            pub const fn code(self) -> u32 {
                self as u32
            }

            /// The symbolic name that travels in `Status.message`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(ServiceError::$variant => $name,)+
                }
            }

            /// The error with this number, if the table has it.
            pub const fn from_code(code: u32) -> Option<ServiceError> {
                match code {
                    $($code => Some(ServiceError::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

service_errors! {
    BadRequest = 101, "BAD_REQUEST";
    NotFound = 201, "NOT_FOUND";
    AlreadyExists = 202, "ALREADY_EXISTS";
    WrongType = 203, "WRONG_TYPE";
    BadIpVer = 204, "BAD_IPVER";
    NoVm = 205, "NO_VM";
    NoVni = 206, "NO_VNI";
    Iterator = 207, "ITERATOR";
    OutOfMemory = 208, "OUT_OF_MEMORY";
    LimitReached = 209, "LIMIT_REACHED";
    AlreadyActive = 210, "ALREADY_ACTIVE";
    NotActive = 211, "NOT_ACTIVE";
    Rollback = 212, "ROLLBACK";
    RteRuleAdd = 213, "RTE_RULE_ADD";
    RteRuleDel = 214, "RTE_RULE_DEL";
    RouteExists = 301, "ROUTE_EXISTS";
    RouteNotFound = 302, "ROUTE_NOT_FOUND";
    RouteInsert = 303, "ROUTE_INSERT";
    RouteBadPort = 304, "ROUTE_BAD_PORT";
    RouteReset = 305, "ROUTE_RESET";
    DnatNoData = 321, "DNAT_NO_DATA";
    DnatCreate = 322, "DNAT_CREATE";
    DnatExists = 323, "DNAT_EXISTS";
    SnatNoData = 341, "SNAT_NO_DATA";
    SnatCreate = 342, "SNAT_CREATE";
    SnatExists = 343, "SNAT_EXISTS";
    VniInit4 = 361, "VNI_INIT4";
    VniInit6 = 362, "VNI_INIT6";
    VniFree4 = 363, "VNI_FREE4";
    VniFree6 = 364, "VNI_FREE6";
    PortStart = 381, "PORT_START";
    PortStop = 382, "PORT_STOP";
    PortMeter = 383, "PORT_METER";
    VnfInsert = 401, "VNF_INSERT";
    VmHandle = 402, "VM_HANDLE";
    VnfDelete = 403, "VNF_DELETE";
    NoBackIp = 421, "NO_BACKIP";
    NoLb = 422, "NO_LB";
    BackIpAdd = 423, "BACKIP_ADD";
    BackIpDel = 424, "BACKIP_DEL";
    NoDropSupport = 441, "NO_DROP_SUPPORT";
}

/// `Status.message` of a successful call.
pub const SUCCESS_MESSAGE: &str = "Success";

/// What upstream would print for a code outside the table; our server never sends one.
pub const UNKNOWN_CODE_MESSAGE: &str = "Invalid gRPC error code";

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::error::Error for ServiceError {}

impl From<ServiceError> for proto::Status {
    fn from(err: ServiceError) -> Self {
        proto::Status {
            code: err.code(),
            message: err.name().to_owned(),
        }
    }
}

/// The `Status` of a successful call (always sent, spec §2).
pub fn success() -> proto::Status {
    proto::Status {
        code: 0,
        message: SUCCESS_MESSAGE.to_owned(),
    }
}

/// The outcome a `Status` reports: `Ok` for code 0, the table's error otherwise.
///
/// A code the table does not know is returned as `Err(Err(code))`, so that a client
/// talking to a newer daemon still shows the number.
pub fn outcome(status: Option<&proto::Status>) -> Result<(), Result<ServiceError, u32>> {
    match status.map_or(0, |s| s.code) {
        0 => Ok(()),
        code => Err(ServiceError::from_code(code).ok_or(code)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_sorted() {
        let mut previous = 0;
        for &err in ServiceError::ALL {
            assert!(err.code() > previous, "{err} out of order");
            previous = err.code();
            assert_eq!(ServiceError::from_code(err.code()), Some(err));
        }
        assert_eq!(ServiceError::ALL.len(), 41);
        assert_eq!(ServiceError::from_code(0), None);
        assert_eq!(ServiceError::from_code(999), None);
    }

    #[test]
    fn names_are_bare_upstream_names() {
        assert_eq!(ServiceError::NoVm.name(), "NO_VM");
        assert_eq!(ServiceError::SnatExists.code(), 343);
        assert_eq!(ServiceError::BackIpDel.to_string(), "BACKIP_DEL");
        let status = proto::Status::from(ServiceError::RouteExists);
        assert_eq!(
            (status.code, status.message.as_str()),
            (301, "ROUTE_EXISTS")
        );
    }

    #[test]
    fn outcome_reads_status() {
        assert_eq!(outcome(None), Ok(()));
        assert_eq!(outcome(Some(&success())), Ok(()));
        let s = proto::Status {
            code: 205,
            message: "NO_VM".into(),
        };
        assert_eq!(outcome(Some(&s)), Err(Ok(ServiceError::NoVm)));
        let s = proto::Status {
            code: 777,
            message: String::new(),
        };
        assert_eq!(outcome(Some(&s)), Err(Err(777)));
    }
}
