//! Project tasks: the real-kernel VM harness, and the demo and test entry
//! points the README names.
//!
//! Every behaviour of the healer that touches the kernel is proven by booting
//! Debian sid's Linux 7.2 with xfsprogs 7.2 in QEMU; this crate downloads
//! those packages into a cache, builds the initramfs, boots one VM per
//! scenario and collects the verdicts. See `vm/README.md`.

mod bench;
mod cache;
mod command;
mod deb;
mod deps;
mod fetch;
mod fuzz;
mod getopt;
mod initramfs;
mod install;
mod promtool;
mod suite;
mod vm;

use anyhow::{Result, bail};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  test                      formatting, clippy, unused dependencies, unit tests, fuzzing, glibc
                            getopt transcripts, ABI layout check, packaging, alert rules and the
                            whole VM suite
  bench [--reps N] [--only SUBSTRING[,...]] [--jobs N]
                            the vm/bench workloads, ours vs reference; writes BENCHMARKS.md
  demo [--reference]        boot the VM, damage a filesystem, watch the healer mend it
  fuzz [--seconds N] [TARGET...]
                            run the libFuzzer targets in fuzz/ (default 15 s each)
  corpus                    capture real kernel events in the VM into fuzz/corpus/decode_event
  getopt-transcripts [--check]
                            rerun glibc's getopt_long on crates/getopt's cases and rewrite
                            (or, with --check, compare) their transcripts
  install [--destdir DIR] [--prefix PREFIX]
                            install binaries, systemd units, man pages, completion
  package-check             install into target/install-check and lint it
  deb                       build target/debian/xfs-healer_<version>_<arch>.deb (dpkg-deb)
  unused-deps               cargo-machete over every crate (installed into the cache once)
  fetch                     download the pinned Debian sid packages into the cache
  initramfs                 build the base initramfs from the cache
  vm run SCENARIO... [--healer ours|reference|PATH] [--keep]
                            boot one VM per scenario and print the verdicts
  vm list                   list the scenarios
  suite [--jobs N] [--only SUBSTRING[,SUBSTRING...]]
                            run every scenario against every healer it names

environment:
  XFS_HEALER_VM_CACHE       cache directory (default: $XDG_CACHE_HOME/xfs-healer-vm)
  XFS_HEALER_VM_ACCEL       kvm or tcg (default: kvm when it really works, else tcg)
  XFS_HEALER_DEBIAN_MIRROR  Debian mirror URI (default: read from the system's apt sources)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; `Ok(false)` means "ran, but something failed".
fn run(args: &[String]) -> Result<bool> {
    let Some(command) = args.first() else {
        eprint!("{USAGE}");
        return Ok(false);
    };
    let rest = &args[1..];
    match command.as_str() {
        "test" => suite::test_everything(rest),
        "demo" => suite::demo(rest),
        "fetch" => {
            deps::ensure_host_tools()?;
            fetch::fetch(&cache::Cache::locate()?)?;
            Ok(true)
        }
        "fuzz" => fuzz::fuzz(rest),
        "corpus" => fuzz::corpus(),
        "getopt-transcripts" => getopt::transcripts(rest),
        "unused-deps" => deps::unused_dependencies_check(),
        "bench" => bench::bench(rest),
        "install" => install::install_command(rest),
        "deb" => deb::deb_command(rest),
        "package-check" => {
            let root = fetch::fetch(&cache::Cache::locate()?)?;
            install::check(&root)
        }
        "initramfs" => {
            deps::ensure_host_tools()?;
            let cache = cache::Cache::locate()?;
            let root = fetch::fetch(&cache)?;
            initramfs::build_base(&cache, &root)?;
            Ok(true)
        }
        "vm" => match rest.first().map(String::as_str) {
            Some("run") => suite::vm_run(&rest[1..]),
            Some("list") => suite::list(),
            _ => bail!("usage: cargo xtask vm run SCENARIO... | vm list"),
        },
        "suite" => suite::suite(rest),
        "-h" | "--help" | "help" => {
            print!("{USAGE}");
            Ok(true)
        }
        other => bail!("unknown command {other:?}\n{USAGE}"),
    }
}
