//! Hook scripts, like ZED's zedlets: executables in a directory run on
//! chosen event classes. A hook named `<class>-<anything>` runs for that
//! class, `all-<anything>` for every enabled class. The event arrives in
//! `XFS_*` environment variables and as one JSON object (the JSON lines
//! schema) on stdin; the program is executed directly, never through a
//! shell, so nothing in an event is interpreted. Runs are bounded: at most
//! `max_running` at once (later ones wait in a queue of 64, beyond which
//! they are dropped and counted), each killed after `timeout`, and one per
//! (class, object) per `interval` (`XFS_SUPPRESSED` says how many were
//! held back since the last).
//!
//! A hook must not leave anything running: each starts in a process group
//! of its own, and when it exits (or is killed at its timeout) the whole
//! group gets SIGKILL, background children included. Work that must
//! outlive the hook belongs to a service the hook starts (`systemctl start
//! --no-block`). A hook also gets SIGTERM if the healer dies; what it
//! started in the background is then left to the unit's cgroup.

use crate::output::err;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use xfs_abi::process::ChildEnd;
use xfs_healer::config::HookSettings;
use xfs_healer::core::Report;
use xfs_healer::trust;
use xfs_varlink::Event;

/// Reports waiting for their hooks to start.
const QUEUE: usize = 64;

/// One hook run to make.
#[derive(Debug)]
struct Run {
    program: PathBuf,
    env: Vec<(String, String)>,
    stdin: Vec<u8>,
}

/// The reactor's end: hands each report the core chose for hooks to
/// the runner thread, which finds the hooks for its class and runs them.
#[derive(Debug)]
pub struct Hooks {
    reports: SyncSender<Queued>,
    dropped: u64,
    mnt: String,
}

/// A report to run the hooks of.
#[derive(Debug)]
struct Queued {
    event: Event,
    class: &'static str,
    suppressed: u64,
}

/// Refused hooks said, so each is said once (bounded).
const SAID_REFUSED: usize = 64;

impl Hooks {
    /// Starts the runner thread; None when hooks are off.
    pub fn start(settings: &HookSettings, mnt: &str) -> Option<Hooks> {
        let dir = settings.dir.clone()?;
        // Said once; the runner looks again for each report, so hooks
        // installed later still run.
        if let Some(why) = trust::dir_problem(&dir) {
            err(&format!(
                "{mnt}: hooks directory {}: {why}; no hook runs until it is one",
                dir.display()
            ));
        }
        let (reports, queue) = mpsc::sync_channel(QUEUE);
        let runner = Runner {
            dir,
            max: settings.max_running.max(1),
            timeout: settings.timeout,
            mnt: mnt.to_string(),
        };
        let spawned = std::thread::Builder::new()
            .name("hooks".into())
            .stack_size(128 * 1024)
            .spawn(move || runner.run(queue));
        if let Err(e) = spawned {
            err(&format!("{mnt}: hooks not started: {e}"));
            return None;
        }
        Some(Hooks {
            reports,
            dropped: 0,
            mnt: mnt.to_string(),
        })
    }

    /// Runs the hooks of `report`'s class (the core decided it should,
    /// and how many of its kind were held back before it).
    pub fn run(&mut self, report: &Report, suppressed: u64) {
        let queued = Queued {
            event: report.to_wire(),
            class: report.hook_class().name(),
            suppressed,
        };
        if let Err(TrySendError::Full(_)) = self.reports.try_send(queued) {
            self.dropped += 1;
            if self.dropped.is_power_of_two() {
                err(&format!(
                    "{}: hooks falling behind: {} runs dropped",
                    self.mnt, self.dropped
                ));
            }
        }
    }
}

