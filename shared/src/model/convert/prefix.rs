//! Alias prefixes and load-balancer target prefixes (grpc-api.md §8.3, §8.4).
//!
//! Both families share their message shapes, so every conversion is written once and
//! instantiated for the two sets of messages; only the length rule differs (§10.2):
//! alias prefixes take any 8-bit length (the daemon's routing table refuses the rest),
//! LB prefixes must fit their family here.

use super::fields::{self, PrefixPath};
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    CreatePrefix, InvalidArgument, IpPrefix, PrefixEntry, PrefixRef, RequestPrefix, ResponseError,
};
use crate::proto;

const BAD_ID: &str = "Invalid interface_id";
const BAD_IP: &str = "Invalid prefix.ip";
const BAD_LENGTH: &str = "Invalid prefix.length";

/// How a family reads the request's `Prefix`.
type ReadPrefix<P> =
    fn(Option<&proto::Prefix>, &'static str, &'static str) -> Result<P, InvalidArgument>;

fn prefix_ref<P>(
    interface_id: &[u8],
    prefix: Option<&proto::Prefix>,
    read: ReadPrefix<P>,
) -> Result<PrefixRef<P>, InvalidArgument> {
    Ok(PrefixRef {
        interface_id: fields::lookup_id(interface_id, BAD_ID)?,
        prefix: read(prefix, BAD_IP, BAD_LENGTH)?,
    })
}

macro_rules! prefix_family {
    ($create:ident, $delete:ident, $list:ident, $prefix:ty, $read:path) => {
        impl FromRequest<proto::$create> for CreatePrefix<$prefix> {
            fn from_request(r: proto::$create, ctx: &RequestContext) -> Result<Self, InvalidArgument> {
                let PrefixRef {
                    interface_id,
                    prefix,
                } = prefix_ref(&r.interface_id, r.prefix.as_ref(), $read)?;
                Ok(CreatePrefix {
                    interface_id,
                    prefix,
                    preferred_underlay: ctx.preferred_underlay(&r.preferred_underlay_route)?,
                })
            }
        }

        impl FromRequest<proto::$delete> for PrefixRef<$prefix> {
            fn from_request(r: proto::$delete, _: &RequestContext) -> Result<Self, InvalidArgument> {
                prefix_ref(&r.interface_id, r.prefix.as_ref(), $read)
            }
        }

        try_from_request!(
            proto::$create => CreatePrefix<$prefix>,
            proto::$delete => PrefixRef<$prefix>,
        );

        impl From<&CreatePrefix<$prefix>> for proto::$create {
            fn from(m: &CreatePrefix<$prefix>) -> Self {
                proto::$create {
                    interface_id: m.interface_id.clone().into_bytes(),
                    prefix: Some(fields::prefix_message(m.prefix)),
                    preferred_underlay_route: m
                        .preferred_underlay
                        .map(fields::ip_text)
                        .unwrap_or_default(),
                }
            }
        }

        impl From<&PrefixRef<$prefix>> for proto::$delete {
            fn from(m: &PrefixRef<$prefix>) -> Self {
                proto::$delete {
                    interface_id: m.interface_id.clone().into_bytes(),
                    prefix: Some(fields::prefix_message(m.prefix)),
                }
            }
        }

        impl From<Vec<PrefixEntry>> for proto::$list {
            fn from(list: Vec<PrefixEntry>) -> Self {
                succeeded(|r: &mut Self| r.prefixes = list.into_iter().map(Into::into).collect())
            }
        }

        impl TryFrom<proto::$list> for Vec<PrefixEntry> {
            type Error = ResponseError;

            fn try_from(r: proto::$list) -> Result<Self, ResponseError> {
                r.prefixes.into_iter().map(PrefixEntry::try_from).collect()
            }
        }
    };
}

prefix_family!(
    CreatePrefixRequest,
    DeletePrefixRequest,
    ListPrefixesResponse,
    RequestPrefix,
    fields::request_prefix
);
prefix_family!(
    CreateLoadBalancerPrefixRequest,
    DeleteLoadBalancerPrefixRequest,
    ListLoadBalancerPrefixesResponse,
    IpPrefix,
    fields::family_prefix
);

impl From<PrefixEntry> for proto::Prefix {
    fn from(m: PrefixEntry) -> Self {
        proto::Prefix {
            underlay_route: fields::ip_text(m.underlay_route),
            ..fields::prefix_message(m.prefix)
        }
    }
}

impl TryFrom<proto::Prefix> for PrefixEntry {
    type Error = ResponseError;

    fn try_from(p: proto::Prefix) -> Result<Self, ResponseError> {
        let path = PrefixPath {
            prefix: "Prefix",
            ip: "Prefix.ip",
            length: "Prefix.length",
        };
        Ok(PrefixEntry {
            prefix: fields::resp_prefix(Some(&p), path)?,
            underlay_route: fields::resp_ipv6(&p.underlay_route, "Prefix.underlay_route")?,
        })
    }
}
