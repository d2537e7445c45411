//! A pure, exact emulation of glibc's `getopt_long` for the option shapes
//! that `xfs_healer` and `xfs_healer_start` use.
//!
//! Why not an off-the-shelf parser: the programs we replace are called by
//! systemd units, udev rules and test harnesses that were written against
//! the C programs, so a drop-in replacement must accept exactly the same
//! command lines (unique prefixes such as `--rep`, options after the mount
//! point, `-VV`, `--`, `POSIXLY_CORRECT`) and print exactly the same
//! diagnostics. General-purpose parsers differ in small ways (prefix
//! matching, messages, what `-` means), and each difference is a
//! compatibility bug.
//!
//! What this module owns: turning an argument vector into a sequence of
//! recognised options, error diagnostics and positional arguments, in the
//! order glibc's `getopt_long` would report them when called in a loop until
//! it returns -1, followed by `argv[optind..]`.
//!
//! What it must not do: any I/O. It does not read the environment (the
//! caller passes whether `POSIXLY_CORRECT` is set), it does not print (the
//! caller decides which diagnostic to show and where), and it never panics.
//! Arguments are [`OsString`]s and are handled as bytes, as glibc does, so
//! non-UTF-8 arguments and program names survive unchanged.
//!
//! Supported shapes (everything the two programs need, nothing more):
//!
//! * long options with no argument or with a required argument
//!   (`--mountns PATH` and `--mountns=PATH`);
//! * short options without arguments, possibly clustered (`-VV`);
//! * glibc's default argument permutation, or, with `POSIXLY_CORRECT`,
//!   stopping at the first non-option;
//! * diagnostics in the C locale (glibc would translate them under another
//!   `LC_MESSAGES`).
//!
//! Not supported: optional arguments, short options with arguments, the
//! `+`/`-`/`:` prefixes of an optstring, `-W foo`, `getopt_long_only`.

#![forbid(unsafe_code)]

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Whether a long option takes an argument (glibc's `has_arg`).
///
/// Only the two kinds the emulated programs use exist; glibc's
/// `optional_argument` is deliberately absent so that no caller relies on
/// an unemulated behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HasArg {
    /// `no_argument`: `--name=value` is an error.
    No,
    /// `required_argument`: the value is the text after `=`, or else the
    /// next argument, whatever it looks like (even `--debug` or `--`).
    Required,
}

/// One entry of a long-option table (glibc's `struct option`).
///
/// `id` plays the role of glibc's `flag`/`val` pair: it is what the caller
/// gets back for a match, and it also decides ambiguity the way glibc does.
/// A prefix that matches several entries is ambiguous only if some later
/// entry differs from the first match in `has_arg` or `id`; entries with
/// the same `id` and `has_arg` are aliases and the first one wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongOpt<'a, T> {
    /// Option name without the leading `--`.
    pub name: &'a str,
    /// Whether the option takes an argument.
    pub has_arg: HasArg,
    /// What [`Item::Long`] reports when this entry matches.
    pub id: T,
}

/// One result of a `getopt_long` call, in the order glibc returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item<T> {
    /// A long option matched, exactly or by unique prefix. `value` is
    /// `Some` exactly when the entry has [`HasArg::Required`].
    Long {
        /// The matching entry's [`LongOpt::id`].
        id: T,
        /// The option's argument, byte for byte.
        value: Option<OsString>,
    },
    /// A short option byte listed in the optstring. glibc works on bytes,
    /// not characters, hence `u8`.
    Short(u8),
    /// glibc returned `'?'`. The payload is the exact line glibc writes to
    /// stderr for it, without the trailing newline; it starts with
    /// `argv[0]` as passed in. glibc keeps parsing after an error, and so
    /// does [`parse`]: callers that stop at the first error (as both
    /// emulated programs do) simply ignore the rest.
    Error(OsString),
}

/// Everything one `getopt_long` loop yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// Options and errors, in the order glibc reports them.
    pub items: Vec<Item<T>>,
    /// What glibc leaves in `argv[optind..]` once it returns -1: the
    /// non-options in their original order, then everything after `--`.
    /// With `posixly_correct`, everything from the first non-option on.
    pub positionals: Vec<OsString>,
}

