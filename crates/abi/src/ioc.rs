//! Linux ioctl number encoding (`_IOC` of asm-generic, as used on x86_64),
//! so every hand-written request number in this crate is also checked at
//! compile time against the struct it carries.

const NRSHIFT: u32 = 0;
const TYPESHIFT: u32 = 8;
const SIZESHIFT: u32 = 16;
const DIRSHIFT: u32 = 30;
const SIZEBITS: u32 = 14;
const DIR_WRITE: u64 = 1;
const DIR_READ: u64 = 2;

/// `_IOC(dir, type, nr, size)`; a size that does not fit is a compile error
/// when used in a constant.
pub const fn ioc(dir: u64, ty: u8, nr: u8, size: usize) -> u64 {
    assert!(size < 1 << SIZEBITS, "ioctl argument too large for _IOC");
    (dir << DIRSHIFT)
        | ((size as u64) << SIZESHIFT)
        | ((ty as u64) << TYPESHIFT)
        | ((nr as u64) << NRSHIFT)
}

/// `_IOR(type, nr, T)`: the kernel writes a `T` of `size` bytes.
pub const fn ior(ty: u8, nr: u8, size: usize) -> u64 {
    ioc(DIR_READ, ty, nr, size)
}

/// `_IOW(type, nr, T)`: the kernel reads a `T` of `size` bytes.
pub const fn iow(ty: u8, nr: u8, size: usize) -> u64 {
    ioc(DIR_WRITE, ty, nr, size)
}

/// `_IOWR(type, nr, T)`: the kernel reads and writes a `T`.
pub const fn iowr(ty: u8, nr: u8, size: usize) -> u64 {
    ioc(DIR_READ | DIR_WRITE, ty, nr, size)
}

// The numbers kernel-abi.md computed from the header, re-derived here.
const _: () = assert!(iowr(b'X', 60, 64) == crate::scrub::XFS_IOC_SCRUB_METADATA);
const _: () = assert!(iow(b'X', 68, 32) == crate::healthmon::XFS_IOC_HEALTH_MONITOR);
const _: () = assert!(ior(b'X', 126, 256) == crate::geometry::XFS_IOC_FSGEOMETRY);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_c_macros() {
        assert_eq!(iowr(b'X', 59, 192), 0xc0c0_583b);
        assert_eq!(ior(0x15, 0, 17), 0x8011_1500);
        assert_eq!(iow(b'X', 69, 8), 0x4008_5845);
    }
}
