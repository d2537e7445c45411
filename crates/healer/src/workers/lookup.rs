//! The lookup worker: an inode's paths (parent pointer walks, each a
//! reopen and up to 256 ioctls per link), a failed media range's owners
//! (GETFSMAP paging), and the metrics file's rewrite. One thread, in the
//! order asked; the core bounds how many are outstanding.

use super::{Answer, Done, OnDemand};
use crate::statedir::StateDir;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::sync::Arc;
use xfs_abi::Errno;
use xfs_abi::handle::XfsHandle;
use xfs_events::Device;
use xfs_healer::core::{Input, NoPath};
use xfs_policy::media::Layout;

pub enum Job {
    Paths {
        token: u64,
        ino: u64,
        generation: u32,
        max_links: usize,
    },
    Owners {
        token: u64,
        range: (Device, u64, u64),
    },
    Metrics(String),
}

/// What the lookups need of the filesystem.
pub struct Fs {
    pub mount_arg: Vec<u8>,
    pub mount_path: PathBuf,
    pub monitor: Arc<OwnedFd>,
    pub root: Option<XfsHandle>,
    pub layout: Layout,
}

/// Where the metrics file goes: its directory (checked when opened) and
/// its name.
pub struct MetricsFile {
    pub dir: StateDir,
    pub name: String,
}

impl MetricsFile {
    pub fn write(&self, text: &str) -> Result<(), String> {
        // Readable by the node exporter, which runs as its own user.
        self.dir
            .replace(&self.name, text.as_bytes(), 0o644)
            .map_err(|e| format!("{}: {e}", self.dir.path().join(&self.name).display()))
    }
}

/// The worker, started at the first job.
pub fn worker(fs: Fs, metrics: Option<Arc<MetricsFile>>, answer: Answer) -> OnDemand<Job> {
    OnDemand::new("lookup", answer, move |job: Job| {
        Done::Lookup(match job {
            Job::Paths {
                token,
                ino,
                generation,
                max_links,
            } => Input::Paths {
                token,
                paths: paths(&fs, ino, generation, max_links),
            },
            Job::Owners { token, range } => Input::Owners {
                token,
                owners: crate::media::owners(
                    &fs.mount_path,
                    fs.monitor.as_fd(),
                    fs.root.as_ref(),
                    &fs.layout,
                    range,
                ),
            },
            Job::Metrics(text) => {
                Input::MetricsWritten(metrics.as_ref().map_or(Ok(()), |file| file.write(&text)))
            }
        })
    })
}

impl Job {
    /// The answer to a job no worker could take: it failed with `e`.
    pub fn failed(self, e: &std::io::Error) -> Done {
        let errno = Errno::from_io_error(e).unwrap_or(Errno::AGAIN);
        Done::Lookup(match self {
            Job::Paths { token, .. } => Input::Paths {
                token,
                paths: Err(NoPath::Failed(errno)),
            },
            Job::Owners { token, .. } => Input::Owners {
                token,
                owners: Err(errno),
            },
            Job::Metrics(_) => {
                Input::MetricsWritten(Err(format!("cannot start the lookup worker: {e}")))
            }
        })
    }
}

fn paths(fs: &Fs, ino: u64, generation: u32, max_links: usize) -> Result<Vec<Vec<u8>>, NoPath> {
    let root = fs.root.as_ref().ok_or(NoPath::NoParentPointers)?;
    crate::paths::lookup(
        &fs.mount_path,
        fs.monitor.as_fd(),
        root,
        &fs.mount_arg,
        ino,
        generation,
        max_links,
    )
}
