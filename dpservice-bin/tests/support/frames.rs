//! Frames for the tests, built with etherparse (an implementation independent of the
//! daemon's header parsers and emitters).

use std::net::Ipv4Addr;

use dpservice_bin::wire::ethernet::MacAddr;

/// An Ethernet frame of type `et` around `payload`.
pub fn eth(dst: MacAddr, src: MacAddr, et: u16, payload: &[u8]) -> Vec<u8> {
    let header = etherparse::Ethernet2Header {
        destination: dst.0,
        source: src.0,
        ether_type: etherparse::EtherType(et),
    };
    [&header.to_bytes()[..], payload].concat()
}

/// An IPv4 + UDP packet (identification 1, TTL 64, no flags; UDP checksum 0: none,
/// valid for IPv4).
pub fn ipv4_udp(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let udp = etherparse::UdpHeader {
        source_port: sport,
        destination_port: dport,
        length: (etherparse::UdpHeader::LEN + data.len()) as u16,
        checksum: 0,
    };
    let mut ip = etherparse::Ipv4Header::new(
        udp.length,
        64,
        etherparse::ip_number::UDP,
        src.octets(),
        dst.octets(),
    )
    .expect("a test datagram fits an IPv4 packet");
    ip.identification = 1;
    ip.dont_fragment = false;
    ip.header_checksum = ip.calc_header_checksum();
    [&ip.to_bytes()[..], &udp.to_bytes()[..], data].concat()
}
