//! `xfs_policy::media::damage` on arbitrary GETFSMAP records and failed
//! ranges, as the shell calls it (`crates/healer/src/media.rs`), and the
//! report lines made from the answers.
//!
//! Input (little endian, zero-padded at the end): the failed byte range
//! (start and end, u64 each), the layout (blocksize, agblocks, sectsize,
//! u32 each), then up to 64 records of 64 bytes in `struct fsmap` layout.
//!
//! Checks: nothing panics; a file range lies inside both the record and
//! the failed range (device bytes), starts at or after the record's file
//! offset and `pos + len` does not wrap; a block-map record is reported as
//! such for its inode; AG masks hold only AG sick bits, header masks only
//! the four header bits.

#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_abi::fsmap::Fsmap;
use xfs_healer::fsmap_owner::owner;
use xfs_policy::media::{Damage, Extent, Layout, Owner, damage};

const HEAD: usize = 28;
const REC: usize = 64;
const MAX_RECORDS: usize = 64;
/// XFS_AG_GEOM_SICK_* bits that damage() may name.
const AG_BITS: u32 = 0x7ff;
/// SB, AGF, AGFL, AGI.
const HEADER_BITS: u32 = 0xf;

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"))
}

fn record(bytes: &[u8]) -> Fsmap {
    let mut b = [0u8; REC];
    b[..bytes.len()].copy_from_slice(bytes);
    Fsmap {
        fmr_device: u32_at(&b, 0),
        fmr_flags: u32_at(&b, 4),
        fmr_physical: u64_at(&b, 8),
        fmr_owner: u64_at(&b, 16),
        fmr_offset: u64_at(&b, 24),
        fmr_length: u64_at(&b, 32),
        fmr_reserved: [u64_at(&b, 40), u64_at(&b, 48), u64_at(&b, 56)],
    }
}


fn check(rec: &Fsmap, extent: &Extent, d: Damage, bad_start: u64, bad_end: u64) {
    match (extent.owner, d) {
        (
            Owner::Inode {
                ino,
                extent_map: false,
                offset,
                ..
            },
            Damage::FileData {
                ino: got, pos, len, ..
            },
        ) => {
            assert_eq!(got, ino);
            assert!(pos >= offset, "pos {pos} before offset {offset}");
            assert!(
                pos.checked_add(len).is_some(),
                "pos {pos} + len {len} wraps"
            );
            // In u128: the sums are what is being checked.
            let rel = u128::from(pos - offset);
            let dev_start = u128::from(rec.fmr_physical) + rel;
            let dev_end = dev_start + u128::from(len);
            assert!(
                rel + u128::from(len) <= u128::from(rec.fmr_length),
                "past the record"
            );
            assert!(dev_end <= u128::from(u64::MAX), "past the last byte");
            if len > 0 {
                assert!(
                    dev_start >= u128::from(bad_start) && dev_end <= u128::from(bad_end),
                    "outside the failed range"
                );
            }
        }
        (
            Owner::Inode {
                ino,
                extent_map: true,
                attr_fork,
                ..
            },
            Damage::FileMap {
                ino: got,
                attr_fork: fork,
            },
        ) => {
            assert_eq!((got, fork), (ino, attr_fork));
        }
        (Owner::AgHeaders, Damage::AgMetadata { mask, .. }) => {
            assert_eq!(mask & !HEADER_BITS, 0, "header mask {mask:#x}");
        }
        (_, Damage::AgMetadata { mask, .. }) => {
            assert_eq!(mask & !AG_BITS, 0, "AG mask {mask:#x}");
        }
        (Owner::Inode { .. } | Owner::AgHeaders, other) => {
            panic!("{:?} became {other:?}", extent.owner)
        }
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let mut head = [0u8; HEAD];
    let take = data.len().min(HEAD);
    head[..take].copy_from_slice(&data[..take]);
    let (bad_start, bad_end) = (u64_at(&head, 0), u64_at(&head, 8));
    let layout = Layout {
        blocksize: u32_at(&head, 16),
        agblocks: u32_at(&head, 20),
        sectsize: u32_at(&head, 24),
    };
    let mut damages = Vec::new();
    for bytes in data[take..].chunks(REC).take(MAX_RECORDS) {
        let rec = record(bytes);
        let extent = Extent {
            physical: rec.fmr_physical,
            length: rec.fmr_length,
            owner: owner(&rec),
        };
        let d = damage(&extent, bad_start, bad_end, &layout);
        check(&rec, &extent, d, bad_start, bad_end);
        let _ = d.repair();
        damages.push(d);
    }
    let range = (
        xfs_events::Device::Data,
        bad_start / 512,
        bad_end.saturating_sub(bad_start) / 512,
    );
    let _ = xfs_report::media_lines(b"/mnt", range, &damages, damages.len());
});
