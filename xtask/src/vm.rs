//! Boots one QEMU guest for one scenario and collects what it left behind.
//!
//! The guest writes its results (verdict, healer output, facts) as a tar
//! archive onto a dedicated raw disk; the serial console is kept as the
//! console log. A kernel oops, a hang or a timeout is a failed scenario with
//! the console log attached, never a hang of the test run.

use crate::initramfs::Images;
use anyhow::{Context, Result};
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accel {
    Kvm,
    Tcg,
}

impl Accel {
    pub fn name(self) -> &'static str {
        match self {
            Accel::Kvm => "kvm",
            Accel::Tcg => "tcg",
        }
    }
}

/// Everything one boot needs.
pub struct Boot<'a> {
    pub images: &'a Images,
    pub initrd: PathBuf,
    pub workdir: PathBuf,
    pub timeout: Duration,
    pub accel: Accel,
    /// Print console lines starting with this marker as they arrive.
    pub live_marker: Option<&'a str>,
}

#[derive(Debug)]
pub struct BootResult {
    pub results_dir: PathBuf,
    pub elapsed: Duration,
    pub timed_out: bool,
    /// "Oops", "BUG:", "Kernel panic" or similar seen on the console.
    pub kernel_trouble: Option<String>,
    /// The guest's init reached the scenario (guards retrying early crashes).
    pub scenario_started: bool,
}

const SCRATCH_DISK_BYTES: u64 = 2 << 30;
const RESULTS_DISK_BYTES: u64 = 64 << 20;
/// Printed by vm/guest/init right before the scenario runs.
pub const SCENARIO_START: &str = "xfs-healer-vm: scenario start";

fn sparse_file(path: &Path, size: u64) -> Result<()> {
    let file = fs::File::create(path)?;
    file.set_len(size)?;
    Ok(())
}

pub fn kernel_trouble(console: &str) -> Option<String> {
    const SIGNS: &[&str] = &[
        "Oops:",
        "BUG:",
        "Kernel panic",
        "general protection fault",
        "WARNING: CPU:",
    ];
    console
        .lines()
        .find(|l| SIGNS.iter().any(|s| l.contains(s)))
        .map(|l| l.trim().to_string())
}

/// Whether the kernel's trouble is a breakpoint trap in its own text
/// (`Oops: int3`): the kernel patches live code through int3 and a CPU
/// met a half-patched instruction, which TCG's multi-threaded emulation
/// of cross-modifying code can show (seen once in hundreds of boots, in
/// the scheduler, while systemd created a unit's cgroup). It says
/// nothing of the scenario.
pub fn text_patching_trap(trouble: &str) -> bool {
    trouble.contains("Oops: int3")
}

