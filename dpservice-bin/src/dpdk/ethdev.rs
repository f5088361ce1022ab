//! Ethernet devices (DPDK ports): found by DPDK name or kernel interface, configured as
//! upstream configures them, started with one handle per rx/tx queue for bursts.
//!
//! Two kinds of handle: [`EthPort`] (a port id; link state, link up/down, counters, MAC:
//! calls DPDK allows beside running bursts, from any thread) and [`EthDev`] (the one owner
//! that configures, starts and stops the port). A started port hands out [`RxQueue`] and
//! [`TxQueue`] handles; it cannot be stopped or reconfigured while one of them lives, so a
//! burst never runs on a queue DPDK is tearing down.

use std::ffi::{c_char, CStr, CString};
use std::sync::{Arc, Mutex, PoisonError};

use super::mbuf::Mbuf;
use super::mempool::MbufPool;
use super::{strerror, DpdkError, Eal};
use crate::wire::MacAddr;

/// Upstream's receive ring: four graph bursts (4 × 256) wait while one is processed.
pub const UPSTREAM_RX_DESCRIPTORS: u16 = 4 * 256;
/// Upstream's transmit ring: eight receive rings (smaller rings lost packets upstream).
pub const UPSTREAM_TX_DESCRIPTORS: u16 = 8 * UPSTREAM_RX_DESCRIPTORS;
/// The least MTU of an uplink: a VM's full 1500-byte packet in an IPv6 tunnel (40 bytes).
/// DPDK's default (1500) makes drivers drop those frames on transmit; a device whose
/// maximum is lower (DPDK 22.11's `net_tap`: 1504) keeps its maximum, and the port layer
/// warns that the VMs need a smaller MTU.
pub const UPLINK_MIN_MTU: u16 = 1500 + 40;
/// Transmit offloads upstream asks for (kept where the device has them): IPv4, UDP and
/// TCP checksums and TSO inside tunnels.
pub const UPSTREAM_TX_OFFLOADS: u64 = (dpdk_sys::DPDK_SYS_TX_OFFLOAD_IPV4_CKSUM
    | dpdk_sys::DPDK_SYS_TX_OFFLOAD_UDP_CKSUM
    | dpdk_sys::DPDK_SYS_TX_OFFLOAD_TCP_CKSUM
    | dpdk_sys::DPDK_SYS_TX_OFFLOAD_IP_TNL_TSO) as u64;

/// A DPDK port id (valid when made; DPDK answers `ENODEV` once the device is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthPort {
    id: u16,
}

/// What the driver says about a port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevInfo {
    /// Driver name, e.g. `net_tap`, `mlx5_pci`.
    pub driver: String,
    /// Kernel interface index (0 if the port has no kernel interface).
    pub if_index: u32,
    /// Kernel interface name, if it has one (TAP ports, mlx5 representors).
    pub ifname: Option<String>,
    /// Most rx queues.
    pub max_rx_queues: u16,
    /// Most tx queues.
    pub max_tx_queues: u16,
    /// Receive offloads the device has (`RTE_ETH_RX_OFFLOAD_*`).
    pub rx_offload_capa: u64,
    /// Transmit offloads the device has (`RTE_ETH_TX_OFFLOAD_*`).
    pub tx_offload_capa: u64,
    /// The device signals link changes by interrupt.
    pub lsc_interrupt: bool,
    /// NUMA socket (`SOCKET_ID_ANY` if unknown).
    pub socket: i32,
}

/// Link state as the driver knows it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Link {
    /// Link up.
    pub up: bool,
    /// Speed in Mbit/s (0 if unknown).
    pub speed_mbps: u32,
    /// Full duplex.
    pub full_duplex: bool,
    /// Autonegotiated.
    pub autoneg: bool,
}

/// The ethdev counters (`rte_eth_stats`) dpservice reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EthStats {
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    /// Received frames the device dropped (rings full).
    pub rx_missed: u64,
    pub rx_errors: u64,
    pub tx_errors: u64,
    /// Receive failures for want of an mbuf.
    pub rx_nombuf: u64,
}

fn port_err(port: u16, what: &'static str, ret: i32) -> DpdkError {
    DpdkError::Port {
        port,
        what,
        reason: strerror(ret),
    }
}

