//! One decoded table entry ([`Record`]) per table kind ([`Kind`]), with everything its
//! upstream formats (tools.md §2.5) and the TUI need: the human line, the table row, the
//! fields of csv/json and the TUI columns, and the details of the TUI's detail pane.
//!
//! Decoding never fails: every bit pattern of a key or value is a record (an unknown
//! protocol prints as its number, an id with invalid UTF-8 lossily).

mod config;
mod flows;

use std::collections::HashMap;
use std::fmt;

use bytemuck::Pod;
use dpservice::shm::catalogue::{self, CatalogueTable};
use dpservice::shm::{Region, TableError, TableReader};

pub use config::{DnatRecord, IfaceRecord, LbRecord, SnatRecord, VnfRecord, VniRecord};
pub use flows::{ConntrackRecord, PortmapRecord, PortoverloadRecord};

/// Runs `$body` with `$t` bound to the catalogue marker of `$kind`.
macro_rules! with_kind {
    ($kind:expr, $t:ident => $body:expr) => {
        match $kind {
            Kind::Conntrack => {
                type $t = catalogue::Conntrack;
                $body
            }
            Kind::Dnat => {
                type $t = catalogue::Dnat;
                $body
            }
            Kind::Iface => {
                type $t = catalogue::Interfaces;
                $body
            }
            Kind::Lb => {
                type $t = catalogue::LoadBalancers;
                $body
            }
            Kind::LbId => {
                type $t = catalogue::LoadBalancerIds;
                $body
            }
            Kind::Portmap => {
                type $t = catalogue::NatPortmap;
                $body
            }
            Kind::Portoverload => {
                type $t = catalogue::NatPortoverload;
                $body
            }
            Kind::Snat => {
                type $t = catalogue::Snat;
                $body
            }
            Kind::Vnf => {
                type $t = catalogue::Vnfs;
                $body
            }
            Kind::VnfRev => {
                type $t = catalogue::ReverseVnfs;
                $body
            }
            Kind::Vni => {
                type $t = catalogue::Vnis;
                $body
            }
        }
    };
}

/// A field as csv, json and the TUI see it.
#[derive(Clone, Copy)]
pub enum Field<'a> {
    /// A JSON number.
    Num(i64),
    /// A JSON string.
    Text(&'a dyn fmt::Display),
    /// The iface table's port: the number in csv and the TUI, `"N (private)"` in json
    /// (upstream's private pointer marker, kept for compatibility).
    Private(u16),
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Field::Num(n) => write!(f, "Num({n})"),
            Field::Text(t) => write!(f, "Text({t})"),
            Field::Private(p) => write!(f, "Private({p})"),
        }
    }
}

/// Receives the fields of a record in column order.
pub trait Sink {
    /// One field; `key` is its json key.
    fn field(&mut self, key: &'static str, value: Field<'_>);
}

/// Facts a record may need beyond its own key and value.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// CLOCK_MONOTONIC now, for flow ages.
    pub now_ns: u64,
    /// Interface ids by port id (the TUI's decoded port names; empty for dumps).
    pub port_names: HashMap<u16, String>,
}

impl Context {
    /// The interface on `port`, or the bare number.
    pub fn port_name(&self, port: u16) -> String {
        match self.port_names.get(&port) {
            Some(name) => format!("{port} ({name})"),
            None => port.to_string(),
        }
    }
}

/// A decoded entry of any table.
pub trait Record: Send + Sync {
    /// The human line (without newline).
    fn human(&self, out: &mut String) -> fmt::Result;
    /// The table-format row (without newline).
    fn table_row(&self, out: &mut String) -> fmt::Result;
    /// The csv/json fields in column order.
    fn fields(&self, sink: &mut dyn Sink);
    /// Label and value of everything known about the entry, for the detail pane.
    fn details(&self, ctx: &Context) -> Vec<(&'static str, String)>;
}

/// The headers of a table's formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The table format's header line.
    pub table_header: &'static str,
    /// The csv header line (also the TUI's column titles).
    pub csv_header: &'static str,
}

/// Decodes a catalogue table's entries.
pub trait Decode: CatalogueTable {
    /// The record type.
    type Rec: Record + 'static;
    /// The headers of the formats.
    const LAYOUT: Layout;
    /// One entry as a record.
    fn decode(key: &Self::Key, value: &Self::Value, ctx: &Context) -> Self::Rec;
}

/// The inspectable tables, in the order of the `-t` choice list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Kind {
    /// Flows (both directions of every connection).
    Conntrack,
    /// Destination NAT (VIPs, NAT addresses).
    Dnat,
    /// Interfaces.
    Iface,
    /// Load balancers by address.
    Lb,
    /// Load balancers by id.
    #[value(name = "lb_id")]
    LbId,
    /// NAT port map.
    Portmap,
    /// NAT port overload.
    Portoverload,
    /// Source NAT and VIPs.
    Snat,
    /// VNFs by underlay.
    Vnf,
    /// Underlays by VNF.
    #[value(name = "vnf_rev")]
    VnfRev,
    /// VNIs.
    Vni,
}

