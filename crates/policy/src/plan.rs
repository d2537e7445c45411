//! Sick-mask bits to scrub types, in the order the kernel needs them
//! repaired: AG headers before the AG btrees built on them, the inode core
//! before its forks before directory, xattr and parent data (the tables are
//! the ones in xfsprogs 7.2, verified against its binary).

/// The metadata object a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Object {
    Fs,
    Ag(u32),
    RtGroup(u32),
    Inode { ino: u64, generation: u32 },
}

/// An `XFS_SCRUB_TYPE_*` number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ScrubType(pub u32);

impl ScrubType {
    /// PARENT and DIRTREE: their repair may link the inode elsewhere (the
    /// orphanage), so a path known from before it may be stale.
    pub fn may_relink(self) -> bool {
        matches!(self.0, 18 | 28)
    }
}

/// One unit of repair work: a scrub type on an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub object: Object,
    pub scrub: ScrubType,
    /// The sick bit of the report this repairs (for the outcome line's name).
    pub bit: u32,
    /// Rebuild even if it checks out: the structure sits on failed media,
    /// and only a rebuild moves it off (`XFS_SCRUB_IFLAG_FORCE_REBUILD`).
    pub rebuild: bool,
}

/// (sick bit, scrub type) in repair order, per domain.
const FS_TABLE: &[(u32, u32)] = &[
    (0x001, 24), // COUNTERS -> FSCOUNTERS
    (0x002, 21), // UQUOTA
    (0x004, 22), // GQUOTA
    (0x008, 23), // PQUOTA
    (0x010, 19), // RT_BITMAP -> RTBITMAP
    (0x020, 20), // RT_SUMMARY -> RTSUM
    (0x040, 25), // QUOTACHECK
    (0x080, 26), // NLINKS
];
const AG_TABLE: &[(u32, u32)] = &[
    (0x001, 1),  // SB
    (0x002, 2),  // AGF
    (0x004, 3),  // AGFL
    (0x008, 4),  // AGI
    (0x010, 5),  // BNOBT
    (0x020, 6),  // CNTBT
    (0x040, 7),  // INOBT
    (0x080, 8),  // FINOBT
    (0x100, 9),  // RMAPBT
    (0x200, 10), // REFCNTBT
];
const RTGROUP_TABLE: &[(u32, u32)] = &[
    (0x01, 30), // SUPER -> RGSUPER
    (0x02, 19), // BITMAP -> RTBITMAP
    (0x04, 20), // SUMMARY -> RTSUM
    (0x08, 31), // RMAPBT -> RTRMAPBT
    (0x10, 32), // REFCNTBT -> RTREFCBT
];
const INODE_TABLE: &[(u32, u32)] = &[
    (0x001, 11), // INODE (core)
    (0x002, 12), // BMBTD
    (0x004, 13), // BMBTA
    (0x008, 14), // BMBTC
    (0x010, 15), // DIR
    (0x020, 16), // XATTR
    (0x040, 17), // SYMLINK
    (0x080, 18), // PARENT
    (0x100, 28), // DIRTREE
];

fn table(object: Object) -> &'static [(u32, u32)] {
    match object {
        Object::Fs => FS_TABLE,
        Object::Ag(_) => AG_TABLE,
        Object::RtGroup(_) => RTGROUP_TABLE,
        Object::Inode { .. } => INODE_TABLE,
    }
}

/// The targeted repairs a sick report of `mask` on `object` calls for, in
/// repair order, without allocating (the hot path).
pub fn targets(object: Object, mask: u32) -> impl Iterator<Item = Target> {
    table(object)
        .iter()
        .filter(move |(bit, _)| mask & bit != 0)
        .map(move |&(bit, scrub)| Target {
            object,
            scrub: ScrubType(scrub),
            bit,
            rebuild: false,
        })
}

/// The bits of `mask` no targeted repair covers (METADIR, METAPATH, AG
/// INODES, unknown): the reference runs a full scan for them.
pub fn unmapped(object: Object, mask: u32) -> u32 {
    table(object)
        .iter()
        .fold(mask, |rest, (bit, _)| rest & !bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrubs(object: Object, mask: u32) -> Vec<u32> {
        targets(object, mask).map(|t| t.scrub.0).collect()
    }

    #[test]
    fn ag_headers_before_btrees() {
        assert_eq!(
            scrubs(Object::Ag(3), 0x3ff),
            vec![1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        );
        assert_eq!(unmapped(Object::Ag(3), 0x3ff), 0);
        assert!(targets(Object::Ag(3), 0x3ff).all(|t| t.object == Object::Ag(3)));
    }

    #[test]
    fn inode_core_before_forks_before_contents() {
        let inode = Object::Inode {
            ino: 128,
            generation: 7,
        };
        assert_eq!(
            scrubs(inode, 0x1ff),
            vec![11, 12, 13, 14, 15, 16, 17, 18, 28]
        );
    }

    #[test]
    fn unmapped_bits_are_kept() {
        assert_eq!(
            targets(Object::Ag(0), 0x400 | 0x2).collect::<Vec<_>>(),
            vec![Target {
                object: Object::Ag(0),
                scrub: ScrubType(2),
                bit: 0x2,
                rebuild: false
            }]
        );
        assert_eq!(unmapped(Object::Ag(0), 0x400 | 0x2), 0x400);
        assert_eq!(
            unmapped(Object::Fs, 0x100 | 0x200 | 0x8000_0000),
            0x8000_0300
        );
        assert_eq!(unmapped(Object::RtGroup(1), 0x20), 0x20);
        assert_eq!(targets(Object::Fs, 0).count(), 0);
    }

    #[test]
    fn every_bit_maps_once() {
        for object in [
            Object::Fs,
            Object::Ag(0),
            Object::RtGroup(0),
            Object::Inode {
                ino: 1,
                generation: 1,
            },
        ] {
            for bit in 0..32 {
                let mask = 1 << bit;
                let mapped = targets(object, mask).count();
                assert_eq!(mapped + usize::from(unmapped(object, mask) != 0), 1);
            }
        }
    }
}
