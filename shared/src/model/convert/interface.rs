//! Interfaces (grpc-api.md §8.2).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::fields::{self, TEXT_MAX};
use super::response::succeeded;
use super::{try_from_request, FromRequest, RequestContext};
use crate::model::{
    CreateInterface, CreatedInterface, Interface, InvalidArgument, Metering, ObjectId, Pxe,
    ResponseError,
};
use crate::proto;

/// Longest PXE boot file name: upstream's buffer holds 32 bytes.
const BOOT_FILENAME_MAX: usize = 31;

fn id_characters_valid(id: &[u8]) -> bool {
    id.iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

impl FromRequest<proto::CreateInterfaceRequest> for CreateInterface {
    fn from_request(
        r: proto::CreateInterfaceRequest,
        ctx: &RequestContext,
    ) -> Result<Self, InvalidArgument> {
        const BAD_ID: InvalidArgument = InvalidArgument("Invalid interface_id");
        // Upstream checks the characters first and the length only after the device name.
        if !id_characters_valid(&r.interface_id) {
            return Err(BAD_ID);
        }
        let v4 = r.ipv4_config.unwrap_or_default().primary_address;
        let ipv4 = fields::ipv4_text(&v4, "Invalid ipv4_config.primary_address")?;
        let v6 = r.ipv6_config.unwrap_or_default().primary_address;
        let ipv6 = fields::ipv6_text(&v6, "Invalid ipv6_config.primary_address")?;
        let (ipv4, ipv6) = (fields::non_zero(ipv4), fields::non_zero(ipv6));
        if ipv4.is_none() && ipv6.is_none() {
            return Err(InvalidArgument(
                "Invalid ipv4_config.primary_address and ipv6_config.primary_address combination",
            ));
        }
        let pxe_config = r.pxe_config.unwrap_or_default();
        let pxe = if pxe_config.next_server.is_empty() {
            None
        } else {
            // The boot server's family follows the interface: IPv4 only without IPv6.
            let bad_server = InvalidArgument("Invalid pxe_config.next_server");
            let next_server =
                crate::model::parse_ip_text(pxe_config.next_server.as_bytes(), ipv6.is_some())
                    .ok_or(bad_server)?;
            let boot_filename = fields::text(
                pxe_config.boot_filename,
                BOOT_FILENAME_MAX,
                "Invalid pxe_config.boot_filename",
            )?;
            Some(Pxe {
                next_server,
                boot_filename,
            })
        };
        let device = fields::text(r.device_name, TEXT_MAX, "Invalid device_name")?;
        if r.interface_id.is_empty() || r.interface_id.len() > TEXT_MAX {
            return Err(BAD_ID);
        }
        let hostname = if r.hostname.is_empty() {
            None
        } else {
            Some(fields::text(r.hostname, TEXT_MAX, "Invalid hostname")?)
        };
        let preferred_underlay = ctx.preferred_underlay(&r.preferred_underlay_route)?;
        let metering = r.metering_parameters.unwrap_or_default();
        Ok(CreateInterface {
            // Only ASCII characters passed the check above.
            id: ObjectId::from(r.interface_id),
            vni: r.vni,
            ipv4,
            ipv6,
            pxe,
            device,
            metering: Metering {
                total_rate: metering.total_rate,
                public_rate: metering.public_rate,
            },
            preferred_underlay,
            hostname,
        })
    }
}

try_from_request!(proto::CreateInterfaceRequest => CreateInterface);

impl From<&CreateInterface> for proto::CreateInterfaceRequest {
    fn from(m: &CreateInterface) -> Self {
        proto::CreateInterfaceRequest {
            interface_type: proto::InterfaceType::Virtual as i32,
            interface_id: m.id.clone().into_bytes(),
            vni: m.vni,
            ipv4_config: Some(proto::IpConfig {
                primary_address: fields::ip_text(m.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED)),
            }),
            ipv6_config: Some(proto::IpConfig {
                primary_address: fields::ip_text(m.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED)),
            }),
            pxe_config: m.pxe.as_ref().map(|p| proto::PxeConfig {
                next_server: crate::model::format_ip(p.next_server),
                boot_filename: p.boot_filename.clone(),
            }),
            device_name: m.device.clone(),
            metering_parameters: Some(metering(m.metering)),
            preferred_underlay_route: m
                .preferred_underlay
                .map(fields::ip_text)
                .unwrap_or_default(),
            hostname: m.hostname.clone().unwrap_or_default(),
        }
    }
}

