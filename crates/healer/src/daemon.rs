//! The daemon's life: takes this filesystem's lock and files, starts the
//! workers, sinks and patrol, runs the [`Reactor`] until the core says
//! the work is over, then stops everything in order: threads joined
//! (those still in a call are left to the process's exit), the API socket
//! and metrics file removed (left saying `xfs_healer_up 0` after an
//! error), the patrol's cursor saved.

use crate::output::{display, err};
use crate::pending::{self, PendingMarker};
use crate::reactor::Reactor;
use crate::sinks::Sinks;
use crate::startup::Healer;
use crate::statedir::StateDir;
use crate::wake::Wake;
use crate::workers::{self, Answer, Done, lookup};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};
use xfs_abi::signals::StopSignals;
use xfs_healer::config::Settings;
use xfs_healer::core::{Core, Reload, Setup, Stopped};
use xfs_healer::kinds::HookClass;

pub fn run(healer: Healer, settings: &Settings, debug: bool) -> Result<Stopped, ()> {
    // Before any thread exists, so that all of them inherit the mask.
    let signals = StopSignals::block().map_err(|e| err(&format!("signal setup: {e}")))?;
    // Lines are written on a thread of their own from here on, and every
    // one queued is out before the process exits.
    let writer = crate::output::start_writer();
    let result = serve(healer, settings, debug, &signals);
    if let Some(writer) = writer {
        writer.finish();
    }
    result
}

fn serve(
    healer: Healer,
    settings: &Settings,
    debug: bool,
    signals: &StopSignals,
) -> Result<Stopped, ()> {
    let mnt = display(healer.mount_arg.as_bytes()).into_owned();
    let monitor = Arc::clone(&healer.monitor);
    let setup_failed = |e: std::io::Error| err(&format!("{mnt}: worker threadpool setup: {e}"));
    let wake = Arc::new(Wake::new().map_err(setup_failed)?);
    let (done, done_rx) = mpsc::channel::<Done>();
    let answer = Answer {
        done,
        wake: Arc::clone(&wake),
    };
    let key = healer.id.file_key();
    // Held for the whole run: a healer started twice at once is turned away.
    let run_dir = StateDir::open(Path::new(pending::RUN_DIR), Some(pending::RUN_DIR_MODE));
    let _lock = match run_dir.as_ref().map(|dir| dir.lock(&format!("{key}.lock"))) {
        Ok(Ok(Some(lock))) => Some(lock),
        Ok(Ok(None)) => {
            err(&format!(
                "{mnt}: XFS health monitoring already running (lock held)."
            ));
            return Err(());
        }
        Ok(Err(e)) => {
            err(&format!("{mnt}: {}/{key}.lock: {e}", pending::RUN_DIR));
            None
        }
        Err(_) => None, // said with the pending marker's directory below
    };
    // The marker keeps the directory's fd: one for the lock and it.
    let (pending, interrupted, refused) = PendingMarker::open(run_dir, &key);
    if let Some(e) = refused {
        err(&format!("{mnt}: pending-work marker: {e}"));
    }
    // Refused once, here: a directory others can write is never written.
    let metrics =
        settings
            .metrics
            .textfile_dir
            .as_deref()
            .and_then(|dir| match StateDir::open(dir, None) {
                Ok(dir) => Some(Arc::new(lookup::MetricsFile {
                    dir,
                    name: format!("xfs_healer_{key}.prom"),
                })),
                Err(e) => {
                    err(&format!("{mnt}: metrics: {e}"));
                    None
                }
            });
    let repairs = workers::repair::worker(
        healer.mount_path.clone(),
        Arc::clone(&monitor),
        healer.root_handle,
        answer.clone(),
    );
    let fs = lookup::Fs {
        mount_arg: healer.mount_arg.as_bytes().to_vec(),
        mount_path: healer.mount_path.clone(),
        monitor: Arc::clone(&monitor),
        root: healer.root_handle.filter(|_| healer.has_parent_pointers),
        layout: healer.layout,
    };
    let lookups = lookup::worker(fs, metrics.clone(), answer.clone());
    let reloadable = reloadable(settings);
    let core = Core::new(Setup {
        mount_arg: healer.mount_arg.as_bytes().to_vec(),
        uuid: xfs_healer::status::uuid_text(&healer.id.uuid),
        device: healer.device_name.clone(),
        repair: healer.mode == crate::autofsck::Mode::Repair,
        quiet: healer.quiet,
        paths: healer.has_parent_pointers && healer.root_handle.is_some(),
        policy: reloadable.policy,
        hook_classes: reloadable.hook_classes,
        hook_interval_ms: reloadable.hook_interval_ms,
        metrics_interval_ms: metrics.as_ref().map(|_| reloadable.metrics_interval_ms),
        started_usec: realtime_usec(),
    });
    let (patrol_stop, patrol_thread) = match settings
        .patrol
        .enabled
        .then(|| crate::patrol::start(&healer, &mnt, &monitor, &settings.patrol))
        .flatten()
    {
        Some((stop, thread)) => (Some(stop), Some(thread)),
        None => (None, None),
    };
    let sinks = Sinks::start(settings, core.identity(), &key, &answer.wake);
    let mut reactor = Reactor {
        core,
        sinks,
        clock: Instant::now(),
        repairs,
        lookups,
        answer,
        mount_path: healer.mount_path.clone(),
        scan_process: None,
        stop_scan: false,
        patrol_stop,
        pending,
        full_scan_reply: None,
        test_replies: Default::default(),
        read_at: None,
        walk_reads: std::collections::VecDeque::new(),
        latencies: debug.then(Vec::new),
        settings: settings.clone(),
        mnt,
    };
    xfs_abi::process::release_free_memory();
    let result = reactor.event_loop(&monitor, &wake, &done_rx, signals, interrupted);
    // Threads still busy (a repair ioctl past the stop's wait, a slow
    // lookup) are left to the process's exit.
    let repair_thread = reactor.repairs.close();
    drop(reactor.lookups.close());
    if let Some(thread) = repair_thread.filter(|_| !reactor.core.repairing()) {
        let _ = thread.join();
    }
    reactor.patrol_stop = None;
    if let Some(patrol) = patrol_thread {
        let _ = patrol.join(); // it saves its cursor
    }
    reactor.sinks.stop();
    // A healer that stops in order takes its file along; one that failed
    // leaves it, saying up 0, for an alert to find.
    if let Some(metrics) = &metrics {
        let last = reactor.core.last_metrics(reactor.now());
        match (&result, last) {
            (Err(()), Some(text)) => {
                let _ = metrics.write(&text);
            }
            _ => {
                let _ = metrics.dir.remove(&metrics.name);
            }
        }
    }
    if let Some(samples) = reactor.latencies.as_mut() {
        err(&format!(
            "{}: debug: {}",
            reactor.mnt,
            latency_summary(samples)
        ));
    }
    result
}

