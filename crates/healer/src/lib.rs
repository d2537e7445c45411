//! The parts of `xfs_healer` with no I/O of their own: every decision of
//! the daemon ([`core`], with its status book and the kinds of what it
//! tells), the configuration file parser and the reading of `GETFSMAP`
//! owners. They are unit- and property-tested, fuzzed and benchmarked on
//! their own; the binary is the shell that does the syscalls.

pub mod config;
pub mod core;
pub mod fsmap_owner;
pub mod kinds;
pub mod status;
pub mod trust;
