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
//! Under systemd a hook runs outside the healer's sandbox, which has no
//! network and may not start setgid programs, so no mail or webhook could
//! leave it: each run is a transient oneshot service of its own
//! (`systemd-run`, in `system-xfs_healer.slice`), with the event in its
//! environment and on its stdin as above, [`HOOK_UNIT_PROPERTIES`] as its
//! sandbox, `TimeoutStartSec=` as its timeout and its cgroup killed when it
//! ends. Without systemd, a hook is the healer's child: it starts in a
//! process group of its own, and when it exits (or is killed at its
//! timeout) the whole group gets SIGKILL, background children included,
//! and it gets SIGTERM if the healer dies. Either way, work that must
//! outlive the hook belongs to a service the hook starts (`systemctl start
//! --no-block`).

use crate::output::err;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Condvar, Mutex};
use xfs_abi::process::ChildEnd;
use xfs_healer::config::HookSettings;
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

    /// Runs the hooks of `event`'s class (the core decided it should,
    /// and how many of its kind were held back before it).
    pub fn run(&mut self, event: Event, suppressed: u64) {
        if let Err(TrySendError::Full(_)) = self.reports.try_send(Queued { event, suppressed }) {
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

/// The event's `XFS_*` variables, `XFS_SUPPRESSED` and a fixed `PATH`
/// (set by the spawn): everything else of the daemon's environment is
/// withheld.
fn environment(event: &Event, suppressed: u64) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = xfs_healer::core::variables(event)
        .into_iter()
        .map(|(key, value)| (key.to_string(), value))
        .collect();
    env.push(("XFS_SUPPRESSED".into(), suppressed.to_string()));
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
            let (programs, refused) = trust::hooks_for(&self.dir, &queued.event.class);
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
            let env = environment(&queued.event, queued.suppressed);
            let stdin = xfs_healer::core::json_line(&queued.event)
                .to_string()
                .into_bytes();
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

/// The sandbox of a hook's transient unit under systemd: what a mail or
/// webhook needs (the network, setgid `postdrop`, the mail spool) and
/// little else: no devices, no writes to `/usr`, `/boot`, `/etc` or home
/// directories, a private `/tmp`, no kernel tunables, modules, logs or
/// clock, and files it makes private to root.
pub const HOOK_UNIT_PROPERTIES: [&str; 15] = [
    "TimeoutStopSec=2s",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectSystem=full",
    "ProtectHome=read-only",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "LockPersonality=yes",
    "RestrictRealtime=yes",
    "RestrictNamespaces=yes",
    "UMask=0077",
];

/// How much longer than its timeout a hook's `systemd-run` may take to
/// report that systemd stopped the unit.
const UNIT_STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// The command that runs `run`: under systemd, `systemd-run` of a
/// transient oneshot unit named `unit`, which returns when the hook has
/// ended and fails if it failed; the event in `--setenv=` arguments and
/// the unit's standard input (so nothing of the healer's environment, and
/// nothing through a shell). `systemd-run` talks to PID 1 on its private
/// socket, so no D-Bus broker is needed (`--wait` and `--pipe` would need
/// one). Otherwise the hook itself, a child with the event on its stdin.
fn hook_command(
    run: &Run,
    timeout: std::time::Duration,
    unit: Option<&str>,
) -> std::process::Command {
    let Some(unit) = unit else {
        let mut cmd = xfs_abi::process::helper_command(&run.program);
        cmd.envs(run.env.iter().map(|(k, v)| (k, v)));
        return cmd;
    };
    // The property is C-unescaped by systemd-run: double the backslashes
    // of the JSON text so it arrives as it is.
    let stdin = String::from_utf8_lossy(&run.stdin).replace('\\', "\\\\");
    let mut cmd = xfs_abi::process::helper_command("systemd-run");
    cmd.args([
        "--quiet",
        "--collect",
        "--service-type=oneshot",
        "--slice=system-xfs_healer.slice",
    ])
    .arg(format!("--unit={unit}"))
    .arg(format!(
        "--description=xfs_healer hook {}",
        run.program.display()
    ))
    .arg(format!("--property=TimeoutStartSec={}", timeout.as_secs()))
    .arg("--property=StandardInput=data")
    .arg(format!("--property=StandardInputText={stdin}"))
    .args(
        HOOK_UNIT_PROPERTIES
            .iter()
            .map(|p| format!("--property={p}")),
    )
    .arg(format!("--setenv=PATH={}", xfs_abi::process::HELPER_PATH))
    .args(run.env.iter().map(|(k, v)| format!("--setenv={k}={v}")))
    .arg("--")
    .arg(&run.program);
    cmd
}

/// Numbers the hook units of this healer.
static UNITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Runs one hook to its end; None if it could not be started.
fn run_one(run: &Run, timeout: std::time::Duration, mnt: &str) -> Option<ChildEnd> {
    let unit = crate::repair::systemd_running().then(|| {
        let n = UNITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("xfs_healer-hook-{}-{n}.service", std::process::id())
    });
    let systemd = unit.is_some();
    let mut cmd = hook_command(run, timeout, unit.as_deref());
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .process_group(0);
    // The signal is tied to this thread, which outlives the child: it
    // waits for it below.
    xfs_abi::process::terminate_with_parent(&mut cmd);
    let started = std::time::Instant::now();
    let child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) => {
            err(&format!("{mnt}: hook {}: {e}", run.program.display()));
            return None;
        }
    };
    let limit = if systemd {
        timeout + UNIT_STOP_GRACE
    } else {
        timeout
    };
    let input: &[u8] = if systemd { &[] } else { &run.stdin };
    let mut end = xfs_abi::process::wait_group_with_timeout(child, input, limit);
    if let Some(unit) = unit.as_deref()
        && end != ChildEnd::Exited(Some(0))
    {
        // systemd stopped the unit at TimeoutStartSec=; or the hook failed,
        // and said why in its unit's journal.
        if started.elapsed() >= timeout {
            end = ChildEnd::TimedOut;
        } else {
            err(&format!(
                "{mnt}: hook {} failed; journalctl -u {unit} says why",
                run.program.display()
            ));
            return Some(end);
        }
    }
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

    fn event(kind: &'static str, outcome: Option<&str>) -> Event {
        let mut event = Event::new(5, kind, "/mnt/a directory: sick");
        event.seq = 2;
        event.mountpoint = "/mnt".into();
        event.uuid = "u".into();
        event.device = "/dev/vdb".into();
        event.object = Some("ino 131 gen 0x5".into());
        event.structures = Some(vec!["directory".into()]);
        event.path = Some("/mnt/a".into());
        event.outcome = outcome.map(|o| o.to_string().into());
        event
    }

    #[test]
    fn under_systemd_a_hook_is_a_transient_unit_given_the_event_verbatim() {
        let run = Run {
            program: PathBuf::from("/etc/xfs_healer/hooks.d/shutdown-mail"),
            env: vec![("XFS_MESSAGE".into(), "/mnt/a b; $(reboot)".into())],
            stdin: br#"{"path":"/mnt/a\\b"}"#.to_vec(),
        };
        let cmd = hook_command(
            &run,
            Duration::from_secs(7),
            Some("xfs_healer-hook-1-0.service"),
        );
        assert_eq!(cmd.get_program(), "systemd-run");
        let args: Vec<_> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        for wanted in [
            "--service-type=oneshot",
            "--unit=xfs_healer-hook-1-0.service",
            "--property=TimeoutStartSec=7",
            "--property=StandardInput=data",
            r#"--property=StandardInputText={"path":"/mnt/a\\\\b"}"#,
            "--property=ProtectSystem=full",
            "--setenv=PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "--setenv=XFS_MESSAGE=/mnt/a b; $(reboot)",
        ] {
            assert!(
                args.iter().any(|a| a == wanted),
                "{wanted} missing: {args:?}"
            );
        }
        assert_eq!(
            args[args.len() - 2..],
            ["--", "/etc/xfs_healer/hooks.d/shutdown-mail"]
        );
        // Only what is set: nothing of the healer's environment.
        assert!(cmd.get_envs().all(|(k, _)| k == "PATH"));
        let direct = hook_command(&run, Duration::from_secs(7), None);
        assert_eq!(
            direct.get_program(),
            "/etc/xfs_healer/hooks.d/shutdown-mail"
        );
        assert_eq!(direct.get_args().count(), 0);
    }

    #[test]
    fn the_environment_carries_the_event_verbatim() {
        let env = environment(&event("sick", None), 3);
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
        assert_eq!(
            (get("XFS_SEQ"), get("XFS_UUID"), get("XFS_DEVICE")),
            (Some("2"), Some("u"), Some("/dev/vdb"))
        );
        assert_eq!(get("XFS_MOUNTPOINT"), Some("/mnt"));
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
