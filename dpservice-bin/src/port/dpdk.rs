//! DPDK ports (`--port-backend=dpdk`, cargo feature `dpdk`): the ports DPDK probed from
//! the EAL words (`--vdev=net_tap...` become DPDK's TAP ports; `-a`/PCI devices, other
//! virtual devices), configured as upstream configures them. The calls into DPDK are in
//! [`crate::dpdk`]; this module is the port layer's view of them.
//!
//! Every port is configured and started when it is opened, as the TAP backend opens its
//! devices; a VF's link then stays down until its interface is created (the `portctl`
//! thread brings it up through [`DpdkLink`]), which is what upstream's start of the VF
//! port shows on the wire.

use std::io;
use std::os::fd::BorrowedFd;

use crate::config::TapSpec;
use crate::dpdk::ethdev::UPSTREAM_RX_DESCRIPTORS;
use crate::dpdk::packet::{self, PacketPool};
use crate::dpdk::{DpdkError, Eal, EthDev, EthPort, MbufPool, PoolConfig, PortSetup, Queues};
use crate::port::{LinkDevice, PacketBuf, Pool, Port, PortId, PortStats};
use crate::wire::MacAddr;

/// Mbufs per port in the daemon's pool: one full rx ring, and as many again in flight
/// (in the graph, in tx rings not yet cleaned).
pub const MBUFS_PER_PORT: u32 = 2 * UPSTREAM_RX_DESCRIPTORS as u32;
/// Mbufs for everything else: a graph burst per port, frames the daemon makes (ARP, ND,
/// DHCP replies, sync messages), per-lcore caches (upstream keeps 4096 for this).
pub const MBUF_POOL_HEADROOM: u32 = 4096;
/// A VM's full MTU: the uplink's least MTU ([`PortSetup::min_mtu`]) is this plus the
/// tunnel's outer header.
const VM_FULL_MTU: u16 = 1500;
/// The pool's name among DPDK's mempools.
pub const POOL_NAME: &str = "dp_mbuf_pool";

/// How many mbufs the daemon's pool holds for `ports` ports (upstream sizes for its
/// maximum of 128 ports; this sizes for the ports there are, so `--no-huge -m` stays small).
pub fn pool_size(ports: usize) -> u32 {
    let ports = u32::try_from(ports).unwrap_or(u32::MAX);
    ports
        .saturating_mul(MBUFS_PER_PORT)
        .saturating_add(MBUF_POOL_HEADROOM)
}

/// The daemon's mbuf pool: upstream's mbuf shape, each with a private area of
/// `header_size` bytes (the buffer header, written into each) on the main lcore's socket.
pub fn create_pool(eal: &Eal, ports: usize, header_size: u16) -> Result<PacketPool, DpdkError> {
    // the private area must be a multiple of 8 (DPDK's alignment of it)
    let priv_size = header_size.div_ceil(8) * 8;
    PacketPool::create(
        eal,
        &PoolConfig::upstream(eal, POOL_NAME, pool_size(ports), priv_size),
    )
}

/// The ports DPDK probed, in port-id order, as the role planning sees them: device name
/// (`net_tap2`, `0000:3b:00.0`) and kernel interface name. A port without a kernel
/// interface (`net_ring`, `net_null`) goes by its device name, so it can still be given a
/// role (`--pf0=net_ring0`; upstream cannot use such ports).
pub fn probed(eal: &Eal) -> Result<Vec<TapSpec>, DpdkError> {
    EthPort::all(eal)
        .into_iter()
        .map(|port| {
            let device = port.name()?;
            let info = port.info()?;
            Ok(TapSpec {
                port_id: port.id(),
                iface: info.ifname.unwrap_or_else(|| device.clone()),
                device,
                mac: None,
                persist: false,
            })
        })
        .collect()
}

