//! The parts of `xfs_healer` that are pure enough to be fuzzed on their
//! own: the configuration file parser. Everything else is in the binary.

pub mod config;
