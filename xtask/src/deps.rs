//! Host tools the harness needs, installed with apt-get when missing.

use anyhow::{Context, Result, bail};
use std::path::Path;
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
];

/// The static busybox that becomes the guest's userland.
pub const BUSYBOX: &str = "/bin/busybox";

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd} >/dev/null 2>&1")])
        .status()
        .is_ok_and(|s| s.success())
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