fn metering(m: Metering) -> proto::MeteringParams {
    proto::MeteringParams {
        total_rate: m.total_rate,
        public_rate: m.public_rate,
    }
}

impl From<Interface> for proto::Interface {
    fn from(m: Interface) -> Self {
        proto::Interface {
            id: m.id.into_bytes(),
            vni: m.vni,
            // A disabled family reads `0.0.0.0` / `::`, never empty (§4.6).
            primary_ipv4: fields::ip_text(m.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED)),
            primary_ipv6: fields::ip_text(m.ipv6.unwrap_or(Ipv6Addr::UNSPECIFIED)),
            underlay_route: fields::ip_text(m.underlay_route),
            pci_name: m.device,
            metering_params: Some(metering(m.metering)),
            hostname: m.hostname.unwrap_or_default(),
        }
    }
}

impl From<Interface> for proto::GetInterfaceResponse {
    fn from(m: Interface) -> Self {
        succeeded(|r: &mut Self| r.interface = Some(m.into()))
    }
}

impl From<Vec<Interface>> for proto::ListInterfacesResponse {
    fn from(list: Vec<Interface>) -> Self {
        succeeded(|r: &mut Self| r.interfaces = list.into_iter().map(Into::into).collect())
    }
}

impl From<CreatedInterface> for proto::CreateInterfaceResponse {
    fn from(m: CreatedInterface) -> Self {
        succeeded(|r: &mut Self| {
            r.underlay_route = fields::ip_text(m.underlay_route);
            // Always present on success; the PCI fields are no longer filled (§6).
            r.vf = Some(proto::VirtualFunction {
                name: m.vf_name,
                ..Default::default()
            });
        })
    }
}

impl TryFrom<proto::Interface> for Interface {
    type Error = ResponseError;

    fn try_from(p: proto::Interface) -> Result<Self, ResponseError> {
        let ipv4 = fields::resp_ipv4(&p.primary_ipv4, "Interface.primary_ipv4")?;
        let ipv6 = fields::resp_ipv6(&p.primary_ipv6, "Interface.primary_ipv6")?;
        let metering = p.metering_params.unwrap_or_default();
        Ok(Interface {
            id: ObjectId::from(&p.id[..]),
            vni: p.vni,
            ipv4: fields::non_zero(ipv4),
            ipv6: fields::non_zero(ipv6),
            underlay_route: fields::resp_ipv6(&p.underlay_route, "Interface.underlay_route")?,
            device: p.pci_name,
            metering: Metering {
                total_rate: metering.total_rate,
                public_rate: metering.public_rate,
            },
            hostname: (!p.hostname.is_empty()).then_some(p.hostname),
        })
    }
}

impl TryFrom<proto::GetInterfaceResponse> for Interface {
    type Error = ResponseError;

    fn try_from(r: proto::GetInterfaceResponse) -> Result<Self, ResponseError> {
        r.interface
            .ok_or_else(|| ResponseError::new("GetInterfaceResponse.interface", "missing"))?
            .try_into()
    }
}

impl TryFrom<proto::ListInterfacesResponse> for Vec<Interface> {
    type Error = ResponseError;

    fn try_from(r: proto::ListInterfacesResponse) -> Result<Self, ResponseError> {
        r.interfaces.into_iter().map(Interface::try_from).collect()
    }
}

impl TryFrom<proto::CreateInterfaceResponse> for CreatedInterface {
    type Error = ResponseError;

    fn try_from(r: proto::CreateInterfaceResponse) -> Result<Self, ResponseError> {
        Ok(CreatedInterface {
            underlay_route: fields::resp_ipv6(
                &r.underlay_route,
                "CreateInterfaceResponse.underlay_route",
            )?,
            vf_name: r.vf.map(|vf| vf.name).unwrap_or_default(),
        })
    }
}
