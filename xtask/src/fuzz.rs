//! `cargo xtask fuzz`: build the libFuzzer targets in `fuzz/` on stable Rust
//! and run each for a bounded time.
//!
//! cargo-fuzz needs nightly only for `-Zsanitizer`; coverage instrumentation
//! (`-Cpasses=sancov-module`) is stable, and that is all libFuzzer needs to
//! explore. `--target` keeps these flags off build scripts, which would not
//! link with the sancov constructors. Builds go to `<target dir>/fuzz/`
//! and corpora persist in `<target dir>/fuzz-corpus/` (the target dir is
//! `$CARGO_TARGET_DIR` if set, else `target/`) so repeated runs go deeper;
//! the committed seeds in `fuzz/corpus/<target>/` (real kernel events among
//! them, see [`corpus`]) are read as well. Every `fuzz_targets/*.rs` is a
//! target.

use crate::cache::repo_root;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

const RUSTFLAGS: &str = "-Cpasses=sancov-module \
    -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
    -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares \
    --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// Default run time per target; `cargo xtask test` uses it too, so CI stays
/// bounded (eight targets, ~2 minutes).
pub const DEFAULT_SECONDS: u32 = 15;

/// `cargo xtask fuzz [--seconds N] [TARGET...]`
pub fn fuzz(args: &[String]) -> Result<bool> {
    let mut seconds = DEFAULT_SECONDS;
    let mut only = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let value = it.next().context("--seconds needs a value")?;
                seconds = value
                    .parse()
                    .with_context(|| format!("--seconds {value:?}"))?;
            }
            other if other.starts_with('-') => {
                bail!("usage: cargo xtask fuzz [--seconds N] [TARGET...]")
            }
            target => only.push(target.to_string()),
        }
    }
    run(seconds, &only)
}

/// Builds every target and runs the chosen ones (all if `only` is empty).
pub fn run(seconds: u32, only: &[String]) -> Result<bool> {
    let fuzz_dir = repo_root().join("fuzz");
    let target_root = cargo_target_dir()?;
    let target_dir = target_root.join("fuzz");
    let triple = host_triple()?;
    println!("==> building fuzz targets ({triple}, stable sancov)");
    let built = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--bins",
            "--locked",
            "--target",
            &triple,
        ])
        .env("RUSTFLAGS", RUSTFLAGS)
        .env("CARGO_TARGET_DIR", &target_dir)
        .current_dir(&fuzz_dir)
        .status()?;
    if !built.success() {
        return Ok(false);
    }
    let targets = target_names(&fuzz_dir)?;
    for name in only {
        if !targets.contains(name) {
            bail!("no fuzz target {name:?}; there are: {}", targets.join(", "));
        }
    }
    let mut ok = true;
    for name in targets
        .iter()
        .filter(|t| only.is_empty() || only.contains(t))
    {
        let corpus = target_root.join("fuzz-corpus").join(name);
        std::fs::create_dir_all(&corpus)?;
        let binary = target_dir.join(&triple).join("release").join(name);
        println!("==> fuzz {name} for {seconds} s");
        let status = Command::new(&binary)
            .arg(format!("-max_total_time={seconds}"))
            .arg("-print_final_stats=0")
            .arg(format!(
                "-artifact_prefix={}/",
                corpus.parent().unwrap_or(&corpus).display()
            ))
            .arg(&corpus)
            .args(Some(repo_root().join("fuzz/corpus").join(name)).filter(|seeds| seeds.is_dir()))
            .stderr(std::process::Stdio::piped())
            .output()
            .with_context(|| format!("running {}", binary.display()))?;
        let log = String::from_utf8_lossy(&status.stderr);
        if status.status.success() {
            if let Some(done) = log.lines().rev().find(|l| l.starts_with("Done ")) {
                println!("    {done}");
            }
        } else {
            ok = false;
            println!("{log}");
            println!(
                "fuzz {name}: FAILED; the crashing input is under {}/",
                target_root.join("fuzz-corpus").display()
            );
        }
    }
    Ok(ok)
}

/// `cargo xtask corpus`: runs the capture-events VM scenario and turns the
/// raw health monitor stream it recorded into seeds of the decoder's
/// committed corpus (`fuzz/corpus/decode_event/`): the whole stream, and
/// each distinct record (timestamp zeroed) on its own.
pub fn corpus() -> Result<bool> {
    let ours = crate::suite::build_ours()?.join("xfs_healer");
    let scenario = crate::suite::scenarios()?
        .into_iter()
        .find(|s| s.name == "capture-events")
        .context("no capture-events scenario")?;
    let (images, accel) = crate::suite::prepare()?;
    let outcomes = crate::suite::run_all(
        &images,
        accel,
        vec![(scenario, crate::suite::Healer::Ours(ours))],
        1,
        false,
    );
    let Some(outcome) = outcomes.first().filter(|o| o.passed()) else {
        println!(
            "capture-events failed: {}",
            outcomes
                .first()
                .map_or("did not run", |o| o.reason.as_str())
        );
        return Ok(false);
    };
    let raw = std::fs::read(outcome.workdir.join("results/events.raw"))?;
    let dir = repo_root().join("fuzz/corpus/decode_event");
    std::fs::create_dir_all(&dir)?;
    // Input format: [cuts % 8] [cuts...] [stream]; 0 = no cuts.
    let mut seeds: Vec<Vec<u8>> = vec![std::iter::once(0).chain(raw.iter().copied()).collect()];
    for record in raw.chunks_exact(xfs_events::RECORD_LEN) {
        let mut seed = vec![0u8];
        seed.extend_from_slice(record);
        seed[1 + 8..1 + 16].fill(0);
        if !seeds.contains(&seed) {
            seeds.push(seed);
        }
    }
    for seed in &seeds {
        std::fs::write(dir.join(format!("vm-{:016x}", fnv1a(seed))), seed)?;
    }
    println!(
        "{} seeds from {} captured records in {}",
        seeds.len(),
        raw.len() / xfs_events::RECORD_LEN,
        dir.display()
    );
    Ok(true)
}

/// A stable name for a seed's content.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `$CARGO_TARGET_DIR` (absolute: the build runs in `fuzz/`, where a
/// relative one would mean another directory), else `target/`, so runs
/// beside other builds can keep to their own directory.
fn cargo_target_dir() -> Result<PathBuf> {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => Ok(std::env::current_dir()?.join(dir)),
        _ => Ok(repo_root().join("target")),
    }
}

/// The `fuzz_targets/*.rs` names, which are also the binary names.
fn target_names(fuzz_dir: &std::path::Path) -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(fuzz_dir.join("fuzz_targets"))?
        .filter_map(|e| e.ok().map(|e| PathBuf::from(e.file_name())))
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

fn host_triple() -> Result<String> {
    let out = Command::new("rustc")
        .arg("-vV")
        .output()
        .context("rustc -vV")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
        .context("rustc -vV printed no host triple")
}