pub fn boot(b: &Boot) -> Result<BootResult> {
    fs::create_dir_all(&b.workdir)?;
    let scratch1 = b.workdir.join("scratch1.img");
    let scratch2 = b.workdir.join("scratch2.img");
    let results_img = b.workdir.join("results.img");
    sparse_file(&scratch1, SCRATCH_DISK_BYTES)?;
    sparse_file(&scratch2, SCRATCH_DISK_BYTES)?;
    sparse_file(&results_img, RESULTS_DISK_BYTES)?;
    let console_path = b.workdir.join("console.log");

    let mut cmd = Command::new("qemu-system-x86_64");
    match b.accel {
        Accel::Kvm => cmd.args(["-accel", "kvm", "-cpu", "host"]),
        Accel::Tcg => cmd.args(["-accel", "tcg,thread=multi", "-cpu", "max"]),
    };
    cmd.args([
        "-m",
        "1024",
        "-smp",
        "2",
        "-nodefaults",
        "-no-reboot",
        "-display",
        "none",
    ])
    .args(["-serial", "stdio", "-monitor", "none"])
    .arg("-kernel")
    .arg(&b.images.kernel)
    .arg("-initrd")
    .arg(&b.initrd)
    .args([
        "-append",
        "console=ttyS0 quiet loglevel=4 panic=-1 oops=panic rdinit=/init",
    ]);
    for disk in [&scratch1, &scratch2, &results_img] {
        cmd.arg("-drive").arg(format!(
            "file={},if=virtio,format=raw,cache=writeback",
            disk.display()
        ));
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());

    let start = Instant::now();
    let mut child = cmd.spawn().context("starting qemu-system-x86_64")?;
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let live = b.live_marker.map(String::from);
    let console_file = fs::File::create(&console_path)?;
    let reader = std::thread::spawn(move || {
        let mut console_file = console_file;
        for line in BufReader::new(stdout).split(b'\n').map_while(Result::ok) {
            let _ = console_file.write_all(&line);
            let _ = console_file.write_all(b"\n");
            if let Some(marker) = &live {
                let text = String::from_utf8_lossy(&line);
                if let Some(rest) = text.trim_end_matches('\r').strip_prefix(marker.as_str()) {
                    println!("{rest}");
                }
            }
        }
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });

    let mut timed_out = false;
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if start.elapsed() > b.timeout {
            timed_out = true;
            let _ = child.kill();
            let _ = child.wait();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let elapsed = start.elapsed();
    let _ = reader.join();
    let qemu_stderr = err_reader.join().unwrap_or_default();
    if !qemu_stderr.trim().is_empty() {
        fs::write(b.workdir.join("qemu.stderr"), &qemu_stderr)?;
    }

    let results_dir = b.workdir.join("results");
    let _ = fs::remove_dir_all(&results_dir);
    fs::create_dir_all(&results_dir)?;
    // An empty results disk (the guest died first) is simply no results.
    let _ = Command::new("tar")
        .arg("-xf")
        .arg(&results_img)
        .arg("-C")
        .arg(&results_dir)
        .stderr(Stdio::null())
        .status();
    for img in [&scratch1, &scratch2, &results_img] {
        let _ = fs::remove_file(img);
    }
    let console = fs::read_to_string(&console_path).unwrap_or_default();
    Ok(BootResult {
        results_dir,
        elapsed,
        timed_out,
        kernel_trouble: kernel_trouble(&console),
        scenario_started: console.contains(SCENARIO_START),
    })
}

/// KVM when /dev/kvm opens *and* a probe guest really boots with it (on
/// some machines it opens, then the guest dies with a KVM internal error);
/// otherwise TCG. `XFS_HEALER_VM_ACCEL` overrides. Decided once per run.
pub fn choose_accel(probe: impl FnOnce(Accel) -> bool) -> Accel {
    static CHOICE: OnceLock<Accel> = OnceLock::new();
    *CHOICE.get_or_init(|| {
        match std::env::var("XFS_HEALER_VM_ACCEL").as_deref() {
            Ok("kvm") => return Accel::Kvm,
            Ok("tcg") => return Accel::Tcg,
            _ => {}
        }
        let opens = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/kvm")
            .is_ok();
        let accel = if opens && probe(Accel::Kvm) {
            Accel::Kvm
        } else {
            Accel::Tcg
        };
        eprintln!("xtask: VMs run with {} acceleration", accel.name());
        accel
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_trap_on_patched_text_is_the_emulators_doing() {
        let trap = kernel_trouble("[   11.665589] Oops: int3: 0000 [#1] SMP NOPTI\n").unwrap();
        assert!(text_patching_trap(&trap));
        for other in [
            "[   18.091083] BUG: kernel NULL pointer dereference, address: 0000000000000028",
            "[    9.1] Oops: general protection fault, probably for non-canonical address",
            "[    3.2] WARNING: CPU: 1 PID: 7 at fs/xfs/xfs_trans.c:10",
        ] {
            let trouble = kernel_trouble(other).unwrap();
            assert!(!text_patching_trap(&trouble), "{trouble}");
        }
    }
}
