//! The HA sync frames (dataplane.md §16.2): raw Ethernet with ethertype 0x88B5, a type
//! byte and a packed body. Multi-byte fields are in the sender's host byte order, which
//! this codec fixes to little endian (the only order both peers of a pair ever run);
//! fields marked "network" are big endian.

use std::net::Ipv4Addr;

use dpservice::shm::catalogue::{PortmapKey, PortoverloadKey};

use crate::graph::sync_outbox::SyncMessage;
use crate::port::PortId;
use crate::wire::MacAddr;

/// Destination MAC of every sync frame.
pub const DST_MAC: MacAddr = MacAddr([0x02, 0x64, 0x70, 0x73, 0x00, 0x02]);
/// Source MAC of every sync frame.
pub const SRC_MAC: MacAddr = MacAddr([0x02, 0x64, 0x70, 0x73, 0x00, 0x01]);
/// IEEE local experimental ethertype (RFC 7042).
pub const ETHERTYPE: u16 = 0x88B5;
/// Ethernet header.
const ETH_LEN: usize = 14;

/// Message type bytes.
pub mod msg_type {
    pub const NAT_CREATE: u8 = 1;
    pub const NAT_DELETE: u8 = 2;
    pub const VIRTSVC_CONNECTION: u8 = 3;
    pub const VM_MAC: u8 = 4;
    pub const DUMP_REQUEST: u8 = 5;
}

/// Packed portmap key.
pub const PORTMAP_KEY_LEN: usize = 23;
/// Packed overload key.
pub const OVERLOAD_KEY_LEN: usize = 13;
/// Body lengths per message type.
pub const NAT_CREATE_LEN: usize = PORTMAP_KEY_LEN + OVERLOAD_KEY_LEN + 6;
pub const NAT_DELETE_LEN: usize = PORTMAP_KEY_LEN + OVERLOAD_KEY_LEN;
pub const VIRTSVC_CONNECTION_LEN: usize = 17;
pub const VM_MAC_LEN: usize = 8;

/// One sync message, either direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message {
    /// Types 1–3, active → standby: what the packet path tells the peer.
    Data(SyncMessage),
    /// Type 4, active → standby: a VF's VM MAC.
    VmMac { port_id: PortId, mac: MacAddr },
    /// Type 5, standby → active: send everything.
    DumpRequest,
}

impl Message {
    /// The type byte.
    pub fn type_byte(&self) -> u8 {
        match self {
            Message::Data(SyncMessage::NatCreate { .. }) => msg_type::NAT_CREATE,
            Message::Data(SyncMessage::NatDelete { .. }) => msg_type::NAT_DELETE,
            Message::Data(SyncMessage::VirtsvcConnection { .. }) => msg_type::VIRTSVC_CONNECTION,
            Message::VmMac { .. } => msg_type::VM_MAC,
            Message::DumpRequest => msg_type::DUMP_REQUEST,
        }
    }

    /// The graph's form of a message the packet path also makes (NAT and
    /// virtual-service messages); `None` for VM MAC and dump request.
    pub fn to_outbox(&self) -> Option<SyncMessage> {
        match *self {
            Message::Data(m) => Some(m),
            Message::VmMac { .. } | Message::DumpRequest => None,
        }
    }

    /// Whether a standby acts on it (the active answers only dump requests).
    pub fn for_standby(&self) -> bool {
        !matches!(self, Message::DumpRequest)
    }
}

impl From<SyncMessage> for Message {
    fn from(m: SyncMessage) -> Message {
        Message::Data(m)
    }
}

