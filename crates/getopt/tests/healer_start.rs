//! `xfs_healer_start`'s option table, checked against the reference
//! program.
//!
//! Every expectation below was observed by running the xfsprogs 7.2.0
//! `xfs_healer_start` binary from Debian sid (through sid's dynamic loader,
//! so argv[0] was the path below). That program calls `getopt_long` with
//! short options `"V"` and this long table, prints version and exits on the
//! first `-V`, prints usage and exits 1 on `--help` or on the first `'?'`
//! (after glibc's diagnostic), and ignores positional arguments. The
//! replacement launcher will consume [`xfs_getopt::parse`] the same way, so
//! what matters here is the first decisive item and the text of its
//! diagnostic.

use std::ffi::OsString;

use xfs_getopt::{HasArg, Item, LongOpt, parse};

/// argv[0] as the reference saw it when run through the loader.
const ARGV0: &str = "/tmp/sidroot/usr/libexec/xfsprogs/xfs_healer_start";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    Debug,
    Help,
    Mountns,
    Supported,
}

/// Table order as glibc lists it in the reference's "ambiguous" message.
const LONG: &[LongOpt<'static, Opt>] = &[
    LongOpt {
        name: "debug",
        has_arg: HasArg::No,
        id: Opt::Debug,
    },
    LongOpt {
        name: "help",
        has_arg: HasArg::No,
        id: Opt::Help,
    },
    LongOpt {
        name: "mountns",
        has_arg: HasArg::Required,
        id: Opt::Mountns,
    },
    LongOpt {
        name: "supported",
        has_arg: HasArg::No,
        id: Opt::Supported,
    },
];

/// What the reference does with the first item that ends option
/// processing, or with the whole command line when nothing does.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// stdout `xfs_healer_start version 7.2.0`, exit 0.
    Version,
    /// stderr: the diagnostic (if any), then usage; exit 1.
    Usage(Option<String>),
    /// Goes on to run with these settings.
    Run {
        debug: bool,
        mountns: Option<String>,
        supported: bool,
    },
}

fn outcome(argv: &[&str]) -> Outcome {
    let args: Vec<OsString> = std::iter::once(ARGV0)
        .chain(argv.iter().copied())
        .map(OsString::from)
        .collect();
    let (mut debug, mut mountns, mut supported) = (false, None, false);
    for item in parse(&args, "V", LONG, false).items {
        match item {
            Item::Short(_) => return Outcome::Version,
            Item::Error(line) => return Outcome::Usage(Some(line.to_string_lossy().into_owned())),
            Item::Long { id: Opt::Help, .. } => return Outcome::Usage(None),
            Item::Long { id: Opt::Debug, .. } => debug = true,
            Item::Long {
                id: Opt::Supported, ..
            } => supported = true,
            Item::Long {
                id: Opt::Mountns,
                value,
            } => mountns = value.map(|v| v.to_string_lossy().into_owned()),
        }
    }
    Outcome::Run {
        debug,
        mountns,
        supported,
    }
}

fn usage_after(diagnostic: &str) -> Outcome {
    Outcome::Usage(Some(format!("{ARGV0}: {diagnostic}")))
}

fn run(debug: bool, mountns: Option<&str>, supported: bool) -> Outcome {
    Outcome::Run {
        debug,
        mountns: mountns.map(String::from),
        supported,
    }
}

#[test]
fn matches_reference_xfs_healer_start() {
    let cases: &[(&[&str], Outcome)] = &[
        (&["--bogus"], usage_after("unrecognized option '--bogus'")),
        (&["-x"], usage_after("invalid option -- 'x'")),
        (
            &["--mountns"],
            usage_after("option '--mountns' requires an argument"),
        ),
        (
            &["--debug=1"],
            usage_after("option '--debug' doesn't allow an argument"),
        ),
        // Abbreviations are reported under the full name.
        (
            &["--d=1"],
            usage_after("option '--debug' doesn't allow an argument"),
        ),
        (
            &["--he=1"],
            usage_after("option '--help' doesn't allow an argument"),
        ),
        (
            &["--=x"],
            usage_after(
                "option '--=x' is ambiguous; possibilities: \
                 '--debug' '--help' '--mountns' '--supported'",
            ),
        ),
        // Only the first error is shown: the program exits on it.
        (
            &["--bogus", "-x"],
            usage_after("unrecognized option '--bogus'"),
        ),
        (&["--help"], Outcome::Usage(None)),
        (&["--h"], Outcome::Usage(None)),
        (&["-V"], Outcome::Version),
        (&["-VV"], Outcome::Version),
        (&["-V", "foo"], Outcome::Version),
        // -V exits before the later option is even looked at.
        (&["-V", "--bogus"], Outcome::Version),
        (&["-V", "--mountns"], Outcome::Version),
        // Reference: "--s" and "--su" exit 0 (the --supported path); there
        // is no --svcname here, so "--s" is not ambiguous.
        (&["--s"], run(false, None, true)),
        (&["--su"], run(false, None, true)),
        // Reference: each of these printed "/nonexist: No such file or
        // directory", i.e. it opened the given namespace file.
        (
            &["--mountns", "/nonexist"],
            run(false, Some("/nonexist"), false),
        ),
        (
            &["--mountns=/nonexist"],
            run(false, Some("/nonexist"), false),
        ),
        (&["--m", "/nonexist"], run(false, Some("/nonexist"), false)),
        (&["--mount=/nonexist"], run(false, Some("/nonexist"), false)),
        // Reference: "/nonexist: No such file or directory" for both, so
        // options after a positional are still seen.
        (
            &["--debug", "--mountns", "/nonexist"],
            run(true, Some("/nonexist"), false),
        ),
        (
            &["x", "--mountns", "/nonexist", "--deb"],
            run(true, Some("/nonexist"), false),
        ),
        // Reference: "No such file or directory" (perror of the empty path).
        (&["--mountns="], run(false, Some(""), false)),
        // Reference: "--debug: No such file or directory" and
        // "-V: No such file or directory": the required argument swallows
        // the next word whatever it looks like.
        (
            &["--mountns", "--debug"],
            run(false, Some("--debug"), false),
        ),
        (&["--mountns", "-V"], run(false, Some("-V"), false)),
        // Reference: ran (positional arguments are ignored).
        (&["foo"], run(false, None, false)),
    ];
    for (argv, expected) in cases {
        assert_eq!(&outcome(argv), expected, "argv {argv:?}");
    }
}
