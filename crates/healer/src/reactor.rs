//! The thin shell around the [`core`](xfs_healer::core): one thread that polls
//! the monitor fd, the workers' wake-up (an eventfd) and the stop signals with
//! the core's next deadline as timeout, feeds what came to the core, and
//! carries out the effects it returns on the workers and sinks. The kernel
//! queue holds only ~585 events: nothing here waits for more than a read.

use crate::api;
use crate::daemon;
use crate::output::{err, out};
use crate::pending::PendingMarker;
use crate::sinks::Sinks;
use crate::wake::Wake;
use crate::workers::{self, Answer, Done, lookup};
use rustix::event::{PollFd, PollFlags, Timespec, poll};
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::time::Instant;
use xfs_abi::Errno;
use xfs_abi::signals::StopSignals;
use xfs_events::RecordAssembler;
use xfs_healer::core::{
    Core, Effect, FullScanStarted, Input, MAX_LOOKUPS, Now, READ_BUF, Stopped, TestEventSent,
};

/// Most latency samples kept for `--debug` (then the first ones stand).
const LATENCY_SAMPLES: usize = 65_536;

pub struct Reactor {
    pub core: Core,
    pub sinks: Sinks,
    pub clock: Instant,
    pub mnt: String,
    pub repairs: workers::OnDemand<workers::repair::Job>,
    pub lookups: workers::OnDemand<lookup::Job>,
    pub answer: Answer,
    pub mount_path: std::path::PathBuf,
    /// The process that ends with the full scan, signalled at a stop.
    pub scan_process: Option<OwnedFd>,
    pub stop_scan: bool,
    /// Dropped to stop the media patrol (at shutdown, at exit).
    pub patrol_stop: Option<mpsc::Sender<()>>,
    pub pending: PendingMarker,
    pub full_scan_reply: Option<api::Reply<Result<(bool, bool), String>>>,
    /// Test-event calls passed to the core, oldest first: it answers
    /// each, in order, right after emitting its event.
    pub test_replies: std::collections::VecDeque<api::Reply<TestEventSent>>,
    /// When this wake-up's first read returned events, or when the read
    /// that asked for the path walk now answered did (`--debug` timing).
    pub read_at: Option<Instant>,
    /// The read each path walk in flight was asked for by, oldest first
    /// (`--debug` timing): an inode's repair waits for its walk, and is
    /// timed from that read when the walk's answer releases it.
    pub walk_reads: std::collections::VecDeque<(u64, Instant)>,
    pub latencies: Option<Vec<u32>>,
    /// The settings in force (replaced by a reload).
    pub settings: xfs_healer::config::Settings,
}

impl Reactor {
    /// SIGHUP: reads the settings again. The hooks, the thresholds, the
    /// rate limits' intervals, the metrics interval, the full-scan
    /// timeout and the output format change now, keeping every counter
    /// and all work in hand; what is bound at start (the status API, the
    /// metrics directory, the patrol) is said to wait for the next start.
    /// A file that does not load changes nothing and is said.
    fn reload(&mut self) -> Option<Input> {
        let (path, presence) = xfs_healer::config::path();
        let new = match xfs_healer::config::load(&path, presence) {
            Ok(new) => new,
            Err(e) => {
                err(&format!(
                    "{}: reload: {e}; the settings stay as they were",
                    self.mnt
                ));
                return None;
            }
        };
        let old = &self.settings;
        let at_next_start: Vec<&str> = [
            ("[api]", old.api != new.api),
            (
                "[metrics] textfile_dir",
                old.metrics.textfile_dir != new.metrics.textfile_dir,
            ),
            ("[patrol]", old.patrol != new.patrol),
        ]
        .into_iter()
        .filter_map(|(what, changed)| changed.then_some(what))
        .collect();
        if old.hooks != new.hooks {
            self.sinks.restart_hooks(&new.hooks);
        }
        if old.output != new.output {
            crate::output::reformat(new.output);
        }
        let mut said = format!("{}: settings reloaded from {}", self.mnt, path.display());
        if !at_next_start.is_empty() {
            said += &format!(
                "; {} take effect at the next start",
                at_next_start.join(", ")
            );
        }
        out(&said);
        let input = Input::Reload(Box::new(daemon::reloadable(&new)));
        self.settings = new;
        Some(input)
    }

    pub fn now(&self) -> Now {
        Now {
            ms: daemon::millis(self.clock.elapsed()),
            usec: daemon::realtime_usec(),
        }
    }

