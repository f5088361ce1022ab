//! The text line of one ring entry (tools.md §1.5): time, packet id, from, arrow, to and
//! the packet's layers. The layers are parsed from the captured bytes: the IPv4 header
//! length is honoured and IPv6 extension headers are walked.

use std::fmt::Write as _;

/// The layers of a frame joined by ` / `; empty when not even Ethernet is there.
pub fn layers(frame: &[u8]) -> String {
    let mut out = String::new();
    if frame.len() < 14 {
        return out;
    }
    let mac = |b: &[u8]| {
        b.iter()
            .map(|x| format!("{x:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    let _ = write!(out, "{} -> {}", mac(&frame[6..12]), mac(&frame[0..6]));
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    match ethertype {
        0x0800 => ipv4(&frame[14..], &mut out),
        0x86DD => ipv6(&frame[14..], &mut out),
        _ => {}
    }
    out
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn ipv4(p: &[u8], out: &mut String) {
    if p.len() < 20 {
        return;
    }
    let _ = write!(
        out,
        " / {}.{}.{}.{} -> {}.{}.{}.{}",
        p[12], p[13], p[14], p[15], p[16], p[17], p[18], p[19]
    );
    let ihl = usize::from(p[0] & 0x0F) * 4;
    if ihl < 20 || p.len() < ihl {
        return;
    }
    l4(p[9], &p[ihl..], out);
}

/// Eight groups of lower-case hex, no `::` compression (upstream's rendering).
pub fn ipv6_text(a: &[u8]) -> String {
    a.chunks_exact(2)
        .map(|g| format!("{:x}", u16::from_be_bytes([g[0], g[1]])))
        .collect::<Vec<_>>()
        .join(":")
}

/// The transport header after IPv6 extension headers: (next header, offset).
pub fn ipv6_payload(p: &[u8]) -> Option<(u8, usize)> {
    if p.len() < 40 {
        return None;
    }
    let mut next = p[6];
    let mut at = 40;
    for _ in 0..8 {
        match next {
            0 | 43 | 60 => {
                next = *p.get(at)?;
                at += (usize::from(*p.get(at + 1)?) + 1) * 8;
            }
            44 => {
                next = *p.get(at)?;
                at += 8;
            }
            _ => break,
        }
    }
    (at <= p.len()).then_some((next, at))
}

fn ipv6(p: &[u8], out: &mut String) {
    if p.len() < 40 {
        return;
    }
    let _ = write!(
        out,
        " / {} -> {}",
        ipv6_text(&p[8..24]),
        ipv6_text(&p[24..40])
    );
    let Some((next, at)) = ipv6_payload(p) else {
        return;
    };
    match next {
        4 => ipv4(&p[at..], out),
        41 => ipv6(&p[at..], out),
        n => l4(n, &p[at..], out),
    }
}

fn l4(proto: u8, p: &[u8], out: &mut String) {
    match proto {
        17 => {
            if let (Some(s), Some(d), Some(l)) = (be16(p, 0), be16(p, 2), be16(p, 4)) {
                let _ = write!(out, " / UDP {s} -> {d} len {l}");
            }
        }
        6 => {
            if let (Some(s), Some(d), Some(seq), Some(ack), Some(&f)) =
                (be16(p, 0), be16(p, 2), be32(p, 4), be32(p, 8), p.get(13))
            {
                let _ = write!(
                    out,
                    " / TCP {s} -> {d} [{}] seq {seq} ack {ack}",
                    tcp_flags(f)
                );
            }
        }
        1 | 58 => {
            if let (Some(&t), Some(&c), Some(id), Some(seq)) =
                (p.first(), p.get(1), be16(p, 4), be16(p, 6))
            {
                let _ = write!(out, " / ICMP {t}-{c} id {id} seq {seq}");
            }
        }
        _ => {}
    }
}

/// TCP flag letters in upstream's order, with upstream's deviations for combinations
/// that legitimate traffic never has (tools.md §1.5).
pub fn tcp_flags(f: u8) -> String {
    const ODD: [(u8, &str); 20] = [
        (0x1f, "APRSF"),
        (0x2f, "UPRSF"),
        (0x37, "UARSF"),
        (0x3c, "UAPR"),
        (0x4f, "EPRSF"),
        (0x57, "EARSF"),
        (0x5c, "EAPR"),
        (0x67, "EURSF"),
        (0x6c, "EUPR"),
        (0x74, "EUAR"),
        (0x97, "CARSF"),
        (0x9c, "CAPR"),
        (0xa7, "CURSF"),
        (0xac, "CUPR"),
        (0xb4, "CUAR"),
        (0xc7, "CERSF"),
        (0xcc, "CEPR"),
        (0xd4, "CEAR"),
        (0xe4, "CEUR"),
        (0x8f, "CPRSF"),
    ];
    if let Some((_, s)) = ODD.iter().find(|(v, _)| *v == f) {
        return (*s).to_owned();
    }
    "FSRPAUEC"
        .chars()
        .enumerate()
        .filter(|(i, _)| f & (1 << i) != 0)
        .map(|(_, c)| c)
        .collect()
}

/// `HH:MM:SS.mmm` of a realtime timestamp, UTC, milliseconds truncated.
pub fn time_of_day(ns: u64) -> String {
    let secs = ns / 1_000_000_000;
    let ms = (ns / 1_000_000) % 1000;
    let day = secs % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{ms:03}",
        day / 3600,
        (day / 60) % 60,
        day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth(ethertype: u16) -> Vec<u8> {
        let mut f = vec![0x22, 0x22, 0x22, 0x22, 0x22, 0x00];
        f.extend([0x66, 0x66, 0x66, 0x66, 0x66, 0x0a]);
        f.extend(ethertype.to_be_bytes());
        f
    }

    fn ipv4_hdr(proto: u8, src: [u8; 4], dst: [u8; 4]) -> Vec<u8> {
        let mut h = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
        h.extend(src);
        h.extend(dst);
        h
    }

    #[test]
    fn icmp_through_an_ipv6_tunnel() {
        let mut f = eth(0x86DD);
        let mut v6 = vec![0x60, 0, 0, 0, 0, 28, 4, 64];
        v6.extend([0xfc, 0, 0, 1, 0, 0, 0, 0, 0xd0, 0, 0, 0, 0, 0, 0, 1]);
        v6.extend([0xfc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
        f.extend(v6);
        f.extend(ipv4_hdr(1, [10, 100, 1, 1], [45, 86, 6, 6]));
        f.extend([8, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(
            layers(&f),
            "66:66:66:66:66:0A -> 22:22:22:22:22:00 / fc00:1:0:0:d000:0:0:1 -> \
             fc00:0:0:0:0:0:0:ffff / 10.100.1.1 -> 45.86.6.6 / ICMP 8-0 id 1 seq 1"
        );
    }

    #[test]
    fn tcp_udp_arp_and_options() {
        let mut f = eth(0x0800);
        let mut ip = ipv4_hdr(6, [10, 100, 1, 2], [10, 100, 1, 1]);
        ip[0] = 0x46; // one option word
        ip.extend([1, 1, 1, 1]);
        f.extend(ip);
        f.extend([0xa9, 0xf8, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 0x50, 0x02]);
        assert!(
            layers(&f).ends_with("10.100.1.2 -> 10.100.1.1 / TCP 43512 -> 80 [S] seq 1000 ack 0")
        );
        let mut u = eth(0x0800);
        u.extend(ipv4_hdr(17, [0; 4], [255; 4]));
        u.extend([0, 68, 0, 67, 1, 52, 0, 0]);
        assert!(layers(&u).ends_with("0.0.0.0 -> 255.255.255.255 / UDP 68 -> 67 len 308"));
        let a = eth(0x0806);
        assert_eq!(layers(&a), "66:66:66:66:66:0A -> 22:22:22:22:22:00");
        assert_eq!(layers(&a[..5]), "");
    }

    #[test]
    fn flags_and_time() {
        assert_eq!(tcp_flags(0x12), "SA");
        assert_eq!(tcp_flags(0x18), "PA");
        assert_eq!(tcp_flags(0), "");
        assert_eq!(tcp_flags(0x1f), "APRSF");
        assert_eq!(tcp_flags(0x8f), "CPRSF");
        assert_eq!(
            time_of_day(86_400_000_000_000 + 36_942_123_999_999),
            "10:15:42.123"
        );
    }
}