/// The `XFS_*` variables (and a fixed `PATH`): everything else of the
/// daemon's environment is withheld.
fn environment(event: &Event, class: &str, mnt: &str, suppressed: u64) -> Vec<(String, String)> {
    let mut env = vec![
        ("XFS_EVENT".to_string(), class.to_string()),
        ("XFS_MOUNTPOINT".into(), mnt.to_string()),
        ("XFS_MESSAGE".into(), event.message.clone()),
        ("XFS_TIME_USEC".into(), event.time_usec.to_string()),
        ("XFS_SUPPRESSED".into(), suppressed.to_string()),
    ];
    env.extend(
        event
            .object
            .iter()
            .map(|o| ("XFS_OBJECT".to_string(), o.clone())),
    );
    env.extend(
        event
            .structures
            .iter()
            .map(|s| ("XFS_STRUCTURES".to_string(), s.join(","))),
    );
    env.extend(
        event
            .path
            .iter()
            .map(|p| ("XFS_PATH".to_string(), p.clone())),
    );
    env.extend(
        event
            .outcome
            .iter()
            .map(|o| ("XFS_OUTCOME".to_string(), o.clone())),
    );
    env.extend(
        event
            .reason
            .iter()
            .map(|r| ("XFS_REASON".to_string(), r.clone())),
    );
    env
}

/// The runner thread: reads the hooks directory for each report (off the
/// event loop) and starts its hooks, at most `max` at once, each in its
/// own thread waiting for the child through a pidfd with a deadline.
struct Runner {
    dir: PathBuf,
    max: usize,
    timeout: std::time::Duration,
    mnt: String,
}

impl Runner {
    fn run(&self, queue: Receiver<Queued>) {
        let running = Arc::new((Mutex::new(0usize), Condvar::new()));
        let mut said = std::collections::HashSet::new();
        while let Ok(queued) = queue.recv() {
            let (programs, refused) = trust::hooks_for(&self.dir, queued.class);
            for (program, why) in refused {
                if said.len() < SAID_REFUSED && said.insert(program.clone()) {
                    err(&format!(
                        "{}: hook {} skipped: {why}",
                        self.mnt,
                        program.display()
                    ));
                }
            }
            if programs.is_empty() {
                continue;
            }
            let env = environment(&queued.event, queued.class, &self.mnt, queued.suppressed);
            let mut json = serde_json::to_value(&queued.event).unwrap_or_default();
            json["v"] = crate::output::JSON_SCHEMA.into();
            json["mountpoint"] = self.mnt.clone().into();
            let stdin = json.to_string().into_bytes();
            for program in programs {
                let run = Run {
                    program,
                    env: env.clone(),
                    stdin: stdin.clone(),
                };
                self.start(&running, run);
            }
        }
    }

    fn start(&self, running: &Arc<(Mutex<usize>, Condvar)>, run: Run) {
        {
            let (count, freed) = &**running;
            let mut n = count.lock().unwrap_or_else(|e| e.into_inner());
            while *n >= self.max {
                n = freed.wait(n).unwrap_or_else(|e| e.into_inner());
            }
            *n += 1;
        }
        let slot = Arc::clone(running);
        let mnt = self.mnt.clone();
        let timeout = self.timeout;
        let spawned = std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || {
                run_one(&run, timeout, &mnt);
                let (count, freed) = &*slot;
                *count.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
                freed.notify_one();
            });
        if spawned.is_err() {
            *running.0.lock().unwrap_or_else(|e| e.into_inner()) -= 1;
        }
    }
}

