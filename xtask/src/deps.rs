//! Host tools the harness needs: Debian packages installed with apt-get
//! when missing, and cargo-machete built once into the cache.

use crate::cache::{Cache, repo_root};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// (command that must exist, Debian package that provides it)
const HOST_TOOLS: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("cpio", "cpio"),
    ("zstd", "zstd"),
    ("xz", "xz-utils"),
    ("dpkg-deb", "dpkg"),
    ("apt-get", "apt"),
    ("cc", "gcc"),
    // The packaging check: `man xfs_healer` and unit verification.
    ("man", "man-db"),
    ("systemd-analyze", "systemd"),
    // xfs-systemd's unit-name escaping is compared with the real one; the
    // test fails without it (unless XFS_HEALER_NO_SYSTEMD_ESCAPE=1).
    ("systemd-escape", "systemd"),
    // `promtool check rules` and `test rules` on packaging/prometheus/.
    ("promtool", "prometheus"),
    // `cargo xtask deb`'s library dependencies, and its lint.
    ("dpkg-shlibdeps", "dpkg-dev"),
    ("lintian", "lintian"),
];

/// The static busybox that becomes the guest's userland.
pub const BUSYBOX: &str = "/bin/busybox";

/// Whether `cmd` is an executable file in one of `$PATH`'s directories.
fn have(cmd: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(cmd))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

fn busybox_is_static() -> bool {
    // A dynamically linked busybox (package `busybox`) cannot run as the
    // guest's init: its libraries would have to come along.
    std::fs::read(BUSYBOX).is_ok_and(|elf| !elf.windows(13).any(|w| w == b"ld-linux-x86"))
}

/// Installs whatever is missing; a machine where that fails gets a clear
/// error naming the packages, never a silent skip.
pub fn ensure_host_tools() -> Result<()> {
    let mut missing: Vec<&str> = HOST_TOOLS
        .iter()
        .filter(|(cmd, _)| !have(cmd))
        .map(|(_, pkg)| *pkg)
        .collect();
    missing.sort_unstable();
    missing.dedup();
    if !Path::new(BUSYBOX).exists() || !busybox_is_static() {
        missing.push("busybox-static");
    }
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: installing host packages: {}", missing.join(" "));
    let apt = |args: &[&str]| -> Result<bool> {
        Ok(Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get")?
            .success())
    };
    let mut install = vec!["install", "-y", "-qq", "--no-install-recommends"];
    install.extend(&missing);
    if !apt(&["update", "-qq"])? || !apt(&install)? {
        bail!(
            "could not install {}; the VM tests need them (run as root, or install them yourself)",
            missing.join(" ")
        );
    }
    Ok(())
}

/// The unused-dependency checker, pinned: a newer one may read sources
/// differently, so an upgrade is a change of this line.
const MACHETE_VERSION: &str = "0.9.2";

/// `CACHE/tools/bin/cargo-machete` at [`MACHETE_VERSION`], built with
/// `cargo install --locked` the first time (a few minutes), offline after.
fn cargo_machete() -> Result<PathBuf> {
    let root = Cache::locate()?.path("tools");
    let binary = root.join("bin/cargo-machete");
    let installed = Command::new(&binary)
        .arg("--version")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == MACHETE_VERSION);
    if installed {
        return Ok(binary);
    }
    eprintln!(
        "xtask: installing cargo-machete {MACHETE_VERSION} into {}",
        root.display()
    );
    let status = Command::new(env!("CARGO"))
        .args([
            "install",
            "--quiet",
            "--locked",
            "--force",
            "--version",
            MACHETE_VERSION,
        ])
        .arg("--root")
        .arg(&root)
        .arg("cargo-machete")
        .status()
        .context("running cargo install")?;
    if !status.success() {
        bail!("could not install cargo-machete {MACHETE_VERSION}; the test command needs it");
    }
    Ok(binary)
}

/// Every crate of the repository (workspace and fuzz/) uses each
/// dependency its Cargo.toml names: cargo-machete finds a crate's name
/// nowhere in its sources.
pub fn unused_dependencies_check() -> Result<bool> {
    let machete = cargo_machete()?;
    println!("==> cargo-machete");
    Ok(Command::new(machete)
        .current_dir(repo_root())
        .status()
        .context("running cargo-machete")?
        .success())
}
