//! What sits on a stretch of failed media, and what to do about it. The
//! shell asks GETFSMAP for the owners of the failed range and hands each
//! mapping here as an [`Extent`]; [`damage`] says what was hit (file bytes,
//! a file's block map, which AG structure, the log, free space) and
//! [`Damage::repair`] which structures to rebuild.
//!
//! The kernel's own reaction to a media error found with
//! `XFS_VERIFY_MEDIA_REPORT` covers files only: it reports lost file data
//! (DATALOST) and marks a fork whose block map was hit as sick. AG
//! metadata on the bad range is left alone; rebuilding it moves it off the
//! bad sectors.

use crate::plan::Object;

/// A GETFSMAP owner, decoded by the shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Inode {
        ino: u64,
        attr_fork: bool,
        extent_map: bool,
        offset: u64,
        shared: bool,
    },
    Free,
    /// Used space whose owner is not recorded (no reverse-mapping btree).
    Unknown,
    /// Superblock, AGF, AGI and AGFL sectors (`XFS_FMR_OWN_FS`).
    AgHeaders,
    /// Free-space and reverse-mapping btree blocks, AGFL blocks (`XFS_FMR_OWN_AG`).
    AgBtrees,
    InodeBtrees,
    InodeChunks,
    RefcountBtree,
    CowStaging,
    Log,
    Defective,
    Other(u64),
}

/// One GETFSMAP record: `length` bytes at byte `physical` of the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub physical: u64,
    pub length: u64,
    pub owner: Owner,
}

/// The data device's layout, for AG numbers and header sectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub blocksize: u32,
    pub agblocks: u32,
    pub sectsize: u32,
}

impl Layout {
    fn ag_bytes(&self) -> u64 {
        u64::from(self.agblocks) * u64::from(self.blocksize)
    }

    fn agno(&self, byte: u64) -> u32 {
        u32::try_from(byte / self.ag_bytes().max(1)).unwrap_or(u32::MAX)
    }
}

/// What failed media took out, clipped to the failed range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// `len` bytes of the file at `pos`; `shared` blocks belong to other
    /// files too (reflink), so they lost the same bytes.
    FileData {
        ino: u64,
        attr_fork: bool,
        pos: u64,
        len: u64,
        shared: bool,
    },
    /// A block of the file's fork mapping (bmbt).
    FileMap {
        ino: u64,
        attr_fork: bool,
    },
    /// AG metadata: `mask` holds the AG sick bits of what lies there
    /// (0 when the sectors are unused parts of the header block).
    AgMetadata {
        agno: u32,
        mask: u32,
        what: &'static str,
    },
    Log,
    Free,
    Unknown,
    Defective,
    Other(u64),
}

// AG sick bits (XFS_AG_GEOM_SICK_*).
const SB: u32 = 0x1;
const AGF: u32 = 0x2;
const AGFL: u32 = 0x4;
const AGI: u32 = 0x8;
const BNOBT: u32 = 0x10;
const CNTBT: u32 = 0x20;
const INOBT: u32 = 0x40;
const FINOBT: u32 = 0x80;
const RMAPBT: u32 = 0x100;
const REFCNTBT: u32 = 0x200;
const INODES: u32 = 0x400;

/// What `extent` loses to the failed bytes `bad_start..bad_end`.
pub fn damage(extent: &Extent, bad_start: u64, bad_end: u64, layout: &Layout) -> Damage {
    // The overlap; empty (at the extent's end) when they are disjoint.
    let extent_end = extent.physical.saturating_add(extent.length);
    let start = extent.physical.max(bad_start).min(extent_end);
    let end = extent_end.min(bad_end).max(start);
    let agno = layout.agno(start);
    let ag = |mask, what| Damage::AgMetadata { agno, mask, what };
    match extent.owner {
        Owner::Inode {
            ino,
            attr_fork,
            extent_map: true,
            ..
        } => Damage::FileMap { ino, attr_fork },
        Owner::Inode {
            ino,
            attr_fork,
            offset,
            shared,
            ..
        } => Damage::FileData {
            ino,
            attr_fork,
            pos: offset.saturating_add(start - extent.physical),
            len: end - start,
            shared,
        },
        Owner::AgHeaders => ag(header_sectors(start, end, layout), "headers"),
        Owner::AgBtrees => ag(
            BNOBT | CNTBT | RMAPBT | AGFL,
            "free space and reverse-mapping btrees",
        ),
        Owner::InodeBtrees => ag(INOBT | FINOBT, "inode btrees"),
        Owner::RefcountBtree => ag(REFCNTBT, "refcount btree"),
        Owner::CowStaging => ag(REFCNTBT, "copy-on-write staging extents"),
        // No targeted repair rebuilds inode chunks: a full scan.
        Owner::InodeChunks => ag(INODES, "inodes"),
        Owner::Log => Damage::Log,
        Owner::Free => Damage::Free,
        Owner::Unknown => Damage::Unknown,
        Owner::Defective => Damage::Defective,
        Owner::Other(code) => Damage::Other(code),
    }
}

/// The header sectors (superblock, AGF, AGI, AGFL: sectors 0 to 3 of the
/// AG) that the bytes `start..end` overlap.
fn header_sectors(start: u64, end: u64, layout: &Layout) -> u32 {
    let ag_start = u64::from(layout.agno(start)) * layout.ag_bytes();
    let sect = u64::from(layout.sectsize.max(1));
    let first = (start - ag_start) / sect;
    let last = (end.max(start + 1) - 1 - ag_start) / sect;
    [SB, AGF, AGI, AGFL]
        .iter()
        .enumerate()
        .filter(|&(i, _)| (first..=last).contains(&(i as u64)))
        .fold(0, |mask, (_, bit)| mask | bit)
}

