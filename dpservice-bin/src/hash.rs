//! The wire-visible hash functions of dataplane.md §19: Bob Jenkins' lookup3 in the form of
//! DPDK's `rte_jhash` family (flow hash, NAT port-map hash, virtual-service connection
//! hash) and the WCMP uplink table. The Maglev hashes and table live with the load
//! balancers that own them, in `state::maglev`; the worked examples below check them too.
//!
//! They are reproduced exactly so that uplink, NAT port and load-balancer target choices
//! match upstream (and an HA peer running upstream).

use std::net::{IpAddr, Ipv4Addr};

/// The initial value every upstream hash table uses.
pub const SEED: u32 = 0xfee1_900d;
const GOLDEN: u32 = 0xdead_beef;

#[inline(always)]
fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(4);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(6);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(8);
    *b = b.wrapping_add(*a);
    *a = a.wrapping_sub(*c);
    *a ^= c.rotate_left(16);
    *c = c.wrapping_add(*b);
    *b = b.wrapping_sub(*a);
    *b ^= a.rotate_left(19);
    *a = a.wrapping_add(*c);
    *c = c.wrapping_sub(*b);
    *c ^= b.rotate_left(4);
    *b = b.wrapping_add(*a);
}

#[inline(always)]
fn finalize(a: &mut u32, b: &mut u32, c: &mut u32) {
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(14));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(11));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(25));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(16));
    *a ^= *c;
    *a = a.wrapping_sub(c.rotate_left(4));
    *b ^= *a;
    *b = b.wrapping_sub(a.rotate_left(14));
    *c ^= *b;
    *c = c.wrapping_sub(b.rotate_left(24));
}

/// Little-endian word `i` of `key`, zero-padded past the end.
#[inline(always)]
fn word(key: &[u8], i: usize) -> u32 {
    let s = i * 4;
    let mut w = [0u8; 4];
    if s < key.len() {
        let n = (key.len() - s).min(4);
        w[..n].copy_from_slice(&key[s..s + n]);
    }
    u32::from_le_bytes(w)
}

/// lookup3 over `len` bytes given as little-endian words (zero-padded at the end).
#[inline(always)]
fn jhash_core(len: usize, initval: u32, word: impl Fn(usize) -> u32) -> u32 {
    let init = GOLDEN.wrapping_add(len as u32).wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    let mut rest = len;
    let mut w = 0;
    while rest > 12 {
        a = a.wrapping_add(word(w));
        b = b.wrapping_add(word(w + 1));
        c = c.wrapping_add(word(w + 2));
        mix(&mut a, &mut b, &mut c);
        w += 3;
        rest -= 12;
    }
    if rest == 0 {
        return c;
    }
    a = a.wrapping_add(word(w));
    if rest > 4 {
        b = b.wrapping_add(word(w + 1));
    }
    if rest > 8 {
        c = c.wrapping_add(word(w + 2));
    }
    finalize(&mut a, &mut b, &mut c);
    c
}

/// `rte_jhash` of a key already held as little-endian 32-bit words (`len` bytes of it),
/// without reading bytes one by one.
#[inline]
pub fn jhash_words(words: &[u32], len: usize, initval: u32) -> u32 {
    jhash_core(len, initval, |i| words.get(i).copied().unwrap_or(0))
}

/// DPDK's `rte_jhash`: the general lookup3 form over any byte length.
pub fn jhash_bytes(key: &[u8], initval: u32) -> u32 {
    jhash_core(key.len(), initval, |i| word(key, i))
}

/// The hash of an upstream table. Upstream picks DPDK's 1/2/3-word short forms for keys
/// of 4, 8 and 12 bytes; those add the same length bias as the general form, so the
/// general form gives identical results (checked in the tests).
#[inline]
pub fn jhash(key: &[u8], initval: u32) -> u32 {
    jhash_bytes(key, initval)
}

/// VNF types as they appear in flow keys (§19.2).
pub mod vnf_type {
    pub const UNDEFINED: u8 = 0;
    pub const INTERFACE_IP: u8 = 1;
    pub const VIP: u8 = 2;
    pub const NAT: u8 = 3;
    pub const LB: u8 = 4;
    pub const LB_ALIAS_PFX: u8 = 5;
    pub const ALIAS_PFX: u8 = 6;
}

