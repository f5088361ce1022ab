//! `dhcp`: the DHCPv4 server of the gateway (dataplane.md §5.2). The request is rewritten
//! in place into the OFFER or ACK, with upstream's options in upstream's order.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};

use super::GATEWAY_V4;
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wire::dhcpv4::{self, message_type, option, OptionWriter};
use crate::wire::ethernet::{self, MacAddr, HEADER_LEN as ETH};
use crate::wire::{ipv4, udp};

/// Where the BOOTP message starts: upstream assumes a 20-byte IPv4 header.
const BOOTP: usize = ETH + ipv4::HEADER_LEN + udp::HEADER_LEN;
/// Room for options in a 1500-byte IP packet.
const MAX_OPTIONS: usize = 1500 - ETH - ipv4::HEADER_LEN - udp::HEADER_LEN - dhcpv4::FIXED_LEN;
const PXE_VENDOR_CLASS: &[u8] = b"PXEClient:Arch:00007";
const IPXE_USER_CLASS: &[u8] = b"iPXE";
const PXE_TFTP_PATH: &[u8] = b"ipxe/x86_64/ipxe.new";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PxeMode {
    None,
    Tftp,
    Http,
}

/// Message type and PXE mode of a request; `None` if malformed or without a type.
fn parse_options(msg: &dhcpv4::Packet<&[u8]>) -> Option<(u8, PxeMode)> {
    let mut msg_type = None;
    let mut pxe = PxeMode::None;
    for opt in msg.options() {
        let (code, value) = opt.ok()?;
        match code {
            option::MESSAGE_TYPE => msg_type = Some(*value.first()?),
            option::USER_CLASS if value == IPXE_USER_CLASS => pxe = PxeMode::Http,
            option::VENDOR_CLASS_ID
                if value.len() >= PXE_VENDOR_CLASS.len()
                    && value
                        .windows(PXE_VENDOR_CLASS.len())
                        .any(|w| w == PXE_VENDOR_CLASS) =>
            {
                pxe = PxeMode::Tftp
            }
            _ => {}
        }
    }
    Some((msg_type?, pxe))
}

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let port_id = pkt.meta.in_port;
    let Some(port) = cx.ports.get(port_id).copied() else {
        return Next::Drop(DropReason::UnknownPort);
    };
    let frame = pkt.frame();
    if frame.len() < BOOTP + dhcpv4::FIXED_LEN {
        return Next::Drop(DropReason::DhcpTooShort);
    }
    let vf = cx.state.vf(port_id);
    let Some(vm_ip) = vf.and_then(|vf| vf.ipv4) else {
        return Next::Drop(DropReason::DhcpNoAddress);
    };
    if ipv4::Packet::new_checked(&frame[ETH..]).map(|p| p.header_len()) != Ok(ipv4::HEADER_LEN) {
        return Next::Drop(DropReason::Malformed);
    }
    let msg = dhcpv4::Packet::new_unchecked(&frame[BOOTP..]);
    if msg.op() != dhcpv4::OP_REQUEST {
        return Next::Drop(DropReason::DhcpNotRequest);
    }
    let Some((msg_type, requested_pxe)) = parse_options(&msg) else {
        return Next::Drop(DropReason::DhcpMalformed);
    };
    let answer = match msg_type {
        message_type::DISCOVER => message_type::OFFER,
        message_type::REQUEST => message_type::ACK,
        _ => return Next::Drop(DropReason::DhcpUnhandled),
    };
    if port.is_pf() {
        return Next::Drop(DropReason::AnswerToPf);
    }
    // PXE fields need an IPv4 boot server on the interface (upstream aborts otherwise)
    let pxe = vf
        .and_then(|vf| vf.pxe.as_ref())
        .and_then(|p| match p.next_server {
            IpAddr::V4(server) if requested_pxe != PxeMode::None => Some((server, p)),
            _ => None,
        });
    let client_mac = ethernet::Frame::new_unchecked(frame).src_addr();
    let hostname = vf.and_then(|vf| vf.hostname.as_deref());

    // room for the longest answer; the frame is cut to the real length at the end
    if !pkt.set_len(BOOTP + dhcpv4::FIXED_LEN + MAX_OPTIONS) {
        return Next::Drop(DropReason::DhcpTooLong);
    }
    let frame = pkt.frame_mut();
    let mut eth = ethernet::Frame::new_unchecked(&mut *frame);
    eth.set_dst_addr(client_mac);
    eth.set_src_addr(port.mac);

    let mut msg = dhcpv4::Packet::new_unchecked(&mut frame[BOOTP..]);
    msg.set_op(dhcpv4::OP_REPLY);
    msg.set_magic(dhcpv4::MAGIC_COOKIE);
    msg.set_yiaddr(vm_ip);
    msg.set_giaddr(GATEWAY_V4);
    msg.set_chaddr_mac(client_mac);
    let ip_dst = match pxe {
        Some((server, p)) => {
            msg.set_siaddr(server);
            let mut file = [0u8; dhcpv4::field::FILE_LEN];
            let len = if requested_pxe == PxeMode::Tftp {
                file[..PXE_TFTP_PATH.len()].copy_from_slice(PXE_TFTP_PATH);
                PXE_TFTP_PATH.len()
            } else {
                let mut w = &mut file[..dhcpv4::field::FILE_LEN - 1];
                let room = w.len();
                // a boot file name longer than the field is cut, as snprintf does
                let _ = write!(w, "http://{server}{}", p.boot_filename);
                room - w.len()
            };
            msg.set_file(&file[..len]);
            Ipv4Addr::BROADCAST
        }
        None => {
            msg.set_siaddr(GATEWAY_V4);
            vm_ip
        }
    };

    let mut opts = OptionWriter::new(&mut msg.options_mut()[..MAX_OPTIONS]);
    let written = (|| {
        opts.push(option::MESSAGE_TYPE, &[answer])?;
        opts.push(option::LEASE_TIME, &u32::MAX.to_be_bytes())?;
        opts.push(option::SERVER_ID, &GATEWAY_V4.octets())?;
        opts.push(option::CLASSLESS_ROUTE, &cx.consts.classless_routes)?;
        opts.push(option::SUBNET_MASK, &[255, 255, 255, 255])?;
        opts.push(option::INTERFACE_MTU, &cx.cfg.dhcp_mtu.to_be_bytes())?;
        if pxe.is_some() {
            opts.push(option::ROUTER, &GATEWAY_V4.octets())?;
        }
        if !cx.consts.dhcp_dns.is_empty() {
            opts.push(option::DNS, &cx.consts.dhcp_dns)?;
        }
        if let Some(name) = hostname {
            opts.push(option::HOSTNAME, name.as_bytes())?;
        }
        opts.finish()
    })();
    let Ok(options_len) = written else {
        return Next::Drop(DropReason::DhcpTooLong);
    };

    let bootp_len = dhcpv4::FIXED_LEN + options_len;
    let udp_len = (udp::HEADER_LEN + bootp_len) as u16;
    let mut ip = ipv4::Packet::new_unchecked(&mut frame[ETH..]);
    ip.set_src_addr(GATEWAY_V4);
    ip.set_dst_addr(ip_dst);
    ip.set_total_len(ipv4::HEADER_LEN as u16 + udp_len);
    ip.fill_checksum();
    if pxe.is_some() {
        ethernet::Frame::new_unchecked(&mut *frame).set_dst_addr(MacAddr::BROADCAST);
    }
    let end = BOOTP + bootp_len;
    let mut u = udp::Packet::new_unchecked(&mut frame[ETH + ipv4::HEADER_LEN..end]);
    u.set_src_port(dhcpv4::SERVER_PORT);
    u.set_dst_port(dhcpv4::CLIENT_PORT);
    u.set_len(udp_len);
    u.fill_checksum_v4(GATEWAY_V4, ip_dst);
    if !pkt.set_len(end) {
        return Next::Drop(DropReason::DhcpTooLong);
    }
    if answer == message_type::ACK {
        cx.learn_neigh_mac(port_id, client_mac);
    }
    Next::Tx(port_id)
}