/// Runs one hook to its end; None if it could not be started.
fn run_one(run: &Run, timeout: std::time::Duration, mnt: &str) -> Option<ChildEnd> {
    let mut cmd = xfs_abi::process::helper_command(&run.program);
    cmd.envs(run.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .process_group(0);
    // The signal is tied to this thread, which outlives the child: it
    // waits for it below.
    xfs_abi::process::terminate_with_parent(&mut cmd);
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            err(&format!("{mnt}: hook {}: {e}", run.program.display()));
            return None;
        }
    };
    let end = xfs_abi::process::wait_group_with_timeout(child, &run.stdin, timeout);
    match end {
        ChildEnd::Exited(Some(0)) => {}
        ChildEnd::Exited(Some(code)) => err(&format!(
            "{mnt}: hook {} exited with status {code}",
            run.program.display()
        )),
        ChildEnd::Exited(None) => err(&format!(
            "{mnt}: hook {} was killed by a signal",
            run.program.display()
        )),
        ChildEnd::TimedOut => err(&format!(
            "{mnt}: hook {} ran longer than {} s; killed",
            run.program.display(),
            timeout.as_secs()
        )),
    }
    Some(end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;
    use std::path::Path;
    use std::time::Duration;

    fn event(kind: &str, outcome: Option<&str>) -> Event {
        Event {
            time_usec: 5,
            kind: kind.into(),
            message: "/mnt/a directory: sick".into(),
            object: Some("ino 131 gen 0x5".into()),
            structures: Some(vec!["directory".into()]),
            path: Some("/mnt/a".into()),
            outcome: outcome.map(String::from),
            reason: None,
        }
    }

    #[test]
    fn the_environment_carries_the_event_verbatim() {
        let env = environment(&event("sick", None), "sick", "/mnt", 3);
        let get = |k: &str| {
            env.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("XFS_EVENT"), Some("sick"));
        assert_eq!(get("XFS_PATH"), Some("/mnt/a"));
        assert_eq!(get("XFS_SUPPRESSED"), Some("3"));
        assert_eq!(get("XFS_STRUCTURES"), Some("directory"));
        assert_eq!(get("XFS_OUTCOME"), None);
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("xfs-healer-hooks-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Runs `body` as a hook; retries the spawn, which another test's fork
    /// holding the script open for writing (ETXTBSY) can fail.
    fn run_script(dir: &Path, body: &str, stdin: Vec<u8>, timeout: Duration) -> Option<ChildEnd> {
        let program = dir.join("all-test");
        std::fs::write(&program, body).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let run = Run {
            program,
            env: Vec::new(),
            stdin,
        };
        for _ in 0..4 {
            if let Some(end) = run_one(&run, timeout, "/mnt") {
                return Some(end);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        run_one(&run, timeout, "/mnt")
    }

    /// The process group of `pid` while it is alive (a zombie is not: it
    /// only awaits its reaper).
    fn group_of(pid: i32) -> Option<i32> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let fields: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
        if matches!(fields.first(), Some(&"Z" | &"X")) {
            return None;
        }
        fields.get(2)?.parse().ok()
    }

    #[test]
    fn a_hook_killed_at_its_timeout_takes_its_background_children_along() {
        let dir = scratch("group");
        let pids = dir.join("pids");
        let body = format!(
            "#!/bin/sh\nsleep 300 &\necho $$ $! > {0}.tmp\nmv {0}.tmp {0}\nsleep 300\n",
            pids.display()
        );
        let end = run_script(&dir, &body, Vec::new(), Duration::from_secs(1));
        let pids: Vec<i32> = std::fs::read_to_string(&pids)
            .expect("the hook wrote its pids")
            .split_whitespace()
            .map(|p| p.parse().unwrap())
            .collect();
        let hook = pids[0];
        // The background sleep, and anything else in the hook's group, after
        // a grace period: SIGKILL takes effect asynchronously.
        let survivors = || -> Vec<i32> {
            let all = std::fs::read_dir("/proc")
                .unwrap()
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok());
            all.filter(|&pid| group_of(pid).is_some_and(|group| pid == pids[1] || group == hook))
                .collect()
        };
        let t0 = std::time::Instant::now();
        let mut left = survivors();
        while !left.is_empty() && t0.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
            left = survivors();
        }
        // Leave no sleeps behind on failure either.
        for pid in &left {
            let _ = rustix::process::kill_process(
                rustix::process::Pid::from_raw(*pid).unwrap(),
                rustix::process::Signal::KILL,
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(end, Some(ChildEnd::TimedOut));
        assert!(
            left.is_empty(),
            "processes the hook started outlived it: {left:?}"
        );
    }

    #[test]
    fn a_hook_that_never_reads_a_large_stdin_is_still_killed_at_its_timeout() {
        let dir = scratch("stdin");
        let (done, finished) = mpsc::channel();
        let worker_dir = dir.clone();
        std::thread::spawn(move || {
            let _ = done.send(run_script(
                &worker_dir,
                "#!/bin/sh\nexec sleep 300\n",
                vec![b'x'; 2 << 20],
                Duration::from_secs(1),
            ));
        });
        // Generous: the point is that it ends at all, not how promptly.
        let end = finished.recv_timeout(Duration::from_secs(10));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            end,
            Ok(Some(ChildEnd::TimedOut)),
            "the hook's stdin blocked the run past its timeout"
        );
    }
}
