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
///
/// Every value comes from the kernel (or a corrupt filesystem), so none is
/// trusted to stay within u64: a record whose device range or file range
/// would end past 2^64 - 1 is clipped to the part that can exist (those
/// bytes cannot be addressed, so they cannot be lost). The answer then
/// always lies inside both ranges, with `pos + len` representable; an
/// inverted failed range (`bad_end < bad_start`) overlaps nothing.
pub fn damage(extent: &Extent, bad_start: u64, bad_end: u64, layout: &Layout) -> Damage {
    let mut length = extent.length.min(u64::MAX - extent.physical);
    if let Owner::Inode { offset, .. } = extent.owner {
        length = length.min(u64::MAX - offset);
    }
    // The overlap; empty (at the extent's end) when they are disjoint.
    let extent_end = extent.physical + length;
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
            // Cannot overflow: start - physical <= length <= MAX - offset.
            pos: offset + (start - extent.physical),
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
    // Cannot overflow: agno is at most start / ag_bytes.
    let ag_start = u64::from(layout.agno(start)) * layout.ag_bytes();
    let sect = u64::from(layout.sectsize.max(1));
    let first = (start - ag_start) / sect;
    // The last byte hit; an empty overlap counts as the byte at `start`
    // (which may be u64::MAX, so no `start + 1`).
    let last = (end.saturating_sub(1).max(start) - ag_start) / sect;
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

    fn file(offset: u64) -> Owner {
        Owner::Inode {
            ino: 1,
            attr_fork: false,
            extent_map: false,
            offset,
            shared: false,
        }
    }

    #[test]
    fn a_header_record_at_the_last_byte_does_not_panic() {
        for physical in [u64::MAX, u64::MAX - 1] {
            let d = damage(
                &extent(physical, u64::MAX, Owner::AgHeaders),
                0,
                u64::MAX,
                &LAYOUT,
            );
            // Far past sector 3 of its AG: no header is hit.
            assert_eq!(d.repair(), None, "{d:?}");
        }
        let d = damage(
            &extent(0, 4096, Owner::AgHeaders),
            u64::MAX,
            u64::MAX,
            &LAYOUT,
        );
        assert!(matches!(d, Damage::AgMetadata { agno: 0, .. }), "{d:?}");
    }

    #[test]
    fn ranges_past_the_largest_offset_or_byte_are_clipped() {
        // 4096 bytes mapped at file offset 2^64 - 100: only 100 exist.
        let d = damage(&extent(0, 4096, file(u64::MAX - 100)), 0, 4096, &LAYOUT);
        assert_eq!(
            d,
            Damage::FileData {
                ino: 1,
                attr_fork: false,
                pos: u64::MAX - 100,
                len: 100,
                shared: false
            }
        );
        let d = damage(&extent(0, 4096, file(u64::MAX)), 1000, 2000, &LAYOUT);
        assert!(
            matches!(
                d,
                Damage::FileData {
                    pos: u64::MAX,
                    len: 0,
                    ..
                }
            ),
            "{d:?}"
        );
        // Device bytes past 2^64 - 1 do not exist either.
        let d = damage(
            &extent(u64::MAX - 4095, u64::MAX, file(0)),
            u64::MAX - 8192,
            u64::MAX,
            &LAYOUT,
        );
        assert!(
            matches!(
                d,
                Damage::FileData {
                    pos: 0,
                    len: 4095,
                    ..
                }
            ),
            "{d:?}"
        );
        let d = damage(&extent(u64::MAX, u64::MAX, file(7)), 0, u64::MAX, &LAYOUT);
        assert!(
            matches!(d, Damage::FileData { pos: 7, len: 0, .. }),
            "{d:?}"
        );
    }

    /// Any u64, with the edges (0, 2^64 - 1 and their neighbourhoods) and
    /// realistic sizes as likely as uniform values.
    fn edge_u64() -> impl Strategy<Value = u64> {
        prop_oneof![
            any::<u64>(),
            Just(u64::MAX),
            u64::MAX - 8192..=u64::MAX,
            0u64..8192,
            0u64..1 << 40,
        ]
    }

    fn edge_u32() -> impl Strategy<Value = u32> {
        prop_oneof![any::<u32>(), Just(u32::MAX), Just(0u32), 0u32..8192]
    }

    proptest! {
        /// Whatever GETFSMAP returns, the damaged file range lies inside
        /// both the mapping and the failed range, and nothing panics.
        #[test]
        fn file_ranges_stay_inside_both(physical in edge_u64(), length in edge_u64(), offset in edge_u64(),
                                         bad_start in edge_u64(), bad_end in edge_u64(),
                                         blocksize in edge_u32(), sectsize in edge_u32(), agblocks in edge_u32()) {
            let layout = Layout { blocksize, agblocks, sectsize };
            if let Damage::FileData { pos, len, .. } = damage(&extent(physical, length, file(offset)), bad_start, bad_end, &layout) {
                prop_assert!(pos >= offset && pos.checked_add(len).is_some(), "pos {pos} len {len}");
                // Back to device bytes (u128: the sums are the claim under test).
                let rel = u128::from(pos - offset);
                let dev_start = u128::from(physical) + rel;
                let dev_end = dev_start + u128::from(len);
                prop_assert!(rel + u128::from(len) <= u128::from(length));
                prop_assert!(dev_end <= u128::from(u64::MAX));
                prop_assert!(len == 0 || (dev_start >= u128::from(bad_start) && dev_end <= u128::from(bad_end)));
            }
            for owner in [Owner::AgHeaders, Owner::AgBtrees, Owner::InodeChunks] {
                let _ = damage(&extent(physical, length, owner), bad_start, bad_end, &layout).repair();
            }
        }
    }
}
