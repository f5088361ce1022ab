//! Frames for the tests, built byte by byte from the daemon's header emitters.

use std::net::Ipv4Addr;

use dpservice_bin::wire::ethernet::{self, MacAddr};
use dpservice_bin::wire::{ip_proto, ipv4};

/// An Ethernet frame of type `et` around `payload`.
pub fn eth(dst: MacAddr, src: MacAddr, et: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 14];
    ethernet::emit(&mut f, dst, src, et);
    f.extend_from_slice(payload);
    f
}

/// An IPv4 + UDP packet (UDP checksum 0: none, valid for IPv4).
pub fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 28];
    ipv4::Repr {
        src,
        dst,
        protocol: ip_proto::UDP,
        payload_len: (8 + data.len()) as u16,
        ttl: 64,
        tos: 0,
        ident: 1,
        flags_frag: 0,
    }
    .emit(&mut p);
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    p.extend_from_slice(data);
    p
}
