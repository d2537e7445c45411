//! Watching a mount namespace: fanotify mount events (Linux 6.14+), and
//! `listmount`/`statmount` (6.8+; the namespace-fd field since 6.18), as
//! `xfs_healer_start` uses them. No libc wraps these yet, so the structs and
//! numbers are mirrored here from `linux/fanotify.h` and `linux/mount.h`.

use crate::Errno;
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// `fanotify_init` flags: close on exec, report mount ids.
pub const FAN_CLOEXEC: u32 = 0x0000_0001;
pub const FAN_REPORT_MNT: u32 = 0x0000_4000;
/// `fanotify_mark` flags: add a mark on a mount namespace.
pub const FAN_MARK_ADD: u32 = 0x0000_0001;
pub const FAN_MARK_MNTNS: u32 = 0x0000_0110;
/// Event mask bits.
pub const FAN_MNT_ATTACH: u64 = 0x0100_0000;
pub const FAN_Q_OVERFLOW: u64 = 0x0000_4000;
/// Info record type carrying a mount id.
pub const FAN_EVENT_INFO_TYPE_MNT: u8 = 7;
pub const FANOTIFY_METADATA_VERSION: u8 = 3;
/// `fd` of events that carry no file.
pub const FAN_NOFD: i32 = -1;

/// `struct fanotify_event_metadata`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct FanotifyEventMetadata {
    pub event_len: u32,
    pub vers: u8,
    pub reserved: u8,
    pub metadata_len: u16,
    pub mask: u64,
    pub fd: i32,
    pub pid: i32,
}
const _: () = assert!(size_of::<FanotifyEventMetadata>() == 24);
const _: () = assert!(offset_of!(FanotifyEventMetadata, mask) == 8);
const _: () = assert!(offset_of!(FanotifyEventMetadata, fd) == 16);

/// `struct fanotify_event_info_mnt`: a 4-byte header, padding, the id.
pub const INFO_MNT_LEN: usize = 16;

/// `listmount`'s "start at the namespace root" and `statmount` masks.
pub const LSMT_ROOT: u64 = u64::MAX;
pub const STATMOUNT_SB_BASIC: u64 = 0x01;
pub const STATMOUNT_MNT_ROOT: u64 = 0x08;
pub const STATMOUNT_MNT_POINT: u64 = 0x10;
pub const STATMOUNT_FS_TYPE: u64 = 0x20;

/// `struct mnt_id_req` (version 0 size; `mnt_ns_fd` replaced `spare`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct MntIdReq {
    pub size: u32,
    pub mnt_ns_fd: u32,
    pub mnt_id: u64,
    pub param: u64,
}
pub const MNT_ID_REQ_SIZE_VER0: u32 = 24;
const _: () = assert!(size_of::<MntIdReq>() == MNT_ID_REQ_SIZE_VER0 as usize);

/// The fixed part of `struct statmount`; strings follow at offset 512.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Statmount {
    pub size: u32,
    pub mnt_opts: u32,
    pub mask: u64,
    pub sb_dev_major: u32,
    pub sb_dev_minor: u32,
    pub sb_magic: u64,
    pub sb_flags: u32,
    pub fs_type: u32,
    pub mnt_id: u64,
    pub mnt_parent_id: u64,
    pub mnt_id_old: u32,
    pub mnt_parent_id_old: u32,
    pub mnt_attr: u64,
    pub mnt_propagation: u64,
    pub mnt_peer_group: u64,
    pub mnt_master: u64,
    pub propagate_from: u64,
    pub mnt_root: u32,
    pub mnt_point: u32,
    pub spare2: [u64; 50],
}
const _: () = assert!(size_of::<Statmount>() == 512);
const _: () = assert!(offset_of!(Statmount, sb_dev_major) == 16);
const _: () = assert!(offset_of!(Statmount, fs_type) == 36);
const _: () = assert!(offset_of!(Statmount, mnt_id) == 40);
const _: () = assert!(offset_of!(Statmount, mnt_root) == 104);
const _: () = assert!(offset_of!(Statmount, mnt_point) == 108);

