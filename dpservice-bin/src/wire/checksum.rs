//! The internet checksum (RFC 1071) with the pseudo headers of IPv4 and IPv6, and the
//! incremental update of RFC 1624 for rewrites that touch only a few words.
//!
//! Partial sums are kept unfolded in a `u64` so that sums of several pieces (pseudo header,
//! header, payload) can be added before the single final fold.

use std::net::{Ipv4Addr, Ipv6Addr};

/// One's-complement partial sum of `data` as big-endian 16-bit words; an odd trailing byte
/// is padded with zero. The result is not folded; add partial sums with `+` and finish
/// with [`finish`].
#[inline]
pub fn sum(data: &[u8]) -> u64 {
    // 8 bytes at a time as two big-endian 32-bit halves (2^32 ≡ 1 in the 16-bit one's
    // complement sum, so wider words fold to the same checksum)
    let mut acc: u64 = 0;
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_be_bytes(w.try_into().unwrap_or([0; 8]));
        acc += (w >> 32) + (w & 0xffff_ffff);
    }
    let rest = words.remainder();
    if rest.is_empty() {
        return acc;
    }
    if let Some(last) = data.last_chunk::<8>() {
        // the tail (1 to 7 bytes) as the low bytes of the last 8 bytes read again, the
        // ones summed above masked off: its place only moves by whole 16-bit words
        // (2^16 ≡ 1), except that an odd tail is moved up a byte so its first byte is
        // the high byte of a word, as it is in the data (offsets of 8-byte steps are even)
        let n = rest.len();
        let w = u64::from_be_bytes(*last) & (u64::MAX >> (64 - 8 * n));
        let w = w << (8 * (n & 1));
        return acc + (w >> 32) + (w & 0xffff_ffff);
    }
    let mut half = rest.chunks_exact(4);
    for w in &mut half {
        acc += u64::from(u32::from_be_bytes(w.try_into().unwrap_or([0; 4])));
    }
    // at most 3 bytes left, padded with zeros (a match, not a variable-length copy)
    let tail = match *half.remainder() {
        [a] => [a, 0, 0, 0],
        [a, b] => [a, b, 0, 0],
        [a, b, c] => [a, b, c, 0],
        _ => [0; 4],
    };
    acc + u64::from(u32::from_be_bytes(tail))
}

/// Folds a partial sum into 16 bits (with end-around carry), without complementing.
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum field value for a partial sum: the complement of the folded sum.
#[inline]
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// Partial sum of the IPv4 pseudo header (RFC 768 / RFC 793).
#[inline]
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, length: u16) -> u64 {
    u64::from(src.to_bits()) + u64::from(dst.to_bits()) + u64::from(protocol) + u64::from(length)
}

/// Partial sum of the IPv6 pseudo header (RFC 8200 §8.1).
#[inline]
pub fn pseudo_header_v6(src: &Ipv6Addr, dst: &Ipv6Addr, next_header: u8, length: u32) -> u64 {
    sum(&src.octets()) + sum(&dst.octets()) + u64::from(length) + u64::from(next_header)
}

/// UDP transmits a computed checksum of zero as all ones (zero means "none").
#[inline]
pub fn udp_nonzero(cksum: u16) -> u16 {
    if cksum == 0 {
        0xffff
    } else {
        cksum
    }
}

/// RFC 1624 equation 3: the checksum after one 16-bit word changed from `old` to `new`.
#[inline]
pub fn update_word(cksum: u16, old: u16, new: u16) -> u16 {
    let acc = u64::from(!cksum) + u64::from(!old) + u64::from(new);
    !fold(acc)
}

/// RFC 1624 for a run of bytes (even length, word aligned in the covered data) that changed
/// from `old` to `new`.
#[inline]
pub fn update_bytes(cksum: u16, old: &[u8], new: &[u8]) -> u16 {
    // ~old summed word by word equals (0xffff * words - sum(old)) in one's complement.
    let words = old.len().div_ceil(2) as u64;
    let not_old = words * 0xffff - u64::from(fold(sum(old)));
    let acc = u64::from(!cksum) + not_old + sum(new);
    !fold(acc)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    // The IPv4 header used as the worked example in many references (checksum b861).
    const IPV4_HDR: [u8; 20] = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];

    #[test]
    fn ipv4_header_checksum_golden() {
        assert_eq!(finish(sum(&IPV4_HDR)), 0xb861);
        let mut with = IPV4_HDR;
        with[10] = 0xb8;
        with[11] = 0x61;
        // a correct header sums to all ones
        assert_eq!(fold(sum(&with)), 0xffff);
    }

    #[test]
    fn wide_words_fold_like_16_bit_words() {
        // RFC 1071 word by word, against the 8- and 4-byte steps and every tail length
        let data: Vec<u8> = (0..67u32).map(|i| (i * 37 + 11) as u8 | 0x80).collect();
        for len in 0..=data.len() {
            let bytes = &data[..len];
            let reference: u64 = bytes
                .chunks(2)
                .map(|w| u64::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
                .sum();
            assert_eq!(fold(sum(bytes)), fold(reference), "length {len}");
        }
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(sum(&[0x01]), 0x0100_0000);
        assert_eq!(fold(sum(&[0x01])), 0x0100);
        assert_eq!(fold(sum(&[0x12, 0x34, 0x56])), 0x1234 + 0x5600);
    }

    #[test]
    fn incremental_update_matches_full_recompute() {
        let mut hdr = IPV4_HDR;
        hdr[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        // change the TTL/protocol word 0x4011 -> 0x3f11
        let updated = update_word(0xb861, 0x4011, 0x3f11);
        hdr[8] = 0x3f;
        hdr[10..12].copy_from_slice(&[0, 0]);
        assert_eq!(updated, finish(sum(&hdr)));

        // change the destination address as a 4-byte run
        let mut hdr2 = IPV4_HDR;
        let before = finish(sum(&hdr2));
        let new_dst = [10, 1, 2, 3];
        let upd = update_bytes(before, &hdr2[16..20], &new_dst);
        hdr2[16..20].copy_from_slice(&new_dst);
        assert_eq!(upd, finish(sum(&hdr2)));
    }

    #[test]
    fn pseudo_headers() {
        let v4 = pseudo_header_v4(Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8), 17, 8);
        assert_eq!(fold(v4), 0x0102 + 0x0304 + 0x0506 + 0x0708 + 17 + 8);
        let a: Ipv6Addr = "fe80::1".parse().unwrap();
        let b: Ipv6Addr = "ff02::1".parse().unwrap();
        let v6 = pseudo_header_v6(&a, &b, 58, 24);
        // 0xfe80 + 1 + 0xff02 + 1 + 58 + 24 = 0x1fdd6, folded 0xfdd7
        assert_eq!(fold(v6), 0xfdd7);
    }

    #[test]
    fn udp_zero_is_sent_as_ones() {
        assert_eq!(udp_nonzero(0), 0xffff);
        assert_eq!(udp_nonzero(0x1234), 0x1234);
    }
}
