//! Deciding what to do about health reports, as pure code: which scrub
//! types repair which object in which order (`plan.rs`), which repairs are
//! already covered, when to escalate to a full `xfs_scrub` run, what to do
//! at shutdown ([`Engine`]), and which identical log lines to hold back
//! ([`LineLimiter`]). Time comes in as milliseconds from the caller; nothing
//! here does I/O, so every rule is unit- and property-tested.

#![forbid(unsafe_code)]

mod engine;
pub mod media;
pub mod patrol;
mod plan;
mod ratelimit;

pub use engine::{Action, Config, Engine, FullScanReason, Input, Outcome};
pub use plan::{Object, ScrubType, Target};
pub use ratelimit::{Admit, LineLimiter};
