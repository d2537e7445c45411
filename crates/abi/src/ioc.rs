//! ioctl request numbers, composed for the target architecture by
//! `rustix::ioctl::opcode`, which follows each architecture's
//! `asm/ioctl.h`: the generic layout (2 direction bits, READ = 2,
//! WRITE = 1, 14 size bits: x86, arm, aarch64, riscv, s390x, loongarch)
//! or the one of powerpc, mips and sparc (3 direction bits, NONE = 1,
//! READ = 2, WRITE = 4, 13 size bits). The size field is taken from the
//! argument type, so a request number cannot disagree with the struct it
//! carries.

pub use rustix::ioctl::Opcode;
use rustix::ioctl::{Direction, opcode};
use std::mem::{align_of, size_of};

/// The largest argument every architecture's `_IOC` can encode (13 size
/// bits on powerpc, mips and sparc). rustix masks a larger size silently,
/// so each composition below checks it; in a constant a failed check is a
/// compile error on every target, not only on the one that would
/// truncate.
const MAX_SIZE: usize = (1 << 13) - 1;

/// `_IOR(group, nr, T)`: the kernel writes a `T`.
pub const fn read<T>(group: u8, nr: u8) -> Opcode {
    assert!(size_of::<T>() <= MAX_SIZE, "ioctl argument too large");
    opcode::read::<T>(group, nr)
}

/// `_IOW(group, nr, T)`: the kernel reads a `T`.
pub const fn write<T>(group: u8, nr: u8) -> Opcode {
    assert!(size_of::<T>() <= MAX_SIZE, "ioctl argument too large");
    opcode::write::<T>(group, nr)
}

/// `_IOWR(group, nr, T)`: the kernel reads and writes a `T`.
pub const fn read_write<T>(group: u8, nr: u8) -> Opcode {
    assert!(size_of::<T>() <= MAX_SIZE, "ioctl argument too large");
    opcode::read_write::<T>(group, nr)
}

