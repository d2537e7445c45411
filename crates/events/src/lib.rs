//! The health monitor's event records, decoded from bytes into a typed
//! model. Decoding is total: any 64 bytes give a [`Record`]; a domain or
//! type the kernel does not define (or an impossible combination) becomes
//! [`Event::Unknown`] carrying the raw bytes, never a panic or an error.
//!
//! The monitor fd is a byte stream, not a record stream: a `read` can end
//! inside a record (the man page says otherwise; Linux 7.2.13 does it), so
//! [`RecordAssembler`] keeps the remainder for the next read.

#![forbid(unsafe_code)]

/// Size of one `struct xfs_health_monitor_event`.
pub const RECORD_LEN: usize = 64;

/// One decoded record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    /// CLOCK_REALTIME (coarse) when the kernel queued it.
    pub time_ns: u64,
    pub event: Event,
    /// The record as read, for exact de-duplication.
    pub raw: [u8; RECORD_LEN],
}

impl Record {
    /// Identity of the report for de-duplication: everything but the
    /// timestamp.
    pub fn raw_key(&self) -> [u8; RECORD_LEN] {
        let mut key = self.raw;
        key[8..16].fill(0);
        key
    }

    /// The [`raw_key`](Record::raw_key) this record would have with another
    /// health verdict: what a HEALTHY report uses to re-arm the limiter for
    /// the SICK reports of the same object and structures.
    pub fn key_as(&self, verdict: Verdict) -> [u8; RECORD_LEN] {
        let mut key = self.raw_key();
        let kind = match verdict {
            Verdict::Sick => TYPE_SICK,
            Verdict::Corrupt => TYPE_CORRUPT,
            Verdict::Healthy => TYPE_HEALTHY,
        };
        key[4..8].copy_from_slice(&kind.to_ne_bytes());
        key
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// First record of every monitor.
    Running,
    /// The kernel dropped `count` events (its queue was full).
    Lost {
        count: u64,
    },
    /// The filesystem is being unmounted; the stream ends after the
    /// records still queued.
    Unmount,
    Shutdown {
        reasons: ShutdownReasons,
    },
    Health {
        verdict: Verdict,
        object: HealthObject,
    },
    Media {
        device: Device,
        daddr: u64,
        bbcount: u64,
    },
    FileIo {
        kind: FileIoKind,
        ino: u64,
        generation: u32,
        pos: u64,
        len: u64,
        error: u32,
    },
    Unknown {
        domain: u32,
        kind: u32,
    },
}

/// SICK = runtime code found damage; CORRUPT = scrub found it; HEALTHY =
/// scrub or repair found it fine (the man page swaps the first two).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Sick,
    Corrupt,
    Healthy,
}

impl Verdict {
    /// The word the reference prints.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Sick => "sick",
            Verdict::Corrupt => "corrupt",
            Verdict::Healthy => "healthy",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthObject {
    Fs {
        mask: Mask,
    },
    Ag {
        agno: u32,
        mask: Mask,
    },
    RtGroup {
        rgno: u32,
        mask: Mask,
    },
    Inode {
        ino: u64,
        generation: u32,
        mask: Mask,
    },
}

/// A sick/corrupt/healthy bit mask (its meaning depends on the domain).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mask(pub u32);

/// Names of the mask bits per domain, bit 0 first (the reference's words).
pub const FS_NAMES: &[&str] = &[
    "fscounters",
    "usrquota",
    "grpquota",
    "prjquota",
    "bitmap",
    "summary",
    "quotacheck",
    "nlinks",
    "metadir",
    "metapath",
];
pub const AG_NAMES: &[&str] = &[
    "super",
    "agf",
    "agfl",
    "agi",
    "bnobt",
    "cntbt",
    "inobt",
    "finobt",
    "rmapbt",
    "refcountbt",
    "inodes",
];
pub const RTGROUP_NAMES: &[&str] = &["super", "bitmap", "summary", "rmapbt", "refcountbt"];
pub const INODE_NAMES: &[&str] = &[
    "core",
    "datafork",
    "attrfork",
    "cowfork",
    "directory",
    "xattr",
    "symlink",
    "parent",
    "dirtree",
];

impl HealthObject {
    pub fn mask(&self) -> Mask {
        match *self {
            HealthObject::Fs { mask }
            | HealthObject::Ag { mask, .. }
            | HealthObject::RtGroup { mask, .. }
            | HealthObject::Inode { mask, .. } => mask,
        }
    }

