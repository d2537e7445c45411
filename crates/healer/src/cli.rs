//! `xfs_healer`'s command line: which options exist, how they combine, and
//! what the program must print before it touches any filesystem.
//!
//! The daemon is started by `xfs_healer@.service` (`--supported` as
//! `ExecCondition`, then the real run), by `xfs_scrub`-era scripts and by
//! the xfstests helpers, all written against the C program. To be a drop-in
//! replacement this module reproduces xfsprogs 7.2.0 exactly: glibc
//! `getopt_long` parsing (via `xfs_getopt`), the order in which `-V`, the
//! argument count and `--svcname` are decided, and the usage and version
//! text byte for byte.
//!
//! This module is pure: it reads neither the process arguments nor the
//! environment (main passes both in) and prints nothing; it returns a
//! [`Command`] carrying the exact bytes to print where printing is all
//! that is left to do.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use xfs_getopt::{HasArg, Item, LongOpt};

/// Version the `-V` line reports: the xfsprogs release whose behaviour we
/// reproduce, so scripts that check it keep working.
const VERSION: &str = "7.2.0";

/// The reference's only short option.
const SHORT_OPTIONS: &str = "V";

/// The reference's long options. Each one is a separate entry so that the
/// ambiguity rule of glibc sees distinct options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    /// The reference sets `ctx.debug`, which nothing reads; ours prints
    /// repair latencies at exit ([`Options::debug`]).
    Debug,
    Everything,
    /// Accepted for compatibility and ignored. The reference starts one
    /// event thread per CPU with it (`healer_nproc` in xfsprogs'
    /// `xfs_healer.c`); ours has one repair worker either way.
    Foreground,
    Help,
    NoAutofsck,
    Quiet,
    Repair,
    Supported,
    SvcName,
}

/// A long option that takes no argument (all of the healer's do).
const fn flag(name: &'static str, id: Opt) -> LongOpt<'static, Opt> {
    LongOpt {
        name,
        has_arg: HasArg::No,
        id,
    }
}

/// In the reference's table order, which is the order glibc lists
/// candidates in its "is ambiguous; possibilities:" message.
const LONG_OPTIONS: &[LongOpt<'static, Opt>] = &[
    flag("debug", Opt::Debug),
    flag("everything", Opt::Everything),
    flag("foreground", Opt::Foreground),
    flag("help", Opt::Help),
    flag("no-autofsck", Opt::NoAutofsck),
    flag("quiet", Opt::Quiet),
    flag("repair", Opt::Repair),
    flag("supported", Opt::Supported),
    flag("svcname", Opt::SvcName),
];

/// Settings for a monitoring run (`Command::Run`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The mount point exactly as given (non-UTF-8 preserved); every
    /// message about the filesystem is prefixed with it.
    pub mount: OsString,
    /// `--everything`: ask the kernel for verbose reports
    /// (`XFS_HEALTH_MONITOR_VERBOSE`), and do not start a full scan on LOST.
    pub everything: bool,
    /// Whether to consult the `autofsck` filesystem property to choose the
    /// mode. Off with `--no-autofsck`, and also with `--repair`, which the
    /// reference treats as an explicit mode choice.
    pub autofsck: bool,
    /// `--quiet`: do not print actionable events.
    pub quiet: bool,
    /// `--repair`: repair every sick report.
    pub repair: bool,
    /// `--supported`: run the start-up checks only, then exit with the
    /// `ExecCondition` code (0 / 1 / 255) and no 2-second sleep.
    pub supported: bool,
    /// `--debug` (a no-op in the reference): at exit, print how long
    /// repairs waited from the read that brought their report to their
    /// scrub ioctl (p50/p99/max).
    pub debug: bool,
}