/// Warns when an uplink's MTU stays below `wanted` (the device allows no more, e.g. DPDK
/// 22.11's `net_tap`: 1504): a VM's full-size packet in a tunnel is then dropped on
/// transmit, so the operator must lower the VMs' MTU or use another device.
fn warn_if_mtu_short(port: EthPort, name: &str, wanted: u16) {
    let mtu = match port.mtu() {
        Ok(mtu) => mtu,
        Err(e) => {
            tracing::debug!(port = port.id(), error = %e, "Uplink MTU unknown");
            return;
        }
    };
    if mtu < wanted {
        let vm_mtu = mtu.saturating_sub(wanted.saturating_sub(VM_FULL_MTU));
        tracing::warn!(
            port = port.id(),
            name,
            mtu,
            needed = wanted,
            "Uplink cannot carry a VM's full-size packet in a tunnel (its device allows no \
             larger MTU); such packets are dropped: give the VMs an MTU of at most {vm_mtu}, \
             or use an uplink device that allows MTU {wanted}"
        );
    }
}

/// The link side of a DPDK port, for the `portctl` thread (DPDK allows link calls beside
/// the worker's bursts).
#[derive(Debug)]
pub struct DpdkLink {
    port: EthPort,
    name: String,
}

impl LinkDevice for DpdkLink {
    fn name(&self) -> &str {
        &self.name
    }

    fn link_up(&self) -> bool {
        self.port.link().is_ok_and(|l| l.up)
    }

    fn set_up(&self, up: bool) -> io::Result<()> {
        self.port.set_link(up).map_err(io::Error::other)
    }
}

/// One DPDK port owned by the worker: the device and its started queues.
#[derive(Debug)]
pub struct DpdkPort {
    dev: EthDev,
    queues: Queues,
    pool: PacketPool,
    name: String,
    mac: MacAddr,
    /// Received mbufs dropped before the graph (chained ones).
    rx_dropped: u64,
}

impl DpdkPort {
    /// Takes port `id`, configures it as upstream does for a PF (`is_pf`) or a VF/sync
    /// port, and starts it; a VF's link is then set down until its interface exists.
    /// `name` is the kernel (or device) name the graph and the logs use.
    pub fn open(
        eal: &Eal,
        id: u16,
        name: &str,
        is_pf: bool,
        pool: PacketPool,
    ) -> Result<DpdkPort, DpdkError> {
        DpdkPort::open_with(eal, id, name, &PortSetup::upstream(is_pf), !is_pf, pool)
    }

    /// The HA sync port (`--sync-tap`): configured as a VF (promiscuous), its link left
    /// up from the start (a link that flaps as it is opened can lose the first message
    /// to a bridge that is not forwarding yet), and without link-change interrupts.
    ///
    /// Why no interrupts: the sync node sends its dump request only once the port's link
    /// is up, because a TAP's bridge port forwards only once the kernel has the TAP's
    /// carrier (up to a second after DPDK attached it: the kernel's link-watch rate
    /// limit, seen when another TAP changed shortly before). With interrupts, DPDK's
    /// `net_tap` reports the link up as soon as it is started, before that, and the
    /// request was lost; without them every link query asks the device, which for
    /// `net_tap` is the kernel interface's UP and RUNNING flags. Nothing reacts to the
    /// sync port's link changes otherwise (upstream registers no handler for it either).
    pub fn open_sync(
        eal: &Eal,
        id: u16,
        name: &str,
        pool: PacketPool,
    ) -> Result<DpdkPort, DpdkError> {
        let setup = PortSetup {
            lsc_interrupt: false,
            ..PortSetup::upstream(false)
        };
        DpdkPort::open_with(eal, id, name, &setup, false, pool)
    }

    fn open_with(
        eal: &Eal,
        id: u16,
        name: &str,
        setup: &PortSetup,
        link_down: bool,
        pool: PacketPool,
    ) -> Result<DpdkPort, DpdkError> {
        let port = EthPort::all(eal)
            .into_iter()
            .find(|p| p.id() == id)
            .ok_or_else(|| DpdkError::NoSuchPort(format!("{name} (port {id})")))?;
        let mut dev = EthDev::take(port)?;
        let applied = dev.configure(setup, pool.mbufs())?;
        tracing::info!(
            port = id,
            name,
            driver = port.info().map(|i| i.driver).unwrap_or_default(),
            rx_descriptors = applied.rx_descriptors,
            tx_descriptors = applied.tx_descriptors,
            tx_offloads = format!("{:#x}", applied.tx_offloads),
            "Configured DPDK port"
        );
        if let Some(wanted) = setup.min_mtu {
            warn_if_mtu_short(port, name, wanted);
        }
        let queues = dev.start()?;
        if link_down {
            if let Err(e) = port.set_link(false) {
                // drivers without link control (net_ring, net_null) keep their link up
                tracing::debug!(port = id, error = %e, "VF link stays as the driver has it");
            }
        }
        Ok(DpdkPort {
            mac: port.mac()?,
            dev,
            queues,
            pool,
            name: name.to_owned(),
            rx_dropped: 0,
        })
    }

