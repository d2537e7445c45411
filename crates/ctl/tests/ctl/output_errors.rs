//! What `xfs_healerctl` does when stdout fails: never a panic (which the
//! release build turns into SIGABRT and a core dump). A full disk is an
//! error (message, status 1); a reader that went away is not (status 0).

use crate::common::{assert_no_panic, ctl, fake_healer, in_dir};
use std::process::{Output, Stdio};

fn full_disk() -> Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full")
        .into()
}

/// A pipe nobody reads: its read end is closed before the child starts, so
/// the first write fails with EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    writer.into()
}

fn assert_write_error(out: &Output) {
    assert_no_panic(out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.starts_with("xfs_healerctl: write error: No space left on device")
            && stderr.lines().count() == 1,
        "stderr: {stderr}"
    );
}

fn assert_quiet_success(out: &Output) {
    assert_no_panic(out);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn check_config_onto_a_full_disk_says_so_and_fails() {
    assert_write_error(&ctl(&["check-config", "/dev/null"], full_disk()));
}

#[test]
fn check_config_into_a_closed_pipe_ends_quietly() {
    assert_quiet_success(&ctl(&["check-config", "/dev/null"], closed_pipe()));
}

#[test]
fn events_follow_into_a_closed_pipe_ends_quietly() {
    let dir = fake_healer("follow-pipe");
    let out = ctl(&in_dir(&dir, &["events", "--follow"]), closed_pipe());
    std::fs::remove_dir_all(&dir).unwrap();
    assert_quiet_success(&out);
}

#[test]
fn events_follow_onto_a_full_disk_says_so_and_fails() {
    let dir = fake_healer("follow-full");
    let out = ctl(&in_dir(&dir, &["events", "--follow"]), full_disk());
    std::fs::remove_dir_all(&dir).unwrap();
    assert_write_error(&out);
}

#[test]
fn check_config_of_a_named_file_that_is_missing_fails() {
    let out = ctl(
        &["check-config", "/nonexistent/xfs_healer.toml"],
        Stdio::piped(),
    );
    assert_no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/xfs_healer.toml"),
        "stderr: {stderr}"
    );
}