impl Kind {
    /// Every kind, in `-t` order.
    pub const ALL: [Kind; 11] = [
        Kind::Conntrack,
        Kind::Dnat,
        Kind::Iface,
        Kind::Lb,
        Kind::LbId,
        Kind::Portmap,
        Kind::Portoverload,
        Kind::Snat,
        Kind::Vnf,
        Kind::VnfRev,
        Kind::Vni,
    ];

    /// The `-t` name.
    pub fn short(self) -> &'static str {
        with_kind!(self, T => T::SHORT)
    }

    /// The daemon's table name without NUMA suffix.
    pub fn table_name(self) -> &'static str {
        with_kind!(self, T => T::NAME)
    }

    /// The format headers.
    pub fn layout(self) -> Layout {
        with_kind!(self, T => T::LAYOUT)
    }

    /// The TUI's column titles.
    pub fn columns(self) -> Vec<&'static str> {
        self.layout().csv_header.split(',').collect()
    }

    /// Whether entries age (the flow tables, where a live view shows change).
    pub fn is_flow_table(self) -> bool {
        matches!(self, Kind::Conntrack | Kind::Portmap | Kind::Portoverload)
    }
}

/// A type-erased reader of one table: counts, and decoded records by pool position.
pub trait AnyTable: Send + Sync {
    /// Which table.
    fn kind(&self) -> Kind;
    /// Keys stored.
    fn len(&self) -> usize;
    /// Whether no key is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Capacity.
    fn capacity(&self) -> usize;
    /// The pool's high-water mark (every entry's slot is below it).
    fn high_water(&self) -> usize;
    /// Visits up to `limit` entries from pool slot `slot` on, each with its slot;
    /// answers the slot to continue from and the entries skipped as contended.
    fn visit_from(
        &self,
        slot: usize,
        limit: usize,
        ctx: &Context,
        visit: &mut dyn FnMut(usize, Box<dyn Record>),
    ) -> (usize, usize);
}

struct Typed<T: Decode> {
    kind: Kind,
    reader: TableReader<T::Key, T::Value>,
}

impl<T: Decode> AnyTable for Typed<T>
where
    T::Key: Pod + Eq + Send + Sync,
    T::Value: Pod + Send + Sync,
{
    fn kind(&self) -> Kind {
        self.kind
    }
    fn len(&self) -> usize {
        self.reader.len()
    }
    fn capacity(&self) -> usize {
        self.reader.capacity()
    }
    fn high_water(&self) -> usize {
        self.reader.high_water()
    }
    fn visit_from(
        &self,
        slot: usize,
        limit: usize,
        ctx: &Context,
        visit: &mut dyn FnMut(usize, Box<dyn Record>),
    ) -> (usize, usize) {
        let mut iter = self.reader.iter_from(slot);
        for _ in 0..limit {
            match iter.next() {
                Some((k, v)) => visit(iter.position() - 1, Box::new(T::decode(&k, &v, ctx))),
                None => break,
            }
        }
        (iter.position(), iter.contended())
    }
}

/// Attaches a type-erased reader of `kind`'s table in `region`.
pub fn open_table(region: &Region, kind: Kind) -> Result<Box<dyn AnyTable>, TableError> {
    with_kind!(kind, T => {
        let reader = catalogue::Catalogue::reader::<T>(region)?;
        Ok(Box::new(Typed::<T> { kind, reader }) as Box<dyn AnyTable>)
    })
}

/// Interface ids by port id, read from the interface table (for decoded port names).
pub fn port_names(region: &Region) -> HashMap<u16, String> {
    let Ok(reader) = catalogue::Catalogue::reader::<catalogue::Interfaces>(region) else {
        return HashMap::new();
    };
    reader
        .iter()
        .map(|(k, v)| (v.port_id, crate::values::id_text(&k.id)))
        .collect()
}

/// Collects a record's fields as text (and the number, for sorting): the TUI's cells.
#[derive(Debug, Default)]
pub struct Cells(pub Vec<(String, Option<i64>)>);

impl Sink for Cells {
    fn field(&mut self, _key: &'static str, value: Field<'_>) {
        self.0.push(match value {
            Field::Num(n) => (n.to_string(), Some(n)),
            Field::Text(t) => (t.to_string(), None),
            Field::Private(p) => (p.to_string(), Some(i64::from(p))),
        });
    }
}

/// The cells of `record`.
pub fn cells(record: &dyn Record) -> Cells {
    let mut cells = Cells::default();
    record.fields(&mut cells);
    cells
}