impl EthPort {
    /// All ports DPDK probed (`--vdev` devices and allowed PCI devices), in id order.
    pub fn all(_eal: &Eal) -> Vec<EthPort> {
        let mut ports = Vec::new();
        let mut next: u64 = 0;
        loop {
            // SAFETY: the EAL is initialised; any start id is accepted and the next unowned
            // valid port id (or RTE_MAX_ETHPORTS) is returned. 0 = RTE_ETH_DEV_NO_OWNER.
            next = unsafe { dpdk_sys::rte_eth_find_next_owned_by(next as u16, 0) };
            match u16::try_from(next) {
                Ok(id) if next < u64::from(dpdk_sys::RTE_MAX_ETHPORTS) => {
                    ports.push(EthPort { id });
                    next += 1;
                }
                _ => return ports,
            }
        }
    }

    /// Number of ports.
    pub fn count(_eal: &Eal) -> u16 {
        // SAFETY: the EAL is initialised; reads its port table.
        unsafe { dpdk_sys::rte_eth_dev_count_avail() }
    }

    /// The port DPDK calls `name` (`net_tap0`, `0000:3b:00.0`, ...).
    pub fn by_name(_eal: &Eal, name: &str) -> Result<EthPort, DpdkError> {
        let missing = || DpdkError::NoSuchPort(name.to_owned());
        let c_name = CString::new(name).map_err(|_| missing())?;
        let mut id = 0u16;
        // SAFETY: `c_name` is a valid C string, `id` a valid place for the result.
        let ret = unsafe { dpdk_sys::rte_eth_dev_get_port_by_name(c_name.as_ptr(), &mut id) };
        if ret == 0 {
            Ok(EthPort { id })
        } else {
            Err(missing())
        }
    }

    /// The port whose kernel interface is `ifname` (how upstream finds `--pf0`, the VFs
    /// and the sync TAP).
    pub fn by_ifname(eal: &Eal, ifname: &str) -> Result<EthPort, DpdkError> {
        for port in EthPort::all(eal) {
            if port.info()?.ifname.as_deref() == Some(ifname) {
                return Ok(port);
            }
        }
        Err(DpdkError::NoSuchPort(ifname.to_owned()))
    }

    /// The port id.
    pub fn id(&self) -> u16 {
        self.id
    }

    /// DPDK's name of the port.
    pub fn name(&self) -> Result<String, DpdkError> {
        let mut buf = [0 as c_char; dpdk_sys::RTE_ETH_NAME_MAX_LEN as usize];
        // SAFETY: `buf` has the RTE_ETH_NAME_MAX_LEN bytes DPDK writes at most,
        // NUL included.
        let ret = unsafe { dpdk_sys::rte_eth_dev_get_name_by_port(self.id, buf.as_mut_ptr()) };
        if ret != 0 {
            return Err(port_err(self.id, "reading the name", ret));
        }
        // SAFETY: DPDK wrote a NUL-terminated string into `buf`.
        Ok(unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned())
    }

