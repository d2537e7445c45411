//! The media patrol's walk over a device, as pure code: which sectors to
//! verify next, and with what I/O size and reporting.
//!
//! `XFS_IOC_VERIFY_MEDIA` reads sequentially and stops at the first failed
//! I/O, leaving its cursor there. The walk reads in large silent I/Os
//! (`Coarse`); when one fails, it goes over that I/O's span again one block
//! per I/O with reporting on (`Fine`), so the kernel reports exactly the
//! blocks that fail (and maps them to lost file ranges), not a whole
//! megabyte; each failing block is stepped over, then the large reads
//! resume.

/// Sectors (512 bytes) per coarse I/O: the kernel's default 1 MiB.
pub const COARSE_IO_SECTORS: u64 = 2048;

/// One `XFS_IOC_VERIFY_MEDIA` call to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub start: u64,
    pub end: u64,
    /// Report failures to the health monitor (the fine pass only).
    pub report: bool,
    /// Bytes per I/O (`me_max_io_size`).
    pub io_bytes: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Coarse,
    /// Block by block up to `until` (exclusive).
    Fine {
        until: u64,
    },
}

/// The walk over sectors `0..end`, from a saved cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Walk {
    end: u64,
    next: u64,
    phase: Phase,
    block_sectors: u64,
    chunk_sectors: u64,
    bad_blocks: u64,
}

impl Walk {
    /// A walk resuming at `next` (0 for a new pass), verifying
    /// `chunk_sectors` per call and pinpointing failures per block of
    /// `block_sectors`.
    pub fn new(end: u64, next: u64, block_sectors: u64, chunk_sectors: u64) -> Walk {
        let block_sectors = block_sectors.clamp(1, COARSE_IO_SECTORS);
        Walk {
            end,
            next: next.min(end),
            phase: Phase::Coarse,
            block_sectors,
            chunk_sectors: chunk_sectors.max(COARSE_IO_SECTORS),
            bad_blocks: 0,
        }
    }

    /// Where a resumed walk would start (saved between calls).
    pub fn cursor(&self) -> u64 {
        self.next
    }

    pub fn end(&self) -> u64 {
        self.end
    }

    pub fn is_done(&self) -> bool {
        self.next >= self.end
    }

    /// Blocks found failing (and reported) so far.
    pub fn bad_blocks(&self) -> u64 {
        self.bad_blocks
    }

    /// Per mille of the device behind the cursor.
    pub fn per_mille(&self) -> u64 {
        if self.end == 0 {
            1000
        } else {
            u64::try_from(u128::from(self.next) * 1000 / u128::from(self.end)).unwrap_or(1000)
        }
    }

    /// The next call, or None when the pass is over.
    pub fn request(&self) -> Option<Request> {
        if self.is_done() {
            return None;
        }
        Some(match self.phase {
            Phase::Coarse => Request {
                start: self.next,
                end: self.next.saturating_add(self.chunk_sectors).min(self.end),
                report: false,
                io_bytes: 0, // the kernel's default, 1 MiB
            },
            Phase::Fine { until } => Request {
                start: self.next,
                end: until,
                report: true,
                io_bytes: u32::try_from(self.block_sectors * 512).unwrap_or(u32::MAX),
            },
        })
    }

