//! XFS file handles: how the healer names an inode without a path, and
//! recognises its filesystem again after reopening the mount point.

use crate::ioc::{self, Opcode};
use crate::{Errno, ioctl};
use std::mem::{offset_of, size_of};
use std::os::fd::{AsRawFd, BorrowedFd};

/// `_IOWR('X', 106, struct xfs_fsop_handlereq)`.
pub const XFS_IOC_FD_TO_HANDLE: Opcode = ioc::read_write::<FsopHandlereq>(b'X', 106);

/// `struct xfs_handle` (24 bytes): fsid, then the file id.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct XfsHandle {
    pub fsid: [u32; 2],
    pub fid_len: u16,
    pub fid_pad: u16,
    pub fid_gen: u32,
    pub fid_ino: u64,
}

const _: () = assert!(size_of::<XfsHandle>() == 24);
const _: () = assert!(offset_of!(XfsHandle, fid_len) == 8);
const _: () = assert!(offset_of!(XfsHandle, fid_gen) == 12);
const _: () = assert!(offset_of!(XfsHandle, fid_ino) == 16);

/// `fid_len` of a full handle: the fid's size minus the length field.
pub const FID_LEN: u16 = 14;

impl XfsHandle {
    /// The same filesystem's handle for another inode.
    pub fn with_inode(&self, ino: u64, generation: u32) -> XfsHandle {
        XfsHandle {
            fid_len: FID_LEN,
            fid_pad: 0,
            fid_gen: generation,
            fid_ino: ino,
            ..*self
        }
    }
}

/// `struct xfs_fsop_handlereq`: seven pointer-sized slots (56 bytes on
/// 64-bit, 28 on 32-bit, where the kernel's compat ioctl takes the same
/// layout), each `__u32` padded to the next pointer.
#[repr(C)]
#[derive(Debug)]
pub struct FsopHandlereq {
    pub fd: u32,
    pub path: *mut libc::c_void,
    pub oflags: u32,
    pub ihandle: *mut libc::c_void,
    pub ihandlen: u32,
    pub ohandle: *mut libc::c_void,
    pub ohandlen: *mut u32,
}

const PTR: usize = size_of::<*mut libc::c_void>();
const _: () = assert!(size_of::<FsopHandlereq>() == 7 * PTR);
const _: () = assert!(offset_of!(FsopHandlereq, path) == PTR);
const _: () = assert!(offset_of!(FsopHandlereq, oflags) == 2 * PTR);
const _: () = assert!(offset_of!(FsopHandlereq, ihandle) == 3 * PTR);
const _: () = assert!(offset_of!(FsopHandlereq, ihandlen) == 4 * PTR);
const _: () = assert!(offset_of!(FsopHandlereq, ohandle) == 5 * PTR);
const _: () = assert!(offset_of!(FsopHandlereq, ohandlen) == 6 * PTR);

/// The handle of the file `fd` refers to (a directory or regular file).
pub fn fd_to_handle(fd: BorrowedFd<'_>) -> Result<XfsHandle, Errno> {
    let mut handle = XfsHandle::default();
    let mut len: u32 = 0;
    let mut req = FsopHandlereq {
        fd: u32::try_from(fd.as_raw_fd()).map_err(|_| Errno::BADF)?,
        path: std::ptr::null_mut(),
        oflags: 0,
        ihandle: std::ptr::null_mut(),
        ihandlen: 0,
        ohandle: std::ptr::from_mut(&mut handle).cast(),
        ohandlen: &mut len,
    };
    // SAFETY: `req` points at `handle` (24 bytes, the most the kernel
    // writes for an XFS handle) and `len`, both alive across the call.
    unsafe { ioctl(fd, XFS_IOC_FD_TO_HANDLE, std::ptr::from_mut(&mut req)) }?;
    if len as usize != size_of::<XfsHandle>() {
        return Err(Errno::INVAL);
    }
    Ok(handle)
}