/// What the repair engine is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRepair {
    Rebuild { object: Object, mask: u32 },
    FullScan,
}

impl Damage {
    /// File data is reported, never "repaired" (there is no copy to repair
    /// from); a file's block map is marked sick by the kernel itself, and
    /// the log cannot be rebuilt online.
    pub fn repair(&self) -> Option<MediaRepair> {
        match *self {
            Damage::AgMetadata { mask: 0, .. } => None,
            Damage::AgMetadata { agno, mask, .. } => Some(MediaRepair::Rebuild {
                object: Object::Ag(agno),
                mask,
            }),
            Damage::Unknown => Some(MediaRepair::FullScan),
            Damage::FileData { .. }
            | Damage::FileMap { .. }
            | Damage::Log
            | Damage::Free
            | Damage::Defective
            | Damage::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LAYOUT: Layout = Layout {
        blocksize: 4096,
        agblocks: 1000,
        sectsize: 512,
    };
    const AG1: u64 = 4096 * 1000;

    fn extent(physical: u64, length: u64, owner: Owner) -> Extent {
        Extent {
            physical,
            length,
            owner,
        }
    }

    #[test]
    fn file_data_is_clipped_to_the_failed_bytes() {
        let owner = Owner::Inode {
            ino: 131,
            attr_fork: false,
            extent_map: false,
            offset: 65536,
            shared: true,
        };
        let d = damage(
            &extent(AG1 + 8192, 16384, owner),
            AG1 + 12288,
            AG1 + 16384,
            &LAYOUT,
        );
        assert_eq!(
            d,
            Damage::FileData {
                ino: 131,
                attr_fork: false,
                pos: 65536 + 4096,
                len: 4096,
                shared: true
            }
        );
        assert_eq!(d.repair(), None);
    }

    #[test]
    fn header_sectors_name_the_structures_hit() {
        let hdr = |from, to| {
            damage(
                &extent(AG1, 4096, Owner::AgHeaders),
                AG1 + from,
                AG1 + to,
                &LAYOUT,
            )
        };
        assert_eq!(
            hdr(512, 1024),
            Damage::AgMetadata {
                agno: 1,
                mask: AGF,
                what: "headers"
            }
        );
        assert_eq!(
            hdr(0, 2048),
            Damage::AgMetadata {
                agno: 1,
                mask: SB | AGF | AGI | AGFL,
                what: "headers"
            }
        );
        assert_eq!(
            hdr(1024, 1536).repair(),
            Some(MediaRepair::Rebuild {
                object: Object::Ag(1),
                mask: AGI
            })
        );
        // The rest of the header block holds nothing.
        assert_eq!(hdr(2048, 4096).repair(), None);
    }

    #[test]
    fn ag_btrees_are_rebuilt_and_inode_chunks_and_unknown_owners_scanned() {
        let one =
            |owner| damage(&extent(2 * AG1 + 40960, 4096, owner), 0, u64::MAX, &LAYOUT).repair();
        assert_eq!(
            one(Owner::InodeBtrees),
            Some(MediaRepair::Rebuild {
                object: Object::Ag(2),
                mask: INOBT | FINOBT
            })
        );
        assert_eq!(
            one(Owner::AgBtrees),
            Some(MediaRepair::Rebuild {
                object: Object::Ag(2),
                mask: BNOBT | CNTBT | RMAPBT | AGFL
            })
        );
        assert_eq!(
            one(Owner::RefcountBtree),
            Some(MediaRepair::Rebuild {
                object: Object::Ag(2),
                mask: REFCNTBT
            })
        );
        assert_eq!(
            one(Owner::InodeChunks),
            Some(MediaRepair::Rebuild {
                object: Object::Ag(2),
                mask: INODES
            })
        );
        assert_eq!(one(Owner::Unknown), Some(MediaRepair::FullScan));
        for quiet in [Owner::Free, Owner::Log, Owner::Defective, Owner::Other(7)] {
            assert_eq!(one(quiet), None);
        }
        let map = Owner::Inode {
            ino: 9,
            attr_fork: true,
            extent_map: true,
            offset: 0,
            shared: false,
        };
        assert_eq!(
            damage(&extent(0, 4096, map), 0, 512, &LAYOUT),
            Damage::FileMap {
                ino: 9,
                attr_fork: true
            }
        );
    }

    proptest! {
        /// Whatever GETFSMAP returns, the damaged file range lies inside
        /// both the mapping and the failed range, and nothing panics.
        #[test]
        fn file_ranges_stay_inside_both(physical in 0u64..1 << 40, length in 0u64..1 << 30, offset in 0u64..1 << 40,
                                         bad_start in 0u64..1 << 40, bad_len in 0u64..1 << 30, sectsize in 0u32..8192, agblocks in 0u32..1 << 20) {
            let layout = Layout { blocksize: 4096, agblocks, sectsize };
            let owner = Owner::Inode { ino: 1, attr_fork: false, extent_map: false, offset, shared: false };
            let bad_end = bad_start + bad_len;
            if let Damage::FileData { pos, len, .. } = damage(&extent(physical, length, owner), bad_start, bad_end, &layout) {
                prop_assert!(len <= length && len <= bad_len);
                prop_assert!(pos >= offset && pos - offset + len <= length);
            }
            let _ = damage(&extent(physical, length, Owner::AgHeaders), bad_start, bad_end, &layout).repair();
        }
    }
}
