//! Which pages back a region's memory, and faulting them in at start-up.
//!
//! A large flow table touched at random costs a TLB miss (two page walks under a
//! hypervisor) per lookup on 4 KiB pages; on 2 MiB pages the page tables of the whole
//! table fit the TLB's second level. So a writable region asks for huge pages where the
//! host offers them and silently keeps 4 KiB pages where it does not:
//! - a private region (tests, benchmarks: a memfd) takes reserved hugetlb pages
//!   (`MFD_HUGETLB`) when `vm.nr_hugepages` leaves enough free, else a plain memfd with
//!   `MADV_HUGEPAGE`, which gets transparent huge pages while
//!   `transparent_hugepage/shmem_enabled` is `advise` (or `always`);
//! - the daemon's region is a file under `/dev/shm` (tools open it by path), so it can
//!   only use transparent huge pages, when that tmpfs is mounted with `huge=advise` (or
//!   `always`/`within_size`); hugetlbfs files live elsewhere.
//!
//! Pre-faulting (`MADV_POPULATE_WRITE`) moves the kernel's allocate-and-zero of every
//! page from the first packets of new flows to start-up.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::raw::Mapping;

/// Size of a huge page on x86_64 and arm64 (the `MFD_HUGE_2MB` pages asked for).
pub const HUGE_PAGE: u64 = 2 << 20;

/// What backs a region's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backing {
    /// Reserved 2 MiB hugetlb pages (a private region on a host with `nr_hugepages`).
    HugeTlb,
    /// Shared memory (tmpfs or memfd) with transparent huge pages advised; whether the
    /// host honoured the advice shows in [`MemoryReport::huge_bytes`].
    Shmem,
}

/// How a writable region's memory was set up, for the start-up log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryReport {
    /// What backs it.
    pub backing: Backing,
    /// Bytes mapped.
    pub bytes: u64,
    /// Bytes found mapped in 2 MiB pages after pre-faulting (`None`: not pre-faulted, so
    /// unknown until the pages are touched).
    pub huge_bytes: Option<u64>,
    /// How long pre-faulting took (`None`: not asked for).
    pub prefault_time: Option<Duration>,
}

impl MemoryReport {
    /// A one-line description: page size and pre-fault time.
    pub fn describe(&self) -> String {
        let mib = |b: u64| b as f64 / f64::from(1u32 << 20);
        let pages = match (self.backing, self.huge_bytes) {
            (Backing::HugeTlb, _) => "reserved 2 MiB pages (hugetlb)".to_owned(),
            (Backing::Shmem, Some(0)) => {
                "4 KiB pages (the host offers no transparent huge pages for it)".to_owned()
            }
            (Backing::Shmem, Some(h)) => format!(
                "transparent 2 MiB pages for {:.0} of {:.0} MiB, 4 KiB pages for the rest",
                mib(h),
                mib(self.bytes)
            ),
            (Backing::Shmem, None) => {
                "shared memory, transparent huge pages advised (page size not known before first use)"
                    .to_owned()
            }
        };
        match self.prefault_time {
            Some(t) => format!(
                "{:.0} MiB in {pages}, pre-faulted in {} ms",
                mib(self.bytes),
                t.as_millis()
            ),
            None => format!("{:.0} MiB in {pages}", mib(self.bytes)),
        }
    }
}

/// Asks for transparent huge pages on a shared-memory `map` (before anything touches
/// it: pages faulted in earlier stay small).
pub(crate) fn advise(map: &Mapping, backing: Backing) {
    if backing == Backing::Shmem {
        // only a hint: refused (EINVAL) where the kernel has no THP, which changes nothing
        let _ = map.advise_huge_pages();
    }
}

/// Faults every page of `map` in for writing; answers how long that took. Safe while
/// other threads use the memory: no contents change.
pub(crate) fn populate(map: &Mapping) -> Duration {
    let start = Instant::now();
    if map.populate_write().is_err() {
        // kernels before 5.14: touch one word of every page (an atomic or with 0 is a
        // store fault that leaves the contents as they are)
        if let Some(words) = map.atomic_words() {
            touch_pages(words);
        }
    }
    start.elapsed()
}