/// Why a received frame is no sync message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Shorter than an Ethernet header plus the type byte.
    #[error("frame of {0} bytes is too short for a sync message (at least 15 bytes)")]
    Short(usize),
    /// Another ethertype: something else is on the sync bridge.
    #[error(
        "ethertype {0:#06x} is not the sync ethertype 0x88b5; is another host on the sync bridge?"
    )]
    Ethertype(u16),
    /// A type byte this version does not know (a newer peer?).
    #[error("unknown sync message type {0}; both instances must run the same version")]
    UnknownType(u8),
    /// The body is shorter than its type needs.
    #[error("sync message type {kind} has a body of {len} bytes, needs {need}")]
    ShortBody { kind: u8, len: usize, need: usize },
    /// A field holds a value no sender writes.
    #[error("sync message type {kind}: {what}")]
    BadField { kind: u8, what: &'static str },
}

/// Encodes `msg` as a complete frame (no padding to the Ethernet minimum).
pub fn encode(msg: &Message) -> Vec<u8> {
    let mut f = Vec::with_capacity(ETH_LEN + 1 + NAT_CREATE_LEN);
    f.extend_from_slice(&DST_MAC.0);
    f.extend_from_slice(&SRC_MAC.0);
    f.extend_from_slice(&ETHERTYPE.to_be_bytes());
    f.push(msg.type_byte());
    match *msg {
        Message::Data(SyncMessage::NatCreate {
            portmap,
            overload,
            port_id,
            icmp_type,
            ip_checksum,
        }) => {
            put_portmap(&mut f, &portmap);
            put_overload(&mut f, &overload);
            f.extend_from_slice(&port_id.to_le_bytes());
            f.extend_from_slice(&icmp_type.to_le_bytes());
            f.extend_from_slice(&ip_checksum);
        }
        Message::Data(SyncMessage::NatDelete { portmap, overload }) => {
            put_portmap(&mut f, &portmap);
            put_overload(&mut f, &overload);
        }
        Message::Data(SyncMessage::VirtsvcConnection {
            virtual_addr,
            virtual_port,
            slot,
            vm_addr,
            vm_port,
            port_id,
            proto,
        }) => {
            f.extend_from_slice(&virtual_addr.octets());
            f.extend_from_slice(&virtual_port.to_be_bytes());
            f.extend_from_slice(&slot.to_le_bytes());
            f.extend_from_slice(&vm_addr.octets());
            f.extend_from_slice(&vm_port.to_be_bytes());
            f.extend_from_slice(&port_id.to_le_bytes());
            f.push(proto);
        }
        Message::VmMac { port_id, mac } => {
            f.extend_from_slice(&port_id.to_le_bytes());
            f.extend_from_slice(&mac.0);
        }
        Message::DumpRequest => {}
    }
    f
}

/// Decodes a received frame. Bytes after the body (Ethernet padding) are ignored; the
/// MAC addresses are not checked (the ethertype says what the frame is).
pub fn decode(frame: &[u8]) -> Result<Message, DecodeError> {
    if frame.len() < ETH_LEN {
        return Err(DecodeError::Short(frame.len()));
    }
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    if ethertype != ETHERTYPE {
        return Err(DecodeError::Ethertype(ethertype));
    }
    let Some((&kind, body)) = frame[ETH_LEN..].split_first() else {
        return Err(DecodeError::Short(frame.len()));
    };
    let need = match kind {
        msg_type::NAT_CREATE => NAT_CREATE_LEN,
        msg_type::NAT_DELETE => NAT_DELETE_LEN,
        msg_type::VIRTSVC_CONNECTION => VIRTSVC_CONNECTION_LEN,
        msg_type::VM_MAC => VM_MAC_LEN,
        msg_type::DUMP_REQUEST => 0,
        other => return Err(DecodeError::UnknownType(other)),
    };
    if body.len() < need {
        return Err(DecodeError::ShortBody {
            kind,
            len: body.len(),
            need,
        });
    }
    let mut r = Reader { b: body, at: 0 };
    Ok(match kind {
        msg_type::NAT_CREATE => Message::Data(SyncMessage::NatCreate {
            portmap: r.portmap(kind)?,
            overload: r.overload(),
            port_id: r.u16_le(),
            icmp_type: r.u16_le(),
            ip_checksum: r.array(),
        }),
        msg_type::NAT_DELETE => Message::Data(SyncMessage::NatDelete {
            portmap: r.portmap(kind)?,
            overload: r.overload(),
        }),
        msg_type::VIRTSVC_CONNECTION => Message::Data(SyncMessage::VirtsvcConnection {
            virtual_addr: Ipv4Addr::from(r.array::<4>()),
            virtual_port: u16::from_be_bytes(r.array()),
            slot: r.u16_le(),
            vm_addr: Ipv4Addr::from(r.array::<4>()),
            vm_port: u16::from_be_bytes(r.array()),
            port_id: r.u16_le(),
            proto: r.u8(),
        }),
        msg_type::VM_MAC => Message::VmMac {
            port_id: r.u16_le(),
            mac: MacAddr(r.array()),
        },
        _ => Message::DumpRequest,
    })
}