/// What of `settings` the core uses, at start and after a reload.
pub fn reloadable(settings: &Settings) -> Reload {
    Reload {
        policy: settings.policy.clone(),
        hook_classes: if settings.hooks.dir.is_some() {
            settings
                .hooks
                .classes
                .iter()
                .filter_map(|c| HookClass::from_name(c))
                .collect()
        } else {
            Vec::new()
        },
        hook_interval_ms: millis(settings.hooks.interval),
        metrics_interval_ms: millis(settings.metrics.interval),
    }
}

pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

pub fn realtime_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}

/// `N repairs timed: read to ioctl p50 X us, p99 Y us, max Z us`.
fn latency_summary(samples: &mut [u32]) -> String {
    if samples.is_empty() {
        return "no repair was timed from its event read".to_string();
    }
    samples.sort_unstable();
    let at = |q: usize| samples[(samples.len() - 1) * q / 100];
    format!(
        "{} repairs timed from event read to repair ioctl: p50 {} us, p99 {} us, max {} us",
        samples.len(),
        at(50),
        at(99),
        samples[samples.len() - 1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_percentiles() {
        let mut samples: Vec<u32> = (1..=100).rev().collect();
        assert_eq!(
            latency_summary(&mut samples),
            "100 repairs timed from event read to repair ioctl: p50 50 us, p99 99 us, max 100 us"
        );
        assert_eq!(
            latency_summary(&mut []),
            "no repair was timed from its event read"
        );
        assert!(latency_summary(&mut [7]).contains("p50 7 us, p99 7 us, max 7 us"));
    }
}