    /// What the driver says about the port.
    pub fn info(&self) -> Result<DevInfo, DpdkError> {
        let info = self.raw_info()?;
        let driver = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: a non-NULL driver name is the driver's static C string.
            unsafe { CStr::from_ptr(info.driver_name) }
                .to_string_lossy()
                .into_owned()
        };
        let lsc_interrupt = !info.dev_flags.is_null()
            // SAFETY: a non-NULL dev_flags points at the device's flags, which live as
            // long as the device.
            && unsafe { *info.dev_flags } & dpdk_sys::DPDK_SYS_DEV_INTR_LSC != 0;
        Ok(DevInfo {
            driver,
            if_index: info.if_index,
            ifname: ifname_of(info.if_index),
            max_rx_queues: info.max_rx_queues,
            max_tx_queues: info.max_tx_queues,
            rx_offload_capa: info.rx_offload_capa,
            tx_offload_capa: info.tx_offload_capa,
            lsc_interrupt,
            socket: self.socket_id(),
        })
    }

    fn raw_info(&self) -> Result<dpdk_sys::rte_eth_dev_info, DpdkError> {
        let mut info = dpdk_sys::rte_eth_dev_info::default();
        // SAFETY: `info` is a valid, writable rte_eth_dev_info.
        let ret = unsafe { dpdk_sys::rte_eth_dev_info_get(self.id, &mut info) };
        if ret != 0 {
            return Err(port_err(self.id, "reading the device info", ret));
        }
        Ok(info)
    }

    /// The NUMA socket of the device (`SOCKET_ID_ANY` if unknown).
    pub fn socket_id(&self) -> i32 {
        // SAFETY: plain query of a port id.
        unsafe { dpdk_sys::rte_eth_dev_socket_id(self.id) }
    }

    /// The port's MAC address.
    pub fn mac(&self) -> Result<MacAddr, DpdkError> {
        let mut addr = dpdk_sys::rte_ether_addr::default();
        // SAFETY: `addr` is a valid, writable rte_ether_addr.
        let ret = unsafe { dpdk_sys::rte_eth_macaddr_get(self.id, &mut addr) };
        if ret != 0 {
            return Err(port_err(self.id, "reading the MAC address", ret));
        }
        Ok(MacAddr(addr.addr_bytes))
    }

    /// The port's MTU (DPDK's idea of it: the largest IP packet its frames carry).
    pub fn mtu(&self) -> Result<u16, DpdkError> {
        let mut mtu = 0u16;
        // SAFETY: `mtu` is a valid, writable u16.
        let ret = unsafe { dpdk_sys::rte_eth_dev_get_mtu(self.id, &mut mtu) };
        if ret != 0 {
            return Err(port_err(self.id, "reading the MTU", ret));
        }
        Ok(mtu)
    }

    /// Link state now, without waiting for the link to settle.
    pub fn link(&self) -> Result<Link, DpdkError> {
        let mut link = dpdk_sys::rte_eth_link::default();
        // SAFETY: `link` is a valid, writable rte_eth_link.
        let ret = unsafe { dpdk_sys::rte_eth_link_get_nowait(self.id, &mut link) };
        if ret != 0 {
            return Err(port_err(self.id, "reading the link state", ret));
        }
        Ok(Link {
            up: u32::from(link.link_status()) == dpdk_sys::RTE_ETH_LINK_UP,
            speed_mbps: link.link_speed,
            full_duplex: u32::from(link.link_duplex()) == dpdk_sys::RTE_ETH_LINK_FULL_DUPLEX,
            autoneg: u32::from(link.link_autoneg()) == dpdk_sys::RTE_ETH_LINK_AUTONEG,
        })
    }

    /// Brings the link up or down (`rte_eth_dev_set_link_up`/`_down`).
    pub fn set_link(&self, up: bool) -> Result<(), DpdkError> {
        // SAFETY: plain requests on a port id; drivers serialise them internally.
        let ret = unsafe {
            if up {
                dpdk_sys::rte_eth_dev_set_link_up(self.id)
            } else {
                dpdk_sys::rte_eth_dev_set_link_down(self.id)
            }
        };
        if ret != 0 {
            return Err(port_err(
                self.id,
                if up {
                    "setting the link up"
                } else {
                    "setting the link down"
                },
                ret,
            ));
        }
        Ok(())
    }

    /// The counters since start (or the last reset).
    pub fn stats(&self) -> Result<EthStats, DpdkError> {
        let mut s = dpdk_sys::rte_eth_stats::default();
        // SAFETY: `s` is a valid, writable rte_eth_stats.
        let ret = unsafe { dpdk_sys::rte_eth_stats_get(self.id, &mut s) };
        if ret != 0 {
            return Err(port_err(self.id, "reading the counters", ret));
        }
        Ok(EthStats {
            rx_packets: s.ipackets,
            tx_packets: s.opackets,
            rx_bytes: s.ibytes,
            tx_bytes: s.obytes,
            rx_missed: s.imissed,
            rx_errors: s.ierrors,
            tx_errors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        })
    }
}

