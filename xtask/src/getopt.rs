//! `cargo xtask getopt-transcripts [--check]`: regenerates what
//! `crates/getopt`'s emulation is tested against.
//!
//! `crates/getopt/testdata/glibc-transcripts.txt` lists cases (short
//! options, `POSIXLY_CORRECT`, arguments) and what glibc's `getopt_long`
//! made of each. This compiles `glibc_probe.c` with the host's C compiler,
//! runs it once per case against Debian sid's glibc (the libc6 unpacked by
//! `fetch`, through its own dynamic loader, so the host's glibc version
//! does not matter), and rewrites the `> ` lines; `--check` fails instead
//! of writing when glibc printed anything else.

use crate::cache::{Cache, repo_root};
use crate::fetch;
use anyhow::{Context, Result, bail};
use std::ffi::OsString;
use std::fs;
use std::os::unix::ffi::OsStringExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const TRANSCRIPTS: &str = "crates/getopt/testdata/glibc-transcripts.txt";
const PROBE: &str = "crates/getopt/testdata/glibc_probe.c";

/// One case's inputs, as the probe is run with them.
#[derive(Debug, PartialEq, Eq)]
struct Case {
    posixly_correct: bool,
    shortopts: Vec<u8>,
    args: Vec<Vec<u8>>,
}

/// `\xNN` for bytes outside printable ASCII, `\\` for a backslash.
fn escape(bytes: &[u8]) -> String {
    let mut out = String::new();
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

fn unescape(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = text.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        rest = tail;
        if b != b'\\' {
            out.push(b);
            continue;
        }
        match rest {
            [b'\\', tail @ ..] => {
                out.push(b'\\');
                rest = tail;
            }
            [b'x', hi, lo, tail @ ..] => {
                let hex = std::str::from_utf8(&[*hi, *lo])?.to_string();
                out.push(u8::from_str_radix(&hex, 16).with_context(|| format!("bad \\x{hex}"))?);
                rest = tail;
            }
            _ => bail!("bad escape in {text:?}"),
        }
    }
    Ok(out)
}

fn parse_case(block: &str) -> Result<Case> {
    let mut case = Case {
        posixly_correct: false,
        shortopts: Vec::new(),
        args: Vec::new(),
    };
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("posixly-correct: ") {
            case.posixly_correct = match v {
                "yes" => true,
                "no" => false,
                other => bail!("posixly-correct: {other:?} (yes or no)"),
            };
        } else if let Some(v) = line.strip_prefix("shortopts: ") {
            case.shortopts = unescape(v)?;
        } else if let Some(v) = line.strip_prefix("arg:") {
            case.args.push(unescape(v.strip_prefix(' ').unwrap_or(v))?);
        } else if !line.starts_with("case: ") && !line.starts_with("> ") {
            bail!("unexpected line {line:?} in a case");
        }
    }
    Ok(case)
}

/// The file with every case's `> ` lines replaced by what `run` printed
/// for it; comment blocks are kept as they are.
fn regenerate(text: &str, mut run: impl FnMut(&Case) -> Result<Vec<u8>>) -> Result<String> {
    let mut blocks = Vec::new();
    for block in text.split("\n\n") {
        if !block.starts_with("case: ") {
            blocks.push(block.to_string());
            continue;
        }
        let case = parse_case(block).with_context(|| format!("in {block:?}"))?;
        let output = run(&case)?;
        if !output.is_empty() && !output.ends_with(b"\n") {
            bail!("the probe's output does not end in a newline: {output:?}");
        }
        let mut new: Vec<String> = block
            .lines()
            .filter(|l| !l.starts_with("> "))
            .map(String::from)
            .collect();
        if let Some(body) = output.strip_suffix(b"\n") {
            new.extend(
                body.split(|&b| b == b'\n')
                    .map(|l| format!("> {}", escape(l))),
            );
        }
        let trailing = if block.ends_with('\n') { "\n" } else { "" };
        blocks.push(new.join("\n") + trailing);
    }
    Ok(blocks.join("\n\n"))
}

fn compile_probe() -> Result<PathBuf> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), PathBuf::from);
    fs::create_dir_all(&dir)?;
    let binary = dir.join("glibc_probe");
    let status = Command::new("cc")
        .args(["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-O2", "-o"])
        .arg(&binary)
        .arg(repo_root().join(PROBE))
        .status()
        .context("running cc")?;
    if !status.success() {
        bail!("compiling {PROBE} failed");
    }
    Ok(binary)
}

