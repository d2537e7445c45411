//! `xfs_getopt::parse` (the glibc `getopt_long` emulation) on arbitrary
//! argument vectors, with the option tables of `xfs_healer` and
//! `xfs_healer_start`. The healer's own `cli::parse_args` lives in a binary
//! crate and cannot be linked here, so its parser is fuzzed directly.
//!
//! Input: `[flags] argv0 \0 arg1 \0 ...`; flags bit 0 = POSIXLY_CORRECT.
//! Checks: every diagnostic starts with `argv0: `; a long option carries a
//! value exactly when its table entry requires one; only listed short
//! options are reported; the positionals are an in-order subsequence of
//! the arguments.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use xfs_getopt::{HasArg, Item, LongOpt};

const fn opt(name: &'static str, has_arg: HasArg, id: u8) -> LongOpt<'static, u8> {
    LongOpt { name, has_arg, id }
}

/// `xfs_healer`'s table, in the reference's order.
const HEALER: &[LongOpt<'static, u8>] = &[
    opt("debug", HasArg::No, 0),
    opt("everything", HasArg::No, 1),
    opt("foreground", HasArg::No, 2),
    opt("help", HasArg::No, 3),
    opt("no-autofsck", HasArg::No, 4),
    opt("quiet", HasArg::No, 5),
    opt("repair", HasArg::No, 6),
    opt("supported", HasArg::No, 7),
    opt("svcname", HasArg::No, 8),
];

/// `xfs_healer_start`'s table.
const HEALER_START: &[LongOpt<'static, u8>] = &[
    opt("debug", HasArg::No, 0),
    opt("help", HasArg::No, 1),
    opt("mountns", HasArg::Required, 2),
    opt("supported", HasArg::No, 3),
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let posixly_correct = flags & 1 != 0;
    let args: Vec<OsString> = rest
        .split(|&b| b == 0)
        .map(|a| OsString::from_vec(a.to_vec()))
        .collect();
    check(&args, HEALER, posixly_correct);
    check(&args, HEALER_START, posixly_correct);
});

fn check(args: &[OsString], table: &[LongOpt<'static, u8>], posixly_correct: bool) {
    let parsed = xfs_getopt::parse(args, "V", table, posixly_correct);
    let argv0 = args[0].as_bytes();
    for item in &parsed.items {
        match item {
            Item::Error(line) => {
                let line = line.as_bytes();
                assert!(
                    line.starts_with(argv0) && line[argv0.len()..].starts_with(b": "),
                    "diagnostic {line:?}"
                );
            }
            Item::Long { id, value } => {
                let entry = table
                    .iter()
                    .find(|o| o.id == *id)
                    .expect("id from the table");
                assert_eq!(
                    value.is_some(),
                    entry.has_arg == HasArg::Required,
                    "{item:?}"
                );
            }
            Item::Short(byte) => assert_eq!(*byte, b'V'),
        }
    }
    let mut remaining = args[1..].iter();
    for positional in &parsed.positionals {
        assert!(
            remaining.any(|a| a == positional),
            "positional {positional:?} out of order or invented"
        );
    }
}
