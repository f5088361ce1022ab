//! Table-driven checks of server request conversions.
//!
//! A table lists one invalid mutation per check, in upstream's order, with the §9
//! message it must produce. [`check_table`] then proves two things: each mutation alone
//! fails with its own message, and for every pair (earlier, later) applied together the
//! earlier message wins — so the table *is* the validation order.

use std::fmt::Debug;

use dpservice::model::InvalidArgument;

/// One check: the expected message and a mutation of a valid request that trips it.
pub type Case<P> = (&'static str, fn(&mut P));

/// Runs the single and pairwise checks of `cases` against the valid request `base`.
pub fn check_table<P, M>(base: fn() -> P, cases: &[Case<P>])
where
    M: TryFrom<P, Error = InvalidArgument> + Debug,
{
    if let Err(e) = M::try_from(base()) {
        panic!("the base request must be valid, got {e}");
    }
    for (message, mutate) in cases {
        let mut request = base();
        mutate(&mut request);
        assert_eq!(convert::<P, M>(request), *message, "single check");
    }
    for (i, (earlier, first)) in cases.iter().enumerate() {
        for (later, second) in &cases[i + 1..] {
            let mut request = base();
            second(&mut request);
            first(&mut request);
            assert_eq!(
                convert::<P, M>(request),
                *earlier,
                "'{earlier}' must be checked before '{later}'"
            );
        }
    }
}

/// The conversion's error message; panics when the conversion succeeds.
pub fn convert<P, M>(request: P) -> &'static str
where
    M: TryFrom<P, Error = InvalidArgument> + Debug,
{
    match M::try_from(request) {
        Ok(m) => panic!("expected a validation error, converted to {m:?}"),
        Err(e) => e.message(),
    }
}

/// An `IpAddress` message.
pub fn ip(ipver: i32, text: &str) -> dpservice::proto::IpAddress {
    dpservice::proto::IpAddress {
        ipver,
        address: text.as_bytes().to_vec(),
    }
}

/// A `Prefix` message.
pub fn prefix(ipver: i32, text: &str, length: u32) -> dpservice::proto::Prefix {
    dpservice::proto::Prefix {
        ip: Some(ip(ipver, text)),
        length,
        underlay_route: Vec::new(),
    }
}

/// A preferred underlay without the "externally generated" flag: invalid everywhere.
pub const BAD_UNDERLAY: &[u8] = b"fc00:1::d000:1:0:1";
/// A preferred underlay with the flag, inside `fc00:1::/64`.
pub const GOOD_UNDERLAY: &[u8] = b"fc00:1::8000:0:1";
