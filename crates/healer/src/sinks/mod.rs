//! Where the core's reports go: the log (text, JSON lines or journal,
//! [`crate::output`]), the hooks ([`hooks`]) and the status API's event
//! stream ([`crate::api`]). The core decided what each gets; a sink only
//! writes. A test event (`TestEvent`) is a report like any other here;
//! each sink marks it as a test in its own form.

pub mod hooks;

use crate::api;
use crate::output::{self, err};
use crate::wake::Wake;
use hooks::Hooks;
use std::sync::Arc;
use xfs_healer::config::Settings;
use xfs_healer::core::{Identity, Report};

pub struct Sinks {
    /// The filesystem, as every event names it (`mountpoint` is the
    /// `<mnt>` message prefix).
    fs: Identity,
    pub api: Option<api::Api>,
    hooks: Option<Hooks>,
}

impl Sinks {
    /// Starts the hooks runner and the status API as configured; what
    /// cannot start is said, and the healer goes on without it.
    pub fn start(settings: &Settings, fs: &Identity, key: &str, wake: &Arc<Wake>) -> Sinks {
        let mnt: &str = &fs.mountpoint;
        let hooks = Hooks::start(&settings.hooks, mnt);
        let mut api = None;
        if settings.api.enabled {
            let gid = settings
                .api
                .group
                .as_deref()
                .and_then(xfs_healer::config::group_id);
            if let (Some(group), None) = (settings.api.group.as_deref(), gid) {
                err(&format!(
                    "{mnt}: status API group {group:?} not found; root only"
                ));
            }
            match api::start(&settings.api.dir, key, gid, fs, Arc::clone(wake)) {
                Ok(started) => api = Some(started),
                Err(e) => api::start_failed(mnt, &settings.api.dir.join(api::socket_name(key)), &e),
            }
        }
        Sinks {
            fs: fs.clone(),
            api,
            hooks,
        }
    }

    /// Hands `report` to the sinks the core chose; its wire form is made
    /// once, for all of them. The API keeps every event (`Events(since:)`
    /// replays them).
    pub fn emit(&mut self, report: &Report, log: bool, hook: Option<u64>) {
        let event = report.to_wire(&self.fs);
        if log {
            output::report(&event, report);
        }
        if let (Some(hooks), Some(suppressed)) = (self.hooks.as_mut(), hook) {
            hooks.run(event.clone(), suppressed);
        }
        if let Some(api) = self.api.as_mut() {
            api.publish(event);
        }
    }

    /// New hook settings (a reload): a new runner; the old one finishes
    /// what it has queued and ends.
    pub fn restart_hooks(&mut self, settings: &xfs_healer::config::HookSettings) {
        self.hooks = Hooks::start(settings, &self.fs.mountpoint);
    }

    /// Ends the API thread (its drop removes the socket) and the hooks
    /// runner.
    pub fn stop(&mut self) {
        self.api = None;
        self.hooks = None;
    }
}
