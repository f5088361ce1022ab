//! `dhcpv6`: the DHCPv6 server of the gateway (dataplane.md §5.3). Answers SOLICIT,
//! REQUEST, RELEASE and CONFIRM in place; IPv6 forwarding does not depend on it.

use std::io::Write;
use std::net::{IpAddr, Ipv6Addr};

use super::GATEWAY_V6;
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next};
use crate::port::Buf;
use crate::wire::dhcpv6::{self, message_type, option, status, OptionWriter};
use crate::wire::ethernet::{self, MacAddr, HEADER_LEN as ETH};
use crate::wire::{ipv6, udp};

const UDP: usize = ETH + ipv6::HEADER_LEN;
const MSG: usize = UDP + udp::HEADER_LEN;
const OPTIONS: usize = MSG + dhcpv6::FIXED_LEN;
/// DUID-LL hardware type; any value works, this is upstream's.
const DUID_HW_TYPE: u16 = 0xabcd;
const MAX_CLIENT_ID: usize = 128;
/// Upstream's boot-URL buffer holds 95 characters.
const MAX_BOOT_URL: usize = 95;
const PXE_VENDOR_CLASS: &[u8] = b"PXEClient:Arch:00007";
const IPXE_USER_CLASS: &[u8] = b"iPXE";
const PXE_TFTP_PATH: &str = "ipxe/x86_64/ipxe.new";
/// Largest answer: server id, client id, IA_NA, rapid commit, 15 DNS servers, boot URL.
const MAX_REPLY_OPTIONS: usize = 14 + 4 + MAX_CLIENT_ID + 50 + 4 + 4 + 15 * 16 + 4 + MAX_BOOT_URL;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PxeMode {
    None,
    Tftp,
    Http,
}

/// What the answer echoes from the request.
struct Request<'a> {
    client_id: Option<&'a [u8]>,
    iaid: Option<[u8; 4]>,
    rapid_commit: bool,
    pxe: PxeMode,
}

fn parse(options: &[u8]) -> Option<Request<'_>> {
    let mut req = Request {
        client_id: None,
        iaid: None,
        rapid_commit: false,
        pxe: PxeMode::None,
    };
    for opt in dhcpv6::options(options) {
        let (code, value) = opt.ok()?;
        match code {
            option::CLIENT_ID => {
                if value.len() > MAX_CLIENT_ID {
                    return None;
                }
                req.client_id = Some(value);
            }
            option::IA_NA => {
                if value.len() < 12 {
                    return None;
                }
                req.iaid = Some([value[0], value[1], value[2], value[3]]);
            }
            option::RAPID_COMMIT => {
                if !value.is_empty() {
                    return None;
                }
                req.rapid_commit = true;
            }
            option::VENDOR_CLASS if value.len() >= 6 => {
                // upstream compares the first item's length without byte swapping
                let item_len = u16::from_le_bytes([value[4], value[5]]);
                if usize::from(item_len) >= PXE_VENDOR_CLASS.len()
                    && value[6..]
                        .windows(PXE_VENDOR_CLASS.len())
                        .any(|w| w == PXE_VENDOR_CLASS)
                {
                    req.pxe = PxeMode::Tftp;
                }
            }
            option::USER_CLASS if value.len() >= 2 + IPXE_USER_CLASS.len() => {
                let item_len = u16::from_be_bytes([value[0], value[1]]);
                if usize::from(item_len) == IPXE_USER_CLASS.len()
                    && &value[2..2 + IPXE_USER_CLASS.len()] == IPXE_USER_CLASS
                {
                    req.pxe = PxeMode::Http;
                }
            }
            _ => {}
        }
    }
    Some(req)
}