// statmount(2) and listmount(2) (Linux 6.8) are not in the libc crate yet.
// Since Linux 5.1 every architecture numbers new system calls alike, from
// its own base (mips' o32/n64/n32 tables, alpha's, x32's
// `__X32_SYSCALL_BIT`): in the unified table
// (include/uapi/asm-generic/unistd.h, and arch/*/kernel/syscalls/*.tbl)
// open_tree is 428, statmount 457 and listmount 458. So each is open_tree's
// number, which libc has for every architecture, plus the same distance.
const SYS_STATMOUNT: libc::c_long = libc::SYS_open_tree + (457 - 428);
const SYS_LISTMOUNT: libc::c_long = libc::SYS_open_tree + (458 - 428);

/// A fanotify fd reporting mounts attached in the namespace `ns`.
pub fn watch_mount_namespace(ns: BorrowedFd<'_>) -> Result<OwnedFd, WatchError> {
    // SAFETY: plain syscall with integer arguments; a returned fd is ours.
    let fd = unsafe {
        libc::fanotify_init(FAN_REPORT_MNT | FAN_CLOEXEC, libc::O_RDONLY as libc::c_uint)
    };
    if fd < 0 {
        return Err(WatchError::Init(Errno::from_raw_os_error(last_errno())));
    }
    // SAFETY: `fd` was just returned by fanotify_init and nothing else owns it.
    let fan = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: integer arguments; the path pointer may be NULL with a dirfd.
    let r = unsafe {
        libc::fanotify_mark(
            fan.as_raw_fd(),
            FAN_MARK_ADD | FAN_MARK_MNTNS,
            FAN_MNT_ATTACH,
            ns.as_raw_fd(),
            std::ptr::null(),
        )
    };
    if r < 0 {
        return Err(WatchError::Mark(Errno::from_raw_os_error(last_errno())));
    }
    Ok(fan)
}

/// Which step of [`watch_mount_namespace`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchError {
    Init(Errno),
    Mark(Errno),
}

fn last_errno() -> i32 {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// The request's `mnt_ns_fd`: 0 is the caller's own mount namespace.
fn ns_fd_field(ns: Option<BorrowedFd<'_>>) -> u32 {
    ns.map_or(0, |fd| u32::try_from(fd.as_raw_fd()).unwrap_or(0))
}

/// Mount ids in the namespace `ns` (None: our own) after `after` (0: from
/// the start), at most `ids.len()`; returns how many were written.
pub fn listmount(ns: Option<BorrowedFd<'_>>, after: u64, ids: &mut [u64]) -> Result<usize, Errno> {
    let req = MntIdReq {
        size: MNT_ID_REQ_SIZE_VER0,
        mnt_ns_fd: ns_fd_field(ns),
        mnt_id: LSMT_ROOT,
        param: after,
    };
    // SAFETY: `req` is a valid version-0 request that outlives the call;
    // `ids` is writable for `ids.len()` u64s, the count we pass.
    let n = unsafe {
        libc::syscall(
            SYS_LISTMOUNT,
            std::ptr::from_ref(&req),
            ids.as_mut_ptr(),
            ids.len(),
            0u32,
        )
    };
    if n < 0 {
        return Err(Errno::from_raw_os_error(last_errno()));
    }
    Ok(usize::try_from(n).unwrap_or(0).min(ids.len()))
}

/// What `xfs_healer_start` needs to know about one mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    pub mnt_id: u64,
    pub dev: (u32, u32),
    pub fs_type: Vec<u8>,
    pub mnt_point: Vec<u8>,
    pub mnt_root: Vec<u8>,
}

/// Largest `statmount` buffer we try (paths are at most PATH_MAX each).
const STATMOUNT_MAX: usize = 64 * 1024;

/// `statmount` of the mount `mnt_id` in namespace `ns` (None: our own):
/// device, fs type, mount point and root. ENOENT: the mount is gone.
pub fn statmount(ns: Option<BorrowedFd<'_>>, mnt_id: u64) -> Result<MountInfo, Errno> {
    let mask = STATMOUNT_SB_BASIC | STATMOUNT_MNT_ROOT | STATMOUNT_MNT_POINT | STATMOUNT_FS_TYPE;
    let req = MntIdReq {
        size: MNT_ID_REQ_SIZE_VER0,
        mnt_ns_fd: ns_fd_field(ns),
        mnt_id,
        param: mask,
    };
    let mut len = 4096;
    loop {
        // u64 elements: the buffer is aligned for `struct statmount`.
        let mut buf = vec![0u64; len / 8];
        // SAFETY: `req` outlives the call; `buf` is writable for `len`
        // bytes, the size we pass, and 8-byte aligned.
        let r = unsafe {
            libc::syscall(
                SYS_STATMOUNT,
                std::ptr::from_ref(&req),
                buf.as_mut_ptr(),
                len,
                0u32,
            )
        };
        if r < 0 {
            let e = Errno::from_raw_os_error(last_errno());
            if e == Errno::OVERFLOW && len < STATMOUNT_MAX {
                len *= 4;
                continue;
            }
            return Err(e);
        }
        let bytes: Vec<u8> = buf.iter().flat_map(|w| w.to_ne_bytes()).collect();
        return parse_statmount(&bytes, mnt_id, mask).ok_or(Errno::NODATA);
    }
}

