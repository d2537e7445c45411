//! Runs the built `xfs_healerctl` against fake healers.

mod common;
mod failures;
mod output_errors;
