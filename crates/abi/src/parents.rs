//! Parent pointers: `XFS_IOC_GETPARENTS_BY_HANDLE` lists the directory
//! entries that point at an inode; walking them up gives its paths.

use crate::handle::XfsHandle;
use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::BorrowedFd;

/// `_IOWR('X', 63, struct xfs_getparents_by_handle)`.
pub const XFS_IOC_GETPARENTS_BY_HANDLE: Opcode = ioc::read_write::<GetParentsByHandle>(b'X', 63);
pub const GP_OFLAGS_ROOT: u16 = 1;
pub const GP_OFLAGS_DONE: u16 = 2;

/// `struct xfs_getparents` (40 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct GetParents {
    pub gp_cursor: [u64; 2],
    pub gp_iflags: u16,
    pub gp_oflags: u16,
    pub gp_bufsize: u32,
    pub gp_reserved: u64,
    pub gp_buffer: u64,
}

/// `struct xfs_getparents_by_handle` (64 bytes).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct GetParentsByHandle {
    pub gph_handle: XfsHandle,
    pub gph_request: GetParents,
}

const _: () = assert!(size_of::<GetParents>() == 40);
const _: () = assert!(offset_of!(GetParents, gp_iflags) == 16);
const _: () = assert!(offset_of!(GetParents, gp_bufsize) == 20);
const _: () = assert!(offset_of!(GetParents, gp_buffer) == 32);
const _: () = assert!(size_of::<GetParentsByHandle>() == 64);
const _: () = assert!(offset_of!(GetParentsByHandle, gph_request) == 24);

/// Size of a record header (`struct xfs_getparents_rec` before the name).
const REC_HEADER: usize = 32;

/// One call; fills `buf` with records and returns the output flags. The
/// cursor must be zero for the first call and left alone afterwards.
pub fn getparents_by_handle(
    mount: BorrowedFd<'_>,
    handle: &XfsHandle,
    cursor: &mut [u8; 16],
    buf: &mut [u8],
) -> Result<u16, Errno> {
    if buf.len() < REC_HEADER + 8 || buf.len() > 65536 {
        return Err(Errno::INVAL);
    }
    // No record produced leaves the buffer untouched: clear the header so
    // a stale record is never read back.
    buf[..REC_HEADER].fill(0);
    let mut arg = GetParentsByHandle {
        gph_handle: *handle,
        gph_request: GetParents {
            gp_cursor: [
                u64::from_ne_bytes(cursor[..8].try_into().expect("8 bytes")),
                u64::from_ne_bytes(cursor[8..].try_into().expect("8 bytes")),
            ],
            gp_bufsize: u32::try_from(buf.len()).map_err(|_| Errno::INVAL)?,
            gp_buffer: buf.as_mut_ptr() as u64,
            ..GetParents::default()
        },
    };
    // SAFETY: `arg` is the 64-byte struct of this _IOWR request, and its
    // gp_buffer/gp_bufsize describe `buf`, exclusively borrowed for the call.
    unsafe {
        ioctl(
            mount,
            XFS_IOC_GETPARENTS_BY_HANDLE,
            std::ptr::from_mut(&mut arg),
        )
    }?;
    cursor[..8].copy_from_slice(&arg.gph_request.gp_cursor[0].to_ne_bytes());
    cursor[8..].copy_from_slice(&arg.gph_request.gp_cursor[1].to_ne_bytes());
    Ok(arg.gph_request.gp_oflags)
}

/// A parent pointer: the parent directory's handle and the entry name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParentRecord<'a> {
    pub parent: XfsHandle,
    pub name: &'a [u8],
}

/// The records in a buffer the kernel filled. Pure and bounds-checked: a
/// record length of 0, one that runs past the buffer, or a name without a
/// terminating NUL ends the walk; garbage never panics.
pub fn records(buf: &[u8]) -> impl Iterator<Item = ParentRecord<'_>> {
    let mut offset = 0usize;
    std::iter::from_fn(move || {
        let rec = buf.get(offset..)?;
        let header = rec.get(..REC_HEADER)?;
        let u32_at = |i: usize| u32::from_ne_bytes(header[i..i + 4].try_into().expect("4 bytes"));
        let reclen = u32_at(24) as usize;
        if reclen < REC_HEADER || reclen > rec.len() {
            return None;
        }
        let name_area = &rec[REC_HEADER..reclen];
        let name_len = name_area.iter().position(|&b| b == 0)?;
        let parent = XfsHandle {
            fsid: [u32_at(0), u32_at(4)],
            fid_len: u16::from_ne_bytes([header[8], header[9]]),
            fid_pad: u16::from_ne_bytes([header[10], header[11]]),
            fid_gen: u32_at(12),
            fid_ino: u64::from_ne_bytes(header[16..24].try_into().expect("8 bytes")),
        };
        offset += reclen;
        Some(ParentRecord {
            parent,
            name: &name_area[..name_len],
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(ino: u64, name: &[u8], stretch_to: Option<usize>) -> Vec<u8> {
        let len = (REC_HEADER + name.len() + 1).div_ceil(8) * 8;
        let len = stretch_to.unwrap_or(len);
        let mut r = vec![0u8; len];
        r[8..10].copy_from_slice(&14u16.to_ne_bytes());
        r[16..24].copy_from_slice(&ino.to_ne_bytes());
        r[24..28].copy_from_slice(&(len as u32).to_ne_bytes());
        r[REC_HEADER..REC_HEADER + name.len()].copy_from_slice(name);
        r
    }

    #[test]
    fn walks_records_and_the_stretched_last_one() {
        let mut buf = record(128, b"dir", None);
        buf.extend(record(131, b"other\nname", Some(200)));
        let got: Vec<_> = records(&buf)
            .map(|r| (r.parent.fid_ino, r.name.to_vec()))
            .collect();
        assert_eq!(
            got,
            vec![(128, b"dir".to_vec()), (131, b"other\nname".to_vec())]
        );
    }

    #[test]
    fn zeroed_header_is_no_record() {
        assert_eq!(records(&[0u8; 64]).count(), 0);
    }

    proptest! {
        #[test]
        fn garbage_never_panics(buf in proptest::collection::vec(any::<u8>(), 0..600)) {
            let n = records(&buf).count();
            prop_assert!(n <= buf.len() / REC_HEADER);
        }
    }
}
