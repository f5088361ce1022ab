//! Where the entries go: text lines, a classic pcap or a pcapng capture, to a file or
//! stdout. Every output is flushed per batch, so a pipe into tcpdump or Wireshark shows
//! packets as they come.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use dpservice::shm::mirror::{EntryHeader, EventKind, NONE16, SNAP_LEN};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use crate::summary;

/// An output failed.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// The reader of our stdout went away (`| head`): a clean end.
    #[error("the output pipe was closed")]
    Closed,
    /// Creating or writing the file failed.
    #[error("cannot write {what}: {source}")]
    Io {
        /// The file or stdout.
        what: String,
        /// Cause.
        #[source]
        source: io::Error,
    },
}

fn io_err(what: &str, e: io::Error) -> OutputError {
    if e.kind() == io::ErrorKind::BrokenPipe {
        OutputError::Closed
    } else {
        OutputError::Io {
            what: what.to_owned(),
            source: e,
        }
    }
}

fn pcap_err(what: &str, e: PcapError) -> OutputError {
    match e {
        PcapError::IoError(e) => io_err(what, e),
        other => OutputError::Io {
            what: what.to_owned(),
            source: io::Error::other(other.to_string()),
        },
    }
}

/// The names entries refer to.
#[derive(Debug, Default)]
pub struct Names {
    /// Node names by id.
    pub nodes: Vec<String>,
    /// Drop reason names by id.
    pub reasons: Vec<String>,
}

impl Names {
    fn node(&self, id: u16) -> Cow<'_, str> {
        match self.nodes.get(usize::from(id)) {
            Some(n) => Cow::Borrowed(n.as_str()),
            None => Cow::Owned(format!("node{id}")),
        }
    }

    /// The `from`, arrow and `to` of a text line (tools.md §1.5).
    pub fn ends(&self, h: &EntryHeader) -> (Cow<'_, str>, &'static str, Cow<'_, str>) {
        match h.kind {
            EventKind::Rx => (
                Cow::Owned(format!("PORT {}", h.in_port)),
                ">>",
                self.node(h.dst),
            ),
            EventKind::Next => (self.node(h.src), "->", self.node(h.dst)),
            EventKind::Tx => (
                self.node(h.src),
                ">>",
                Cow::Owned(format!("PORT {}", h.out_port)),
            ),
            EventKind::Drop => (self.node(h.src), ">>", Cow::Borrowed("DROP")),
        }
    }

    /// The node a pcapng interface stands for: where the packet was seen.
    fn point(&self, h: &EntryHeader) -> Cow<'_, str> {
        if h.src != NONE16 {
            self.node(h.src)
        } else {
            self.node(h.dst)
        }
    }

    fn reason(&self, h: &EntryHeader) -> Option<&str> {
        (h.drop_reason != NONE16)
            .then(|| {
                self.reasons
                    .get(usize::from(h.drop_reason))
                    .map(String::as_str)
            })
            .flatten()
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Text lines on stdout.
    Text,
    /// Classic pcap (as upstream).
    Pcap,
    /// pcapng with one interface per capture point and comments.
    PcapNg,
}

/// The buffered file or stdout, shared between a pcap writer (which owns its writer and
/// offers no flush) and the batch loop that flushes it.
#[derive(Clone)]
pub struct Shared(Rc<RefCell<BufWriter<Box<dyn Write>>>>);

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Shared(BufWriter)")
    }
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// An open output.
pub enum Output {
    /// Text lines.
    Text(BufWriter<Box<dyn Write>>),
    /// Classic pcap.
    Pcap(PcapWriter<Shared>, Shared, String),
    /// pcapng and its interfaces by capture point.
    PcapNg(PcapNgWriter<Shared>, Shared, HashMap<String, u32>, String),
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Output::Text(_) => "Output::Text",
            Output::Pcap(..) => "Output::Pcap",
            Output::PcapNg(..) => "Output::PcapNg",
        })
    }
}

fn sink(path: Option<&Path>) -> Result<(Box<dyn Write>, String), OutputError> {
    match path {
        None => Ok((Box::new(io::stdout()), "stdout".to_owned())),
        Some(p) if p == Path::new("-") => Ok((Box::new(io::stdout()), "stdout".to_owned())),
        Some(p) => {
            let name = p.display().to_string();
            let f = File::create(p).map_err(|e| io_err(&name, e))?;
            Ok((Box::new(f), name))
        }
    }
}