/// The kernel name of interface `index` (`None` for 0 or an unknown index).
fn ifname_of(index: u32) -> Option<String> {
    if index == 0 {
        return None;
    }
    let mut buf = [0 as c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has the IF_NAMESIZE bytes if_indextoname writes at most.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: on success `buf` holds a NUL-terminated name.
    Some(
        unsafe { CStr::from_ptr(buf.as_ptr()) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// How a port is configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortSetup {
    /// Rx queues (ids 0..n).
    pub rx_queues: u16,
    /// Tx queues (ids 0..n).
    pub tx_queues: u16,
    /// Descriptors per rx queue (clamped to the device's limits).
    pub rx_descriptors: u16,
    /// Descriptors per tx queue (clamped to the device's limits).
    pub tx_descriptors: u16,
    /// Transmit offloads wanted; only those the device has are enabled.
    pub tx_offloads: u64,
    /// Timestamp received frames if the device can.
    pub rx_timestamp: bool,
    /// Link-change interrupts if the device has them.
    pub lsc_interrupt: bool,
    /// Receive frames for any destination MAC.
    pub promiscuous: bool,
    /// Raise the port's MTU to at least this (never lowers what the device has).
    pub min_mtu: Option<u16>,
}

impl PortSetup {
    /// The ethdev configuration upstream gives its ports: one rx and one tx queue, its ring
    /// sizes and transmit offloads, rx timestamps and link interrupts where available, and
    /// promiscuous mode on all but the PFs (a VF or the sync port receives frames for the
    /// VM's or peer's MAC). Beyond upstream, a PF's MTU is raised to
    /// [`UPLINK_MIN_MTU`] if the device has less, so full-size tunnel frames leave (upstream
    /// relies on the NIC's kernel MTU). This is the same for every `--nic-type`; with `mellanox`,
    /// upstream adds hairpin queues and flow isolation for hardware offload, which this
    /// backend does not do (see the README).
    pub fn upstream(is_pf: bool) -> PortSetup {
        PortSetup {
            rx_queues: 1,
            tx_queues: 1,
            rx_descriptors: UPSTREAM_RX_DESCRIPTORS,
            tx_descriptors: UPSTREAM_TX_DESCRIPTORS,
            tx_offloads: UPSTREAM_TX_OFFLOADS,
            rx_timestamp: true,
            lsc_interrupt: true,
            promiscuous: !is_pf,
            min_mtu: is_pf.then_some(UPLINK_MIN_MTU),
        }
    }
}

/// Ports taken by an [`EthDev`] (or still by its queues), so two owners never configure
/// the same port.
static TAKEN: Mutex<Vec<u16>> = Mutex::new(Vec::new());

/// Holds a port taken; shared by the owner and its queue handles.
#[derive(Debug)]
struct Claim {
    id: u16,
}

impl Drop for Claim {
    fn drop(&mut self) {
        TAKEN
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|&id| id != self.id);
    }
}

/// The owner of a port: configures, starts, stops it.
#[derive(Debug)]
pub struct EthDev {
    port: EthPort,
    claim: Arc<Claim>,
    configured: Option<PortSetup>,
    started: bool,
}

/// The queues of a started port.
#[derive(Debug)]
pub struct Queues {
    /// Rx queues, by queue id.
    pub rx: Vec<RxQueue>,
    /// Tx queues, by queue id.
    pub tx: Vec<TxQueue>,
}

impl EthDev {
    /// Takes ownership of `port` (refused while another owner or its queues hold it).
    pub fn take(port: EthPort) -> Result<EthDev, DpdkError> {
        let mut taken = TAKEN.lock().unwrap_or_else(PoisonError::into_inner);
        if taken.contains(&port.id) {
            return Err(DpdkError::PortTaken(port.id));
        }
        taken.push(port.id);
        Ok(EthDev {
            port,
            claim: Arc::new(Claim { id: port.id }),
            configured: None,
            started: false,
        })
    }

    /// The port.
    pub fn port(&self) -> EthPort {
        self.port
    }

    /// Whether it is started.
    pub fn is_started(&self) -> bool {
        self.started
    }

    fn queues_live(&self) -> bool {
        Arc::strong_count(&self.claim) > 1
    }

    /// Configures the port and its queues (rx buffers from `pool`); the port must be
    /// stopped. Returns the setup as applied (offloads and ring sizes as the device took
    /// them).
    pub fn configure(&mut self, setup: &PortSetup, pool: MbufPool) -> Result<PortSetup, DpdkError> {
        let id = self.port.id;
        if self.started || self.queues_live() {
            return Err(DpdkError::BadSetup(
                id,
                "it is started; stop it before configuring".to_owned(),
            ));
        }
        let info = self.port.raw_info()?;
        let lsc = setup.lsc_interrupt && self.port.info()?.lsc_interrupt;
        let mut applied = *setup;
        applied.tx_offloads &= info.tx_offload_capa;
        applied.lsc_interrupt = lsc;
        applied.rx_timestamp = setup.rx_timestamp
            && info.rx_offload_capa & u64::from(dpdk_sys::DPDK_SYS_RX_OFFLOAD_TIMESTAMP) != 0;

        let mut conf = dpdk_sys::rte_eth_conf::default();
        conf.rxmode.mq_mode = dpdk_sys::RTE_ETH_MQ_RX_NONE;
        conf.txmode.offloads = applied.tx_offloads;
        if applied.rx_timestamp {
            conf.rxmode.offloads |= u64::from(dpdk_sys::DPDK_SYS_RX_OFFLOAD_TIMESTAMP);
        }
        conf.intr_conf.set_lsc(u32::from(lsc));
        if let Some(min) = setup.min_mtu {
            // as far as the device goes (DPDK 22.11's net_tap: frames of 1522 bytes),
            // counted as ethdev counts it (frame = MTU + Ethernet header and CRC)
            let frame_limit = info
                .max_rx_pktlen
                .saturating_sub(dpdk_sys::RTE_ETHER_HDR_LEN + dpdk_sys::RTE_ETHER_CRC_LEN);
            let target = min
                .min(info.max_mtu)
                .min(u16::try_from(frame_limit).unwrap_or(u16::MAX));
            if self.port.mtu()? < target {
                conf.rxmode.mtu = u32::from(target);
            }
        }
        // SAFETY: the port is stopped and ours alone (no queue handle lives); `conf` is a
        // valid configuration DPDK copies.
        let ret =
            unsafe { dpdk_sys::rte_eth_dev_configure(id, setup.rx_queues, setup.tx_queues, &conf) };
        if ret != 0 {
            return Err(port_err(id, "configuring", ret));
        }
        let (mut rx_desc, mut tx_desc) = (setup.rx_descriptors, setup.tx_descriptors);
        // SAFETY: both are valid, writable u16s; DPDK clamps them to the device's limits.
        let ret =
            unsafe { dpdk_sys::rte_eth_dev_adjust_nb_rx_tx_desc(id, &mut rx_desc, &mut tx_desc) };
        if ret != 0 {
            return Err(port_err(id, "fitting the ring sizes", ret));
        }
        applied.rx_descriptors = rx_desc;
        applied.tx_descriptors = tx_desc;
        let socket = self.port.socket_id() as u32; // SOCKET_ID_ANY stays "any" in DPDK
        let mut rxconf = info.default_rxconf;
        rxconf.offloads = conf.rxmode.offloads;
        for queue in 0..setup.rx_queues {
            // SAFETY: the port is configured with this many rx queues and stopped;
            // `rxconf` is copied; `pool` is a live pktmbuf pool that is never freed.
            let ret = unsafe {
                dpdk_sys::rte_eth_rx_queue_setup(id, queue, rx_desc, socket, &rxconf, pool.as_ptr())
            };
            if ret != 0 {
                return Err(port_err(id, "setting up an rx queue", ret));
            }
        }
        let mut txconf = info.default_txconf;
        txconf.offloads = conf.txmode.offloads;
        for queue in 0..setup.tx_queues {
            // SAFETY: as for the rx queues.
            let ret =
                unsafe { dpdk_sys::rte_eth_tx_queue_setup(id, queue, tx_desc, socket, &txconf) };
            if ret != 0 {
                return Err(port_err(id, "setting up a tx queue", ret));
            }
        }
        if setup.promiscuous {
            // SAFETY: plain request on a configured port.
            let ret = unsafe { dpdk_sys::rte_eth_promiscuous_enable(id) };
            if ret != 0 {
                return Err(port_err(id, "enabling promiscuous mode", ret));
            }
        }
        self.configured = Some(applied);
        Ok(applied)
    }

    /// Starts the port and hands out its queues (configure it first).
    pub fn start(&mut self) -> Result<Queues, DpdkError> {
        let id = self.port.id;
        let Some(setup) = self.configured else {
            return Err(DpdkError::BadSetup(
                id,
                "configure it before starting".to_owned(),
            ));
        };
        if self.started {
            return Err(DpdkError::BadSetup(id, "it is already started".to_owned()));
        }
        // SAFETY: the port is configured with its queues set up, and stopped.
        let ret = unsafe { dpdk_sys::rte_eth_dev_start(id) };
        if ret != 0 {
            return Err(port_err(id, "starting", ret));
        }
        self.started = true;
        Ok(Queues {
            rx: (0..setup.rx_queues)
                .map(|queue| RxQueue {
                    port: id,
                    queue,
                    _claim: Arc::clone(&self.claim),
                })
                .collect(),
            tx: (0..setup.tx_queues)
                .map(|queue| TxQueue {
                    port: id,
                    queue,
                    _claim: Arc::clone(&self.claim),
                })
                .collect(),
        })
    }

    /// Stops the port; every queue handle must have been dropped (no burst can be in
    /// flight). Mbufs still in its rings go back to their pool.
    pub fn stop(&mut self) -> Result<(), DpdkError> {
        let id = self.port.id;
        if !self.started {
            return Ok(());
        }
        if self.queues_live() {
            return Err(DpdkError::BadSetup(
                id,
                "its queues are still in use; drop them before stopping".to_owned(),
            ));
        }
        // SAFETY: the port is started and no queue handle exists, so no burst runs.
        let ret = unsafe { dpdk_sys::rte_eth_dev_stop(id) };
        if ret != 0 {
            return Err(port_err(id, "stopping", ret));
        }
        self.started = false;
        Ok(())
    }
}

impl Drop for EthDev {
    fn drop(&mut self) {
        // a port whose queues live on stays started (and taken) until they are gone
        if self.started && !self.queues_live() {
            let _ = self.stop();
        }
    }
}

/// One rx queue of a started port; bursts need `&mut`, so one thread polls it.
#[derive(Debug)]
pub struct RxQueue {
    port: u16,
    queue: u16,
    _claim: Arc<Claim>,
}

/// One tx queue of a started port.
#[derive(Debug)]
pub struct TxQueue {
    port: u16,
    queue: u16,
    _claim: Arc<Claim>,
}

impl RxQueue {
    /// The port id.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Receives up to `max` (at most 65 535) mbufs into `slots`; the caller owns the
    /// returned count of pointers at its front (free or send them).
    ///
    /// # Safety
    /// `slots` is valid for writes of `max` pointers.
    #[inline(always)]
    pub unsafe fn rx_burst_into(
        &mut self,
        slots: *mut *mut dpdk_sys::rte_mbuf,
        max: usize,
    ) -> usize {
        let n = u16::try_from(max).unwrap_or(u16::MAX);
        // SAFETY: the port is started with this queue (the handle exists only then) and
        // this handle is its only poller (`&mut`); the caller gives room for `n` <= `max`
        // pointers.
        usize::from(unsafe { dpdk_sys::dpdk_sys_rx_burst(self.port, self.queue, slots, n) })
    }

    /// Receives up to `max` mbufs, appended to `out`. Returns the number received.
    pub fn rx_burst(&mut self, out: &mut Vec<Mbuf>, max: usize) -> usize {
        let max = max.min(usize::from(u16::MAX));
        out.reserve(max);
        let spare = &mut out.spare_capacity_mut()[..max];
        // `Mbuf` is a transparent non-NULL mbuf pointer: the spare slots take raw pointers
        let slots = spare.as_mut_ptr().cast::<*mut dpdk_sys::rte_mbuf>();
        // SAFETY: `slots` has room for `max` pointers.
        let n = unsafe { self.rx_burst_into(slots, max) };
        // SAFETY: DPDK wrote `n` non-NULL mbuf pointers, now ours, into the first `n`
        // spare slots, which are valid `Mbuf`s.
        unsafe { out.set_len(out.len() + n) };
        n
    }
}

impl TxQueue {
    /// The port id.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Sends from the front of `pkts` until the ring is full; sent mbufs leave `pkts`
    /// (the driver frees them after transmission). Returns the number sent.
    pub fn tx_burst(&mut self, pkts: &mut Vec<Mbuf>) -> usize {
        let len = pkts.len();
        let n = u16::try_from(len).unwrap_or(u16::MAX);
        let base = pkts.as_mut_ptr();
        // SAFETY: the port is started with this queue and this handle is its only user;
        // `base` holds `n` owned mbufs (transparent pointers), of which the driver takes
        // the first `sent`.
        let sent = usize::from(unsafe {
            dpdk_sys::dpdk_sys_tx_burst(self.port, self.queue, base.cast(), n)
        });
        // SAFETY: the first `sent` entries now belong to the driver: the unsent rest moves
        // to the front without dropping anything, and the length shrinks past them.
        unsafe {
            std::ptr::copy(base.add(sent), base, len - sent);
            pkts.set_len(len - sent);
        }
        sent
    }

    /// Sends from the front of `pkts` until the ring is full; returns the number sent,
    /// which the driver now owns.
    ///
    /// # Safety
    /// Every pointer in `pkts` must be a valid mbuf owned by the caller and not used after
    /// it is sent.
    pub unsafe fn tx_burst_raw(&mut self, pkts: &mut [*mut dpdk_sys::rte_mbuf]) -> usize {
        let n = u16::try_from(pkts.len()).unwrap_or(u16::MAX);
        // SAFETY: the port is started with this queue and this handle is its only user;
        // the caller vouches for the mbufs.
        usize::from(unsafe {
            dpdk_sys::dpdk_sys_tx_burst(self.port, self.queue, pkts.as_mut_ptr(), n)
        })
    }
}