/// Runs glibc's `getopt_long(argc, argv, shortopts, longopts, NULL)` in a
/// loop over `args` (which includes `argv[0]`) and returns what it yields.
///
/// `shortopts` lists flag options only, one byte each; as in glibc, `:` and
/// `;` never name an option, and getopt's optstring syntax (`x:`, leading
/// `+`, `-` or `:`) is not interpreted. `posixly_correct` stands for
/// "`POSIXLY_CORRECT` is present in the environment" (any value, even
/// empty): glibc then stops at the first non-option instead of permuting.
///
/// Arguments containing NUL bytes cannot come from a real `argv`; they are
/// treated as ordinary bytes rather than truncated as C would.
pub fn parse<T: Copy + PartialEq>(
    args: &[OsString],
    shortopts: &str,
    longopts: &[LongOpt<'_, T>],
    posixly_correct: bool,
) -> Parsed<T> {
    let mut parsed = Parsed {
        items: Vec::new(),
        positionals: Vec::new(),
    };
    // glibc returns -1 straight away when argc < 1; argv[0] is only ever
    // used as the prefix of diagnostics.
    let Some((argv0, rest)) = args.split_first() else {
        return parsed;
    };
    let argv0 = argv0.as_bytes();

    let mut index = 0;
    while let Some(arg) = rest.get(index) {
        let bytes = arg.as_bytes();
        index += 1;
        if bytes == b"--" {
            // glibc moves the earlier non-options in front of "--" and
            // then treats everything after it as non-options, so they keep
            // their relative order.
            parsed.positionals.extend_from_slice(&rest[index..]);
            break;
        }
        // A non-option is anything not starting with '-', and a lone "-"
        // (conventionally stdin, so glibc never takes it for an option).
        let body = match bytes.strip_prefix(b"-") {
            Some(body) if !body.is_empty() => body,
            _ if posixly_correct => {
                parsed.positionals.extend_from_slice(&rest[index - 1..]);
                break;
            }
            _ => {
                parsed.positionals.push(arg.clone());
                continue;
            }
        };
        if let Some(long) = body.strip_prefix(b"-") {
            let next = rest.get(index);
            let (item, took_next) = parse_long(argv0, long, next, longopts);
            if took_next {
                index += 1;
            }
            parsed.items.push(item);
        } else {
            for &byte in body {
                parsed.items.push(parse_short(argv0, byte, shortopts));
            }
        }
    }
    parsed
}

/// glibc's `process_long_option` for `--<long>`; `next` is the argument
/// after it, which a required argument may consume (the returned flag says
/// whether it did).
fn parse_long<T: Copy + PartialEq>(
    argv0: &[u8],
    long: &[u8],
    next: Option<&OsString>,
    longopts: &[LongOpt<'_, T>],
) -> (Item<T>, bool) {
    let (name, inline_value) = match long.iter().position(|&b| b == b'=') {
        Some(eq) => (&long[..eq], Some(&long[eq + 1..])),
        None => (long, None),
    };

    let found = match longopts.iter().find(|opt| opt.name.as_bytes() == name) {
        Some(exact) => exact,
        None => match find_abbreviation(name, longopts) {
            Abbreviation::Unique(opt) => opt,
            Abbreviation::None => {
                // glibc quotes the whole argument, "=value" included.
                let line = diagnostic(argv0, &[b"unrecognized option '--", long, b"'"]);
                return (Item::Error(line), false);
            }
            Abbreviation::Ambiguous(candidates) => {
                let mut parts: Vec<&[u8]> =
                    vec![b"option '--", long, b"' is ambiguous; possibilities:"];
                for opt in candidates {
                    parts.extend_from_slice(&[b" '--", opt.name.as_bytes(), b"'"]);
                }
                return (Item::Error(diagnostic(argv0, &parts)), false);
            }
        },
    };

    // From here on glibc names the option by its table name, not by the
    // abbreviation the user typed.
    let full = found.name.as_bytes();
    match (found.has_arg, inline_value) {
        (HasArg::No, None) => (
            Item::Long {
                id: found.id,
                value: None,
            },
            false,
        ),
        (HasArg::No, Some(_)) => {
            let line = diagnostic(
                argv0,
                &[b"option '--", full, b"' doesn't allow an argument"],
            );
            (Item::Error(line), false)
        }
        (HasArg::Required, Some(value)) => (
            Item::Long {
                id: found.id,
                value: Some(OsString::from_vec(value.to_vec())),
            },
            false,
        ),
        (HasArg::Required, None) => match next {
            Some(value) => (
                Item::Long {
                    id: found.id,
                    value: Some(value.clone()),
                },
                true,
            ),
            None => {
                let line = diagnostic(argv0, &[b"option '--", full, b"' requires an argument"]);
                (Item::Error(line), false)
            }
        },
    }
}

/// Outcome of looking up a name that matched no entry exactly.
enum Abbreviation<'t, 'a, T> {
    /// No entry starts with the name.
    None,
    /// Exactly one option (possibly with aliases) starts with the name.
    Unique(&'t LongOpt<'a, T>),
    /// The entries glibc lists as "possibilities", in table order.
    Ambiguous(Vec<&'t LongOpt<'a, T>>),
}

/// glibc's prefix search: the first entry that starts with `name` is the
/// candidate, and every later one that is not an alias of it (same
/// `has_arg` and `id`) makes the name ambiguous. glibc lists the first
/// candidate plus those non-aliases, so aliases of the first are left out
/// of the message while aliases among the others are not.
fn find_abbreviation<'t, 'a, T: PartialEq>(
    name: &[u8],
    longopts: &'t [LongOpt<'a, T>],
) -> Abbreviation<'t, 'a, T> {
    let mut matches = longopts
        .iter()
        .filter(|opt| opt.name.as_bytes().starts_with(name));
    let Some(first) = matches.next() else {
        return Abbreviation::None;
    };
    let mut ambiguous = vec![first];
    ambiguous.extend(matches.filter(|opt| opt.has_arg != first.has_arg || opt.id != first.id));
    if ambiguous.len() == 1 {
        Abbreviation::Unique(first)
    } else {
        Abbreviation::Ambiguous(ambiguous)
    }
}

/// One byte of a short-option cluster; an unknown byte is reported and the
/// rest of the cluster is still examined, as glibc does.
fn parse_short<T>(argv0: &[u8], byte: u8, shortopts: &str) -> Item<T> {
    if byte != b':' && byte != b';' && shortopts.as_bytes().contains(&byte) {
        Item::Short(byte)
    } else {
        Item::Error(diagnostic(argv0, &[b"invalid option -- '", &[byte], b"'"]))
    }
}

/// Builds `<argv0>: <parts...>` as bytes, the shape of every glibc getopt
/// message.
fn diagnostic(argv0: &[u8], parts: &[&[u8]]) -> OsString {
    let mut line = argv0.to_vec();
    line.extend_from_slice(b": ");
    for part in parts {
        line.extend_from_slice(part);
    }
    OsString::from_vec(line)
}

#[cfg(test)]
mod tests {
    //! Expected transcripts are in `testdata/glibc-transcripts.txt`:
    //! printed by `testdata/glibc_probe.c`, which calls glibc's
    //! `getopt_long` in a loop with the table below, run against the glibc
    //! of Debian sid (the one the xfsprogs 7.2.0 reference binaries use),
    //! with stderr merged into stdout; `cargo xtask getopt-transcripts`
    //! regenerates them. Transcript lines: the diagnostic glibc printed
    //! followed by `E` for each `'?'`, `L<id>` or `L<id>=<value>` for a long
    //! option, `S<byte>` for a short option, then `P<arg>` for each of
    //! `argv[optind..]`.

    use super::*;

    /// Exercises exact-versus-prefix (`rep`/`repair`), a required
    /// argument, and glibc's alias rule (`alias`/`aliaz` share id and
    /// `has_arg`; `alpha` shares the id but takes an argument).
    const TABLE: &[LongOpt<'static, u32>] = &[
        LongOpt {
            name: "rep",
            has_arg: HasArg::No,
            id: 0,
        },
        LongOpt {
            name: "repair",
            has_arg: HasArg::No,
            id: 1,
        },
        LongOpt {
            name: "mountns",
            has_arg: HasArg::Required,
            id: 2,
        },
        LongOpt {
            name: "alias",
            has_arg: HasArg::No,
            id: 7,
        },
        LongOpt {
            name: "aliaz",
            has_arg: HasArg::No,
            id: 7,
        },
        LongOpt {
            name: "alpha",
            has_arg: HasArg::Required,
            id: 7,
        },
    ];

    fn args(argv: &[&[u8]]) -> Vec<OsString> {
        std::iter::once(&b"prog"[..])
            .chain(argv.iter().copied())
            .map(|arg| OsString::from_vec(arg.to_vec()))
            .collect()
    }

    /// Renders a [`Parsed`] in the probe's transcript format.
    fn transcript(parsed: &Parsed<u32>) -> Vec<u8> {
        let mut out = Vec::new();
        for item in &parsed.items {
            match item {
                Item::Error(line) => {
                    out.extend_from_slice(line.as_bytes());
                    out.extend_from_slice(b"\nE\n");
                }
                Item::Long { id, value } => {
                    out.extend_from_slice(format!("L{id}").as_bytes());
                    if let Some(value) = value {
                        out.push(b'=');
                        out.extend_from_slice(value.as_bytes());
                    }
                    out.push(b'\n');
                }
                Item::Short(byte) => out.extend_from_slice(&[b'S', *byte, b'\n']),
            }
        }
        for positional in &parsed.positionals {
            out.push(b'P');
            out.extend_from_slice(positional.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// Undoes glibc-transcripts.txt's `\xNN` and `\\` escapes.
    fn unescape(text: &str) -> Vec<u8> {
        let mut out = Vec::new();
        let mut bytes = text.bytes();
        while let Some(b) = bytes.next() {
            if b != b'\\' {
                out.push(b);
                continue;
            }
            match bytes.next() {
                Some(b'\\') => out.push(b'\\'),
                Some(b'x') => {
                    let hex: Vec<u8> = bytes.by_ref().take(2).collect();
                    let byte = std::str::from_utf8(&hex)
                        .ok()
                        .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                    out.push(byte.unwrap_or_else(|| panic!("bad \\x escape in {text:?}")));
                }
                other => panic!("bad escape {other:?} in {text:?}"),
            }
        }
        out
    }

    const TRANSCRIPTS: &str = include_str!("../testdata/glibc-transcripts.txt");

    #[test]
    fn matches_glibc_transcripts() {
        let mut cases = 0;
        for block in TRANSCRIPTS
            .split("\n\n")
            .filter(|b| b.starts_with("case: "))
        {
            let field = |key: &'static str| block.lines().filter_map(move |l| l.strip_prefix(key));
            let what = field("case: ").next().expect("case: line");
            let posixly_correct = match field("posixly-correct: ").next() {
                Some("yes") => true,
                Some("no") => false,
                other => panic!("{what}: posixly-correct {other:?}"),
            };
            let shortopts = String::from_utf8(unescape(
                field("shortopts: ").next().expect("shortopts: line"),
            ))
            .expect("ASCII short options");
            let argv: Vec<Vec<u8>> = field("arg:")
                .map(|a| unescape(a.strip_prefix(' ').unwrap_or(a)))
                .collect();
            let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
            let expected: Vec<u8> = field("> ")
                .flat_map(|line| unescape(line).into_iter().chain([b'\n']))
                .collect();
            let parsed = parse(&args(&argv), &shortopts, TABLE, posixly_correct);
            assert_eq!(
                transcript(&parsed).escape_ascii().to_string(),
                expected.escape_ascii().to_string(),
                "{what}"
            );
            cases += 1;
        }
        assert!(cases >= 21, "{cases} cases in glibc-transcripts.txt");
    }

    #[test]
    fn empty_argv_yields_nothing() {
        // glibc returns -1 at once when argc < 1.
        let parsed = parse::<u32>(&[], "V", TABLE, false);
        assert!(parsed.items.is_empty() && parsed.positionals.is_empty());
        let parsed = parse(&args(&[]), "V", TABLE, false);
        assert!(parsed.items.is_empty() && parsed.positionals.is_empty());
    }

    #[test]
    fn diagnostics_start_with_argv0_as_given() {
        let argv = [
            OsString::from_vec(b"/x/p\xe9".to_vec()),
            OsString::from("-x"),
        ];
        let parsed = parse(&argv, "V", TABLE, false);
        assert_eq!(
            parsed.items,
            [Item::Error(OsString::from_vec(
                b"/x/p\xe9: invalid option -- 'x'".to_vec()
            ))]
        );
    }

    /// No argument vector makes the parser panic: every combination of up
    /// to three awkward tokens, with both orderings and a few tables.
    #[test]
    fn never_panics() {
        let tokens: &[&[u8]] = &[
            b"",
            b"-",
            b"--",
            b"---",
            b"-V",
            b"-x",
            b"-:",
            b"--=",
            b"--=x",
            b"=",
            b"--rep",
            b"--re",
            b"--re=",
            b"--mountns",
            b"--mountns=",
            b"--a",
            b"\xff",
            b"-\xff",
            b"--\xff=\xfe",
            b"a",
        ];
        let tables: [&[LongOpt<'static, u32>]; 3] = [TABLE, &TABLE[..1], &[]];
        let mut argv = Vec::new();
        for &a in tokens {
            for &b in tokens {
                for &c in tokens {
                    for table in tables {
                        for posixly_correct in [false, true] {
                            argv.clear();
                            argv.extend(args(&[a, b, c]));
                            let parsed = parse(&argv, "V", table, posixly_correct);
                            // Each token here is at most one option or
                            // one positional, and none is duplicated.
                            assert!(parsed.items.len() + parsed.positionals.len() <= 3);
                        }
                    }
                }
            }
        }
    }
}
