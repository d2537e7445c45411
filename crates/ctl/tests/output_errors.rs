//! What `xfs_healerctl` does when stdout fails: never a panic (which the
//! release build turns into SIGABRT and a core dump). A full disk is an
//! error (message, status 1); a reader that went away is not (status 0).

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use xfs_varlink::Status;

/// Runs xfs_healerctl with stdout on `stdout`.
fn ctl(args: &[&str], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xfs_healerctl"))
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("xfs_healerctl runs")
}

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

fn assert_no_panic(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "it panicked: {stderr}");
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}",
        out.status
    );
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

/// Serves one healer's socket in a fresh directory: GetStatus, and an
/// Events stream that goes on until the client hangs up.
fn fake_healer(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xfs-healerctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let listener = UnixListener::bind(dir.join("fake.varlink")).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    dir
}

fn serve(mut stream: UnixStream) {
    let mut request = Vec::new();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    if reader.read_until(0, &mut request).unwrap_or(0) == 0 {
        return;
    }
    request.pop();
    let request: Value = serde_json::from_slice(&request).unwrap();
    let mut reply = |parameters: Value, continues: bool| {
        let mut msg =
            serde_json::to_vec(&json!({ "parameters": parameters, "continues": continues }))
                .unwrap();
        msg.push(0);
        stream.write_all(&msg)
    };
    if request["method"] == "io.xfs.Healer.GetStatus" {
        let status = Status {
            mountpoint: "/mnt/fake".into(),
            ..Status::default()
        };
        let _ = reply(json!({ "status": status }), false);
        return;
    }
    let event = json!({ "event": { "time_usec": 1, "kind": "sick", "message": "/mnt/fake/a directory: sick" } });
    while reply(event.clone(), true).is_ok() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[test]
fn events_follow_into_a_closed_pipe_ends_quietly() {
    let dir = fake_healer("follow-pipe");
    let out = ctl(
        &["--socket-dir", dir.to_str().unwrap(), "events", "--follow"],
        closed_pipe(),
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_quiet_success(&out);
}

#[test]
fn events_follow_onto_a_full_disk_says_so_and_fails() {
    let dir = fake_healer("follow-full");
    let out = ctl(
        &["--socket-dir", dir.to_str().unwrap(), "events", "--follow"],
        full_disk(),
    );
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