    /// The bit names of this domain.
    pub fn names(&self) -> &'static [&'static str] {
        match self {
            HealthObject::Fs { .. } => FS_NAMES,
            HealthObject::Ag { .. } => AG_NAMES,
            HealthObject::RtGroup { .. } => RTGROUP_NAMES,
            HealthObject::Inode { .. } => INODE_NAMES,
        }
    }
}

/// Shutdown reasons bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShutdownReasons(pub u32);

pub const SHUTDOWN_NAMES: &[&str] = &[
    "metadata I/O error",
    "log I/O error",
    "forced unmount",
    "in-memory state corruption",
    "ondisk metadata corruption",
    "device removed",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Device {
    Data,
    Rt,
    Log,
}

impl Device {
    pub fn word(self) -> &'static str {
        match self {
            Device::Data => "datadev",
            Device::Rt => "rtdev",
            Device::Log => "logdev",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileIoKind {
    BufferedRead,
    BufferedWrite,
    DirectRead,
    DirectWrite,
    DataLost,
}

impl FileIoKind {
    pub fn word(self) -> &'static str {
        match self {
            FileIoKind::BufferedRead => "buffered_read",
            FileIoKind::BufferedWrite => "buffered_write",
            FileIoKind::DirectRead => "directio_read",
            FileIoKind::DirectWrite => "directio_write",
            FileIoKind::DataLost => "media",
        }
    }
}

// The kernel fills a `struct xfs_health_monitor_event` in memory and copies
// its bytes out as they are (fs/xfs/xfs_healthmon.c:
// `xfs_healthmon_format_v0`, then `xfs_healthmon_read_iter`), so every
// field is in the CPU's native byte order.
fn u32_at(raw: &[u8; RECORD_LEN], offset: usize) -> u32 {
    let mut bytes = [0u8; 4];
    bytes.copy_from_slice(&raw[offset..offset + 4]);
    u32::from_ne_bytes(bytes)
}

fn u64_at(raw: &[u8; RECORD_LEN], offset: usize) -> u64 {
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&raw[offset..offset + 8]);
    u64::from_ne_bytes(bytes)
}

// Domains and types (xfs_fs.h, XFS_HEALTH_MONITOR_DOMAIN_* / _TYPE_*).
const DOMAIN_MOUNT: u32 = 0;
const DOMAIN_FS: u32 = 1;
const DOMAIN_AG: u32 = 2;
const DOMAIN_INODE: u32 = 3;
const DOMAIN_RTGROUP: u32 = 4;
const DOMAIN_DATADEV: u32 = 5;
const DOMAIN_RTDEV: u32 = 6;
const DOMAIN_LOGDEV: u32 = 7;
const DOMAIN_FILERANGE: u32 = 8;
const TYPE_RUNNING: u32 = 0;
const TYPE_LOST: u32 = 1;
const TYPE_UNMOUNT: u32 = 2;
const TYPE_SICK: u32 = 3;
const TYPE_CORRUPT: u32 = 4;
const TYPE_HEALTHY: u32 = 5;
const TYPE_SHUTDOWN: u32 = 6;
const TYPE_MEDIA_ERROR: u32 = 7;
const TYPE_BUFREAD: u32 = 8;
const TYPE_BUFWRITE: u32 = 9;
const TYPE_DIOREAD: u32 = 10;
const TYPE_DIOWRITE: u32 = 11;
const TYPE_DATALOST: u32 = 12;

/// Decodes one record (the 64-byte layout of `xfs/xfs_fs.h`, native byte
/// order). Never fails.
pub fn decode(raw: &[u8; RECORD_LEN]) -> Record {
    let domain = u32_at(raw, 0);
    let kind = u32_at(raw, 4);
    let unknown = Event::Unknown { domain, kind };
    let verdict = match kind {
        TYPE_SICK => Some(Verdict::Sick),
        TYPE_CORRUPT => Some(Verdict::Corrupt),
        TYPE_HEALTHY => Some(Verdict::Healthy),
        _ => None,
    };
    let mask = Mask(u32_at(raw, 16));
    let event = match (domain, kind, verdict) {
        (DOMAIN_MOUNT, TYPE_RUNNING, _) => Event::Running,
        (DOMAIN_MOUNT, TYPE_LOST, _) => Event::Lost {
            count: u64_at(raw, 16),
        },
        (DOMAIN_MOUNT, TYPE_UNMOUNT, _) => Event::Unmount,
        (DOMAIN_MOUNT, TYPE_SHUTDOWN, _) => Event::Shutdown {
            reasons: ShutdownReasons(u32_at(raw, 16)),
        },
        (DOMAIN_FS, _, Some(verdict)) => Event::Health {
            verdict,
            object: HealthObject::Fs { mask },
        },
        (DOMAIN_AG, _, Some(verdict)) => Event::Health {
            verdict,
            object: HealthObject::Ag {
                agno: u32_at(raw, 20),
                mask,
            },
        },
        (DOMAIN_RTGROUP, _, Some(verdict)) => Event::Health {
            verdict,
            object: HealthObject::RtGroup {
                rgno: u32_at(raw, 20),
                mask,
            },
        },
        (DOMAIN_INODE, _, Some(verdict)) => Event::Health {
            verdict,
            object: HealthObject::Inode {
                ino: u64_at(raw, 24),
                generation: u32_at(raw, 20),
                mask,
            },
        },
        (DOMAIN_DATADEV | DOMAIN_RTDEV | DOMAIN_LOGDEV, TYPE_MEDIA_ERROR, _) => Event::Media {
            device: match domain {
                DOMAIN_DATADEV => Device::Data,
                DOMAIN_RTDEV => Device::Rt,
                _ => Device::Log,
            },
            daddr: u64_at(raw, 16),
            bbcount: u64_at(raw, 24),
        },
        (DOMAIN_FILERANGE, TYPE_BUFREAD..=TYPE_DATALOST, _) => Event::FileIo {
            kind: match kind {
                TYPE_BUFREAD => FileIoKind::BufferedRead,
                TYPE_BUFWRITE => FileIoKind::BufferedWrite,
                TYPE_DIOREAD => FileIoKind::DirectRead,
                TYPE_DIOWRITE => FileIoKind::DirectWrite,
                _ => FileIoKind::DataLost,
            },
            pos: u64_at(raw, 16),
            len: u64_at(raw, 24),
            ino: u64_at(raw, 32),
            generation: u32_at(raw, 40),
            error: u32_at(raw, 44),
        },
        _ => unknown,
    };
    Record {
        time_ns: u64_at(raw, 8),
        event,
        raw: *raw,
    }
}

/// Reassembles records from arbitrary chunks of the byte stream.
#[derive(Debug, Clone)]
pub struct RecordAssembler {
    partial: [u8; RECORD_LEN],
    len: usize,
}

impl Default for RecordAssembler {
    fn default() -> Self {
        RecordAssembler {
            partial: [0; RECORD_LEN],
            len: 0,
        }
    }
}

impl RecordAssembler {
    /// Decodes every complete record in `bytes` (after any remainder from
    /// the previous call), in order, without allocating.
    pub fn feed(&mut self, mut bytes: &[u8], mut sink: impl FnMut(Record)) {
        if self.len > 0 {
            let take = (RECORD_LEN - self.len).min(bytes.len());
            self.partial[self.len..self.len + take].copy_from_slice(&bytes[..take]);
            self.len += take;
            bytes = &bytes[take..];
            if self.len < RECORD_LEN {
                return;
            }
            sink(decode(&self.partial));
            self.len = 0;
        }
        let mut chunks = bytes.chunks_exact(RECORD_LEN);
        for chunk in &mut chunks {
            let mut raw = [0u8; RECORD_LEN];
            raw.copy_from_slice(chunk);
            sink(decode(&raw));
        }
        let rest = chunks.remainder();
        self.partial[..rest.len()].copy_from_slice(rest);
        self.len = rest.len();
    }

    /// Bytes of an incomplete record held back (non-zero at end of stream
    /// means the stream was truncated).
    pub fn pending(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A record in the kernel's (native) byte order: `words` are
    /// (offset, value, size) with size 4 or 8.
    fn raw(domain: u32, kind: u32, words: &[(usize, u64, usize)]) -> [u8; RECORD_LEN] {
        let mut r = [0u8; RECORD_LEN];
        r[0..4].copy_from_slice(&domain.to_ne_bytes());
        r[4..8].copy_from_slice(&kind.to_ne_bytes());
        for &(offset, value, size) in words {
            match size {
                4 => {
                    let value = u32::try_from(value).expect("a 4-byte field");
                    r[offset..offset + 4].copy_from_slice(&value.to_ne_bytes());
                }
                8 => r[offset..offset + 8].copy_from_slice(&value.to_ne_bytes()),
                _ => panic!("fields are 4 or 8 bytes"),
            }
        }
        r
    }

    /// The record the kernel would write for `event` (the inverse of
    /// [`decode`] for every event but `Unknown`), from the header's offsets.
    fn encode(time_ns: u64, event: Event) -> [u8; RECORD_LEN] {
        let verdict_type = |verdict| match verdict {
            Verdict::Sick => TYPE_SICK,
            Verdict::Corrupt => TYPE_CORRUPT,
            Verdict::Healthy => TYPE_HEALTHY,
        };
        let mut r = match event {
            Event::Running => raw(DOMAIN_MOUNT, TYPE_RUNNING, &[]),
            Event::Lost { count } => raw(DOMAIN_MOUNT, TYPE_LOST, &[(16, count, 8)]),
            Event::Unmount => raw(DOMAIN_MOUNT, TYPE_UNMOUNT, &[]),
            Event::Shutdown { reasons } => {
                raw(DOMAIN_MOUNT, TYPE_SHUTDOWN, &[(16, reasons.0.into(), 4)])
            }
            Event::Health { verdict, object } => {
                let kind = verdict_type(verdict);
                let mask = (16, u64::from(object.mask().0), 4);
                match object {
                    HealthObject::Fs { .. } => raw(DOMAIN_FS, kind, &[mask]),
                    HealthObject::Ag { agno, .. } => {
                        raw(DOMAIN_AG, kind, &[mask, (20, agno.into(), 4)])
                    }
                    HealthObject::RtGroup { rgno, .. } => {
                        raw(DOMAIN_RTGROUP, kind, &[mask, (20, rgno.into(), 4)])
                    }
                    HealthObject::Inode {
                        ino, generation, ..
                    } => raw(
                        DOMAIN_INODE,
                        kind,
                        &[mask, (20, generation.into(), 4), (24, ino, 8)],
                    ),
                }
            }
            Event::Media {
                device,
                daddr,
                bbcount,
            } => {
                let domain = match device {
                    Device::Data => DOMAIN_DATADEV,
                    Device::Rt => DOMAIN_RTDEV,
                    Device::Log => DOMAIN_LOGDEV,
                };
                raw(
                    domain,
                    TYPE_MEDIA_ERROR,
                    &[(16, daddr, 8), (24, bbcount, 8)],
                )
            }
            Event::FileIo {
                kind,
                ino,
                generation,
                pos,
                len,
                error,
            } => {
                let kind = match kind {
                    FileIoKind::BufferedRead => TYPE_BUFREAD,
                    FileIoKind::BufferedWrite => TYPE_BUFWRITE,
                    FileIoKind::DirectRead => TYPE_DIOREAD,
                    FileIoKind::DirectWrite => TYPE_DIOWRITE,
                    FileIoKind::DataLost => TYPE_DATALOST,
                };
                raw(
                    DOMAIN_FILERANGE,
                    kind,
                    &[
                        (16, pos, 8),
                        (24, len, 8),
                        (32, ino, 8),
                        (40, generation.into(), 4),
                        (44, error.into(), 4),
                    ],
                )
            }
            Event::Unknown { domain, kind } => raw(domain, kind, &[]),
        };
        r[8..16].copy_from_slice(&time_ns.to_ne_bytes());
        r
    }

    /// The (domain, type) pairs `xfs/xfs_fs.h` defines, restated from the
    /// header rather than from [`decode`].
    fn defined(domain: u32, kind: u32) -> bool {
        match domain {
            0 => matches!(kind, 0 | 1 | 2 | 6),
            1..=4 => matches!(kind, 3..=5),
            5..=7 => kind == 7,
            8 => matches!(kind, 8..=12),
            _ => false,
        }
    }

    #[test]
    fn every_domain_decodes_at_the_right_offsets() {
        assert_eq!(decode(&raw(0, 0, &[])).event, Event::Running);
        assert_eq!(
            decode(&raw(0, 1, &[(16, 115, 8)])).event,
            Event::Lost { count: 115 }
        );
        assert_eq!(decode(&raw(0, 2, &[])).event, Event::Unmount);
        assert_eq!(
            decode(&raw(0, 6, &[(16, 4, 4)])).event,
            Event::Shutdown {
                reasons: ShutdownReasons(4)
            }
        );
        assert_eq!(
            decode(&raw(1, 3, &[(16, 0x81, 4)])).event,
            Event::Health {
                verdict: Verdict::Sick,
                object: HealthObject::Fs { mask: Mask(0x81) }
            }
        );
        assert_eq!(
            decode(&raw(2, 4, &[(16, 0x30, 4), (20, 5, 4)])).event,
            Event::Health {
                verdict: Verdict::Corrupt,
                object: HealthObject::Ag {
                    agno: 5,
                    mask: Mask(0x30)
                }
            }
        );
        assert_eq!(
            decode(&raw(3, 5, &[(16, 0x10, 4), (20, 3, 4), (24, 133, 8)])).event,
            Event::Health {
                verdict: Verdict::Healthy,
                object: HealthObject::Inode {
                    ino: 133,
                    generation: 3,
                    mask: Mask(0x10)
                }
            }
        );
        assert_eq!(
            decode(&raw(4, 3, &[(16, 2, 4), (20, 1, 4)])).event,
            Event::Health {
                verdict: Verdict::Sick,
                object: HealthObject::RtGroup {
                    rgno: 1,
                    mask: Mask(2)
                }
            }
        );
        assert_eq!(
            decode(&raw(6, 7, &[(16, 0x13, 8), (24, 5, 8)])).event,
            Event::Media {
                device: Device::Rt,
                daddr: 0x13,
                bbcount: 5
            }
        );
        assert_eq!(
            decode(&raw(
                8,
                10,
                &[
                    (16, 4096, 8),
                    (24, 512, 8),
                    (32, 131, 8),
                    (40, 7, 4),
                    (44, 5, 4)
                ]
            ))
            .event,
            Event::FileIo {
                kind: FileIoKind::DirectRead,
                ino: 131,
                generation: 7,
                pos: 4096,
                len: 512,
                error: 5
            }
        );
        let r = decode(&raw(0, 0, &[(8, 1_700_000_000_000_000_000, 8)]));
        assert_eq!(r.time_ns, 1_700_000_000_000_000_000);
    }

    /// Every (domain, type) pair the header defines decodes to its event;
    /// every other one, near the defined numbers or far, is `Unknown` with
    /// the raw numbers.
    #[test]
    fn only_defined_pairs_decode() {
        let edges = [0x7fff_ffff, 0x8000_0000, u32::MAX];
        let numbers = (0..16).chain(edges);
        for domain in numbers.clone() {
            for kind in numbers.clone() {
                let event = decode(&raw(domain, kind, &[])).event;
                if defined(domain, kind) {
                    assert!(
                        !matches!(event, Event::Unknown { .. }),
                        "({domain}, {kind})"
                    );
                } else {
                    assert_eq!(event, Event::Unknown { domain, kind });
                }
            }
        }
    }

    #[test]
    fn partial_reads_are_reassembled() {
        let a = raw(0, 0, &[]);
        let b = raw(0, 2, &[]);
        let mut stream = a.to_vec();
        stream.extend(b);
        let mut asm = RecordAssembler::default();
        let mut got = vec![];
        asm.feed(&stream[..40], |r| got.push(r.event));
        assert_eq!(asm.pending(), 40);
        asm.feed(&stream[40..100], |r| got.push(r.event));
        asm.feed(&stream[100..], |r| got.push(r.event));
        assert_eq!(got, vec![Event::Running, Event::Unmount]);
        assert_eq!(asm.pending(), 0);
    }

    #[test]
    fn key_as_changes_only_the_verdict() {
        let mut raw = [0u8; RECORD_LEN];
        raw[0..4].copy_from_slice(&DOMAIN_AG.to_ne_bytes());
        raw[4..8].copy_from_slice(&TYPE_HEALTHY.to_ne_bytes());
        raw[8..16].copy_from_slice(&77u64.to_ne_bytes());
        raw[16..20].copy_from_slice(&0x10u32.to_ne_bytes());
        raw[20..24].copy_from_slice(&1u32.to_ne_bytes());
        let healthy = decode(&raw);
        raw[4..8].copy_from_slice(&TYPE_SICK.to_ne_bytes());
        raw[8..16].copy_from_slice(&99u64.to_ne_bytes());
        let sick = decode(&raw);
        assert_eq!(healthy.key_as(Verdict::Sick), sick.raw_key());
        assert_eq!(sick.key_as(Verdict::Healthy), healthy.raw_key());
        assert_ne!(healthy.raw_key(), sick.raw_key());
    }

    proptest! {
        /// Any 64 bytes decode to the event their domain and type name,
        /// with the fields at the header's offsets: a defined pair gives
        /// an event that encodes back to the same fields, any other pair
        /// gives `Unknown` with the raw numbers; the timestamp and the raw
        /// bytes are kept.
        #[test]
        fn decode_names_what_the_record_says(
            head in proptest::array::uniform32(any::<u8>()),
            tail in proptest::array::uniform32(any::<u8>()),
            domain in prop_oneof![9 => 0u32..10, 1 => any::<u32>()],
            kind in prop_oneof![9 => 0u32..14, 1 => any::<u32>()],
        ) {
            let mut r = [0u8; RECORD_LEN];
            r[..32].copy_from_slice(&head);
            r[32..].copy_from_slice(&tail);
            r[0..4].copy_from_slice(&domain.to_ne_bytes());
            r[4..8].copy_from_slice(&kind.to_ne_bytes());
            let record = decode(&r);
            prop_assert_eq!(record.raw, r);
            prop_assert_eq!(&record.time_ns.to_ne_bytes()[..], &r[8..16]);
            match record.event {
                Event::Unknown { domain: d, kind: k } => {
                    prop_assert_eq!((d, k), (domain, kind));
                    prop_assert!(!defined(domain, kind), "({}, {}) is defined", domain, kind);
                }
                event => {
                    prop_assert!(defined(domain, kind), "({}, {}) decoded to {:?}", domain, kind, event);
                    let again = encode(record.time_ns, event);
                    prop_assert_eq!(decode(&again).event, event);
                    // The fields the event carries are the input's bytes.
                    for (i, (&a, &b)) in again.iter().zip(r.iter()).enumerate() {
                        prop_assert!(a == b || a == 0, "byte {} of {:?}", i, event);
                    }
                }
            }
        }

        #[test]
        fn chunking_does_not_change_records(
            stream in proptest::collection::vec(any::<u8>(), 0..1000),
            cuts in proptest::collection::vec(0usize..1000, 0..20),
        ) {
            let whole: Vec<Record> = {
                let mut v = vec![];
                RecordAssembler::default().feed(&stream, |r| v.push(r));
                v
            };
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(stream.len())).collect();
            cuts.sort_unstable();
            let mut asm = RecordAssembler::default();
            let mut pieces = vec![];
            let mut start = 0;
            for cut in cuts.into_iter().chain([stream.len()]) {
                asm.feed(&stream[start..cut], |r| pieces.push(r));
                start = cut;
            }
            prop_assert_eq!(whole, pieces);
            prop_assert_eq!(asm.pending(), stream.len() % RECORD_LEN);
        }
    }
}
