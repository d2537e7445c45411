//! `xfs_healer --svcname` when stdout fails: a message and status 1, never
//! a panic (which the release build turns into SIGABRT and a core dump).

use std::process::{Command, Output, Stdio};

fn svcname(stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xfs_healer"))
        .args(["--svcname", "/mnt"])
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("xfs_healer runs")
}

fn assert_write_error(out: &Output, why: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "it panicked: {stderr}");
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr, format!("xfs_healer: write error: {why}\n"));
}

#[test]
fn svcname_onto_a_full_disk_says_so_and_fails() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    assert_write_error(&svcname(full.into()), "No space left on device");
}

#[test]
fn svcname_into_a_closed_pipe_says_so_and_fails() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    // Closed before the child starts, so its write fails with EPIPE.
    drop(reader);
    assert_write_error(&svcname(writer.into()), "Broken pipe");
}