/// Runs the probe for one case with sid's loader and libraries.
fn run_probe(root: &Path, probe: &Path, case: &Case) -> Result<Vec<u8>> {
    let libdir = root.join("usr/lib/x86_64-linux-gnu");
    let mut cmd = Command::new(libdir.join("ld-linux-x86-64.so.2"));
    cmd.arg("--library-path")
        .arg(&libdir)
        .arg(probe)
        .arg(OsString::from_vec(case.shortopts.clone()))
        .args(case.args.iter().cloned().map(OsString::from_vec))
        .env_clear()
        .env("LC_ALL", "C");
    if case.posixly_correct {
        cmd.env("POSIXLY_CORRECT", "1");
    }
    let out = cmd.output().context("running the glibc probe")?;
    if !out.status.success() {
        bail!(
            "the glibc probe failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(out.stdout)
}

/// `cargo xtask getopt-transcripts [--check]`
pub fn transcripts(args: &[String]) -> Result<bool> {
    let check = match args {
        [] => false,
        [a] if a == "--check" => true,
        _ => bail!("usage: cargo xtask getopt-transcripts [--check]"),
    };
    regenerate_with(&fetch::fetch(&Cache::locate()?)?, check)
}

/// The test command's check: glibc of the unpacked sid ROOT still prints
/// the committed transcripts.
pub fn check(root: &Path) -> Result<bool> {
    println!("==> cargo xtask getopt-transcripts --check");
    regenerate_with(root, true)
}

fn regenerate_with(root: &Path, check: bool) -> Result<bool> {
    let probe = compile_probe()?;
    let path = repo_root().join(TRANSCRIPTS);
    let old = fs::read_to_string(&path).with_context(|| format!("reading {TRANSCRIPTS}"))?;
    let new = regenerate(&old, |case| run_probe(root, &probe, case))?;
    if new == old {
        println!("{TRANSCRIPTS}: glibc agrees with every case");
        return Ok(true);
    }
    if check {
        println!(
            "{TRANSCRIPTS}: glibc prints something else now; run `cargo xtask getopt-transcripts` and read the diff"
        );
        return Ok(false);
    }
    fs::write(&path, new)?;
    println!("{TRANSCRIPTS}: rewritten from glibc's output");
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let text = escape(&all);
        assert!(text.bytes().all(|b| (0x20..=0x7e).contains(&b)));
        assert_eq!(unescape(&text).unwrap(), all);
        assert!(unescape("\\q").is_err());
        assert!(unescape("\\x4").is_err());
    }

    #[test]
    fn regenerate_replaces_only_the_output_lines() {
        let text = "# header\n\ncase: one\nposixly-correct: yes\nshortopts: V;\narg: -\\xff\narg:\n> old\n\ncase: two\nposixly-correct: no\nshortopts: V\n";
        let mut seen = Vec::new();
        let new = regenerate(text, |case| {
            seen.push(case.args.clone());
            Ok(if case.posixly_correct {
                b"P-\xff\nP\n".to_vec()
            } else {
                b"SV\n".to_vec()
            })
        })
        .unwrap();
        assert_eq!(
            new,
            "# header\n\ncase: one\nposixly-correct: yes\nshortopts: V;\narg: -\\xff\narg:\n> P-\\xff\n> P\n\ncase: two\nposixly-correct: no\nshortopts: V\n> SV\n"
        );
        assert_eq!(seen, [vec![b"-\xff".to_vec(), vec![]], vec![]]);
        // Unchanged output gives the same text back.
        let again = regenerate(&new, |case| {
            Ok(if case.posixly_correct {
                b"P-\xff\nP\n".to_vec()
            } else {
                b"SV\n".to_vec()
            })
        })
        .unwrap();
        assert_eq!(again, new);
    }

    #[test]
    fn regenerate_rejects_unknown_lines_and_unterminated_output() {
        assert!(regenerate("case: x\nargv: a\n", |_| Ok(vec![])).is_err());
        assert!(regenerate("case: x\nposixly-correct: maybe\n", |_| Ok(vec![])).is_err());
        assert!(regenerate("case: x\n", |_| Ok(b"L0".to_vec())).is_err());
    }

    #[test]
    fn the_committed_transcripts_parse() {
        let text = fs::read_to_string(repo_root().join(TRANSCRIPTS)).unwrap();
        let mut cases = 0;
        // Feeding back each case's own lines reproduces the file.
        let blocks: Vec<&str> = text
            .split("\n\n")
            .filter(|b| b.starts_with("case: "))
            .collect();
        let again = regenerate(&text, |_| {
            let block = blocks[cases];
            cases += 1;
            let mut out = Vec::new();
            for line in block.lines().filter_map(|l| l.strip_prefix("> ")) {
                out.extend(unescape(line)?);
                out.push(b'\n');
            }
            Ok(out)
        })
        .unwrap();
        assert_eq!(again, text);
        assert!(cases >= 20, "{cases} cases");
    }
}