impl Output {
    /// Opens the output (creating or truncating the file; `-` is stdout).
    pub fn open(format: Format, path: Option<&Path>) -> Result<Output, OutputError> {
        let (w, name) = sink(path)?;
        let w = BufWriter::with_capacity(1 << 16, w);
        if format == Format::Text {
            return Ok(Output::Text(w));
        }
        let shared = Shared(Rc::new(RefCell::new(w)));
        let w = shared.clone();
        Ok(if format == Format::Pcap {
            {
                let header = PcapHeader {
                    snaplen: SNAP_LEN as u32,
                    datalink: DataLink::ETHERNET,
                    ts_resolution: TsResolution::MicroSecond,
                    endianness: if cfg!(target_endian = "little") {
                        Endianness::Little
                    } else {
                        Endianness::Big
                    },
                    ..PcapHeader::default()
                };
                let w = PcapWriter::with_header(w, header).map_err(|e| pcap_err(&name, e))?;
                Output::Pcap(w, shared, name)
            }
        } else {
            {
                let w = PcapNgWriter::new(w).map_err(|e| pcap_err(&name, e))?;
                Output::PcapNg(w, shared, HashMap::new(), name)
            }
        })
    }

    /// Writes one entry.
    pub fn write(
        &mut self,
        names: &Names,
        h: &EntryHeader,
        data: &[u8],
    ) -> Result<(), OutputError> {
        let ts = Duration::from_nanos(h.timestamp_ns);
        match self {
            Output::Text(w) => {
                let (from, arrow, to) = names.ends(h);
                writeln!(
                    w,
                    "{} {}: {from:<14} {arrow} {to:<14}: {}",
                    summary::time_of_day(h.timestamp_ns),
                    h.pkt_id,
                    summary::layers(data)
                )
                .map_err(|e| io_err("stdout", e))
            }
            Output::Pcap(w, _, name) => w
                .write_packet(&PcapPacket::new(ts, h.orig_len, data))
                .map(drop)
                .map_err(|e| pcap_err(name, e)),
            Output::PcapNg(w, _, interfaces, name) => {
                let point = names.point(h).into_owned();
                let id = match interfaces.get(&point) {
                    Some(&id) => id,
                    None => {
                        let id = interfaces.len() as u32;
                        let idb = InterfaceDescriptionBlock {
                            linktype: DataLink::ETHERNET,
                            snaplen: SNAP_LEN as u32,
                            options: vec![
                                InterfaceDescriptionOption::IfName(Cow::Owned(point.clone())),
                                InterfaceDescriptionOption::IfDescription(Cow::Owned(format!(
                                    "dpservice graph node {point}"
                                ))),
                                InterfaceDescriptionOption::IfTsResol(9),
                            ],
                        };
                        w.write_pcapng_block(idb).map_err(|e| pcap_err(name, e))?;
                        interfaces.insert(point, id);
                        id
                    }
                };
                let (from, arrow, to) = names.ends(h);
                let mut options = vec![EnhancedPacketOption::Comment(Cow::Owned(format!(
                    "{}: {from} {arrow} {to}",
                    h.pkt_id
                )))];
                if let Some(r) = names.reason(h) {
                    options.push(EnhancedPacketOption::Comment(Cow::Owned(format!(
                        "drop reason: {r}"
                    ))));
                }
                let epb = EnhancedPacketBlock {
                    interface_id: id,
                    timestamp: ts,
                    original_len: h.orig_len,
                    data: Cow::Borrowed(data),
                    options,
                };
                w.write_pcapng_block(epb)
                    .map(drop)
                    .map_err(|e| pcap_err(name, e))
            }
        }
    }

    /// Pushes buffered bytes out (once per batch).
    pub fn flush(&mut self) -> Result<(), OutputError> {
        let (r, name) = match self {
            Output::Text(w) => (w.flush(), "stdout"),
            Output::Pcap(_, s, name) | Output::PcapNg(_, s, _, name) => (s.flush(), name.as_str()),
        };
        r.map_err(|e| io_err(name, e))
    }
}