    pub fn event_loop(
        &mut self,
        monitor: &OwnedFd,
        wake: &Wake,
        done_rx: &mpsc::Receiver<Done>,
        signals: &StopSignals,
        interrupted: bool,
    ) -> Result<Stopped, ()> {
        let mnt = self.mnt.clone();
        let read_error = |e: Errno| {
            err(&format!(
                "{mnt}: error reading event file: {}",
                xfs_abi::strerror(e)
            ))
        };
        let flags = fcntl_getfl(monitor).map_err(read_error)?;
        fcntl_setfl(monitor, flags | OFlags::NONBLOCK).map_err(read_error)?;
        let mut assembler = RecordAssembler::default();
        let mut buf = vec![0u8; READ_BUF];
        let mut eof = false;
        if let Some(stopped) = self.feed(Input::Start { interrupted }) {
            return Ok(stopped);
        }
        loop {
            let now = self.now().ms;
            let timeout = self.core.next_deadline(now).map(|due| {
                let ms = due.saturating_sub(now);
                Timespec {
                    tv_sec: i64::try_from(ms / 1000).unwrap_or(i64::MAX),
                    tv_nsec: i64::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
                }
            });
            let mut fds = vec![
                PollFd::new(wake, PollFlags::IN),
                PollFd::new(signals, PollFlags::IN),
            ];
            if !eof {
                fds.push(PollFd::new(monitor, PollFlags::IN));
            }
            let api_socket = self
                .sinks
                .api
                .as_ref()
                .and_then(api::Api::listener_until_served);
            if let Some(socket) = &api_socket {
                fds.push(PollFd::new(socket, PollFlags::IN));
            }
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) | Err(Errno::INTR) => {}
                Err(e) => {
                    read_error(e);
                    return Err(());
                }
            }
            let client_came = api_socket.is_some()
                && fds
                    .last()
                    .is_some_and(|f| f.revents().contains(PollFlags::IN));
            drop(fds);
            if client_came && let Some(api) = self.sinks.api.as_mut() {
                api.serve(&self.mnt);
            }
            let mut inputs = Vec::new();
            match signals.take() {
                Some(signo) if xfs_abi::signals::is_reload(signo) => {
                    inputs.extend(self.reload());
                }
                Some(signo) => inputs.push(Input::Signal(signo)),
                None => {}
            }
            // Results first: they may change what new events mean.
            wake.clear();
            inputs.extend(done_rx.try_iter().map(|done| self.answered(done)));
            inputs.extend(self.api_calls());
            for input in inputs {
                self.read_at = self.walk_read(&input);
                if let Some(stopped) = self.feed(input) {
                    return Ok(stopped);
                }
            }
            self.read_at = None;
            // Then everything the kernel has for us.
            let mut read_any = false;
            while !eof {
                match rustix::io::read(monitor, &mut buf) {
                    Ok(0) => eof = true,
                    Ok(n) => {
                        if !read_any && self.latencies.is_some() {
                            self.read_at = Some(Instant::now());
                        }
                        read_any = true;
                        let mut records = Vec::new();
                        assembler.feed(&buf[..n], |r| records.push(r));
                        self.feed(Input::Records(records));
                    }
                    Err(Errno::AGAIN) => break,
                    Err(Errno::INTR) => {}
                    Err(e) => {
                        read_error(e);
                        return Err(());
                    }
                }
            }
            let input = if read_any {
                let fdinfo =
                    xfs_abi::healthmon::read_monitor_fdinfo(std::os::fd::AsFd::as_fd(monitor));
                Input::BatchEnd {
                    fdinfo_lost: fdinfo.ok().map(|info| info.lost),
                }
            } else {
                Input::Tick
            };
            let stopped = self.feed(input);
            let stopped = stopped.or_else(|| {
                eof.then(|| {
                    self.feed(Input::Eof {
                        truncated: assembler.pending(),
                    })
                })
                .flatten()
            });
            self.read_at = None;
            if let Some(stopped) = stopped {
                return Ok(stopped);
            }
        }
    }

    /// A worker's answer as the core's input.
    fn answered(&mut self, done: Done) -> Input {
        match done {
            Done::Repair(target, attempt, read_at) => {
                if let (Some(samples), Some(read), Some(issued)) =
                    (self.latencies.as_mut(), read_at, attempt.issued)
                    && samples.len() < LATENCY_SAMPLES
                {
                    samples.push(
                        u32::try_from(issued.saturating_duration_since(read).as_micros())
                            .unwrap_or(u32::MAX),
                    );
                }
                Input::RepairDone {
                    target,
                    outcome: attempt.outcome,
                    text: attempt.text,
                }
            }
            Done::Lookup(input) => input,
            Done::ScanStarted(started) => Input::ScanStarted(started.map(|process| {
                self.scan_process = process;
                if self.stop_scan {
                    self.stop_full_scan();
                }
            })),
            Done::ScanEnded(end) => {
                self.scan_process = None;
                Input::ScanEnded(end)
            }
        }
    }

    /// The status API's waiting calls: a status is answered at once, a
    /// full-scan request through the core.
    fn api_calls(&mut self) -> Vec<Input> {
        let Some(api) = self.sinks.api.as_ref() else {
            return Vec::new();
        };
        let calls: Vec<api::LoopCall> = api.calls.try_iter().collect();
        let mut inputs = Vec::new();
        for call in calls {
            match call {
                api::LoopCall::Status(reply) => reply.send(self.core.status()),
                api::LoopCall::FullScan(reply) => {
                    self.full_scan_reply = Some(reply);
                    inputs.push(Input::FullScanRequested);
                }
                api::LoopCall::TestEvent(class, reply) => {
                    self.test_replies.push_back(reply);
                    inputs.push(Input::TestEvent { class });
                }
            }
        }
        inputs
    }

    /// Steps the core and carries out its effects; how it ended, if so.
    fn feed(&mut self, input: Input) -> Option<Stopped> {
        let now = self.now();
        let mut stopped = None;
        for effect in self.core.step(now, input) {
            match effect {
                Effect::Repair(target) => {
                    // Only the first dispatch after a read (or after the
                    // walk it waited for) is timed: later ones wait
                    // behind it by design.
                    if let Err(((target, _), e)) = self.repairs.send((target, self.read_at.take()))
                    {
                        self.answer.send(workers::Done::Repair(
                            target,
                            crate::repair::Attempt::no_worker(&e),
                            None,
                        ));
                    }
                }
                // Its spawn, under emulation milliseconds, overlaps the
                // walk; a failure is answered at the repair's own send.
                Effect::RepairAhead => {
                    let _ = self.repairs.start();
                }
                Effect::LookupPaths {
                    token,
                    ino,
                    generation,
                    max_links,
                } => {
                    if let Some(read) = self.read_at {
                        if self.walk_reads.len() >= MAX_LOOKUPS {
                            self.walk_reads.pop_front();
                        }
                        self.walk_reads.push_back((token, read));
                    }
                    self.lookup(lookup::Job::Paths {
                        token,
                        ino,
                        generation,
                        max_links,
                    })
                }
                Effect::LookupOwners { token, range } => {
                    self.lookup(lookup::Job::Owners { token, range })
                }
                Effect::WriteMetrics(text) => self.lookup(lookup::Job::Metrics(text)),
                Effect::StartFullScan(_) => workers::full_scan::start(
                    self.mount_path.clone(),
                    self.settings.full_scan_timeout,
                    self.answer.clone(),
                ),
                Effect::StopFullScan => {
                    self.stop_scan = true;
                    self.stop_full_scan();
                }
                Effect::StopPatrol => self.patrol_stop = None,
                Effect::Emit { report, log, hook } => self.sinks.emit(&report, log, hook),
                Effect::Say(line) => out(&line),
                Effect::Warn(line) => err(&line),
                Effect::SetPending(busy) => self.pending.set(busy),
                Effect::FullScanAnswer(answer) => {
                    if let Some(reply) = self.full_scan_reply.take() {
                        reply.send(
                            answer.map(|FullScanStarted { started, deferred }| (started, deferred)),
                        );
                    }
                }
                Effect::TestEventAnswer(sent) => {
                    if let Some(reply) = self.test_replies.pop_front() {
                        reply.send(sent);
                    }
                }
                Effect::Exit(how) => stopped = Some(how),
            }
        }
        stopped
    }

    /// The read a path walk's answer was asked for by, forgotten now.
    fn walk_read(&mut self, input: &Input) -> Option<Instant> {
        let Input::Paths { token, .. } = input else {
            return None;
        };
        let at = self.walk_reads.iter().position(|(t, _)| t == token)?;
        self.walk_reads.remove(at).map(|(_, read)| read)
    }

    fn lookup(&mut self, job: lookup::Job) {
        if let Err((job, e)) = self.lookups.send(job) {
            self.answer.send(job.failed(&e));
        }
    }

    fn stop_full_scan(&mut self) {
        if let Some(process) = self.scan_process.take() {
            let _ = rustix::process::pidfd_send_signal(&process, rustix::process::Signal::TERM);
        }
    }
}
