//! Linux TAP ports (`--vdev=net_tapN,iface=NAME[,mac=MAC][,persist]`).
//!
//! The daemon owns the TAP: it creates (or attaches to) the kernel interface through
//! `/dev/net/tun`, gives the kernel side the port's MAC, and reads and writes whole
//! Ethernet frames without blocking. Starting a port brings the kernel link up, stopping it
//! brings the link down (as DPDK's TAP driver does).
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use super::{LinkDevice, PacketBuf, Pool, Port, PortStats};
use crate::wire::MacAddr;

/// One TAP device as named on the command line (the config engineer parses `--vdev`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapConfig {
    /// DPDK device name, e.g. `net_tap2` (what gRPC `CreateInterface.device` names).
    pub device: String,
    /// Kernel interface name, e.g. `dtapvf_0`.
    pub iface: String,
    /// The port's MAC (also set on the kernel side); `None` keeps the kernel's random one.
    pub mac: Option<MacAddr>,
    /// Attach to a pre-existing persistent (possibly multi-queue) TAP and keep it on exit.
    pub persist: bool,
}

/// Why a TAP could not be opened or configured.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    #[error("interface name {0:?} is empty or longer than 15 bytes")]
    BadName(String),
    #[error("cannot open /dev/net/tun (is the tun module loaded, and are we root?): {0}")]
    OpenTun(#[source] io::Error),
    #[error("cannot create or attach TAP interface {iface}: {source}")]
    Attach {
        iface: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot {what} of TAP interface {iface}: {source}")]
    Configure {
        what: &'static str,
        iface: String,
        #[source]
        source: io::Error,
    },
}

const IFNAMSIZ: usize = 16;
const ARPHRD_ETHER: u16 = 1;

/// `struct ifreq` as the kernel lays it out on 64-bit Linux (name + 24-byte union).
#[repr(C)]
#[derive(Clone, Copy)]
struct IfReq {
    name: [u8; IFNAMSIZ],
    data: [u8; 24],
}

impl IfReq {
    fn new(name: &str) -> IfReq {
        let mut r = IfReq {
            name: [0; IFNAMSIZ],
            data: [0; 24],
        };
        r.name[..name.len()].copy_from_slice(name.as_bytes());
        r
    }

    fn flags(&self) -> i16 {
        i16::from_ne_bytes([self.data[0], self.data[1]])
    }

    fn set_flags(&mut self, flags: i16) {
        self.data[..2].copy_from_slice(&flags.to_ne_bytes());
    }
}

/// `ioctl(fd, request, &mut ifreq)`.
fn ioctl_ifreq(fd: RawFd, request: libc::Ioctl, req: &mut IfReq) -> io::Result<()> {
    // SAFETY: `req` is a valid, exclusively borrowed `struct ifreq` (40 bytes, the size every
    // interface ioctl used here reads or writes) for the duration of the call.
    let rc = unsafe { libc::ioctl(fd, request, req as *mut IfReq) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A datagram socket for interface ioctls (they need a socket of any family).
fn control_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2) call with constant arguments; no pointers involved.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Opens a TAP queue on `/dev/net/tun` and binds it to `iface` with `flags`.
fn attach(iface: &str, flags: i32) -> Result<OwnedFd, TapError> {
    const PATH: &[u8] = b"/dev/net/tun\0";
    // SAFETY: PATH is a NUL-terminated string that lives for the whole call.
    let fd = unsafe {
        libc::open(
            PATH.as_ptr().cast(),
            libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(TapError::OpenTun(io::Error::last_os_error()));
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req = IfReq::new(iface);
    req.set_flags(flags as i16);
    ioctl_ifreq(fd.as_raw_fd(), libc::TUNSETIFF, &mut req).map_err(|source| TapError::Attach {
        iface: iface.to_owned(),
        source,
    })?;
    Ok(fd)
}

/// A port on a Linux TAP interface.
#[derive(Debug)]
pub struct TapPort {
    cfg: TapConfig,
    fd: OwnedFd,
    ctl: OwnedFd,
    mac: MacAddr,
    stats: PortStats,
}

impl TapPort {
    /// Creates (or attaches to) the TAP interface and sets its MAC. The link stays as it
    /// was (down for a new interface) until [`Port::start`].
    pub fn open(cfg: &TapConfig) -> Result<TapPort, TapError> {
        if cfg.iface.is_empty() || cfg.iface.len() >= IFNAMSIZ || cfg.iface.contains('\0') {
            return Err(TapError::BadName(cfg.iface.clone()));
        }
        let base = libc::IFF_TAP | libc::IFF_NO_PI;
        // A multi-queue device only accepts queues that say so, a single-queue one only
        // queues that do not; try the multi-queue form first as DPDK does.
        let fd = match attach(&cfg.iface, base | libc::IFF_MULTI_QUEUE) {
            Ok(fd) => fd,
            Err(TapError::Attach { source, .. }) if source.raw_os_error() == Some(libc::EINVAL) => {
                attach(&cfg.iface, base)?
            }
            Err(e) => return Err(e),
        };
        let configure = |what, source| TapError::Configure {
            what,
            iface: cfg.iface.clone(),
            source,
        };
        if cfg.persist {
            // SAFETY: TUNSETPERSIST takes an integer argument, no pointer.
            let rc =
                unsafe { libc::ioctl(fd.as_raw_fd(), libc::TUNSETPERSIST, 1 as libc::c_ulong) };
            if rc < 0 {
                return Err(configure("make persistent", io::Error::last_os_error()));
            }
        }
        let ctl = control_socket().map_err(|e| configure("open a control socket", e))?;
        let mut port = TapPort {
            cfg: cfg.clone(),
            fd,
            ctl,
            mac: MacAddr::ZERO,
            stats: PortStats::default(),
        };
        match cfg.mac {
            Some(mac) => {
                port.set_kernel_mac(mac)
                    .map_err(|e| configure("set the MAC address", e))?;
                port.mac = mac;
            }
            None => {
                port.mac = port
                    .kernel_mac()
                    .map_err(|e| configure("read the MAC address", e))?
            }
        }
        Ok(port)
    }

    /// The configuration this port was opened with.
    pub fn config(&self) -> &TapConfig {
        &self.cfg
    }

    /// Writes one frame of any length, outside the buffer pool (test generators: e.g. a
    /// jumbo frame longer than any packet buffer).
    pub fn write_frame(&self, frame: &[u8]) -> io::Result<()> {
        let n = rustix::io::write(&self.fd, frame)?;
        if n != frame.len() {
            return Err(io::Error::other(format!(
                "TAP {} took {n} of {} bytes",
                self.cfg.iface,
                frame.len()
            )));
        }
        Ok(())
    }

    fn set_kernel_mac(&self, mac: MacAddr) -> io::Result<()> {
        let mut req = IfReq::new(&self.cfg.iface);
        req.data[..2].copy_from_slice(&ARPHRD_ETHER.to_ne_bytes());
        req.data[2..8].copy_from_slice(&mac.0);
        ioctl_ifreq(self.ctl.as_raw_fd(), libc::SIOCSIFHWADDR, &mut req)
    }

    fn kernel_mac(&self) -> io::Result<MacAddr> {
        let mut req = IfReq::new(&self.cfg.iface);
        ioctl_ifreq(self.ctl.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req)?;
        Ok(MacAddr::from_slice(&req.data[2..8]))
    }

    fn set_up(&self, up: bool) -> io::Result<()> {
        set_kernel_up(&self.ctl, &self.cfg.iface, up)
    }
}

fn kernel_flags(ctl: &OwnedFd, iface: &str) -> io::Result<i16> {
    let mut req = IfReq::new(iface);
    ioctl_ifreq(ctl.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req)?;
    Ok(req.flags())
}

fn set_kernel_up(ctl: &OwnedFd, iface: &str, up: bool) -> io::Result<()> {
    let mut req = IfReq::new(iface);
    ioctl_ifreq(ctl.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req)?;
    let flags = req.flags();
    let up_flag = libc::IFF_UP as i16;
    let new = if up {
        flags | up_flag
    } else {
        flags & !up_flag
    };
    if new == flags {
        return Ok(());
    }
    req.set_flags(new);
    ioctl_ifreq(ctl.as_raw_fd(), libc::SIOCSIFFLAGS, &mut req)
}

fn running(ctl: &OwnedFd, iface: &str) -> bool {
    let want = (libc::IFF_UP | libc::IFF_RUNNING) as i16;
    kernel_flags(ctl, iface)
        .map(|f| f & want == want)
        .unwrap_or(false)
}

/// The link of a TAP interface, by name over its own control socket (for `portctl`).
#[derive(Debug)]
pub struct TapLink {
    iface: String,
    ctl: OwnedFd,
}

impl LinkDevice for TapLink {
    fn name(&self) -> &str {
        &self.iface
    }

    fn link_up(&self) -> bool {
        running(&self.ctl, &self.iface)
    }

    fn set_up(&self, up: bool) -> io::Result<()> {
        set_kernel_up(&self.ctl, &self.iface, up)
    }
}

impl Port for TapPort {
    fn name(&self) -> &str {
        &self.cfg.iface
    }

    fn mac(&self) -> MacAddr {
        self.mac
    }

    fn link_up(&self) -> bool {
        running(&self.ctl, &self.cfg.iface)
    }

    fn start(&mut self) -> io::Result<()> {
        self.set_up(true)
    }

    fn stop(&mut self) -> io::Result<()> {
        self.set_up(false)
    }

    fn rx_burst(&mut self, pool: &mut Pool, out: &mut Vec<PacketBuf>, max: usize) -> usize {
        let mut n = 0;
        while n < max {
            let Some(mut b) = pool.alloc() else {
                self.stats.rx_nombuf += 1;
                break;
            };
            // One spare byte behind the buffer: a frame that reaches into it did not fit,
            // whether the kernel reports the frame's full length or only what it copied.
            let mut spare = [0u8; 1];
            let room = b.rx_room();
            let room_len = room.len();
            let got = rustix::io::readv(
                &self.fd,
                &mut [io::IoSliceMut::new(room), io::IoSliceMut::new(&mut spare)],
            );
            let len = match got {
                Ok(0) => {
                    pool.free(b);
                    break;
                }
                Ok(len) => len,
                Err(e) => {
                    pool.free(b);
                    match e {
                        rustix::io::Errno::INTR => continue,
                        rustix::io::Errno::AGAIN => break,
                        _ => {
                            self.stats.rx_errors += 1;
                            break;
                        }
                    }
                }
            };
            if len > room_len {
                // handed on marked, so the graph counts it as `frame_too_long`
                self.stats.rx_errors += 1;
            }
            b.set_received_len(len);
            self.stats.rx_bytes += len as u64;
            out.push(b);
            n += 1;
        }
        self.stats.rx_packets += n as u64;
        n
    }

    fn tx_burst(&mut self, pkts: &mut Vec<PacketBuf>, pool: &mut Pool) -> usize {
        let mut done = 0;
        while done < pkts.len() {
            let frame = pkts[done].frame();
            // SAFETY: `frame` is a live byte slice; write(2) reads `frame.len()` bytes of it.
            let rc = unsafe {
                libc::write(
                    self.fd.as_raw_fd(),
                    frame.as_ptr().cast::<c_void>(),
                    frame.len(),
                )
            };
            if rc < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EAGAIN) => break,
                    // e.g. EIO while the kernel side is down: the frame is lost, as on a NIC
                    _ => self.stats.tx_errors += 1,
                }
            } else {
                self.stats.tx_packets += 1;
                self.stats.tx_bytes += frame.len() as u64;
            }
            done += 1;
        }
        for b in pkts.drain(..done) {
            pool.free(b);
        }
        done
    }

    fn poll_fd(&self) -> Option<BorrowedFd<'_>> {
        Some(self.fd.as_fd())
    }

    fn stats(&self) -> PortStats {
        self.stats
    }

    fn link_device(&self) -> io::Result<Box<dyn LinkDevice>> {
        Ok(Box::new(TapLink {
            iface: self.cfg.iface.clone(),
            ctl: control_socket()?,
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
pub(crate) mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    /// Runs `f` on a thread inside a fresh, anonymous network namespace; the namespace
    /// (and every interface in it) disappears when the thread ends, even on panic.
    pub(crate) fn in_new_netns<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        std::thread::spawn(move || {
            // SAFETY: unshare(2) with a constant flag; it changes only this thread's
            // network namespace.
            let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
            assert_eq!(
                rc,
                0,
                "unshare(CLONE_NEWNET) needs root: {}",
                io::Error::last_os_error()
            );
            f()
        })
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
    }

    /// A raw packet socket on the kernel side of an interface: plays the VM.
    pub(crate) struct KernelSide {
        fd: OwnedFd,
        ifindex: i32,
    }

    impl KernelSide {
        pub(crate) fn bind(iface: &str) -> KernelSide {
            let proto = (libc::ETH_P_ALL as u16).to_be();
            // SAFETY: socket(2) with constant arguments.
            let fd = unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_NONBLOCK,
                    i32::from(proto),
                )
            };
            assert!(fd >= 0, "packet socket: {}", io::Error::last_os_error());
            // SAFETY: fresh descriptor owned by nothing else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let name = std::ffi::CString::new(iface).unwrap();
            // SAFETY: `name` is a valid NUL-terminated string for the duration of the call.
            let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) } as i32;
            assert!(ifindex > 0);
            // SAFETY: an all-zero sockaddr_ll is a valid value; fields are set below.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = ifindex;
            // SAFETY: `sll` is a valid sockaddr_ll and the length passed matches it.
            let rc = unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&sll as *const libc::sockaddr_ll).cast(),
                    size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            assert_eq!(rc, 0, "bind: {}", io::Error::last_os_error());
            KernelSide { fd, ifindex }
        }

        pub(crate) fn send(&self, frame: &[u8]) {
            // SAFETY: an all-zero sockaddr_ll is valid; ifindex and length set below.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_ifindex = self.ifindex;
            sll.sll_halen = 6;
            sll.sll_addr[..6].copy_from_slice(&frame[..6]);
            // SAFETY: `frame` and `sll` are valid for the duration of the call.
            let rc = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    frame.as_ptr().cast(),
                    frame.len(),
                    0,
                    (&sll as *const libc::sockaddr_ll).cast(),
                    size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            assert_eq!(
                rc,
                frame.len() as isize,
                "sendto: {}",
                io::Error::last_os_error()
            );
        }

        /// Waits up to `timeout` for a received frame satisfying `want`.
        pub(crate) fn recv_matching(
            &self,
            timeout: Duration,
            want: impl Fn(&[u8]) -> bool,
        ) -> Option<Vec<u8>> {
            let deadline = Instant::now() + timeout;
            let mut buf = [0u8; 2048];
            loop {
                // SAFETY: `buf` is a live byte buffer of the length passed.
                let rc = unsafe {
                    libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0)
                };
                if rc > 0 {
                    let f = &buf[..rc as usize];
                    if want(f) {
                        return Some(f.to_vec());
                    }
                    continue;
                }
                if Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            None
        }
    }

    fn cfg(iface: &str, mac: Option<MacAddr>, persist: bool) -> TapConfig {
        TapConfig {
            device: "net_tap0".into(),
            iface: iface.into(),
            mac,
            persist,
        }
    }

    const MAC: MacAddr = MacAddr([0x66, 0x66, 0x66, 0x66, 0x66, 0x00]);

    fn test_frame(tag: u8) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[..6].copy_from_slice(&MAC.0);
        f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, tag]);
        f[12..14].copy_from_slice(&[0x88, 0xb5]);
        f[14] = tag;
        f
    }

    #[test]
    fn tap_creates_sets_mac_and_moves_frames_both_ways() {
        in_new_netns(|| {
            let mut port = TapPort::open(&cfg("dtaptest0", Some(MAC), false)).unwrap();
            assert_eq!(port.mac(), MAC);
            assert_eq!(port.kernel_mac().unwrap(), MAC);
            assert!(!port.link_up(), "a new TAP is down until started");
            port.start().unwrap();
            assert!(port.link_up());
            assert!(port.poll_fd().is_some());

            let vm = KernelSide::bind("dtaptest0");
            let mut pool = Pool::new(16);
            let mut got = Vec::new();
            vm.send(&test_frame(1));
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline {
                port.rx_burst(&mut pool, &mut got, 32);
                if got.iter().any(|b| b.frame() == test_frame(1).as_slice()) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            assert!(
                got.iter().any(|b| b.frame() == test_frame(1).as_slice()),
                "frame not received"
            );
            for b in got.drain(..) {
                pool.free(b);
            }

            let mut out = vec![pool.alloc_frame(&test_frame(2)).unwrap()];
            assert_eq!(port.tx_burst(&mut out, &mut pool), 1);
            let seen = vm.recv_matching(Duration::from_secs(2), |f| f == test_frame(2).as_slice());
            assert!(seen.is_some(), "frame not delivered to the kernel side");
            assert_eq!(pool.in_use(), 0);

            port.stop().unwrap();
            assert!(!port.link_up());
        });
    }

    /// Lets the kernel side send jumbo frames (a packet socket refuses frames above MTU).
    fn set_mtu(port: &TapPort, mtu: i32) {
        let mut req = IfReq::new(port.name());
        req.data[..4].copy_from_slice(&mtu.to_ne_bytes());
        ioctl_ifreq(port.ctl.as_raw_fd(), libc::SIOCSIFMTU, &mut req).unwrap();
    }

    #[test]
    fn tap_marks_a_frame_longer_than_the_buffer() {
        in_new_netns(|| {
            let mut port = TapPort::open(&cfg("dtapjumbo", Some(MAC), false)).unwrap();
            set_mtu(&port, 9000);
            port.start().unwrap();
            let vm = KernelSide::bind("dtapjumbo");
            let mut jumbo = test_frame(7);
            jumbo.resize(9000, 0xab);
            vm.send(&jumbo);
            vm.send(&test_frame(8));
            let exact = {
                let mut f = test_frame(9);
                f.resize(super::super::buf::MAX_FRAME, 0xcd);
                f
            };
            vm.send(&exact);
            let mut pool = Pool::new(16);
            let mut got = Vec::new();
            let deadline = Instant::now() + Duration::from_secs(2);
            while Instant::now() < deadline && got.len() < 3 {
                port.rx_burst(&mut pool, &mut got, 32);
                std::thread::sleep(Duration::from_millis(2));
            }
            // the kernel may add its own frames (none expected in a fresh namespace)
            let ours: Vec<_> = got
                .iter()
                .filter(|b| b.frame()[12..14] == [0x88, 0xb5])
                .collect();
            assert_eq!(ours.len(), 3, "all three frames read");
            assert!(ours[0].is_too_long(), "9000 bytes do not fit a buffer");
            assert_eq!(ours[0].frame(), &jumbo[..super::super::buf::MAX_FRAME]);
            assert!(!ours[1].is_too_long());
            assert_eq!(ours[1].frame(), test_frame(8).as_slice());
            assert!(!ours[2].is_too_long(), "a frame that fills the buffer fits");
            assert_eq!(ours[2].frame(), exact.as_slice());
            assert_eq!(port.stats().rx_errors, 1);
        });
    }

    #[test]
    fn tap_attaches_to_persistent_multi_queue_device() {
        in_new_netns(|| {
            // Create a persistent multi-queue TAP as `ip tuntap add mode tap multi_queue`.
            let creator = attach(
                "dpssync",
                libc::IFF_TAP | libc::IFF_NO_PI | libc::IFF_MULTI_QUEUE,
            )
            .unwrap();
            // SAFETY: integer-argument ioctl on a valid TAP descriptor.
            let rc = unsafe {
                libc::ioctl(creator.as_raw_fd(), libc::TUNSETPERSIST, 1 as libc::c_ulong)
            };
            assert_eq!(rc, 0);
            drop(creator);

            let port = TapPort::open(&cfg("dpssync", None, true)).unwrap();
            assert!(
                !port.mac().is_zero(),
                "kernel MAC is kept when none is given"
            );
            // and a single-queue persistent device is attached to as well
            let creator = attach("dpssq", libc::IFF_TAP | libc::IFF_NO_PI).unwrap();
            // SAFETY: as above.
            let rc = unsafe {
                libc::ioctl(creator.as_raw_fd(), libc::TUNSETPERSIST, 1 as libc::c_ulong)
            };
            assert_eq!(rc, 0);
            drop(creator);
            TapPort::open(&cfg("dpssq", Some(MAC), true)).unwrap();
        });
    }

    #[test]
    fn bad_names_are_refused() {
        assert!(matches!(
            TapPort::open(&cfg("", None, false)),
            Err(TapError::BadName(_))
        ));
        assert!(matches!(
            TapPort::open(&cfg("a-very-long-interface-name", None, false)),
            Err(TapError::BadName(_))
        ));
    }
}
