//! The threads that make the calls that take time (a repair ioctl, parent
//! pointer walks, GETFSMAP paging, a full scan, the metrics file), so that
//! the reactor only reads, decides and hands out work. Each answers with a
//! [`Done`] on one channel and a wake of the reactor's [`Wake`].
//! The repair and lookup workers start at their first job
//! ([`OnDemand`]): a healer that has nothing to repair or look up runs
//! neither thread.

pub mod full_scan;
pub mod lookup;
pub mod repair;

use crate::repair::Attempt;
use crate::wake::Wake;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Instant;
use xfs_healer::core::{Input, ScanEnd};
use xfs_policy::Target;

/// A worker's answer.
pub enum Done {
    /// The target, how it went, and when the read that asked for it
    /// returned (if it was dispatched right after that read).
    Repair(Target, Attempt, Option<Instant>),
    /// A lookup's answer, as the core takes it.
    Lookup(Input),
    /// The full scan started (with the pidfd of the process that ends
    /// with it: our `xfs_scrub`, or the `systemctl start` following the
    /// unit), or could not (the message).
    ScanStarted(Result<Option<OwnedFd>, String>),
    ScanEnded(ScanEnd),
}

/// How a worker answers: the message, then a wake-up for the reactor.
#[derive(Clone)]
pub struct Answer {
    pub done: mpsc::Sender<Done>,
    pub wake: Arc<Wake>,
}

impl Answer {
    /// False once the reactor is gone.
    pub fn send(&self, done: Done) -> bool {
        let sent = self.done.send(done).is_ok();
        self.wake.wake();
        sent
    }
}

/// A worker thread that starts at its first job and serves jobs in order.
pub struct OnDemand<J> {
    name: &'static str,
    serve: Arc<dyn Fn(J) -> Done + Send + Sync>,
    answer: Answer,
    running: Option<(mpsc::Sender<J>, JoinHandle<()>)>,
}

impl<J: Send + 'static> OnDemand<J> {
    pub fn new(
        name: &'static str,
        answer: Answer,
        serve: impl Fn(J) -> Done + Send + Sync + 'static,
    ) -> OnDemand<J> {
        OnDemand {
            name,
            serve: Arc::new(serve),
            answer,
            running: None,
        }
    }

    /// Starts the thread if it is not running, so that a job known to
    /// come does not wait for it.
    pub fn start(&mut self) -> std::io::Result<()> {
        self.jobs().map(|_| ())
    }

    /// Queues `job`, starting the thread if it is not running. If it
    /// cannot start (the unit's task limit, memory), the job comes back
    /// with the error for the caller to answer; the next job tries again.
    pub fn send(&mut self, job: J) -> Result<(), (J, std::io::Error)> {
        match self.jobs() {
            Ok(jobs) => jobs.send(job).map_err(|mpsc::SendError(job)| {
                (job, std::io::Error::other("the worker has ended"))
            }),
            Err(e) => Err((job, e)),
        }
    }

    /// The running thread's queue, starting the thread first if need be.
    fn jobs(&mut self) -> std::io::Result<&mpsc::Sender<J>> {
        let running = match self.running.take() {
            Some(running) => running,
            None => {
                let (jobs, queue) = mpsc::channel::<J>();
                let serve = Arc::clone(&self.serve);
                let answer = self.answer.clone();
                let thread = std::thread::Builder::new()
                    .name(self.name.into())
                    .stack_size(256 * 1024)
                    .spawn(move || {
                        for job in queue {
                            if !answer.send(serve(job)) {
                                break;
                            }
                        }
                    })?;
                (jobs, thread)
            }
        };
        Ok(&self.running.insert(running).0)
    }

    /// Ends the queue; the thread, if one ran, ends after its job.
    pub fn close(&mut self) -> Option<JoinHandle<()>> {
        self.running.take().map(|(_, thread)| thread)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker whose answer is `say(job)`, the answers it sent and the
    /// reactor's wake-up.
    fn worker(say: fn(u64) -> String) -> (OnDemand<u64>, mpsc::Receiver<Done>, Arc<Wake>) {
        let (done, answers) = mpsc::channel();
        let woken = Arc::new(Wake::new().unwrap());
        let answer = Answer {
            done,
            wake: Arc::clone(&woken),
        };
        let worker = OnDemand::new("test", answer, move |job: u64| {
            Done::Lookup(Input::MetricsWritten(Err(say(job))))
        });
        (worker, answers, woken)
    }

    /// The answers' texts, in the order they came.
    fn told(answers: &mpsc::Receiver<Done>) -> Vec<String> {
        answers
            .try_iter()
            .map(|d| match d {
                Done::Lookup(Input::MetricsWritten(Err(t))) => t,
                _ => panic!("not our answer"),
            })
            .collect()
    }

    #[test]
    fn a_worker_starts_at_its_first_job_and_answers_in_order() {
        let (mut worker, answers, woken) = worker(|job| job.to_string());
        assert!(worker.running.is_none(), "no thread before a job");
        for token in 1..=3 {
            assert!(worker.send(token).is_ok());
        }
        let thread = worker.close().expect("it ran");
        thread.join().unwrap();
        assert_eq!(told(&answers), ["1", "2", "3"]);
        assert_eq!(woken.clear(), 3, "a wake-up for each answer");
        assert!(worker.close().is_none(), "closed once");
    }

    #[test]
    fn a_worker_started_ahead_serves_the_jobs_that_follow() {
        let (mut worker, answers, _woken) =
            worker(|_| format!("{:?}", std::thread::current().id()));
        worker.start().unwrap();
        let started = worker.running.as_ref().map(|(_, t)| t.thread().id());
        assert!(started.is_some(), "start runs the thread");
        worker.start().unwrap();
        assert!(worker.send(1).is_ok() && worker.send(2).is_ok());
        let thread = worker.close().expect("it ran");
        assert_eq!(Some(thread.thread().id()), started, "one thread throughout");
        thread.join().unwrap();
        let ran_on = told(&answers);
        assert_eq!(ran_on.len(), 2);
        assert_eq!(ran_on[0], format!("{:?}", started.unwrap()));
        assert_eq!(ran_on[0], ran_on[1]);
    }
}
