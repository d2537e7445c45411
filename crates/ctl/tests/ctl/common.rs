//! Fake healers for the tests: sockets in a fresh directory that answer
//! as a healer would, or not at all.

use serde_json::{Value, json};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use xfs_varlink::Status;

/// Runs xfs_healerctl with stdout on `stdout`.
pub fn ctl<S: AsRef<OsStr>>(args: &[S], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xfs_healerctl"))
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .expect("xfs_healerctl runs")
}

pub fn assert_no_panic(out: &Output) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "it panicked: {stderr}");
    assert!(
        out.status.code().is_some(),
        "killed by a signal: {:?}",
        out.status
    );
}

/// A fresh, empty directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("xfs-healerctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A healer mounted at /mnt/fake with nothing to report.
pub fn healthy() -> Status {
    Status {
        mountpoint: "/mnt/fake".into(),
        ..Status::default()
    }
}

/// Serves healers' sockets in a fresh directory, one per status: GetStatus,
/// and an Events stream that goes on until the client hangs up.
pub fn fake_healers(name: &str, statuses: Vec<Status>) -> PathBuf {
    let dir = scratch(name);
    for (i, status) in statuses.into_iter().enumerate() {
        let listener = UnixListener::bind(dir.join(format!("fake{i}.varlink"))).unwrap();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let status = status.clone();
                std::thread::spawn(move || serve(stream, &status));
            }
        });
    }
    dir
}

pub fn fake_healer(name: &str) -> PathBuf {
    fake_healers(name, vec![healthy()])
}

fn serve(mut stream: UnixStream, status: &Status) {
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
        let _ = reply(json!({ "status": status }), false);
        return;
    }
    // As a healer with hooks on sick only; "unknown" stands for a class
    // this healer does not know.
    if request["method"] == "io.xfs.Healer.TestEvent" {
        let class = request["parameters"]["class"].as_str().unwrap_or("sick");
        if class == "unknown" {
            let mut msg = serde_json::to_vec(&json!({
                "error": "org.varlink.service.InvalidParameter",
                "parameters": { "parameter": "class" }
            }))
            .unwrap();
            msg.push(0);
            let _ = stream.write_all(&msg);
            return;
        }
        let message = format!("/mnt/fake: test event ({class}) from the status API");
        let _ = reply(
            json!({ "message": message, "hooks": class == "sick" }),
            false,
        );
        return;
    }
    let mut event = xfs_varlink::Event::new(
        1,
        "sick",
        format!("{}/a directory: sick", status.mountpoint),
    );
    (event.seq, event.mountpoint) = (1, status.mountpoint.as_str().into());
    let event = json!({ "event": event });
    while reply(event.clone(), true).is_ok() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

/// `--socket-dir DIR` and the rest.
pub fn in_dir<'a>(dir: &'a Path, rest: &[&'a str]) -> Vec<&'a OsStr> {
    let mut args = vec![OsStr::new("--socket-dir"), dir.as_os_str()];
    args.extend(rest.iter().map(|a| OsStr::new(*a)));
    args
}