/// `_IOR(group, nr, struct S)` for an older struct `S` that is the first
/// `end` bytes of one of ours (`end`: the offset where it stops). C rounds
/// the size of such a struct of integers up to its largest member's
/// alignment, which for these (with `__u64` members) is `u64`'s: 8 on
/// LP64, 4 on i386.
pub const fn read_prefix_of_u64_struct(group: u8, nr: u8, end: usize) -> Opcode {
    let size = end.next_multiple_of(align_of::<u64>());
    assert!(size <= MAX_SIZE, "ioctl argument too large");
    opcode::from_components(Direction::Read, group, nr, size)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request number widened for comparison.
    // `Opcode` is a c_uint with rustix's raw backend and a c_ulong where it
    // goes through libc (s390x, powerpc64), so on some targets this is u64
    // to u64.
    #[allow(clippy::useless_conversion)]
    fn wide(request: Opcode) -> u64 {
        u64::from(request)
    }

    /// A direction as the C macros name it.
    #[derive(Debug, Clone, Copy)]
    enum Dir {
        Read,
        Write,
        ReadWrite,
    }

    /// Which `asm/ioctl.h` an architecture uses.
    #[derive(Debug, Clone, Copy)]
    enum Rules {
        /// `asm-generic/ioctl.h`: x86, arm, aarch64, riscv, s390x.
        Generic,
        /// `arch/powerpc/include/uapi/asm/ioctl.h` (mips and sparc alike).
        Powerpc,
    }

    /// `_IOC(dir, type, nr, size)` by the C header's rules, written out
    /// independently of rustix.
    fn c_ioc(rules: Rules, dir: Dir, ty: u8, nr: u8, size: usize) -> u64 {
        let (read, write, size_bits) = match rules {
            Rules::Generic => (2u64, 1u64, 14),
            Rules::Powerpc => (2, 4, 13),
        };
        assert!(size < 1 << size_bits, "size {size} does not fit");
        let dir = match dir {
            Dir::Read => read,
            Dir::Write => write,
            Dir::ReadWrite => read | write,
        };
        (dir << (16 + size_bits)) | ((size as u64) << 16) | (u64::from(ty) << 8) | u64::from(nr)
    }

    /// The rules of the architecture the test runs on.
    const HOST: Rules = if cfg!(any(
        target_arch = "powerpc",
        target_arch = "powerpc64",
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    )) {
        Rules::Powerpc
    } else {
        Rules::Generic
    };

    /// One request the crate makes.
    struct Request {
        name: &'static str,
        ours: Opcode,
        /// The header's `_IOR`/`_IOW`/`_IOWR('X', nr, struct)`.
        dir: Dir,
        nr: u8,
        /// The struct's size on LP64 (x86_64, aarch64, ppc64el, s390x).
        size: usize,
        /// The value on x86_64, aarch64 and s390x (generic rules).
        generic: u64,
        /// The value on ppc64el (and mips64el).
        powerpc: u64,
    }

    fn requests() -> Vec<Request> {
        use crate::{fsmap, geometry, handle, healthmon, parents, scrub, verify_media};
        let r = |name, ours, dir, nr, size, generic, powerpc| Request {
            name,
            ours,
            dir,
            nr,
            size,
            generic,
            powerpc,
        };
        vec![
            r(
                "FS_IOC_GETFSMAP",
                fsmap::FS_IOC_GETFSMAP,
                Dir::ReadWrite,
                59,
                192,
                0xc0c0_583b,
                0xc0c0_583b,
            ),
            r(
                "XFS_IOC_SCRUB_METADATA",
                scrub::XFS_IOC_SCRUB_METADATA,
                Dir::ReadWrite,
                60,
                64,
                0xc040_583c,
                0xc040_583c,
            ),
            r(
                "XFS_IOC_GETPARENTS_BY_HANDLE",
                parents::XFS_IOC_GETPARENTS_BY_HANDLE,
                Dir::ReadWrite,
                63,
                64,
                0xc040_583f,
                0xc040_583f,
            ),
            r(
                "XFS_IOC_HEALTH_MONITOR",
                healthmon::XFS_IOC_HEALTH_MONITOR,
                Dir::Write,
                68,
                32,
                0x4020_5844,
                0x8020_5844,
            ),
            r(
                "XFS_IOC_HEALTH_FD_ON_MONITORED_FS",
                healthmon::XFS_IOC_HEALTH_FD_ON_MONITORED_FS,
                Dir::Write,
                69,
                8,
                0x4008_5845,
                0x8008_5845,
            ),
            r(
                "XFS_IOC_VERIFY_MEDIA",
                verify_media::XFS_IOC_VERIFY_MEDIA,
                Dir::ReadWrite,
                70,
                40,
                0xc028_5846,
                0xc028_5846,
            ),
            r(
                "XFS_IOC_FSGEOMETRY_V1",
                geometry::XFS_IOC_FSGEOMETRY_V1,
                Dir::Read,
                100,
                112,
                0x8070_5864,
                0x4070_5864,
            ),
            r(
                "XFS_IOC_FD_TO_HANDLE",
                handle::XFS_IOC_FD_TO_HANDLE,
                Dir::ReadWrite,
                106,
                56,
                0xc038_586a,
                0xc038_586a,
            ),
            r(
                "XFS_IOC_FSGEOMETRY_V4",
                geometry::XFS_IOC_FSGEOMETRY_V4,
                Dir::Read,
                124,
                112,
                0x8070_587c,
                0x4070_587c,
            ),
            r(
                "XFS_IOC_FSGEOMETRY",
                geometry::XFS_IOC_FSGEOMETRY,
                Dir::Read,
                126,
                256,
                0x8100_587e,
                0x4100_587e,
            ),
        ]
    }

    /// The C rules give the values written down for both encodings (so
    /// the table documents what ppc64el and s390x use), and rustix's
    /// composition on this machine gives the value of its rules.
    #[test]
    fn requests_match_the_c_macros() {
        for q in requests() {
            assert_eq!(
                c_ioc(Rules::Generic, q.dir, b'X', q.nr, q.size),
                q.generic,
                "{} (x86_64, aarch64, s390x)",
                q.name
            );
            assert_eq!(
                c_ioc(Rules::Powerpc, q.dir, b'X', q.nr, q.size),
                q.powerpc,
                "{} (ppc64el)",
                q.name
            );
            #[cfg(target_pointer_width = "64")]
            assert_eq!(
                wide(q.ours),
                c_ioc(HOST, q.dir, b'X', q.nr, q.size),
                "{} on this architecture",
                q.name
            );
        }
    }

    /// On the architectures whose values are written down, ours are
    /// exactly those.
    #[test]
    fn requests_are_the_written_values_here() {
        for q in requests() {
            let expected = if cfg!(any(
                target_arch = "x86_64",
                target_arch = "aarch64",
                target_arch = "s390x",
                target_arch = "riscv64"
            )) {
                Some(q.generic)
            } else if cfg!(any(target_arch = "powerpc64", target_arch = "mips64")) {
                Some(q.powerpc)
            } else {
                None
            };
            if let Some(expected) = expected {
                assert_eq!(wide(q.ours), expected, "{}", q.name);
            }
        }
    }

    #[test]
    fn a_prefix_struct_is_padded_to_u64_alignment() {
        // xfs_fsop_geom_v1 ends with 4-byte fields at byte 108.
        let v1 = read_prefix_of_u64_struct(b'X', 100, 108);
        let size = (wide(v1) >> 16) & 0x1fff;
        assert_eq!(size as usize, 108usize.next_multiple_of(align_of::<u64>()));
    }
}
