//! The kernel ABI the healer speaks: `#[repr(C)]` mirrors of the XFS ioctl
//! structures, their ioctl numbers, and thin wrappers that make the calls.
//!
//! This is the only crate of the workspace allowed `unsafe`. Every layout
//! is pinned twice: by compile-time size/offset assertions here, and by
//! `tests/c_layout.rs`, which compiles a C program against Debian sid's
//! `xfs/xfs_fs.h` (xfslibs-dev 7.2) and compares every number.
//!
//! # Safety
//!
//! Each ioctl wrapper passes a pointer to a properly sized, initialised
//! struct (or buffer) that lives across the call; the kernel reads or writes
//! only within the size encoded in the ioctl number or the length fields we
//! set. File descriptors come in as `BorrowedFd`, so they are open for the
//! duration of the call.

#![allow(unsafe_code)]

pub mod fsmap;
pub mod geometry;
pub mod handle;
pub mod healthmon;
pub mod ioc;
pub mod mount;
pub mod parents;
pub mod process;
pub mod scrub;
pub mod signals;
pub mod verify_media;

pub use rustix::io::Errno;
use std::os::fd::{AsRawFd, BorrowedFd};

/// glibc's text for an errno, exactly as C `strerror` prints it (Rust's
/// own `Display` appends " (os error N)", which the reference never shows).
pub fn strerror(errno: Errno) -> String {
    strerror_raw(errno.raw_os_error())
}

/// [`strerror`] of any number, as glibc prints it: a value that is no errno
/// (a record's error field comes from the kernel and is not checked) gives
/// "Unknown error N". `Errno::from_raw_os_error` asserts its argument is an
/// errno, so numbers read from a record must come here instead.
pub fn strerror_raw(errno: i32) -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is a writable buffer of the length passed; the XSI
    // strerror_r (which the libc crate binds on glibc as `strerror_r` with
    // `__xpg_strerror_r`) writes a NUL-terminated string into it.
    let rc = unsafe { libc::strerror_r(errno, buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return format!("Unknown error {errno}");
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..len]).into_owned()
}

/// `ioctl(fd, request, arg)` returning the non-negative result or errno.
///
/// # Safety
///
/// `arg` must point to memory valid for whatever `request` makes the kernel
/// read or write, for the duration of the call.
pub(crate) unsafe fn ioctl<T>(
    fd: BorrowedFd<'_>,
    request: ioc::Opcode,
    arg: *mut T,
) -> Result<i32, Errno> {
    // SAFETY: the caller guarantees `arg` is valid for `request`; the fd is
    // borrowed, hence open.
    // `Opcode` is the kernel's unsigned int, or unsigned long where rustix
    // goes through libc; glibc's `ioctl` takes an unsigned long (musl an
    // int): the conversion keeps the 32 bits of every request number.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request as libc::Ioctl, arg) };
    if rc < 0 {
        Err(Errno::from_raw_os_error(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        ))
    } else {
        Ok(rc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strerror_matches_glibc_text() {
        assert_eq!(strerror(Errno::STALE), "Stale file handle");
        assert_eq!(strerror(Errno::IO), "Input/output error");
        assert_eq!(strerror(Errno::NOTTY), "Inappropriate ioctl for device");
        assert_eq!(strerror(Errno::NOENT), "No such file or directory");
    }

    #[test]
    fn strerror_raw_takes_numbers_that_are_no_errno() {
        assert_eq!(strerror_raw(5), "Input/output error");
        assert_eq!(strerror_raw(0), "Success");
        assert_eq!(strerror_raw(4096), "Unknown error 4096");
        assert_eq!(
            strerror_raw(i32::MAX),
            format!("Unknown error {}", i32::MAX)
        );
        assert_eq!(strerror_raw(-1), "Unknown error -1");
    }
}