/// Decodes a `statmount` result for mount `mnt_id` (the result's own id
/// field is filled only with `STATMOUNT_MNT_BASIC`); None if a field we
/// asked for is missing or points outside the buffer.
pub fn parse_statmount(buf: &[u8], mnt_id: u64, want: u64) -> Option<MountInfo> {
    let u32_at = |off: usize| {
        buf.get(off..off + 4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |off: usize| {
        buf.get(off..off + 8)
            .map(|b| u64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    };
    let size = usize::try_from(u32_at(offset_of!(Statmount, size))?)
        .ok()?
        .min(buf.len());
    let mask = u64_at(offset_of!(Statmount, mask))?;
    if mask & want != want {
        return None;
    }
    let strings = buf.get(size_of::<Statmount>()..size)?;
    let string = |field: usize| -> Option<Vec<u8>> {
        let off = usize::try_from(u32_at(field)?).ok()?;
        let tail = strings.get(off..)?;
        let end = tail.iter().position(|&b| b == 0)?;
        Some(tail[..end].to_vec())
    };
    Some(MountInfo {
        mnt_id,
        dev: (
            u32_at(offset_of!(Statmount, sb_dev_major))?,
            u32_at(offset_of!(Statmount, sb_dev_minor))?,
        ),
        fs_type: string(offset_of!(Statmount, fs_type))?,
        mnt_point: string(offset_of!(Statmount, mnt_point))?,
        mnt_root: string(offset_of!(Statmount, mnt_root))?,
    })
}

/// One fanotify record, as far as a mount watcher cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountEvent {
    /// A mount was attached: the record's length and the mount ids in it
    /// (usually one).
    Attached { len: u32, ids: Vec<u64> },
    /// The kernel's queue overflowed: rescan everything.
    Overflow,
    /// Anything else (another event type, a malformed record).
    Other { mask: u64 },
}

/// Splits a buffer read from a mount-watching fanotify fd into events.
/// Total: stops at the first record that does not fit, never panics.
pub fn parse_fanotify(buf: &[u8]) -> Vec<MountEvent> {
    let meta_len = size_of::<FanotifyEventMetadata>();
    let mut events = Vec::new();
    let mut rest = buf;
    while rest.len() >= meta_len {
        let event_len = u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let vers = rest[4];
        let metadata_len = usize::from(u16::from_ne_bytes([rest[6], rest[7]]));
        let mask = u64::from_ne_bytes(rest[8..16].try_into().unwrap_or([0; 8]));
        if event_len < meta_len || event_len > rest.len() || vers != FANOTIFY_METADATA_VERSION {
            break;
        }
        let record = &rest[..event_len];
        rest = &rest[event_len..];
        if mask & FAN_Q_OVERFLOW != 0 {
            events.push(MountEvent::Overflow);
            continue;
        }
        if mask & FAN_MNT_ATTACH == 0 || metadata_len < meta_len || metadata_len > event_len {
            events.push(MountEvent::Other { mask });
            continue;
        }
        let mut ids = Vec::new();
        let mut info = &record[metadata_len..];
        while info.len() >= 4 {
            let len = usize::from(u16::from_ne_bytes([info[2], info[3]]));
            if len < 4 || len > info.len() {
                break;
            }
            if info[0] == FAN_EVENT_INFO_TYPE_MNT && len >= INFO_MNT_LEN {
                ids.push(u64::from_ne_bytes(info[8..16].try_into().unwrap_or([0; 8])));
            }
            info = &info[len..];
        }
        let len = u32::try_from(event_len).unwrap_or(u32::MAX);
        events.push(if ids.is_empty() {
            MountEvent::Other { mask }
        } else {
            MountEvent::Attached { len, ids }
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The numbers of the architectures' syscall tables.
    #[test]
    fn syscall_numbers_are_the_kernels() {
        let expected = if cfg!(any(
            all(target_arch = "x86_64", target_pointer_width = "64"),
            target_arch = "aarch64",
            target_arch = "s390x",
            target_arch = "powerpc64",
            target_arch = "riscv64",
            target_arch = "arm",
            target_arch = "x86"
        )) {
            Some((457, 458))
        } else if cfg!(target_arch = "mips64") {
            Some((5457, 5458))
        } else {
            None
        };
        if let Some(expected) = expected {
            assert_eq!((SYS_STATMOUNT, SYS_LISTMOUNT), expected);
        }
    }

    fn attach_record(id: u64) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&40u32.to_ne_bytes());
        r.extend_from_slice(&[FANOTIFY_METADATA_VERSION, 0]);
        r.extend_from_slice(&24u16.to_ne_bytes());
        r.extend_from_slice(&FAN_MNT_ATTACH.to_ne_bytes());
        r.extend_from_slice(&FAN_NOFD.to_ne_bytes());
        r.extend_from_slice(&0i32.to_ne_bytes());
        r.extend_from_slice(&[FAN_EVENT_INFO_TYPE_MNT, 0]);
        r.extend_from_slice(&16u16.to_ne_bytes());
        r.extend_from_slice(&[0; 4]);
        r.extend_from_slice(&id.to_ne_bytes());
        r
    }

    #[test]
    fn attach_records_give_their_mount_ids() {
        let mut buf = attach_record(0x1000_0042);
        buf.extend(attach_record(7));
        assert_eq!(
            parse_fanotify(&buf),
            vec![
                MountEvent::Attached {
                    len: 40,
                    ids: vec![0x1000_0042]
                },
                MountEvent::Attached {
                    len: 40,
                    ids: vec![7]
                }
            ]
        );
    }

    #[test]
    fn overflow_and_truncation() {
        let mut r = attach_record(1);
        r[8..16].copy_from_slice(&FAN_Q_OVERFLOW.to_ne_bytes());
        assert_eq!(parse_fanotify(&r), vec![MountEvent::Overflow]);
        let whole = attach_record(1);
        assert!(
            parse_fanotify(&whole[..39]).is_empty(),
            "a cut record is not half-read"
        );
    }

    #[test]
    fn statmount_strings_are_found_and_bounds_checked() {
        let mut buf = vec![0u8; 512];
        let strings = b"xfs\0/mnt/a b\0/\0";
        buf.extend_from_slice(strings);
        let total = buf.len() as u32;
        buf[0..4].copy_from_slice(&total.to_ne_bytes());
        let mask =
            STATMOUNT_SB_BASIC | STATMOUNT_MNT_ROOT | STATMOUNT_MNT_POINT | STATMOUNT_FS_TYPE;
        buf[8..16].copy_from_slice(&mask.to_ne_bytes());
        buf[16..20].copy_from_slice(&254u32.to_ne_bytes());
        buf[20..24].copy_from_slice(&3u32.to_ne_bytes());
        buf[36..40].copy_from_slice(&0u32.to_ne_bytes());
        buf[108..112].copy_from_slice(&4u32.to_ne_bytes());
        buf[104..108].copy_from_slice(&13u32.to_ne_bytes());
        let info = parse_statmount(&buf, 0x42, mask).expect("parses");
        assert_eq!(info.mnt_id, 0x42);
        assert_eq!(info.fs_type, b"xfs");
        assert_eq!(info.mnt_point, b"/mnt/a b");
        assert_eq!(info.mnt_root, b"/");
        assert_eq!(info.dev, (254, 3));
        buf[108..112].copy_from_slice(&4000u32.to_ne_bytes());
        assert_eq!(
            parse_statmount(&buf, 0x42, mask),
            None,
            "an offset past the end is refused"
        );
    }

    proptest! {
        #[test]
        fn parsers_are_total(bytes in proptest::collection::vec(any::<u8>(), 0..700), want in any::<u64>()) {
            let events = parse_fanotify(&bytes);
            prop_assert!(events.len() <= bytes.len() / 24);
            let _ = parse_statmount(&bytes, 1, want);
        }
    }
}
