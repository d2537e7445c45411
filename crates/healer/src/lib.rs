//! The parts of `xfs_healer` that are pure enough to be fuzzed on their
//! own: the configuration file parser and the reading of `GETFSMAP`
//! owners. Everything else is in the binary.

pub mod config;
pub mod fsmap_owner;
