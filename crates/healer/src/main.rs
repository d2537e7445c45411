//! `xfs_healer`: reads an XFS filesystem's health monitor, reports every
//! event the way xfsprogs 7.2's `xfs_healer` does, and repairs sick
//! metadata through the online repair ioctl.
//!
//! This crate is the thin shell around a pure core: start-up checks
//! ([`startup`]), the decisions ([`core`]: no I/O), the poll loop that
//! feeds it and carries out its effects ([`reactor`]), the threads that
//! make slow calls ([`workers`]) and where reports go ([`sinks`]), started
//! and stopped in order by [`daemon`]. Decoding, text and engine live in
//! the pure crates `xfs-events`, `xfs-report` and `xfs-policy`; every raw
//! syscall lives in `xfs-abi`.

mod api;
mod autofsck;
mod cli;
mod daemon;
mod media;
mod output;
mod paths;
mod patrol;
mod pending;
mod reactor;
mod repair;
mod sinks;
mod startup;
mod statedir;
mod wake;
mod workers;

use cli::Command;
use std::ffi::OsString;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread: the daemon's threads share one malloc arena.
    xfs_abi::process::single_malloc_arena();
    let args: Vec<OsString> = std::env::args_os().collect();
    let posixly_correct = std::env::var_os("POSIXLY_CORRECT").is_some();
    match cli::parse_args(&args, posixly_correct) {
        Command::Version { stdout } => {
            // As the reference, which ignores printf's result: exit 0.
            let _ = std::io::stdout().write_all(&stdout);
            ExitCode::SUCCESS
        }
        Command::Usage { stderr } => {
            let _ = std::io::stderr().write_all(&stderr);
            ExitCode::from(1)
        }
        Command::SvcName { mount } => svcname(&mount),
        Command::Run(options) => run(&options),
    }
}

/// Hidden `--svcname`: the unit name `xfs_healer_start` would start. A
/// name that could not be written is a failure (1), said on stderr, never
/// a panic: a caller capturing it must not take a truncated name.
fn svcname(mount: &OsString) -> ExitCode {
    let mut stderr = std::io::stderr();
    match xfs_systemd::template_instance("xfs_healer@.service", mount.as_bytes()) {
        Ok(name) => {
            let mut stdout = std::io::stdout();
            match stdout
                .write_all(format!("{name}\n").as_bytes())
                .and_then(|()| stdout.flush())
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    let why = e
                        .raw_os_error()
                        .map_or_else(|| e.to_string(), xfs_abi::strerror_raw);
                    let _ =
                        stderr.write_all(format!("xfs_healer: write error: {why}\n").as_bytes());
                    ExitCode::from(1)
                }
            }
        }
        Err(_) => {
            let _ = stderr.write_all(
                format!(
                    "{}: {}\n",
                    output::display(mount.as_bytes()),
                    xfs_abi::strerror(xfs_abi::Errno::INVAL)
                )
                .as_bytes(),
            );
            ExitCode::from(1)
        }
    }
}

fn run(options: &cli::Options) -> ExitCode {
    let (config, presence) = xfs_healer::config::path();
    let settings = match xfs_healer::config::load(&config, presence) {
        Ok(settings) => settings,
        Err(e) => {
            output::err(&format!("xfs_healer: {e}"));
            return ExitCode::from(if options.supported { 255 } else { 1 });
        }
    };
    output::init(settings.output, options.mount.as_bytes());
    let healer = match startup::start(options) {
        Ok(healer) => healer,
        // Under ExecCondition, 1 skips the unit and 255 fails it; outside
        // --supported every failure is 1, as in the reference.
        Err(startup::Failure::Unsupported) => return ExitCode::from(1),
        Err(startup::Failure::Error) if options.supported => return ExitCode::from(255),
        Err(startup::Failure::Error) => return ExitCode::from(1),
    };
    if options.supported {
        return ExitCode::SUCCESS;
    }
    // No sleep before exit (the reference sleeps 2 s): journald attributes
    // lines by the stream's unit, not by the process being alive.
    output::identify(
        &xfs_healer::status::uuid_text(&healer.id.uuid),
        &healer.device_name,
    );
    match daemon::run(healer, &settings, options.debug) {
        Ok(xfs_healer::core::Stopped::Unmounted) => ExitCode::SUCCESS,
        // As the reference, which has no handler: the status is the
        // signal's (143 for SIGTERM), and systemd sees a clean stop.
        Ok(xfs_healer::core::Stopped::Signal(signo)) => xfs_abi::signals::die_by(signo),
        Err(()) => ExitCode::from(1),
    }
}