    /// The pool its rx queue fills from (and frames the daemon makes come from).
    pub fn pool(&self) -> MbufPool {
        self.pool.mbufs()
    }

    /// Its started queues (one rx, one tx), for bursts.
    pub fn queues(&mut self) -> &mut Queues {
        &mut self.queues
    }

    /// The kernel (or device) name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The port's MAC.
    pub fn mac(&self) -> MacAddr {
        self.mac
    }

    /// Link state now.
    pub fn link_up(&self) -> bool {
        self.dev.port().link().is_ok_and(|l| l.up)
    }

    /// Brings the link up or down.
    pub fn set_link(&self, up: bool) -> io::Result<()> {
        self.dev.port().set_link(up).map_err(io::Error::other)
    }

    /// DPDK's counters in the port layer's terms.
    pub fn stats(&self) -> PortStats {
        let s = self.dev.port().stats().unwrap_or_default();
        PortStats {
            rx_packets: s.rx_packets,
            rx_bytes: s.rx_bytes,
            tx_packets: s.tx_packets,
            tx_bytes: s.tx_bytes,
            rx_errors: s.rx_errors + s.rx_missed + self.rx_dropped,
            tx_errors: s.tx_errors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    /// A link handle for `portctl`.
    pub fn link_device(&self) -> Box<dyn LinkDevice> {
        Box::new(DpdkLink {
            port: self.dev.port(),
            name: self.name.clone(),
        })
    }
}

impl Port for DpdkPort {
    fn name(&self) -> &str {
        &self.name
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        DpdkPort::link_up(self)
    }

    fn start(&mut self) -> io::Result<()> {
        // started when opened; a driver without link control keeps its link as it is
        if DpdkPort::link_up(self) {
            return Ok(());
        }
        self.set_link(true)
    }

    fn stop(&mut self) -> io::Result<()> {
        if !DpdkPort::link_up(self) {
            return Ok(());
        }
        self.set_link(false)
    }

    fn rx_burst(&mut self, pool: &mut Pool, out: &mut Vec<PacketBuf>, max: usize) -> usize {
        // the device's own port number as the metadata's (it is the graph's too)
        let id = self.queues.rx.first().map_or(0, |q| q.port());
        self.rx_burst_stamped(id, 0, pool, out, max).0
    }

    fn rx_burst_stamped(
        &mut self,
        id: PortId,
        first_pkt_id: u32,
        _pool: &mut Pool,
        out: &mut Vec<PacketBuf>,
        max: usize,
    ) -> (usize, bool) {
        let Some(rxq) = self.queues.rx.first_mut() else {
            return (0, true);
        };
        let stamp = (id, first_pkt_id);
        let (received, dropped) = packet::rx_packets(rxq, &self.pool, stamp, out, max);
        self.rx_dropped += dropped as u64;
        (received, true)
    }

    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize {
        let Some(txq) = self.queues.tx.first_mut() else {
            return 0;
        };
        packet::tx_packets(txq, pkts, pool, self.pool.mbufs())
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        // DPDK ports are polled (the worker naps at most a millisecond while idle)
        None
    }

    fn stats(&self) -> PortStats {
        DpdkPort::stats(self)
    }

    fn link_device(&self) -> io::Result<Box<dyn LinkDevice>> {
        Ok(DpdkPort::link_device(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_grows_with_the_ports_and_keeps_upstreams_headroom() {
        assert_eq!(pool_size(0), 4096);
        assert_eq!(pool_size(5), 5 * 2048 + 4096);
        assert_eq!(pool_size(usize::MAX), u32::MAX);
    }
}