/// What the command line asks for, after the reference's precedence:
/// option errors and `--help` first (the reference exits inside its
/// option loop), then `-V`, then the positional count, then `--svcname`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `-V`: write `stdout` to standard output and exit 0.
    Version {
        /// `<progname> version 7.2.0\n`.
        stdout: Vec<u8>,
    },
    /// Bad option, `--help`, or not exactly one mount point: write `stderr`
    /// to standard error and exit 1, at once (no sleep).
    Usage {
        /// glibc's diagnostic line, if an option was bad, then the usage
        /// text.
        stderr: Vec<u8>,
    },
    /// `--svcname`: print the systemd unit name for `mount` and exit,
    /// without touching the filesystem (the reference: the name and exit 0,
    /// or `<mnt>: <strerror>` on stderr and exit 1).
    SvcName {
        /// The mount point exactly as given.
        mount: OsString,
    },
    /// Monitor the filesystem mounted at `Options::mount`.
    Run(Options),
}

/// Decides what `xfs_healer` does with `args` (the full argument vector,
/// `argv[0]` included, as `std::env::args_os` yields it).
///
/// `posixly_correct` must be whether `POSIXLY_CORRECT` is present in the
/// environment at all (`std::env::var_os("POSIXLY_CORRECT").is_some()`):
/// glibc then stops option parsing at the first non-option, so
/// `xfs_healer /mnt --repair` becomes two positionals and a usage error.
pub fn parse_args(args: &[OsString], posixly_correct: bool) -> Command {
    let (argv0, progname) = split_argv0(args.first().map_or(&[][..], |arg| arg.as_bytes()));
    // getopt's diagnostics print argv[0] after the reference's basename()
    // has trimmed it in place, so parse with the trimmed one.
    let mut argv = Vec::with_capacity(args.len());
    if let Some((_, rest)) = args.split_first() {
        argv.push(OsString::from_vec(argv0));
        argv.extend_from_slice(rest);
    }
    let parsed = xfs_getopt::parse(&argv, SHORT_OPTIONS, LONG_OPTIONS, posixly_correct);

    let mut version = false;
    let mut svcname = false;
    let mut no_autofsck = false;
    let mut everything = false;
    let mut quiet = false;
    let mut repair = false;
    let mut supported = false;
    let mut debug = false;
    for item in parsed.items {
        match item {
            // The reference calls usage() as soon as getopt reports a
            // problem, so only the first diagnostic is ever printed.
            Item::Error(line) => {
                let mut stderr = line.into_vec();
                stderr.push(b'\n');
                stderr.extend_from_slice(&usage_text(&progname));
                return Command::Usage { stderr };
            }
            Item::Long { id: Opt::Help, .. } => {
                return Command::Usage {
                    stderr: usage_text(&progname),
                };
            }
            // "V" is the only short option, so nothing else reaches here.
            Item::Short(_) => version = true,
            Item::Long { id, .. } => match id {
                Opt::Help => {}
                Opt::Debug => debug = true,
                Opt::Everything => everything = true,
                Opt::Foreground => {}
                Opt::NoAutofsck => no_autofsck = true,
                Opt::Quiet => quiet = true,
                Opt::Repair => repair = true,
                Opt::Supported => supported = true,
                Opt::SvcName => svcname = true,
            },
        }
    }

    if version {
        return Command::Version {
            stdout: version_text(&progname),
        };
    }
    let mut positionals = parsed.positionals;
    let mount = match positionals.pop() {
        Some(mount) if positionals.is_empty() => mount,
        _ => {
            return Command::Usage {
                stderr: usage_text(&progname),
            };
        }
    };
    if svcname {
        return Command::SvcName { mount };
    }
    Command::Run(Options {
        mount,
        everything,
        autofsck: !no_autofsck && !repair,
        quiet,
        repair,
        supported,
        debug,
    })
}

/// The reference's usage text, byte for byte; `progname` is the basename
/// of `argv[0]` (see [`parse_args`]). `--help` prints exactly this.
pub fn usage_text(progname: &OsStr) -> Vec<u8> {
    let mut text = b"Usage: ".to_vec();
    text.extend_from_slice(progname.as_bytes());
    text.extend_from_slice(USAGE_AFTER_PROGNAME.as_bytes());
    text
}

