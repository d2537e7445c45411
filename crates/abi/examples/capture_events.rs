//! `capture_events MOUNT OUT`: copies the raw records of the filesystem's
//! health monitor (verbose: healthy reports too) to OUT until the stream
//! ends at unmount. The fuzz corpus's real kernel events are captured with
//! it in the VM (`cargo xtask corpus`).

use std::io::Write;
use std::os::fd::AsFd;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let [_, mount, out] = args.as_slice() else {
        eprintln!("usage: capture_events MOUNT OUT");
        return ExitCode::FAILURE;
    };
    let capture = || -> Result<usize, String> {
        let root = rustix::fs::open(
            mount.as_os_str(),
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .map_err(|e| format!("open: {e}"))?;
        let monitor = xfs_abi::healthmon::open_health_monitor(root.as_fd(), true)
            .map_err(|e| format!("health monitor: {e}"))?;
        drop(root);
        let mut file = std::fs::File::create(out).map_err(|e| format!("create: {e}"))?;
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            match rustix::io::read(&monitor, &mut buf) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    file.write_all(&buf[..n])
                        .map_err(|e| format!("write: {e}"))?;
                    file.flush().map_err(|e| format!("write: {e}"))?;
                    total += n;
                }
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(format!("read: {e}")),
            }
        }
    };
    match capture() {
        Ok(bytes) => {
            println!("captured {bytes} bytes");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("capture_events: {e}");
            ExitCode::FAILURE
        }
    }
}
