//! `virtsvc`: IPv4 ↔ IPv6 virtual-service translation (dataplane.md §12). `cls` diverts
//! nothing here until virtual services are configured (packet path II).

use crate::graph::drop::DropReason;
use crate::graph::{Ctx, Next};
use crate::port::Buf;

pub(crate) fn process(_cx: &mut Ctx<'_>, _pkt: &mut Buf) -> Next {
    Next::Drop(DropReason::NotHandled)
}