/// What backs `map`; the huge page share is looked up when the memory was pre-faulted
/// (`prefault_time`), since before that no page exists to count.
pub(crate) fn report(
    map: &Mapping,
    backing: Backing,
    prefault_time: Option<Duration>,
) -> MemoryReport {
    let huge_bytes = match backing {
        Backing::HugeTlb => Some(map.len_bytes() as u64),
        Backing::Shmem if prefault_time.is_some() => std::fs::read_to_string("/proc/self/smaps")
            .ok()
            .and_then(|text| huge_bytes_in_smaps(&text, map.start_address())),
        Backing::Shmem => None,
    };
    MemoryReport {
        backing,
        bytes: map.len_bytes() as u64,
        huge_bytes,
        prefault_time,
    }
}

/// Stores into one word of every 4 KiB page, leaving every value as it was.
fn touch_pages(words: &[AtomicU64]) {
    for w in words.iter().step_by(4096 / 8) {
        w.fetch_or(0, Ordering::Relaxed);
    }
}

/// Bytes of the mapping starting at `start` that `/proc/self/smaps` (its text) shows in
/// PMD-sized pages (`ShmemPmdMapped`, `FilePmdMapped`, `*_Hugetlb`); `None` if no mapping
/// starts there.
pub(crate) fn huge_bytes_in_smaps(smaps: &str, start: usize) -> Option<u64> {
    let head = format!("{start:x}-");
    let mut lines = smaps.lines().skip_while(|l| !l.starts_with(&head));
    lines.next()?;
    let mut kib = 0u64;
    for line in lines {
        let Some((field, rest)) = line.split_once(':') else {
            break;
        };
        if field.contains(' ') || field.contains('-') {
            break; // the next mapping's header line
        }
        if matches!(
            field,
            "ShmemPmdMapped" | "FilePmdMapped" | "Shared_Hugetlb" | "Private_Hugetlb"
        ) {
            kib += rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .unwrap_or(0);
        }
    }
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0c0000000-55d0c0200000 r--p 00000000 08:01 1234 /usr/bin/x
Size:               2048 kB
ShmemPmdMapped:        0 kB
7f0000000000-7f0040000000 rw-s 00000000 00:01 99 /memfd:dpservice_private (deleted)
Size:            1048576 kB
Rss:             1048576 kB
AnonHugePages:         0 kB
ShmemPmdMapped:   786432 kB
FilePmdMapped:         0 kB
Shared_Hugetlb:        0 kB
Private_Hugetlb:       0 kB
VmFlags: rd wr sh mr mw me ms sd hg
7f0040000000-7f0040200000 rw-s 00000000 00:0f 7 /anon_hugepage (deleted)
Shared_Hugetlb:     2048 kB
";

    #[test]
    fn smaps_huge_bytes_are_those_of_the_mapping_asked_for() {
        assert_eq!(
            huge_bytes_in_smaps(SMAPS, 0x7f00_0000_0000),
            Some(786_432 * 1024)
        );
        assert_eq!(
            huge_bytes_in_smaps(SMAPS, 0x7f00_4000_0000),
            Some(2048 * 1024)
        );
        assert_eq!(huge_bytes_in_smaps(SMAPS, 0x55d0_c000_0000), Some(0));
        assert_eq!(huge_bytes_in_smaps(SMAPS, 0x1000), None, "no such mapping");
    }

    #[test]
    fn touching_pages_keeps_contents() {
        let words: Vec<AtomicU64> = (0..2048).map(AtomicU64::new).collect();
        touch_pages(&words);
        assert!(words
            .iter()
            .enumerate()
            .all(|(i, w)| w.load(Ordering::Relaxed) == i as u64));
    }

    #[test]
    fn reports_say_which_pages() {
        let r = MemoryReport {
            backing: Backing::Shmem,
            bytes: 512 << 20,
            huge_bytes: Some(0),
            prefault_time: Some(Duration::from_millis(42)),
        };
        assert_eq!(
            r.describe(),
            "512 MiB in 4 KiB pages (the host offers no transparent huge pages for it), pre-faulted in 42 ms"
        );
        let r = MemoryReport {
            huge_bytes: Some(510 << 20),
            prefault_time: None,
            ..r
        };
        assert_eq!(
            r.describe(),
            "512 MiB in transparent 2 MiB pages for 510 of 512 MiB, 4 KiB pages for the rest"
        );
        let r = MemoryReport {
            backing: Backing::HugeTlb,
            ..r
        };
        assert!(r.describe().contains("hugetlb"), "{}", r.describe());
    }
}
