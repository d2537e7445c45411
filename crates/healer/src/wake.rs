//! A wake-up for a thread that waits in `poll`: an eventfd, so that one fd
//! serves waker and woken, a wake never blocks the waker, and any number of
//! wakes before the poll returns make one.

use rustix::event::{EventfdFlags, eventfd};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

#[derive(Debug)]
pub struct Wake(OwnedFd);

impl Wake {
    pub fn new() -> std::io::Result<Wake> {
        Ok(Wake(eventfd(
            0,
            EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK,
        )?))
    }

    /// Makes the woken thread's poll return, now or at its next call.
    pub fn wake(&self) {
        // Fails (EAGAIN) only with the counter at its maximum, when the fd
        // is readable already.
        let _ = rustix::io::write(&self.0, &1u64.to_ne_bytes());
    }

    /// Resets it; returns the wakes since the last reset. The woken
    /// thread calls it before it looks at what it was woken for, so that a
    /// wake that comes after the look is still seen by the next poll.
    pub fn clear(&self) -> u64 {
        let mut count = [0u8; 8];
        match rustix::io::read(&self.0, &mut count) {
            Ok(8) => u64::from_ne_bytes(count),
            _ => 0, // EAGAIN: not woken
        }
    }
}

impl AsFd for Wake {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustix::event::{PollFd, PollFlags, Timespec, poll};

    fn readable(wake: &Wake) -> bool {
        let mut fds = [PollFd::new(wake, PollFlags::IN)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        poll(&mut fds, Some(&zero)).unwrap() == 1
    }

    #[test]
    fn wakes_coalesce_until_cleared() {
        let wake = Wake::new().unwrap();
        assert!(!readable(&wake));
        assert_eq!(wake.clear(), 0, "cleared without a wake");
        for _ in 0..1000 {
            wake.wake();
        }
        assert!(readable(&wake));
        assert_eq!(wake.clear(), 1000);
        assert!(!readable(&wake), "one clear takes every wake before it");
        wake.wake();
        assert!(readable(&wake), "a wake after the clear is seen");
    }
}
