//! `FS_IOC_GETFSMAP`: who owns each range of a device (an inode, or named
//! metadata), used to say what a media error hit.
//!
//! One call returns at most `fmh_count` records after the low key; the
//! caller continues by making the last record the new low key, until a
//! record carries `FMR_OF_LAST` or a call returns none. [`FsmapPager`] does
//! that paging as an iterator over any "call" function, so its logic is
//! tested (and fuzzed) with a fake kernel; [`getfsmap`] plugs in the ioctl.
//!
//! Owner names follow `xfs_io -c fsmap` (xfsprogs `io/fsmap.c`).

use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::borrow::Cow;
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOWR('X', 59, struct fsmap_head)`.
pub const FS_IOC_GETFSMAP: Opcode = ioc::read_write::<FsmapHead>(b'X', 59);

/// `FMH_OF_DEV_T`: `fmr_device` values are encoded `dev_t`s (else the
/// `XFS_DEV_*` cookies of an internal-RT filesystem).
pub const FMH_OF_DEV_T: u32 = 0x1;
/// `FMR_OF_PREALLOC`: unwritten preallocation.
pub const FMR_OF_PREALLOC: u32 = 0x1;
/// `FMR_OF_ATTR_FORK`: attribute fork extent.
pub const FMR_OF_ATTR_FORK: u32 = 0x2;
/// `FMR_OF_EXTENT_MAP`: block of the owner's extent map (bmbt).
pub const FMR_OF_EXTENT_MAP: u32 = 0x4;
/// `FMR_OF_SHARED`: shared with another file (reflink).
pub const FMR_OF_SHARED: u32 = 0x8;
/// `FMR_OF_SPECIAL_OWNER`: `fmr_owner` is an `FMR_OWN_*` value, not an inode.
pub const FMR_OF_SPECIAL_OWNER: u32 = 0x10;
/// `FMR_OF_LAST`: the last record of the whole query.
pub const FMR_OF_LAST: u32 = 0x20;

/// `FMR_OWNER(type, code)`: a special owner value.
pub const fn fmr_owner(ty: u32, code: u32) -> u64 {
    ((ty as u64) << 32) | code as u64
}

/// `FMR_OWN_FREE`: free space.
pub const FMR_OWN_FREE: u64 = fmr_owner(0, 1);
/// `FMR_OWN_UNKNOWN`: owner unknown (no rmapbt, or not privileged).
pub const FMR_OWN_UNKNOWN: u64 = fmr_owner(0, 2);
/// `FMR_OWN_METADATA`: generic metadata (not used by XFS).
pub const FMR_OWN_METADATA: u64 = fmr_owner(0, 3);
/// `XFS_FMR_OWN_FS`: superblocks and AG headers.
pub const XFS_FMR_OWN_FS: u64 = fmr_owner(b'X' as u32, 1);
/// `XFS_FMR_OWN_LOG`: the journal.
pub const XFS_FMR_OWN_LOG: u64 = fmr_owner(b'X' as u32, 2);
/// `XFS_FMR_OWN_AG`: free-space btrees, AGFL, rmapbt.
pub const XFS_FMR_OWN_AG: u64 = fmr_owner(b'X' as u32, 3);
/// `XFS_FMR_OWN_INOBT`: inode btrees.
pub const XFS_FMR_OWN_INOBT: u64 = fmr_owner(b'X' as u32, 4);
/// `XFS_FMR_OWN_INODES`: inode chunks.
pub const XFS_FMR_OWN_INODES: u64 = fmr_owner(b'X' as u32, 5);
/// `XFS_FMR_OWN_REFC`: refcount btree.
pub const XFS_FMR_OWN_REFC: u64 = fmr_owner(b'X' as u32, 6);
/// `XFS_FMR_OWN_COW`: copy-on-write staging extents.
pub const XFS_FMR_OWN_COW: u64 = fmr_owner(b'X' as u32, 7);
/// `XFS_FMR_OWN_DEFECTIVE`: bad blocks (never produced by 7.2).
pub const XFS_FMR_OWN_DEFECTIVE: u64 = fmr_owner(b'X' as u32, 8);

/// `struct fsmap` (64 bytes): one mapping, or a query key.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Fsmap {
    /// Device (`dev_t` encoding, or an `XFS_DEV_*` cookie).
    pub fmr_device: u32,
    /// `FMR_OF_*`.
    pub fmr_flags: u32,
    /// Start on the device, bytes.
    pub fmr_physical: u64,
    /// Inode number, or an `FMR_OWN_*` value with [`FMR_OF_SPECIAL_OWNER`].
    pub fmr_owner: u64,
    /// Start in the file, bytes.
    pub fmr_offset: u64,
    /// Length, bytes.
    pub fmr_length: u64,
    /// Must be zero.
    pub fmr_reserved: [u64; 3],
}

/// `struct fsmap_head` (192 bytes), followed in memory by the records.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsmapHead {
    /// In: must be zero.
    pub fmh_iflags: u32,
    /// Out: `FMH_OF_*`.
    pub fmh_oflags: u32,
    /// In: records the buffer holds (0: only count).
    pub fmh_count: u32,
    /// Out: records filled in (or counted).
    pub fmh_entries: u32,
    /// Must be zero.
    pub fmh_reserved: [u64; 6],
    /// Low and high key of the query.
    pub fmh_keys: [Fsmap; 2],
}

/// A head with room for `N` records right after it, as the ioctl wants.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct FsmapBuffer<const N: usize> {
    /// The header.
    pub head: FsmapHead,
    /// The records; the first `fmh_entries` are valid after a call.
    pub recs: [Fsmap; N],
}

const _: () = assert!(size_of::<Fsmap>() == 64);
const _: () = assert!(offset_of!(Fsmap, fmr_flags) == 4);
const _: () = assert!(offset_of!(Fsmap, fmr_physical) == 8);
const _: () = assert!(offset_of!(Fsmap, fmr_owner) == 16);
const _: () = assert!(offset_of!(Fsmap, fmr_offset) == 24);
const _: () = assert!(offset_of!(Fsmap, fmr_length) == 32);
const _: () = assert!(offset_of!(Fsmap, fmr_reserved) == 40);
const _: () = assert!(size_of::<FsmapHead>() == 192);
const _: () = assert!(offset_of!(FsmapHead, fmh_oflags) == 4);
const _: () = assert!(offset_of!(FsmapHead, fmh_count) == 8);
const _: () = assert!(offset_of!(FsmapHead, fmh_entries) == 12);
const _: () = assert!(offset_of!(FsmapHead, fmh_reserved) == 16);
const _: () = assert!(offset_of!(FsmapHead, fmh_keys) == 64);
const _: () = assert!(offset_of!(FsmapBuffer<1>, recs) == 192);

/// Records one [`getfsmap`] call asks for: 128 KiB, like `xfs_io`.
pub const FSMAP_BATCH: usize = 131_072 / size_of::<Fsmap>();

impl<const N: usize> FsmapBuffer<N> {
    /// A zeroed buffer on the heap (it can be large) with these keys.
    pub fn new(keys: [Fsmap; 2]) -> Box<Self> {
        // Allocated zeroed in place: a 128 KiB value built on the stack and
        // moved into a Box could overflow a worker thread's stack.
        let layout = std::alloc::Layout::new::<Self>();
        // SAFETY: the layout is not zero-sized (the head alone is 192 bytes).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<Self>();
        if ptr.is_null() {
            std::alloc::handle_alloc_error(layout);
        }
        // SAFETY: `ptr` comes from the global allocator with Self's layout,
        // and all-zero bytes are a valid Self (integers and arrays of them).
        let mut buf = unsafe { Box::from_raw(ptr) };
        buf.head.fmh_keys = keys;
        buf
    }

    /// The records the last call filled in (bounded by the buffer, whatever
    /// `fmh_entries` says).
    pub fn records(&self) -> &[Fsmap] {
        let n = usize::try_from(self.head.fmh_entries)
            .unwrap_or(usize::MAX)
            .min(N);
        &self.recs[..n]
    }
}

/// Keys for the whole filesystem, every device.
pub fn keys_all() -> [Fsmap; 2] {
    let high = Fsmap {
        fmr_device: u32::MAX,
        fmr_flags: u32::MAX,
        fmr_physical: u64::MAX,
        fmr_owner: u64::MAX,
        fmr_offset: u64::MAX,
        fmr_length: 0,
        fmr_reserved: [0; 3],
    };
    [Fsmap::default(), high]
}

/// Keys for 512-byte sectors `start..end` (exclusive) of `device`: the
/// range of a MEDIA_ERROR event.
pub fn keys_for_sectors(device: u32, start: u64, end: u64) -> [Fsmap; 2] {
    let [_, mut high] = keys_all();
    let low = Fsmap {
        fmr_device: device,
        fmr_physical: start.saturating_mul(512),
        ..Fsmap::default()
    };
    high.fmr_device = device;
    high.fmr_physical = end
        .saturating_mul(512)
        .saturating_sub(1)
        .max(low.fmr_physical);
    [low, high]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PagerState {
    Call,
    Yield(usize),
    Stuck,
    Done,
}

/// Iterates over every record of a GETFSMAP query, issuing `call` (one
/// ioctl on the buffer) as often as needed. Ends at a record with
/// [`FMR_OF_LAST`], after a call that returns nothing, or after the first
/// error. A call whose last record equals the key it started from would
/// loop forever; that yields `EIO` and ends.
#[derive(Debug)]
pub struct FsmapPager<F, const N: usize> {
    call: F,
    buf: Box<FsmapBuffer<N>>,
    state: PagerState,
    calls: u64,
}

impl<F, const N: usize> FsmapPager<F, N>
where
    F: FnMut(&mut FsmapBuffer<N>) -> Result<(), Errno>,
{
    /// A pager over the query `keys`; nothing is called until iterated.
    pub fn new(keys: [Fsmap; 2], call: F) -> Self {
        FsmapPager {
            call,
            buf: FsmapBuffer::new(keys),
            state: PagerState::Call,
            calls: 0,
        }
    }

    /// `fmh_oflags` of the latest call ([`FMH_OF_DEV_T`]: devices are dev_t).
    pub fn oflags(&self) -> u32 {
        self.buf.head.fmh_oflags
    }

    /// How many calls have been made so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// What to do once every record of the current page is out.
    fn after_page(&mut self) -> PagerState {
        let Some(&last) = self.buf.records().last() else {
            return PagerState::Done;
        };
        if last == self.buf.head.fmh_keys[0] {
            return PagerState::Stuck;
        }
        // fsmap_advance(): the kernel continues after the record it is given.
        self.buf.head.fmh_keys[0] = last;
        PagerState::Call
    }
}

impl<F, const N: usize> Iterator for FsmapPager<F, N>
where
    F: FnMut(&mut FsmapBuffer<N>) -> Result<(), Errno>,
{
    type Item = Result<Fsmap, Errno>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            match self.state {
                PagerState::Done => return None,
                PagerState::Stuck => {
                    self.state = PagerState::Done;
                    return Some(Err(Errno::IO));
                }
                PagerState::Call => {
                    self.buf.head.fmh_count = u32::try_from(N).unwrap_or(u32::MAX);
                    self.buf.head.fmh_entries = 0;
                    self.calls += 1;
                    if let Err(e) = (self.call)(&mut self.buf) {
                        self.state = PagerState::Done;
                        return Some(Err(e));
                    }
                    self.state = PagerState::Yield(0);
                }
                PagerState::Yield(i) => match self.buf.records().get(i) {
                    Some(&rec) => {
                        // LAST ends the query wherever it appears.
                        let last = rec.fmr_flags & FMR_OF_LAST != 0;
                        self.state = if last {
                            PagerState::Done
                        } else {
                            PagerState::Yield(i + 1)
                        };
                        return Some(Ok(rec));
                    }
                    None => self.state = self.after_page(),
                },
            }
        }
    }
}

/// One `FS_IOC_GETFSMAP` call on `buf` (`fmh_count` is capped at `N`).
pub fn getfsmap_call<const N: usize>(
    fd: BorrowedFd<'_>,
    buf: &mut FsmapBuffer<N>,
) -> Result<(), Errno> {
    buf.head.fmh_count = buf.head.fmh_count.min(u32::try_from(N).unwrap_or(u32::MAX));
    // SAFETY: `buf` is a 192-byte fsmap_head directly followed by N records
    // (repr(C), no padding: 64-byte records, 8-byte alignment), and
    // fmh_count <= N bounds what the kernel writes after the head.
    unsafe { ioctl(fd, FS_IOC_GETFSMAP, std::ptr::from_mut(buf)) }.map(drop)
}

/// All mappings of the query `keys` on the filesystem of `fd`.
pub fn getfsmap(
    fd: BorrowedFd<'_>,
    keys: [Fsmap; 2],
) -> FsmapPager<impl FnMut(&mut FsmapBuffer<FSMAP_BATCH>) -> Result<(), Errno> + '_, FSMAP_BATCH> {
    FsmapPager::new(keys, move |buf: &mut FsmapBuffer<FSMAP_BATCH>| {
        getfsmap_call(fd, buf)
    })
}

/// `xfs_io`'s name for a special owner: "free space", "static fs
/// metadata", …, or "special TYPE:CODE" for values it does not know.
pub fn special_owner_name(owner: u64) -> Cow<'static, str> {
    Cow::Borrowed(match owner {
        FMR_OWN_FREE => "free space",
        FMR_OWN_UNKNOWN => "unknown",
        XFS_FMR_OWN_FS => "static fs metadata",
        XFS_FMR_OWN_LOG => "journalling log",
        XFS_FMR_OWN_AG => "per-AG metadata",
        XFS_FMR_OWN_INOBT => "inode btree",
        XFS_FMR_OWN_INODES => "inodes",
        XFS_FMR_OWN_REFC => "refcount btree",
        XFS_FMR_OWN_COW => "cow reservation",
        XFS_FMR_OWN_DEFECTIVE => "defective",
        _ => return Cow::Owned(format!("special {}:{}", owner >> 32, owner & 0xFFFF_FFFF)),
    })
}

/// The owner column of `xfs_io -c fsmap`: a special owner's name, `inode N
/// data|attr extent map`, or `inode N data|attr FIRST..LAST` (file offsets
/// in 512-byte units; arithmetic wraps like the C).
pub fn describe_owner(rec: &Fsmap) -> Cow<'static, str> {
    if rec.fmr_flags & FMR_OF_SPECIAL_OWNER != 0 {
        return special_owner_name(rec.fmr_owner);
    }
    // The C prints the owner with %lld.
    let ino = rec.fmr_owner as i64;
    let fork = if rec.fmr_flags & FMR_OF_ATTR_FORK != 0 {
        "attr"
    } else {
        "data"
    };
    if rec.fmr_flags & FMR_OF_EXTENT_MAP != 0 {
        return Cow::Owned(format!("inode {ino} {fork} extent map"));
    }
    let first = (rec.fmr_offset >> 9) as i64;
    let last = (rec.fmr_offset.wrapping_add(rec.fmr_length).wrapping_sub(1) >> 9) as i64;
    Cow::Owned(format!("inode {ino} {fork} {first}..{last}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(physical: u64, length: u64, owner: u64, flags: u32) -> Fsmap {
        Fsmap {
            fmr_device: 8,
            fmr_flags: flags,
            fmr_physical: physical,
            fmr_owner: owner,
            fmr_length: length,
            ..Fsmap::default()
        }
    }

    /// A fake kernel over a fixed map: returns up to `fmh_count` records
    /// after the low key, marking the very last one FMR_OF_LAST.
    fn fake_kernel(map: Vec<Fsmap>) -> impl FnMut(&mut FsmapBuffer<2>) -> Result<(), Errno> {
        move |buf| {
            let low = buf.head.fmh_keys[0];
            let start = map.iter().position(|r| *r == low).map_or(0, |i| i + 1);
            let mut n = 0;
            for (i, r) in map
                .iter()
                .enumerate()
                .skip(start)
                .take(buf.head.fmh_count as usize)
            {
                buf.recs[n] = *r;
                if i == map.len() - 1 {
                    buf.recs[n].fmr_flags |= FMR_OF_LAST;
                }
                n += 1;
            }
            buf.head.fmh_entries = n as u32;
            buf.head.fmh_oflags = FMH_OF_DEV_T;
            Ok(())
        }
    }

    #[test]
    fn pages_through_the_map_and_stops_at_last() {
        let map: Vec<Fsmap> = (0..5).map(|i| rec(i * 4096, 4096, 128 + i, 0)).collect();
        let mut pager = FsmapPager::new(keys_all(), fake_kernel(map.clone()));
        let got: Vec<Fsmap> = pager.by_ref().map(Result::unwrap).collect();
        assert_eq!(
            got.iter().map(|r| r.fmr_owner).collect::<Vec<_>>(),
            vec![128, 129, 130, 131, 132]
        );
        assert_ne!(got[4].fmr_flags & FMR_OF_LAST, 0);
        // 2 + 2 + 1 records; no extra call after the LAST record.
        assert_eq!(pager.calls(), 3);
        assert_eq!(pager.oflags(), FMH_OF_DEV_T);
        assert_eq!(pager.next(), None);
    }

    #[test]
    fn an_exact_multiple_without_last_ends_on_an_empty_call() {
        let map: Vec<Fsmap> = (0..4).map(|i| rec(i * 4096, 4096, 128 + i, 0)).collect();
        // This kernel never sets LAST.
        let mut inner = fake_kernel(map);
        let mut pager = FsmapPager::new(keys_all(), move |buf: &mut FsmapBuffer<2>| {
            inner(buf)?;
            for r in &mut buf.recs {
                r.fmr_flags &= !FMR_OF_LAST;
            }
            Ok(())
        });
        assert_eq!(pager.by_ref().count(), 4);
        assert_eq!(pager.calls(), 3);
    }

    #[test]
    fn errors_end_the_iteration() {
        let mut calls = 0;
        let pager = FsmapPager::new(keys_all(), |buf: &mut FsmapBuffer<2>| {
            calls += 1;
            if calls == 2 {
                return Err(Errno::PERM);
            }
            buf.recs[0] = rec(calls * 4096, 4096, 7, 0);
            buf.recs[1] = rec(calls * 8192, 4096, 8, 0);
            buf.head.fmh_entries = 2;
            Ok(())
        });
        let got: Vec<_> = pager.collect();
        assert_eq!(got.len(), 3);
        assert_eq!(got[2], Err(Errno::PERM));
    }

    #[test]
    fn a_kernel_that_repeats_itself_is_not_followed_forever() {
        let same = rec(0, 4096, 9, 0);
        let pager = FsmapPager::new(keys_all(), move |buf: &mut FsmapBuffer<2>| {
            buf.recs[0] = same;
            buf.head.fmh_entries = 1;
            Ok(())
        });
        let got: Vec<_> = pager.take(10).collect();
        assert_eq!(got, vec![Ok(same), Ok(same), Err(Errno::IO)]);
    }

    #[test]
    fn last_ends_the_query_even_mid_page() {
        let pager = FsmapPager::new(keys_all(), |buf: &mut FsmapBuffer<2>| {
            buf.recs[0] = rec(0, 4096, 7, FMR_OF_LAST);
            buf.recs[1] = rec(4096, 4096, 8, 0);
            buf.head.fmh_entries = 2;
            Ok(())
        });
        assert_eq!(
            pager.map(|r| r.unwrap().fmr_owner).collect::<Vec<_>>(),
            vec![7]
        );
    }

    #[test]
    fn entries_beyond_the_buffer_are_ignored() {
        let mut buf = FsmapBuffer::<2>::new(keys_all());
        buf.head.fmh_entries = u32::MAX;
        assert_eq!(buf.records().len(), 2);
    }

    #[test]
    fn sector_keys() {
        let [low, high] = keys_for_sectors(0x800010, 8, 16);
        assert_eq!(
            (low.fmr_device, low.fmr_physical, low.fmr_owner),
            (0x800010, 4096, 0)
        );
        assert_eq!((high.fmr_device, high.fmr_physical), (0x800010, 8191));
        assert_eq!(
            (high.fmr_owner, high.fmr_offset, high.fmr_flags),
            (u64::MAX, u64::MAX, u32::MAX)
        );
        let [low, high] = keys_for_sectors(1, u64::MAX, u64::MAX);
        assert!(high.fmr_physical >= low.fmr_physical);
    }

    #[test]
    fn owners_are_named_like_xfs_io() {
        let special =
            |owner| describe_owner(&rec(0, 4096, owner, FMR_OF_SPECIAL_OWNER)).into_owned();
        assert_eq!(special(XFS_FMR_OWN_FS), "static fs metadata");
        assert_eq!(special(XFS_FMR_OWN_LOG), "journalling log");
        assert_eq!(special(XFS_FMR_OWN_AG), "per-AG metadata");
        assert_eq!(special(XFS_FMR_OWN_INOBT), "inode btree");
        assert_eq!(special(XFS_FMR_OWN_INODES), "inodes");
        assert_eq!(special(XFS_FMR_OWN_REFC), "refcount btree");
        assert_eq!(special(XFS_FMR_OWN_COW), "cow reservation");
        assert_eq!(special(XFS_FMR_OWN_DEFECTIVE), "defective");
        assert_eq!(special(FMR_OWN_FREE), "free space");
        assert_eq!(special(FMR_OWN_UNKNOWN), "unknown");
        assert_eq!(special(FMR_OWN_METADATA), "special 0:3");
        assert_eq!(special(fmr_owner(0x58, 99)), "special 88:99");
        assert_eq!(XFS_FMR_OWN_FS, 0x58_0000_0001);

        let mut r = rec(0, 8192, 131, 0);
        r.fmr_offset = 4096;
        assert_eq!(describe_owner(&r), "inode 131 data 8..23");
        r.fmr_flags = FMR_OF_ATTR_FORK;
        assert_eq!(describe_owner(&r), "inode 131 attr 8..23");
        r.fmr_flags = FMR_OF_EXTENT_MAP;
        assert_eq!(describe_owner(&r), "inode 131 data extent map");
        // Garbage wraps as in C instead of overflowing.
        let g = Fsmap {
            fmr_owner: u64::MAX,
            fmr_offset: u64::MAX,
            fmr_length: 2,
            ..Fsmap::default()
        };
        assert_eq!(describe_owner(&g), "inode -1 data 36028797018963967..0");
    }
}
