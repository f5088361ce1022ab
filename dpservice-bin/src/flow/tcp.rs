//! The TCP state of a flow (§7.4), with upstream's exact flag matches (a final handshake
//! ACK that carries PSH, or a SYN with ECN bits, does not advance the state: replicated,
//! tests depend on the short timeout it leaves).

/// `FlowEntry::tcp_state` values (the numbers `dpservice-inspect` decodes).
pub mod state {
    pub const NONE: u8 = 0;
    pub const NEW_SYN: u8 = 1;
    pub const NEW_SYNACK: u8 = 2;
    pub const ESTABLISHED: u8 = 3;
    pub const FINWAIT: u8 = 4;
    pub const RST_FIN: u8 = 5;
}

const FIN: u8 = 0x01;
const SYN: u8 = 0x02;
const RST: u8 = 0x04;
const ACK: u8 = 0x10;

/// `FlowEntry::direction` / `first_syn_dir` values.
pub const DIR_ORG: u8 = 0;
pub const DIR_REPLY: u8 = 1;

/// The state after a packet with TCP flag byte `flags` in direction `dir`; answers the new
/// state and the direction of the first SYN.
#[inline]
pub fn next(current: u8, first_syn_dir: u8, dir: u8, flags: u8) -> (u8, u8) {
    if flags & RST != 0 {
        return (state::RST_FIN, first_syn_dir);
    }
    if flags & FIN != 0 {
        let s = if current == state::ESTABLISHED {
            state::FINWAIT
        } else {
            state::RST_FIN
        };
        return (s, first_syn_dir);
    }
    match current {
        state::NONE | state::RST_FIN if flags == SYN => (state::NEW_SYN, dir),
        state::NEW_SYN if flags == SYN | ACK && dir != first_syn_dir => {
            (state::NEW_SYNACK, first_syn_dir)
        }
        state::NEW_SYNACK if flags == ACK && dir == first_syn_dir => {
            (state::ESTABLISHED, first_syn_dir)
        }
        _ => (current, first_syn_dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handshake_establishes_and_fin_or_rst_ends() {
        let (s, d) = next(state::NONE, 0, DIR_ORG, SYN);
        assert_eq!((s, d), (state::NEW_SYN, DIR_ORG));
        // a SYN|ACK from the same side does not count
        assert_eq!(next(s, d, DIR_ORG, SYN | ACK).0, state::NEW_SYN);
        let (s, d) = next(s, d, DIR_REPLY, SYN | ACK);
        assert_eq!(s, state::NEW_SYNACK);
        // the ACK must come from the SYN side, with no other flag
        assert_eq!(next(s, d, DIR_REPLY, ACK).0, state::NEW_SYNACK);
        assert_eq!(next(s, d, DIR_ORG, ACK | 0x08).0, state::NEW_SYNACK);
        let (s, d) = next(s, d, DIR_ORG, ACK);
        assert_eq!(s, state::ESTABLISHED);
        assert_eq!(next(s, d, DIR_REPLY, FIN | ACK).0, state::FINWAIT);
        assert_eq!(next(state::NEW_SYN, d, DIR_REPLY, FIN).0, state::RST_FIN);
        assert_eq!(next(s, d, DIR_ORG, RST).0, state::RST_FIN);
        // a new SYN after RST/FIN starts over, in the direction it came from
        assert_eq!(
            next(state::RST_FIN, DIR_ORG, DIR_REPLY, SYN),
            (state::NEW_SYN, DIR_REPLY)
        );
        // a SYN with ECN bits is not a SYN for the machine (upstream)
        assert_eq!(next(state::NONE, 0, DIR_ORG, SYN | 0x40).0, state::NONE);
    }
}
