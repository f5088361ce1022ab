//! Conversions between the wire messages and the model, in four directions:
//!
//! | direction | trait | error |
//! |---|---|---|
//! | request, proto → model (server) | [`FromRequest`], and `TryFrom` through it | [`InvalidArgument`] |
//! | response, model → proto (server) | `From` | — |
//! | request, model → proto (client) | `From<&Model>` | — |
//! | response, proto → model (client) | `TryFrom` | [`ResponseError`](crate::model::ResponseError) |
//!
//! A server request conversion *is* upstream's validation: it checks the fields in
//! upstream's order and fails with the first §9 message.

use std::net::Ipv6Addr;

use crate::model::InvalidArgument;

mod capture;
mod fields;
mod firewall;
mod firewall_response;
mod ids;
mod interface;
mod lb;
mod nat;
mod prefix;
mod response;
mod route;
mod system;
mod vip;

pub use response::ServiceResponse;

/// What a request conversion needs to know about the daemon it runs in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestContext {
    /// The host's underlay address (`--ipv6`); its first 64 bits are the /64 every
    /// preferred underlay must lie in (§10.10). `None` skips that one check.
    pub host_underlay: Option<Ipv6Addr>,
}

impl RequestContext {
    /// A context for a daemon whose underlay address is `host_underlay`.
    pub fn new(host_underlay: Ipv6Addr) -> RequestContext {
        RequestContext {
            host_underlay: Some(host_underlay),
        }
    }

    /// Converts (and so validates) a request message: `let req: CreateVip =
    /// ctx.parse(request.into_inner())?;` (`InvalidArgument` converts into `tonic::Status`).
    pub fn parse<P, M: FromRequest<P>>(&self, request: P) -> Result<M, InvalidArgument> {
        M::from_request(request, self)
    }

    /// A `preferred_underlay_route` field (§10.10): empty or `::` asks for a generated
    /// address (`None`); otherwise IPv6 text with the "externally generated" flag (bit
    /// 0x80 of byte 10) inside the host's /64 (when the context knows the host).
    pub fn preferred_underlay(&self, text: &[u8]) -> Result<Option<Ipv6Addr>, InvalidArgument> {
        const ERR: InvalidArgument = InvalidArgument("Invalid preferred_underlay_route");
        if text.is_empty() {
            return Ok(None);
        }
        let addr = fields::ipv6_text(text, ERR.0)?;
        if addr.is_unspecified() {
            return Ok(None);
        }
        let octets = addr.octets();
        let in_host_prefix = self
            .host_underlay
            .is_none_or(|host| host.octets()[..8] == octets[..8]);
        if octets[10] & 0x80 == 0 || !in_host_prefix {
            return Err(ERR);
        }
        Ok(Some(addr))
    }
}

/// Server-side conversion of a request message into the model, validating as upstream
/// does. `TryFrom<P>` is implemented through it with a context that does not know the
/// host (no /64 check on preferred underlays).
pub trait FromRequest<P>: Sized {
    /// Converts `request`, failing with the first invalid field's §9 message.
    fn from_request(request: P, ctx: &RequestContext) -> Result<Self, InvalidArgument>;
}

/// `TryFrom<proto>` for each `FromRequest` pair, with the default context.
macro_rules! try_from_request {
    ($($proto:ty => $model:ty),+ $(,)?) => {$(
        impl TryFrom<$proto> for $model {
            type Error = $crate::model::InvalidArgument;

            fn try_from(request: $proto) -> Result<Self, $crate::model::InvalidArgument> {
                <$model as $crate::model::FromRequest<$proto>>::from_request(
                    request,
                    &$crate::model::RequestContext::default(),
                )
            }
        }
    )+};
}
use try_from_request;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check(ctx: RequestContext, text: &str) -> Result<Option<Ipv6Addr>, InvalidArgument> {
        ctx.preferred_underlay(text.as_bytes())
    }

    #[test]
    fn preferred_underlay_rules() {
        let host = RequestContext::new("fc00:1::1".parse().unwrap());
        assert_eq!(check(host, ""), Ok(None));
        assert_eq!(check(host, "::"), Ok(None));
        for good in [
            "fc00:1::8000:0:1",
            "fc00:1::c000:0:2",
            "fc00:1:0:0:ffff:8000::",
        ] {
            assert_eq!(check(host, good), Ok(Some(good.parse().unwrap())), "{good}");
        }
        for bad in [
            "fc00:1::d000:1:0:1",
            "fc00:2::8000:0:1",
            "10.0.0.1",
            "x",
            "fc00:1::8000:0:1\0",
        ] {
            assert_eq!(
                check(host, bad),
                Err(InvalidArgument("Invalid preferred_underlay_route")),
                "{bad}"
            );
        }
        // Without the host only the /64 check is skipped.
        let any = RequestContext::default();
        assert!(check(any, "fc00:2::8000:0:1").is_ok());
        assert!(check(any, "fc00:2::d000:1:0:1").is_err());
    }
}