    /// What the call made of `request`: its cursor came back at `reached`
    /// (`request.end` when every sector read fine).
    pub fn advance(&mut self, request: &Request, reached: u64) {
        let reached = reached.clamp(request.start, request.end);
        match self.phase {
            _ if reached >= request.end => self.next = request.end,
            // A large I/O failed at `reached`: go over its span block by block.
            Phase::Coarse => {
                self.next = reached;
                self.phase = Phase::Fine {
                    until: reached.saturating_add(COARSE_IO_SECTORS).min(self.end),
                };
                return;
            }
            // This block failed and was reported: step over it.
            Phase::Fine { until } => {
                self.bad_blocks += 1;
                self.next = reached.saturating_add(self.block_sectors).min(until);
            }
        }
        if let Phase::Fine { until } = self.phase
            && self.next >= until
        {
            self.phase = Phase::Coarse;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The kernel's loop: I/Os of `io` sectors from `start`; the first one
    /// containing a bad sector stops the call there, and is reported.
    fn verify(req: &Request, bad: &[u64], reported: &mut Vec<(u64, u64)>) -> u64 {
        let io = if req.io_bytes == 0 {
            COARSE_IO_SECTORS
        } else {
            u64::from(req.io_bytes) / 512
        };
        let mut at = req.start;
        while at < req.end {
            let io_end = (at + io).min(req.end);
            if bad.iter().any(|&b| (at..io_end).contains(&b)) {
                if req.report {
                    reported.push((at, io_end));
                }
                return at;
            }
            at = io_end;
        }
        req.end
    }

    fn run(walk: &mut Walk, bad: &[u64]) -> Vec<(u64, u64)> {
        let mut reported = Vec::new();
        let mut calls = 0;
        while let Some(req) = walk.request() {
            let reached = verify(&req, bad, &mut reported);
            walk.advance(&req, reached);
            calls += 1;
            assert!(calls < 100_000, "the walk does not end");
        }
        reported
    }

    #[test]
    fn a_clean_device_is_read_in_chunks_silently() {
        let mut walk = Walk::new(10_000, 0, 8, 4096);
        assert_eq!(
            walk.request(),
            Some(Request {
                start: 0,
                end: 4096,
                report: false,
                io_bytes: 0
            })
        );
        assert!(run(&mut walk, &[]).is_empty());
        assert!(walk.is_done());
        assert_eq!((walk.per_mille(), walk.bad_blocks()), (1000, 0));
    }

    #[test]
    fn a_failed_megabyte_is_gone_over_block_by_block() {
        let mut walk = Walk::new(100_000, 0, 8, 65_536);
        let req = walk.request().unwrap();
        walk.advance(&req, 6144);
        assert_eq!(
            walk.request(),
            Some(Request {
                start: 6144,
                end: 6144 + 2048,
                report: true,
                io_bytes: 4096
            })
        );
        let fine = walk.request().unwrap();
        walk.advance(&fine, 6160);
        assert_eq!(walk.bad_blocks(), 1);
        assert_eq!(walk.request().unwrap().start, 6168);
    }

    #[test]
    fn a_resumed_walk_starts_at_its_cursor() {
        let walk = Walk::new(10_000, 5000, 8, 2048);
        assert_eq!(walk.request().unwrap().start, 5000);
        assert_eq!(walk.per_mille(), 500);
        assert!(Walk::new(10, 99, 8, 2048).is_done());
    }

    proptest! {
        /// Every bad sector's block is reported exactly once, nothing else
        /// is, the cursor only moves forward, and the walk ends.
        #[test]
        fn every_bad_block_is_reported_once(end in 1u64..50_000, bad in proptest::collection::vec(0u64..50_000, 0..20),
                                            start in 0u64..50_000, block in prop_oneof![Just(1u64), Just(8), Just(16)]) {
            let bad: Vec<u64> = bad.into_iter().filter(|&b| b < end).collect();
            let mut walk = Walk::new(end, start.min(end), block, 4096);
            let from = walk.cursor();
            let reported = run(&mut walk, &bad);
            prop_assert!(walk.is_done());
            for &(s, e) in &reported {
                prop_assert!(e - s <= block, "a report of {} sectors", e - s);
                prop_assert!(bad.iter().any(|&b| (s..e).contains(&b)), "{:?} holds no bad sector", (s, e));
            }
            for &b in bad.iter().filter(|&&b| b >= from) {
                prop_assert_eq!(reported.iter().filter(|&&(s, e)| (s..e).contains(&b)).count(), 1, "sector {} reported", b);
            }
            prop_assert_eq!(walk.bad_blocks(), reported.len() as u64);
        }
    }
}
