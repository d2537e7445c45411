//! The parts of `xfs_healer` that are pure enough to be fuzzed on their
//! own: the configuration file parser, the reading of `GETFSMAP` owners,
//! and the kinds of events the healer tells. Everything else is in the
//! binary.

pub mod config;
pub mod fsmap_owner;
pub mod kinds;
