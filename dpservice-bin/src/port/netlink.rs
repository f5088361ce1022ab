//! The underlay router's MAC address from the kernel's IPv6 neighbour table
//! (dataplane.md §17.4): an `RTM_GETNEIGH` dump over rtnetlink, keeping the first entry
//! of the uplink flagged as a router and not `NOARP`.

use std::io;

use rustix::net::{self, AddressFamily, RecvFlags, SendFlags, SocketFlags, SocketType};

use crate::wire::MacAddr;

const NLMSG_HDR: usize = 16;
const NLMSG_ERROR: u16 = 2;
const NLMSG_DONE: u16 = 3;
const RTM_NEWNEIGH: u16 = 28;
const RTM_GETNEIGH: u16 = 30;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_DUMP: u16 = 0x300;
const NDMSG_LEN: usize = 12;
const NDA_LLADDR: u16 = 2;
const NTF_ROUTER: u8 = 0x80;
const NUD_NOARP: u16 = 0x40;
const AF_INET6: u8 = 10;

/// What one reply buffer of the dump said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dump {
    /// A router entry was found.
    Found(MacAddr),
    /// The buffer ended without the dump being complete.
    More,
    /// The dump is complete and had no router entry.
    Done,
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads one buffer of `RTM_NEWNEIGH` messages; `skip` is a MAC to ignore (the port's own,
/// for NICs that list themselves). Malformed messages end the buffer.
pub(crate) fn parse_dump(buf: &[u8], ifindex: u32, skip: Option<MacAddr>) -> io::Result<Dump> {
    let mut at = 0;
    while at + NLMSG_HDR <= buf.len() {
        let len = u32_at(buf, at) as usize;
        if len < NLMSG_HDR || at + len > buf.len() {
            break;
        }
        let msg = &buf[at..at + len];
        match u16_at(msg, 4) {
            NLMSG_DONE => return Ok(Dump::Done),
            NLMSG_ERROR => {
                let errno = if msg.len() >= NLMSG_HDR + 4 {
                    -(u32_at(msg, NLMSG_HDR) as i32)
                } else {
                    libc::EIO
                };
                return Err(io::Error::from_raw_os_error(errno));
            }
            RTM_NEWNEIGH if msg.len() >= NLMSG_HDR + NDMSG_LEN => {
                let nd = &msg[NLMSG_HDR..];
                let family = nd[0];
                let index = u32_at(nd, 4);
                let state = u16_at(nd, 8);
                let flags = nd[10];
                if family == AF_INET6
                    && index == ifindex
                    && flags & NTF_ROUTER != 0
                    && state & NUD_NOARP == 0
                {
                    if let Some(mac) = lladdr(&nd[NDMSG_LEN..]).filter(|m| Some(*m) != skip) {
                        return Ok(Dump::Found(mac));
                    }
                }
            }
            _ => {}
        }
        at += align4(len);
    }
    Ok(Dump::More)
}

/// The `NDA_LLADDR` attribute, if it is an Ethernet address.
fn lladdr(mut attrs: &[u8]) -> Option<MacAddr> {
    while attrs.len() >= 4 {
        let len = usize::from(u16_at(attrs, 0));
        if len < 4 || len > attrs.len() {
            return None;
        }
        if u16_at(attrs, 2) == NDA_LLADDR && len == 4 + 6 {
            return Some(MacAddr::from_slice(&attrs[4..10]));
        }
        attrs = &attrs[align4(len).min(attrs.len())..];
    }
    None
}

/// The dump request: netlink header + `ndmsg` for IPv6.
fn request(seq: u32) -> [u8; NLMSG_HDR + NDMSG_LEN] {
    let mut r = [0u8; NLMSG_HDR + NDMSG_LEN];
    r[0..4].copy_from_slice(&((NLMSG_HDR + NDMSG_LEN) as u32).to_ne_bytes());
    r[4..6].copy_from_slice(&RTM_GETNEIGH.to_ne_bytes());
    r[6..8].copy_from_slice(&(NLM_F_REQUEST | NLM_F_DUMP).to_ne_bytes());
    r[8..12].copy_from_slice(&seq.to_ne_bytes());
    r[NLMSG_HDR] = AF_INET6;
    r
}

/// Asks the kernel for the MAC of a router neighbour on `iface` (IPv6 neighbour table).
/// `skip` names a MAC to ignore. `Ok(None)` if there is no such entry (yet).
pub fn router_mac(iface: &str, skip: Option<MacAddr>) -> io::Result<Option<MacAddr>> {
    // protocol 0 of the netlink family is NETLINK_ROUTE
    let fd = net::socket_with(
        AddressFamily::NETLINK,
        SocketType::RAW,
        SocketFlags::CLOEXEC,
        None,
    )?;
    // any socket answers SIOCGIFINDEX, the netlink one included
    let index = net::netdevice::name_to_index(&fd, iface)?;
    net::send(&fd, &request(1), SendFlags::empty())?;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match net::recv(&fd, &mut buf[..], RecvFlags::empty()) {
            Ok((n, _)) => n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        };
        if n == 0 {
            return Ok(None);
        }
        match parse_dump(&buf[..n], index, skip)? {
            Dump::Found(mac) => return Ok(Some(mac)),
            Dump::Done => return Ok(None),
            Dump::More => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    /// One RTM_NEWNEIGH message as the kernel sends it (native byte order).
    fn neigh(ifindex: u32, state: u16, flags: u8, mac: Option<[u8; 6]>) -> Vec<u8> {
        let mut nd = vec![AF_INET6, 0, 0, 0];
        nd.extend_from_slice(&ifindex.to_ne_bytes());
        nd.extend_from_slice(&state.to_ne_bytes());
        nd.extend_from_slice(&[flags, 1]);
        // NDA_DST (1): a link-local router address
        nd.extend_from_slice(&20u16.to_ne_bytes());
        nd.extend_from_slice(&1u16.to_ne_bytes());
        nd.extend_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        if let Some(mac) = mac {
            nd.extend_from_slice(&10u16.to_ne_bytes());
            nd.extend_from_slice(&NDA_LLADDR.to_ne_bytes());
            nd.extend_from_slice(&mac);
            nd.extend_from_slice(&[0, 0]); // padding to 4
        }
        let mut m = Vec::new();
        m.extend_from_slice(&((NLMSG_HDR + nd.len()) as u32).to_ne_bytes());
        m.extend_from_slice(&RTM_NEWNEIGH.to_ne_bytes());
        m.extend_from_slice(&2u16.to_ne_bytes()); // NLM_F_MULTI
        m.extend_from_slice(&[0; 8]);
        m.extend_from_slice(&nd);
        m
    }

    fn done() -> Vec<u8> {
        let mut m = (20u32).to_ne_bytes().to_vec();
        m.extend_from_slice(&NLMSG_DONE.to_ne_bytes());
        m.extend_from_slice(&[0; 14]);
        m
    }

    const ROUTER: [u8; 6] = [0x02, 0xaa, 0, 0, 0, 1];
    const REACHABLE: u16 = 0x02;

    #[test]
    fn picks_the_router_entry_of_the_interface() {
        let mut buf = neigh(7, REACHABLE, 0, Some([1; 6])); // not a router
        buf.extend(neigh(8, REACHABLE, NTF_ROUTER, Some([2; 6]))); // other interface
        buf.extend(neigh(7, NUD_NOARP, NTF_ROUTER, Some([3; 6]))); // NOARP
        buf.extend(neigh(7, REACHABLE, NTF_ROUTER, None)); // no address
        buf.extend(neigh(7, REACHABLE, NTF_ROUTER, Some(ROUTER)));
        assert_eq!(
            parse_dump(&buf, 7, None).unwrap(),
            Dump::Found(MacAddr(ROUTER))
        );
        // the port's own MAC is skipped when asked to
        assert_eq!(
            parse_dump(&buf, 7, Some(MacAddr(ROUTER))).unwrap(),
            Dump::More
        );
    }

    #[test]
    fn done_and_errors() {
        let mut buf = neigh(7, REACHABLE, 0, Some([1; 6]));
        buf.extend(done());
        assert_eq!(parse_dump(&buf, 7, None).unwrap(), Dump::Done);
        let mut err = 20u32.to_ne_bytes().to_vec();
        err.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        err.extend_from_slice(&[0; 10]);
        err.extend_from_slice(&(-libc::EPERM).to_ne_bytes());
        assert_eq!(
            parse_dump(&err, 7, None).unwrap_err().raw_os_error(),
            Some(libc::EPERM)
        );
        // a truncated message ends the buffer without panicking
        let buf = neigh(7, REACHABLE, NTF_ROUTER, Some(ROUTER));
        assert_eq!(
            parse_dump(&buf[..buf.len() - 3], 7, None).unwrap(),
            Dump::More
        );
    }

    #[test]
    fn kernel_table_in_a_namespace() {
        use crate::port::tap::tests::in_new_netns;
        use crate::port::tap::{TapConfig, TapPort};
        use crate::port::Port;
        in_new_netns(|| {
            let cfg = TapConfig {
                device: "net_tap0".into(),
                iface: "dtaprt".into(),
                mac: Some(MacAddr([0x22, 0x22, 0x22, 0x22, 0x22, 0])),
                persist: false,
            };
            let mut port = TapPort::open(&cfg).unwrap();
            port.start().unwrap();
            assert_eq!(router_mac("dtaprt", None).unwrap(), None);
            let ip = |args: &[&str]| {
                let st = std::process::Command::new("ip")
                    .args(args)
                    .status()
                    .unwrap();
                assert!(st.success(), "ip {args:?}");
            };
            ip(&[
                "-6",
                "neigh",
                "add",
                "fe80::99",
                "lladdr",
                "02:aa:00:00:00:01",
                "dev",
                "dtaprt",
                "router",
                "nud",
                "permanent",
            ]);
            assert_eq!(router_mac("dtaprt", None).unwrap(), Some(MacAddr(ROUTER)));
            assert!(router_mac("nonexistent0", None).is_err());
        });
    }
}