/// Everything in the usage text after the program name. As in the
/// reference, the hidden `--svcname` and `--help` are not listed.
const USAGE_AFTER_PROGNAME: &str = concat!(
    " [OPTIONS] mountpoint\n",
    "\n",
    "Options:\n",
    "  --debug       Enable debugging messages.\n",
    "  --everything  Capture all events.\n",
    "  --foreground  Process events as soon as possible.\n",
    "  --no-autofsck Do not use the \"autofsck\" fs property to decide to repair.\n",
    "  --quiet       Do not log health events to stdout.\n",
    "  --repair      Repair corrupt metadata found at runtime.\n",
    "  --supported   Check that health monitoring is supported.\n",
    "  -V            Print version.\n",
);

/// The `-V` line. The reference prints its basename, not a fixed name.
fn version_text(progname: &OsStr) -> Vec<u8> {
    let mut text = progname.as_bytes().to_vec();
    text.extend_from_slice(b" version ");
    text.extend_from_slice(VERSION.as_bytes());
    text.push(b'\n');
    text
}

/// Emulates the reference's `progname = basename(argv[0])` with glibc's
/// POSIX `basename`, which also rewrites `argv[0]`: trailing slashes are
/// cut off in place unless the name is nothing but slashes. Returns
/// (`argv[0]` as getopt then sees it, progname). An empty `argv[0]` gives
/// progname `"."`; a name of only slashes gives `"/"`.
fn split_argv0(argv0: &[u8]) -> (Vec<u8>, OsString) {
    let trimmed_len = argv0
        .iter()
        .rposition(|&b| b != b'/')
        .map_or(0, |last| last + 1);
    let progname: &[u8] = if argv0.is_empty() {
        b"."
    } else if trimmed_len == 0 {
        b"/"
    } else {
        let trimmed = &argv0[..trimmed_len];
        trimmed
            .iter()
            .rposition(|&b| b == b'/')
            .map_or(trimmed, |slash| &trimmed[slash + 1..])
    };
    let seen_by_getopt = if trimmed_len == 0 {
        argv0
    } else {
        &argv0[..trimmed_len]
    };
    (
        seen_by_getopt.to_vec(),
        OsString::from_vec(progname.to_vec()),
    )
}

#[cfg(test)]
mod tests {
    //! Expected output was taken from xfsprogs 7.2.0: the Debian sid
    //! `xfs_healer` binary run through sid's dynamic loader, so that
    //! `argv[0]` was [`ARGV0`] (or the `--argv0` value given to the loader).
    //! Where the reference went on to run, it printed
    //! `<mnt>: No such file or directory` for the nonexistent mount point;
    //! with `--supported` it then exited 255 at once instead of 1 after two
    //! seconds, which is how the `supported` flag was observed. The other
    //! flags act only on a real XFS mount; their values follow `main` in
    //! xfsprogs' `xfs_healer.c`.

    use super::*;

    const ARGV0: &str = "/tmp/sidroot/usr/libexec/xfsprogs/xfs_healer";

    /// The reference's `--help` output (stderr).
    const REFERENCE_USAGE: &str = r#"Usage: xfs_healer [OPTIONS] mountpoint

Options:
  --debug       Enable debugging messages.
  --everything  Capture all events.
  --foreground  Process events as soon as possible.
  --no-autofsck Do not use the "autofsck" fs property to decide to repair.
  --quiet       Do not log health events to stdout.
  --repair      Repair corrupt metadata found at runtime.
  --supported   Check that health monitoring is supported.
  -V            Print version.
"#;

    fn bytes_args(argv0: &[u8], argv: &[&[u8]]) -> Vec<OsString> {
        std::iter::once(argv0)
            .chain(argv.iter().copied())
            .map(|arg| OsString::from_vec(arg.to_vec()))
            .collect()
    }

    fn usage() -> Command {
        Command::Usage {
            stderr: REFERENCE_USAGE.as_bytes().to_vec(),
        }
    }

    /// glibc's diagnostic for [`ARGV0`], then the usage text.
    fn usage_after(diagnostic: &[u8]) -> Command {
        let mut stderr = format!("{ARGV0}: ").into_bytes();
        stderr.extend_from_slice(diagnostic);
        stderr.push(b'\n');
        stderr.extend_from_slice(REFERENCE_USAGE.as_bytes());
        Command::Usage { stderr }
    }