fn boot_url(mode: PxeMode, server: &Ipv6Addr, boot_filename: &str, out: &mut [u8]) -> usize {
    let mut w = &mut out[..MAX_BOOT_URL];
    // a longer URL is cut, as upstream's snprintf does
    let _ = match mode {
        PxeMode::Tftp => write!(w, "tftp://[{server}]/{PXE_TFTP_PATH}"),
        _ => write!(w, "http://[{server}]/{boot_filename}"),
    };
    MAX_BOOT_URL - w.len()
}

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    let port_id = pkt.meta.in_port;
    let Some(port) = cx.ports.get(port_id).copied() else {
        return Next::Drop(DropReason::UnknownPort);
    };
    let frame = pkt.frame();
    if frame.len() < OPTIONS {
        return Next::Drop(DropReason::Dhcpv6TooShort);
    }
    let msg_type = frame[MSG];
    let vf = cx.state.vf(port_id);
    let own_ipv6 = vf.and_then(|vf| vf.ipv6);
    let (answer, full) = match (own_ipv6, msg_type) {
        (None, message_type::SOLICIT | message_type::REQUEST) => (message_type::REPLY, false),
        (None, _) => return Next::Drop(DropReason::Dhcpv6Unhandled),
        (Some(_), message_type::SOLICIT) => (message_type::ADVERTISE, true),
        (Some(_), message_type::REQUEST | message_type::RELEASE) => (message_type::REPLY, true),
        (Some(_), message_type::CONFIRM) => (message_type::REPLY, false),
        (Some(_), _) => return Next::Drop(DropReason::Dhcpv6Unhandled),
    };
    if port.is_pf() {
        return Next::Drop(DropReason::AnswerToPf);
    }
    let client_mac = ethernet::Frame::new_unchecked(frame).src_addr();
    let client_ip = ipv6::Packet::new_unchecked(&frame[ETH..]).src_addr();

    // Build the options aside: they echo parts of the request they replace.
    let mut out = [0u8; MAX_REPLY_OPTIONS];
    let mut w = OptionWriter::new(&mut out);
    let built = match own_ipv6 {
        None => w.push(
            option::STATUS_CODE,
            &[&status::NO_ADDRS_AVAIL.to_be_bytes()],
        ),
        Some(_) if !full => Ok(()),
        Some(addr) => {
            let Some(req) = parse(&frame[OPTIONS..]) else {
                return Next::Drop(DropReason::Dhcpv6Malformed);
            };
            full_options(
                &mut w,
                cx,
                client_mac,
                addr,
                &req,
                vf.and_then(|v| v.pxe.as_ref()),
            )
        }
    };
    if built.is_err() {
        return Next::Drop(DropReason::Dhcpv6TooLong);
    }
    let opts_len = w.len();

    if !pkt.set_len(OPTIONS + opts_len) {
        return Next::Drop(DropReason::Dhcpv6TooLong);
    }
    let frame = pkt.frame_mut();
    frame[OPTIONS..].copy_from_slice(&out[..opts_len]);
    frame[MSG] = answer;
    let mut eth = ethernet::Frame::new_unchecked(&mut *frame);
    eth.set_dst_addr(client_mac);
    eth.set_src_addr(port.mac);
    let payload_len = (udp::HEADER_LEN + dhcpv6::FIXED_LEN + opts_len) as u16;
    let mut ip = ipv6::Packet::new_unchecked(&mut frame[ETH..]);
    ip.set_dst_addr(&client_ip);
    ip.set_src_addr(&GATEWAY_V6);
    ip.set_payload_len(payload_len);
    let mut u = udp::Packet::new_unchecked(&mut frame[UDP..]);
    u.set_src_port(dhcpv6::SERVER_PORT);
    u.set_dst_port(dhcpv6::CLIENT_PORT);
    u.set_len(payload_len);
    u.fill_checksum_v6(&GATEWAY_V6, &client_ip);
    Next::Tx(port_id)
}

/// Server ID, client ID, IA_NA, rapid commit, DNS servers, boot URL — in that order.
fn full_options(
    w: &mut OptionWriter<'_>,
    cx: &Ctx<'_>,
    client_mac: MacAddr,
    addr: Ipv6Addr,
    req: &Request<'_>,
    pxe: Option<&dpservice::model::Pxe>,
) -> Result<(), crate::wire::Malformed> {
    // upstream's DUID carries the client's MAC (quirk, harmless)
    w.push(
        option::SERVER_ID,
        &[
            &dhcpv6::DUID_LL.to_be_bytes(),
            &DUID_HW_TYPE.to_be_bytes(),
            &client_mac.0,
        ],
    )?;
    if let Some(id) = req.client_id {
        w.push(option::CLIENT_ID, &[id])?;
    }
    if let Some(iaid) = req.iaid {
        w.push(option::IA_NA, &[&dhcpv6::ia_na_single_address(iaid, &addr)])?;
    }
    if req.rapid_commit {
        w.push(option::RAPID_COMMIT, &[])?;
    }
    w.push(option::DNS_SERVERS, &[&cx.consts.dhcpv6_dns])?;
    // boot URL only with an IPv6 boot server (upstream aborts on an IPv4 one)
    if let Some((server, file)) = pxe.and_then(|p| match p.next_server {
        IpAddr::V6(s) => Some((s, p.boot_filename.as_str())),
        IpAddr::V4(_) => None,
    }) {
        if req.pxe != PxeMode::None {
            let mut url = [0u8; MAX_BOOT_URL];
            let n = boot_url(req.pxe, &server, file, &mut url);
            w.push(option::BOOT_FILE_URL, &[&url[..n]])?;
        }
    }
    Ok(())
}
