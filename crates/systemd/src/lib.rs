//! systemd conventions the healer and its launcher follow, as pure code.
//!
//! The reference forks `systemd-escape --template … --path …` for every unit
//! name it needs; we compute the same bytes in-process (no helper to hang, no
//! `PATH` lookup) and test the result against the real `systemd-escape`.

#![forbid(unsafe_code)]

pub use escape::{EscapeError, escape_path, template_instance};

mod escape;