    fn version() -> Command {
        Command::Version {
            stdout: b"xfs_healer version 7.2.0\n".to_vec(),
        }
    }

    fn svcname(mount: &str) -> Command {
        Command::SvcName {
            mount: mount.into(),
        }
    }

    /// A run with default settings, adjusted by `tweak`.
    fn run(mount: &str, tweak: fn(&mut Options)) -> Command {
        let mut options = Options {
            mount: mount.into(),
            everything: false,
            autofsck: true,
            quiet: false,
            repair: false,
            supported: false,
            debug: false,
        };
        tweak(&mut options);
        Command::Run(options)
    }

    fn plain(_: &mut Options) {}

    fn supported(options: &mut Options) {
        options.supported = true;
    }

    fn debug(options: &mut Options) {
        options.debug = true;
    }

    fn repair(options: &mut Options) {
        options.repair = true;
        options.autofsck = false;
    }

    fn check(posixly_correct: bool, cases: &[(&[&[u8]], Command)]) {
        for (argv, expected) in cases {
            let got = parse_args(&bytes_args(ARGV0.as_bytes(), argv), posixly_correct);
            assert_eq!(
                &got,
                expected,
                "argv {:?}, POSIXLY_CORRECT {posixly_correct}",
                argv.iter()
                    .map(|a| a.escape_ascii().to_string())
                    .collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn usage_text_matches_reference() {
        assert_eq!(
            usage_text(OsStr::new("xfs_healer")),
            REFERENCE_USAGE.as_bytes()
        );
    }

    #[test]
    fn bad_options_print_first_diagnostic_then_usage() {
        check(
            false,
            &[
                (&[b"--bogus"], usage_after(b"unrecognized option '--bogus'")),
                (&[b"-x"], usage_after(b"invalid option -- 'x'")),
                // The reference exits on the first error: one diagnostic.
                (
                    &[b"--bogus", b"-x"],
                    usage_after(b"unrecognized option '--bogus'"),
                ),
                (
                    &[b"--bogus", b"--bad"],
                    usage_after(b"unrecognized option '--bogus'"),
                ),
                (
                    &[b"--bogus=1"],
                    usage_after(b"unrecognized option '--bogus=1'"),
                ),
                (&[b"---foo"], usage_after(b"unrecognized option '---foo'")),
                (
                    &[b"--debug=1"],
                    usage_after(b"option '--debug' doesn't allow an argument"),
                ),
                // Abbreviations are reported under their full name.
                (
                    &[b"--deb=1"],
                    usage_after(b"option '--debug' doesn't allow an argument"),
                ),
                (
                    &[b"--deb="],
                    usage_after(b"option '--debug' doesn't allow an argument"),
                ),
                (
                    &[b"--quiet="],
                    usage_after(b"option '--quiet' doesn't allow an argument"),
                ),
                (
                    &[b"--supported="],
                    usage_after(b"option '--supported' doesn't allow an argument"),
                ),
                (
                    &[b"--s"],
                    usage_after(
                        b"option '--s' is ambiguous; possibilities: '--supported' '--svcname'",
                    ),
                ),
                (
                    &[b"--=foo"],
                    usage_after(
                        b"option '--=foo' is ambiguous; possibilities: '--debug' \
                          '--everything' '--foreground' '--help' '--no-autofsck' \
                          '--quiet' '--repair' '--supported' '--svcname'",
                    ),
                ),
                (&[b"-V=1"], usage_after(b"invalid option -- '='")),
                (&[b"-Vx"], usage_after(b"invalid option -- 'x'")),
                (&[b"-xV"], usage_after(b"invalid option -- 'x'")),
                // -V only sets a flag: a later error still wins.
                (
                    &[b"-V", b"--bogus"],
                    usage_after(b"unrecognized option '--bogus'"),
                ),
                (
                    &[b"--bogus", b"-V"],
                    usage_after(b"unrecognized option '--bogus'"),
                ),
                (
                    &[b"/nonexist", b"--bogus"],
                    usage_after(b"unrecognized option '--bogus'"),
                ),
                (
                    &[b"--bogus", b"--help"],
                    usage_after(b"unrecognized option '--bogus'"),
                ),
                // Raw bytes survive, and only the first byte of a
                // multi-byte character is reported.
                (
                    &[b"--bo\xffgus"],
                    usage_after(b"unrecognized option '--bo\xffgus'"),
                ),
                (&[b"-\xff"], usage_after(b"invalid option -- '\xff'")),
                (&["-é".as_bytes()], usage_after(b"invalid option -- '\xc3'")),
            ],
        );
    }

    #[test]
    fn help_and_argument_count() {
        check(
            false,
            &[
                (&[b"--help"], usage()),
                // --help exits inside the option loop, before -V is looked
                // at and before a later bad option is reached.
                (&[b"--help", b"-V"], usage()),
                (&[b"-V", b"--help"], usage()),
                (&[b"--help", b"--bogus"], usage()),
                (&[b"--svcname", b"--help", b"/a"], usage()),
                // Not exactly one mount point.
                (&[], usage()),
                (&[b"--debug"], usage()),
                (&[b"--"], usage()),
                (&[b"-", b"-"], usage()),
                (&[b"/a", b"--", b"/b"], usage()),
                (&[b"--svcname"], usage()),
                (&[b"--svcname", b"/mnt/a", b"/b"], usage()),
                // Unique abbreviations are accepted (no diagnostic).
                (&[b"--rep"], usage()),
                (&[b"--re"], usage()),
                (&[b"--no"], usage()),
                (&[b"--sup"], usage()),
                (&[b"--svc"], usage()),
                (&[b"--e"], usage()),
            ],
        );
    }

    #[test]
    fn version_beats_argument_count_and_svcname() {
        check(
            false,
            &[
                (&[b"-V"], version()),
                (&[b"-VV"], version()),
                (&[b"-V", b"/a", b"/b"], version()),
                (&[b"-V", b"--", b"/a"], version()),
                (&[b"--svcname", b"-V", b"/a"], version()),
            ],
        );
    }

    #[test]
    fn svcname_after_argument_count() {
        check(
            false,
            &[
                (&[b"--svcname", b"/mnt/a"], svcname("/mnt/a")),
                (&[b"--sv", b"/x/y"], svcname("/x/y")),
                // The reference accepts an empty mount point here.
                (&[b"--svcname", b""], svcname("")),
            ],
        );
    }

    #[test]
    fn runs_with_one_mount_point() {
        check(
            false,
            &[
                (&[b"/nonexist"], run("/nonexist", plain)),
                // Permutation: options may follow the mount point.
                (&[b"/nonexist", b"--repair"], run("/nonexist", repair)),
                (&[b"--", b"/nonexist"], run("/nonexist", plain)),
                (&[b"/nonexist", b"--"], run("/nonexist", plain)),
                (&[b"--", b"--repair"], run("--repair", plain)),
                (&[b"-"], run("-", plain)),
                (&[b"--supported", b"/nonexist"], run("/nonexist", supported)),
                (&[b"--sup", b"/nonexist"], run("/nonexist", supported)),
                (&[b"/nonexist", b"--su"], run("/nonexist", supported)),
                (
                    &[b"--supported", b"--", b"/nonexist"],
                    run("/nonexist", supported),
                ),
                (
                    &[
                        b"--quiet",
                        b"--everything",
                        b"--foreground",
                        b"--no-autofsck",
                        b"--repair",
                        b"--debug",
                        b"/nonexist",
                    ],
                    run("/nonexist", |o| {
                        o.quiet = true;
                        o.everything = true;
                        o.repair = true;
                        o.autofsck = false;
                        o.debug = true;
                    }),
                ),
                (
                    &[
                        b"--q",
                        b"--ev",
                        b"--f",
                        b"--n",
                        b"--r",
                        b"--d",
                        b"/nonexist",
                    ],
                    run("/nonexist", |o| {
                        o.quiet = true;
                        o.everything = true;
                        o.repair = true;
                        o.autofsck = false;
                        o.debug = true;
                    }),
                ),
                // Mode selection (`main` in xfs_healer.c): --repair turns
                // autofsck off; --no-autofsck alone means log only.
                (
                    &[b"--no-autofsck", b"/m"],
                    run("/m", |o| o.autofsck = false),
                ),
                (&[b"--repair", b"--no-autofsck", b"/m"], run("/m", repair)),
                (&[b"--debug", b"/m"], run("/m", debug)),
                (&[b"/m\xff"], {
                    let mut expected = run("", plain);
                    if let Command::Run(options) = &mut expected {
                        options.mount = OsString::from_vec(b"/m\xff".to_vec());
                    }
                    expected
                }),
            ],
        );
    }

    #[test]
    fn posixly_correct_stops_at_first_non_option() {
        check(
            true,
            &[
                (&[b"/nonexist", b"--repair"], usage()),
                (&[b"--repair", b"/nonexist"], run("/nonexist", repair)),
                // The bad option is never parsed: usage without diagnostic.
                (&[b"/nonexist", b"--bogus"], usage()),
                (&[b"--", b"/nonexist"], run("/nonexist", plain)),
                (&[b"/nonexist", b"--"], usage()),
                (&[b"-V", b"/a"], version()),
                (&[b"/a", b"-V"], usage()),
                (&[b"-"], run("-", plain)),
                (&[b"-", b"-V"], usage()),
                (&[b"--svcname", b"/a/b"], svcname("/a/b")),
                (&[b"--svcname", b"/a/b", b"--bogus"], usage()),
                (&[b"-x"], usage_after(b"invalid option -- 'x'")),
                (
                    &[b"--s"],
                    usage_after(
                        b"option '--s' is ambiguous; possibilities: '--supported' '--svcname'",
                    ),
                ),
            ],
        );
    }

    /// The reference runs `basename()` on argv[0] before parsing; glibc's
    /// POSIX basename trims trailing slashes in place, so getopt's
    /// diagnostics show the trimmed name while usage and `-V` show the
    /// basename. Observed with the loader's `--argv0`.
    #[test]
    fn program_name_from_argv0() {
        // (argv[0], diagnostic prefix, progname)
        let cases: &[(&[u8], &[u8], &[u8])] = &[
            (b"", b"", b"."),
            (b"/", b"/", b"/"),
            (b"//", b"//", b"/"),
            (b"///", b"///", b"/"),
            (b"a//", b"a", b"a"),
            (b"a///", b"a", b"a"),
            (b"/a/", b"/a", b"a"),
            (b"a/b//", b"a/b", b"b"),
            (b"//a", b"//a", b"a"),
            (b"xx", b"xx", b"xx"),
            (b"./x", b"./x", b"x"),
            (b"a/./", b"a/.", b"."),
            (b"foo/bar/", b"foo/bar", b"bar"),
        ];
        for &(argv0, prefix, progname) in cases {
            let progname = OsStr::from_bytes(progname);
            let mut stderr = prefix.to_vec();
            stderr.extend_from_slice(b": unrecognized option '--bogus'\n");
            stderr.extend_from_slice(&usage_text(progname));
            assert_eq!(
                parse_args(&bytes_args(argv0, &[b"--bogus"]), false),
                Command::Usage { stderr },
                "argv0 {}",
                argv0.escape_ascii()
            );
            let mut stdout = progname.as_bytes().to_vec();
            stdout.extend_from_slice(b" version 7.2.0\n");
            assert_eq!(
                parse_args(&bytes_args(argv0, &[b"-V"]), false),
                Command::Version { stdout },
                "argv0 {}",
                argv0.escape_ascii()
            );
        }
    }

    /// argc 0 cannot be observed with the reference (Linux turns it into
    /// an empty argv[0], covered above). We answer as for an empty argv[0]
    /// with no mount point, and above all must not panic.
    #[test]
    fn empty_argument_vector() {
        assert_eq!(
            parse_args(&[], false),
            Command::Usage {
                stderr: usage_text(OsStr::new("."))
            }
        );
    }
}
