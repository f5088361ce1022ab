//! `snat`: metering and VIP / NAT / NAT64 source rewrite (dataplane.md §8, §13), applied
//! only to south-north flows. Without the NAT tables (packet path II) it passes packets on.

use super::meter;
use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next, Node};
use crate::port::Buf;

pub(crate) fn process(cx: &mut Ctx<'_>, pkt: &mut Buf) -> Next {
    if !meter::public_meter_allows(cx, pkt) {
        return Next::Drop(DropReason::MeterRed);
    }
    // (packet path II: metering on Mellanox, VIP/NAT/NAT64 source translation)
    Next::Node(Node::Firewall)
}
