//! Exit statuses and messages: each way of failing has its own, and none
//! panics; `status --check` grades the filesystems.

use crate::common::{assert_no_panic, ctl, fake_healer, fake_healers, healthy, in_dir, scratch};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use xfs_varlink::{Event, SickObject};

fn run(args: &[&OsStr]) -> Output {
    let out = ctl(args, Stdio::piped());
    assert_no_panic(&out);
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn assert_status(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}stderr: {}",
        stdout(out),
        stderr(out)
    );
}

fn os(args: &[&'static str]) -> Vec<&'static OsStr> {
    args.iter().map(|a| OsStr::new(*a)).collect()
}

#[test]
fn help_is_on_stdout_with_status_0() {
    let out = run(&os(&["--help"]));
    assert_status(&out, 0);
    assert!(
        stdout(&out).contains("Usage: xfs_healerctl"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn version_names_this_project() {
    let out = run(&os(&["--version"]));
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("xfs_healerctl (xfs-healer) {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn a_usage_error_is_status_64() {
    for args in [
        &[][..],
        &["frob"],
        &["status", "--follow"],
        &["--timeout", "0", "status"],
    ] {
        let out = run(&os(args));
        assert_status(&out, 64);
        assert!(
            stdout(&out).is_empty() && !stderr(&out).is_empty(),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

#[test]
fn a_mount_point_that_is_not_utf8_is_no_panic() {
    let dir = fake_healer("non-utf8");
    let mount = OsStr::from_bytes(b"/mnt/\xff\xfe");
    let mut args = in_dir(&dir, &["status"]);
    args.push(mount);
    let out = run(&args);
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("no healer monitors /mnt/\u{fffd}"),
        "{}",
        stderr(&out)
    );
    let out = run(&[OsStr::new("check-config"), mount]);
    assert_status(&out, 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_socket_dir_may_be_given_with_an_equals_sign() {
    let dir = fake_healer("equals");
    let mut arg = std::ffi::OsString::from("--socket-dir=");
    arg.push(&dir);
    let out = run(&[&arg, OsStr::new("status")]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_status(&out, 0);
    assert!(stdout(&out).starts_with("/mnt/fake ("), "{}", stdout(&out));
}

/// Status 2, within a few seconds, with the reason.
fn assert_no_answer(dir: &Path, expect: &str) {
    let start = Instant::now();
    let out = run(&in_dir(dir, &["--timeout", "1", "status"]));
    let took = start.elapsed();
    assert_status(&out, 2);
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(stderr(&out).contains(expect), "{}", stderr(&out));
    assert!(!stderr(&out).contains("os error"), "{}", stderr(&out));
}

#[test]
fn a_healer_that_accepts_and_never_answers_times_out() {
    let dir = scratch("stuck");
    let listener = UnixListener::bind(dir.join("stuck.varlink")).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    assert_no_answer(&dir, "stuck.varlink: no answer within 1s");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_healer_that_never_accepts_times_out() {
    let dir = scratch("stopped");
    // Bound and listening, as the socket of a stopped healer: the connect
    // is queued and nothing ever reads.
    let listener = UnixListener::bind(dir.join("stopped.varlink")).unwrap();
    assert_no_answer(&dir, "stopped.varlink: no answer within 1s");
    drop(listener);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_stale_socket_is_said() {
    let dir = scratch("stale");
    drop(UnixListener::bind(dir.join("gone.varlink")).unwrap());
    assert_no_answer(&dir, "gone.varlink: no healer listens (a stale socket");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_socket_at_all_is_said() {
    let dir = scratch("empty");
    let out = run(&in_dir(&dir, &["status"]));
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("no healer is running"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_socket_dir_is_said_plainly() {
    let out = run(&os(&["--socket-dir", "/nonexistent/xfs_healer", "status"]));
    assert_status(&out, 3);
    assert_eq!(
        stderr(&out),
        "xfs_healerctl: /nonexistent/xfs_healer does not exist: no healer with the status API has run (or --socket-dir is wrong)\n"
    );
}

#[test]
fn a_socket_this_user_may_not_use_is_said() {
    let dir = scratch("denied");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let socket = dir.join("private.varlink");
    let listener = UnixListener::bind(&socket).unwrap();
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o000)).unwrap();
    // Root may use any socket: the test runs it as nobody, from a copy
    // in the scratch directory (the checkout may be where nobody cannot
    // reach, such as under /root).
    let root = rustix::process::geteuid().is_root();
    let program = if root {
        let copy = dir.join("xfs_healerctl");
        std::fs::copy(env!("CARGO_BIN_EXE_xfs_healerctl"), &copy).unwrap();
        std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o755)).unwrap();
        copy
    } else {
        PathBuf::from(env!("CARGO_BIN_EXE_xfs_healerctl"))
    };
    let mut command = Command::new(&program);
    command.args(in_dir(&dir, &["status"]));
    if root {
        command.uid(65534).gid(65534);
    }
    // A test thread that forks while the copy is still open for writing
    // leaves the child holding it until it execs: ETXTBSY for a moment.
    let mut tries = 0;
    let out = loop {
        match command.output() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 100 => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => break other.expect("xfs_healerctl runs"),
        }
    };
    drop(listener);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_no_panic(&out);
    assert_status(&out, 4);
    assert!(
        stderr(&out).contains("private.varlink: permission denied: the socket exists"),
        "{}",
        stderr(&out)
    );
}

fn sick() -> xfs_varlink::Status {
    let mut s = healthy();
    s.mountpoint = "/mnt/sick".into();
    s.sick = vec![SickObject {
        object: "/mnt/sick/victim".into(),
        structures: vec!["directory".into()],
        since_usec: 0,
    }];
    s
}

#[test]
fn status_check_grades_each_filesystem() {
    let check = |name: &str, statuses| {
        let dir = fake_healers(name, statuses);
        let out = run(&in_dir(&dir, &["status", "-x"]));
        std::fs::remove_dir_all(&dir).unwrap();
        out
    };
    let out = check("check-ok", vec![healthy()]);
    assert_status(&out, 0);
    assert_eq!(stdout(&out), "/mnt/fake: OK: healthy\n");
    let out = check("check-sick", vec![healthy(), sick()]);
    assert_status(&out, 1);
    assert_eq!(
        stdout(&out),
        "/mnt/fake: OK: healthy\n/mnt/sick: WARNING: 1 sick object\n"
    );
    let mut failed = healthy();
    failed.counters.repairs_failed = 2;
    assert_status(&check("check-failed", vec![failed]), 1);
    let mut down = sick();
    down.shut_down = true;
    let out = check("check-down", vec![down, healthy()]);
    assert_status(&out, 2);
    assert_eq!(
        stdout(&out),
        "/mnt/sick: CRITICAL: shut down\n/mnt/fake: OK: healthy\n"
    );
    // Plain status says the same healers and exits 0.
    let dir = fake_healers("plain", vec![healthy(), sick()]);
    let out = run(&in_dir(&dir, &["status"]));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_status(&out, 0);
    assert!(stdout(&out).contains("  sick now: 1\n    /mnt/sick/victim: directory (for "));
}

#[test]
fn a_healer_that_does_not_answer_fails_the_check_but_not_a_named_one() {
    let dir = fake_healers("check-stuck", vec![healthy()]);
    let listener = UnixListener::bind(dir.join("stuck.varlink")).unwrap();
    let out = run(&in_dir(&dir, &["--timeout", "1", "status", "--check"]));
    assert_status(&out, 2);
    assert_eq!(stdout(&out), "/mnt/fake: OK: healthy\n");
    assert!(
        stderr(&out).contains("no answer within 1s"),
        "{}",
        stderr(&out)
    );
    // Every mount point asked for answered: the other socket does not matter.
    let out = run(&in_dir(
        &dir,
        &["--timeout", "1", "status", "--check", "/mnt/fake"],
    ));
    assert_status(&out, 0);
    assert_eq!(stderr(&out), "");
    drop(listener);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn events_have_timestamps_and_json_events_the_mount_point() {
    let mut status = healthy();
    let mut event = Event::new(
        1_709_210_096_000_000,
        "sick",
        "/mnt/fake/victim directory: sick",
    );
    event.mountpoint = status.mountpoint.as_str().into();
    event.structures = Some(vec!["directory".into()]);
    status.last_events = vec![event];
    let dir = fake_healers("events", vec![status]);
    let text = run(&in_dir(&dir, &["events"]));
    let json = run(&in_dir(&dir, &["--json", "events", "/mnt/fake"]));
    std::fs::remove_dir_all(&dir).unwrap();
    assert_status(&text, 0);
    assert_eq!(
        stdout(&text),
        "2024-02-29T12:34:56Z /mnt/fake/victim directory: sick\n"
    );
    assert_status(&json, 0);
    assert_eq!(
        stdout(&json),
        "{\"class\":\"sick\",\"device\":\"\",\"kind\":\"sick\",\"message\":\"/mnt/fake/victim directory: sick\",\"mountpoint\":\"/mnt/fake\",\"seq\":0,\"structures\":[\"directory\"],\"time_usec\":1709210096000000,\"uuid\":\"\",\"v\":1}\n"
    );
}

#[test]
fn events_follow_streams_every_healer_at_once() {
    use std::io::BufRead;
    let dir = fake_healers("follow-all", vec![healthy(), sick()]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_xfs_healerctl"))
        .args(in_dir(&dir, &["--json", "events", "--follow"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("xfs_healerctl runs");
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = std::collections::BTreeSet::new();
    for line in lines.take(1000) {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        seen.insert(v["mountpoint"].as_str().unwrap().to_owned());
        if seen.len() == 2 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["/mnt/fake", "/mnt/sick"]
    );
}

#[test]
fn test_event_says_where_it_went_and_fails_as_other_calls_do() {
    let dir = fake_healer("test-event");
    let out = run(&in_dir(&dir, &["test-event", "/mnt/fake"]));
    assert_status(&out, 0);
    assert_eq!(
        stdout(&out),
        "/mnt/fake: test event (sick) sent: log, status API, metrics, sick hooks\n"
    );
    let out = run(&in_dir(
        &dir,
        &["test-event", "--class", "shutdown", "/mnt/fake"],
    ));
    assert_status(&out, 0);
    assert!(
        stdout(&out).starts_with(
            "/mnt/fake: test event (shutdown) sent: log, status API, metrics; no hooks"
        ),
        "{}",
        stdout(&out)
    );
    let out = run(&in_dir(&dir, &["--json", "test-event", "/mnt/fake"]));
    assert_status(&out, 0);
    let reply: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(reply["hooks"], true);
    // A class unknown to xfs_healerctl is a usage error, with the list.
    let out = run(&in_dir(
        &dir,
        &["test-event", "--class", "sik", "/mnt/fake"],
    ));
    assert_status(&out, 64);
    assert!(
        stderr(&out).contains("possible values: running, sick"),
        "{}",
        stderr(&out)
    );
    // One the healer refuses fails with the reason.
    let out = run(&in_dir(
        &dir,
        &["test-event", "--class", "unknown", "/mnt/fake"],
    ));
    assert_status(&out, 1);
    assert!(
        stderr(&out).ends_with("this healer does not know the class \"unknown\"\n"),
        "{}",
        stderr(&out)
    );
    // No healer for the mount point.
    let out = run(&in_dir(&dir, &["test-event", "/mnt/other"]));
    assert_status(&out, 2);
    assert!(
        stderr(&out).contains("no healer monitors /mnt/other"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