fn put_portmap(f: &mut Vec<u8>, k: &PortmapKey) {
    f.extend_from_slice(&k.vni.to_le_bytes());
    f.extend_from_slice(&k.addr);
    f.push(k.is_v6);
    f.extend_from_slice(&k.port.to_le_bytes());
}

fn put_overload(f: &mut Vec<u8>, k: &PortoverloadKey) {
    f.extend_from_slice(&k.nat_ip.to_le_bytes());
    f.extend_from_slice(&k.nat_port.to_le_bytes());
    f.extend_from_slice(&k.dst_ip.to_le_bytes());
    f.extend_from_slice(&k.dst_port.to_le_bytes());
    f.push(k.proto);
}

/// Reads fixed-size fields from a body whose length was checked before.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.b.get(self.at..self.at + N) {
            out.copy_from_slice(src);
        }
        self.at += N;
        out
    }

    fn u8(&mut self) -> u8 {
        self.array::<1>()[0]
    }

    fn u16_le(&mut self) -> u16 {
        u16::from_le_bytes(self.array())
    }

    fn u32_le(&mut self) -> u32 {
        u32::from_le_bytes(self.array())
    }

    fn portmap(&mut self, kind: u8) -> Result<PortmapKey, DecodeError> {
        let vni = self.u32_le();
        let addr = self.array();
        let is_v6 = self.u8();
        if is_v6 > 1 {
            return Err(DecodeError::BadField {
                kind,
                what: "the portmap key's is_v6 flag is neither 0 nor 1",
            });
        }
        Ok(PortmapKey {
            vni,
            addr,
            is_v6,
            pad0: 0,
            port: self.u16_le(),
        })
    }

    fn overload(&mut self) -> PortoverloadKey {
        let nat_ip = self.u32_le();
        let nat_port = self.u16_le();
        let dst_ip = self.u32_le();
        let dst_port = self.u16_le();
        PortoverloadKey {
            nat_ip,
            dst_ip,
            nat_port,
            dst_port,
            proto: self.u8(),
            pad0: [0; 3],
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use dpservice::shm::catalogue::addr_to_bytes;

    const HEADER: [u8; 14] = [
        0x02, 0x64, 0x70, 0x73, 0x00, 0x02, 0x02, 0x64, 0x70, 0x73, 0x00, 0x01, 0x88, 0xb5,
    ];

    /// VM 10.100.1.1 port 1024 in VNI 100, NAT 20.0.0.1:101 towards 45.86.6.106:1234 UDP.
    fn keys() -> (PortmapKey, PortoverloadKey) {
        let (addr, is_v6) = addr_to_bytes(Ipv4Addr::new(10, 100, 1, 1).into());
        (
            PortmapKey {
                vni: 100,
                addr,
                is_v6,
                pad0: 0,
                port: 1024,
            },
            PortoverloadKey {
                nat_ip: u32::from(Ipv4Addr::new(20, 0, 0, 1)),
                dst_ip: u32::from(Ipv4Addr::new(45, 86, 6, 106)),
                nat_port: 101,
                dst_port: 1234,
                proto: 17,
                pad0: [0; 3],
            },
        )
    }

    const PORTMAP_BYTES: [u8; 23] = [
        100, 0, 0, 0, // vni LE
        1, 1, 100, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // 10.100.1.1 as u32 LE
        0, // is_v6
        0x00, 0x04, // port 1024 LE
    ];
    const OVERLOAD_BYTES: [u8; 13] = [
        1, 0, 0, 20, // 20.0.0.1 as u32 LE
        101, 0, // NAT port LE
        106, 6, 86, 45, // 45.86.6.106 as u32 LE
        0xd2, 0x04, // 1234 LE
        17,
    ];

    fn golden(kind: u8, body: &[&[u8]]) -> Vec<u8> {
        let mut f = HEADER.to_vec();
        f.push(kind);
        for part in body {
            f.extend_from_slice(part);
        }
        f
    }

    #[test]
    fn nat_create_golden() {
        let (portmap, overload) = keys();
        let msg = Message::Data(SyncMessage::NatCreate {
            portmap,
            overload,
            port_id: 2,
            icmp_type: 8,
            ip_checksum: [0xab, 0xcd],
        });
        let want = golden(
            1,
            &[&PORTMAP_BYTES, &OVERLOAD_BYTES, &[2, 0, 8, 0, 0xab, 0xcd]],
        );
        assert_eq!(want.len(), 14 + 1 + 42);
        assert_eq!(encode(&msg), want);
        assert_eq!(decode(&want).unwrap(), msg);
    }

    #[test]
    fn nat_delete_golden() {
        let (portmap, overload) = keys();
        let msg = Message::Data(SyncMessage::NatDelete { portmap, overload });
        let want = golden(2, &[&PORTMAP_BYTES, &OVERLOAD_BYTES]);
        assert_eq!(want.len(), 14 + 1 + 36);
        assert_eq!(encode(&msg), want);
        assert_eq!(decode(&want).unwrap(), msg);
    }

    #[test]
    fn ipv6_portmap_address_is_in_network_order() {
        let (_, overload) = keys();
        let v6: std::net::Ipv6Addr = "2001:db8::1".parse().unwrap();
        let (addr, is_v6) = addr_to_bytes(v6.into());
        let portmap = PortmapKey {
            vni: 7,
            addr,
            is_v6,
            pad0: 0,
            port: 0x0102,
        };
        let f = encode(&Message::Data(SyncMessage::NatDelete { portmap, overload }));
        assert_eq!(&f[15..19], &[7, 0, 0, 0]);
        assert_eq!(&f[19..35], &v6.octets());
        assert_eq!(f[35], 1);
        assert_eq!(&f[36..38], &[0x02, 0x01]);
    }

    #[test]
    fn virtsvc_connection_golden() {
        let msg = Message::Data(SyncMessage::VirtsvcConnection {
            virtual_addr: Ipv4Addr::new(1, 2, 3, 4),
            virtual_port: 443,
            slot: 0x0203,
            vm_addr: Ipv4Addr::new(10, 100, 1, 1),
            vm_port: 5000,
            port_id: 3,
            proto: 6,
        });
        let want = golden(
            3,
            &[&[
                1, 2, 3, 4, // virtual IPv4, network
                0x01, 0xbb, // 443, network
                0x03, 0x02, // slot LE
                10, 100, 1, 1, // VM IPv4, network
                0x13, 0x88, // 5000, network
                3, 0, // port id LE
                6,
            ]],
        );
        assert_eq!(want.len(), 14 + 1 + 17);
        assert_eq!(encode(&msg), want);
        assert_eq!(decode(&want).unwrap(), msg);
    }

    #[test]
    fn vm_mac_and_dump_request_golden() {
        let msg = Message::VmMac {
            port_id: 0x0102,
            mac: MacAddr([0x52, 0x54, 0, 0, 0, 1]),
        };
        let want = golden(4, &[&[0x02, 0x01, 0x52, 0x54, 0, 0, 0, 1]]);
        assert_eq!(encode(&msg), want);
        assert_eq!(decode(&want).unwrap(), msg);

        let want = golden(5, &[]);
        assert_eq!(want.len(), 15, "no padding");
        assert_eq!(encode(&Message::DumpRequest), want);
        assert_eq!(decode(&want).unwrap(), Message::DumpRequest);
    }

    #[test]
    fn padding_after_the_body_is_ignored() {
        let mut f = golden(4, &[&[2, 0, 1, 2, 3, 4, 5, 6]]);
        f.resize(60, 0);
        assert_eq!(
            decode(&f).unwrap(),
            Message::VmMac {
                port_id: 2,
                mac: MacAddr([1, 2, 3, 4, 5, 6])
            }
        );
    }

    #[test]
    fn bad_frames_are_errors() {
        assert_eq!(decode(&[]), Err(DecodeError::Short(0)));
        assert_eq!(decode(&HEADER[..13]), Err(DecodeError::Short(13)));
        assert_eq!(decode(&HEADER), Err(DecodeError::Short(14)));
        let mut arp = HEADER.to_vec();
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        arp.push(5);
        assert_eq!(decode(&arp), Err(DecodeError::Ethertype(0x0806)));
        assert_eq!(decode(&golden(0, &[])), Err(DecodeError::UnknownType(0)));
        assert_eq!(decode(&golden(6, &[])), Err(DecodeError::UnknownType(6)));
        // every truncation of every body type
        let (portmap, overload) = keys();
        for msg in [
            Message::Data(SyncMessage::NatCreate {
                portmap,
                overload,
                port_id: 2,
                icmp_type: 0,
                ip_checksum: [0; 2],
            }),
            Message::Data(SyncMessage::NatDelete { portmap, overload }),
            Message::Data(SyncMessage::VirtsvcConnection {
                virtual_addr: Ipv4Addr::LOCALHOST,
                virtual_port: 1,
                slot: 1,
                vm_addr: Ipv4Addr::LOCALHOST,
                vm_port: 1,
                port_id: 2,
                proto: 17,
            }),
            Message::VmMac {
                port_id: 2,
                mac: MacAddr([1; 6]),
            },
        ] {
            let f = encode(&msg);
            for cut in 15..f.len() {
                assert!(
                    matches!(decode(&f[..cut]), Err(DecodeError::ShortBody { .. })),
                    "{msg:?} cut at {cut}"
                );
            }
        }
        let mut f = encode(&Message::Data(SyncMessage::NatDelete { portmap, overload }));
        f[15 + 20] = 2;
        assert!(matches!(
            decode(&f),
            Err(DecodeError::BadField { kind: 2, .. })
        ));
    }

    #[test]
    fn outbox_messages_convert_field_for_field() {
        let (portmap, overload) = keys();
        let m: Message = SyncMessage::NatCreate {
            portmap,
            overload,
            port_id: 4,
            icmp_type: 0,
            ip_checksum: [1, 2],
        }
        .into();
        assert_eq!(
            m,
            Message::Data(SyncMessage::NatCreate {
                portmap,
                overload,
                port_id: 4,
                icmp_type: 0,
                ip_checksum: [1, 2]
            })
        );
        // and back, for every kind the packet path makes
        for out in [
            SyncMessage::NatCreate {
                portmap,
                overload,
                port_id: 4,
                icmp_type: 8,
                ip_checksum: [1, 2],
            },
            SyncMessage::NatDelete { portmap, overload },
            SyncMessage::VirtsvcConnection {
                virtual_addr: Ipv4Addr::new(1, 2, 3, 4),
                virtual_port: 443,
                slot: 7,
                vm_addr: Ipv4Addr::new(10, 0, 0, 1),
                vm_port: 5000,
                port_id: 3,
                proto: 6,
            },
        ] {
            assert_eq!(Message::from(out).to_outbox(), Some(out));
        }
        let vm_mac = Message::VmMac {
            port_id: 2,
            mac: MacAddr([1; 6]),
        };
        assert_eq!(vm_mac.to_outbox(), None);
        assert_eq!(Message::DumpRequest.to_outbox(), None);
    }
}