/// The NAT port-map key of §16.2 (23 bytes) and its hash (§19.3).
pub fn portmap_key(vni: u32, src: &IpAddr, port: u16) -> [u8; 23] {
    let mut b = [0u8; 23];
    let (addr, v6) = dpservice::shm::catalogue::addr_to_bytes(*src);
    b[0..4].copy_from_slice(&vni.to_le_bytes());
    b[4..20].copy_from_slice(&addr);
    b[20] = v6;
    b[21..23].copy_from_slice(&port.to_le_bytes());
    b
}

pub fn portmap_hash(vni: u32, src: &IpAddr, port: u16) -> u32 {
    jhash(&portmap_key(vni, src, port), SEED)
}

/// The virtual-service connection hash (§19.3): the 8-byte key (port id LE, VM port and
/// VM IPv4 in network order) through the 2-word short form.
pub fn virtsvc_hash(port_id: u16, vm_port: u16, vm_ip: Ipv4Addr) -> u32 {
    let mut b = [0u8; 8];
    b[0..2].copy_from_slice(&port_id.to_le_bytes());
    b[2..4].copy_from_slice(&vm_port.to_be_bytes());
    b[4..8].copy_from_slice(&vm_ip.octets());
    jhash(&b, SEED)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::key::FlowKey;
    use crate::wcmp::{Uplink, Wcmp};
    use std::net::Ipv6Addr;

    use crate::state::maglev::{djb, murmur2, MaglevTable, TABLE_SIZE};

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse().unwrap())
    }

    fn lb_key(src: &str) -> FlowKey {
        FlowKey {
            l3_dst: v4("172.22.2.1"),
            l3_src: v4(src),
            proto: 17,
            port_dst: 1234,
            src: 53,
            vni: 100,
            vnf_type: vnf_type::UNDEFINED,
        }
    }

    fn targets() -> Vec<Ipv6Addr> {
        [
            "fc00:1::8000:1234:1",
            "fc00:1::8000:1234:2",
            "fc00:1::8000:1234:3",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect()
    }

    fn maglev_pick(key: &FlowKey) -> Ipv6Addr {
        let t = targets();
        t[MaglevTable::build(&t).pick(key.hash()).unwrap()]
    }

    #[test]
    fn example_lb_flow_45_86_6_6() {
        let k = lb_key("45.86.6.6");
        assert_eq!(k.hash(), 0xea89_f889);
        assert_eq!(
            maglev_pick(&k),
            "fc00:1::8000:1234:2".parse::<Ipv6Addr>().unwrap()
        );
    }

    #[test]
    fn example_lb_flow_45_86_6_106() {
        let k = lb_key("45.86.6.106");
        assert_eq!(k.hash(), 0xf35d_4eec);
        assert_eq!(
            maglev_pick(&k),
            "fc00:1::8000:1234:3".parse::<Ipv6Addr>().unwrap()
        );
    }

    fn icmp_key(dst: &str) -> FlowKey {
        FlowKey {
            l3_dst: v4(dst),
            l3_src: v4("10.100.1.1"),
            proto: 1,
            port_dst: 0,
            src: 8,
            vni: 100,
            vnf_type: vnf_type::UNDEFINED,
        }
    }

    #[test]
    fn example_icmp_flow_bytes_and_wcmp() {
        let k = icmp_key("10.100.2.102");
        let mut expect = Vec::new();
        expect.extend_from_slice(&[0x66, 0x02, 0x64, 0x0a]);
        expect.extend_from_slice(&[0; 12]);
        expect.extend_from_slice(&[0x00, 0x01, 0x00, 0x00]);
        expect.extend_from_slice(&[0x01, 0x01, 0x64, 0x0a]);
        expect.extend_from_slice(&[0; 12]);
        expect.extend_from_slice(&[0x00, 0x00, 0x08, 0x00, 0x64, 0x00, 0x00, 0x00]);
        assert_eq!(&k.to_bytes()[..], &expect[..]);
        assert_eq!(k.hash(), 0xbcbb_84d0);
        assert_eq!(k.hash() % 10, 0);
        assert_eq!(Wcmp::new(50).choose(k.hash(), true, true), Uplink::Pf0);
    }

    #[test]
    fn example_icmp_flow_to_pf1() {
        let k = icmp_key("10.100.2.125");
        assert_eq!(k.hash(), 0x2b89_a5d0);
        assert_eq!(k.hash() % 10, 8);
        assert_eq!(Wcmp::new(50).choose(k.hash(), true, true), Uplink::Pf1);
    }

    #[test]
    fn example_portmap_v4() {
        let key = portmap_key(100, &v4("10.100.1.1"), 1025);
        let mut expect = vec![0x64, 0, 0, 0, 0x01, 0x01, 0x64, 0x0a];
        expect.extend_from_slice(&[0; 12]);
        expect.extend_from_slice(&[0x00, 0x01, 0x04]);
        assert_eq!(&key[..], &expect[..]);
        assert_eq!(portmap_hash(100, &v4("10.100.1.1"), 1025), 0x0e24_2115);
    }

    #[test]
    fn example_portmap_v6() {
        let src = IpAddr::V6("2000:100:1::1".parse().unwrap());
        assert_eq!(portmap_hash(100, &src, 1026), 0x48ba_abc3);
    }

    #[test]
    fn example_virtsvc() {
        let h = virtsvc_hash(2, 12348, Ipv4Addr::new(10, 100, 1, 1));
        assert_eq!(h, 0xcb18_0130);
        assert_eq!(h % 10, 6);
        assert_eq!(Wcmp::new(50).choose(h, true, true), Uplink::Pf1);
    }

    #[test]
    fn word_form_equals_packed_bytes() {
        let v6 = |s: &str| IpAddr::V6(s.parse().unwrap());
        let keys = [
            lb_key("45.86.6.6"),
            FlowKey {
                l3_dst: v6("2000:100:2::1"),
                l3_src: v6("64:ff9b::2d56:606"),
                proto: 58,
                port_dst: 0xabcd,
                src: 129,
                vni: 0x00ff_fffe,
                vnf_type: vnf_type::NAT,
            },
        ];
        for k in keys {
            assert_eq!(k.hash(), jhash_bytes(&k.to_bytes(), SEED), "{k:?}");
        }
    }

    #[test]
    fn example_maglev_target_hashes() {
        let t: Ipv6Addr = "fc00:1::8000:1234:1".parse().unwrap();
        assert_eq!(murmur2(&t), 0x4ca8_e4fb);
        assert_eq!(murmur2(&t) % 503, 287);
        assert_eq!(djb(&t), 0x3c1a_de89);
        assert_eq!(djb(&t) % 502 + 1, 362);
    }

    #[test]
    fn maglev_table_is_full_and_balanced() {
        let t = targets();
        let table = MaglevTable::build(&t);
        let mut counts = [0usize; 3];
        for &e in table.slots() {
            counts[usize::from(e)] += 1;
        }
        assert_eq!(counts.iter().sum::<usize>(), TABLE_SIZE);
        // Maglev fills round-robin, so shares differ by at most one slot
        assert!(
            counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1,
            "{counts:?}"
        );
        assert_eq!(MaglevTable::build(&[]).pick(7), None);
        let single = MaglevTable::build(&t[..1]);
        assert!(single.slots().iter().all(|&e| e == 0));
    }

    /// DPDK's `rte_jhash_3words` family, written out as the spec defines it.
    fn short_form(words: &[u32], initval: u32) -> u32 {
        let n = (words.len() * 4) as u32;
        let w = |i: usize| words.get(i).copied().unwrap_or(0);
        let bias = GOLDEN.wrapping_add(initval);
        let mut a = w(0).wrapping_add(n).wrapping_add(bias);
        let mut b = w(1).wrapping_add(n).wrapping_add(bias);
        let mut c = w(2).wrapping_add(n).wrapping_add(bias);
        finalize(&mut a, &mut b, &mut c);
        c
    }

    #[test]
    fn short_forms_equal_general_form() {
        let key = [
            0x11u8, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
        ];
        for words in 1..=3 {
            let bytes = &key[..words * 4];
            let ws: Vec<u32> = (0..words).map(|i| word(bytes, i)).collect();
            assert_eq!(jhash(bytes, SEED), short_form(&ws, SEED), "{words} words");
        }
        // lookup3 of an empty key returns 0xdeadbeef + initval without mixing
        assert_eq!(jhash_bytes(&[], 0), 0xdead_beef);
        assert_eq!(jhash_bytes(&[], SEED), 0xdead_beef_u32.wrapping_add(SEED));
    }

    #[test]
    fn lookup3_known_vectors() {
        // Bob Jenkins' lookup3.c driver: hashlittle("", 0, 0) = 0xdeadbeef,
        // hashlittle("Four score and seven years ago", 30, 0) = 0x17770551,
        // and with initval 1: 0xcd628161.
        let s = b"Four score and seven years ago";
        assert_eq!(jhash_bytes(s, 0), 0x1777_0551);
        assert_eq!(jhash_bytes(s, 1), 0xcd62_8161);
    }
}
