//! The daemon's core (`xfs_healer::core::Core::step`) driven by arbitrary
//! kernel records and arbitrary worker answers, in any order.
//!
//! Input: a stream of operations, each one byte, some followed by their
//! data: 0 a batch of up to 4 raw 64-byte records (count byte, then the
//! records, zero-padded), 1 the batch's end with fdinfo's lost total (u64,
//! little endian), 2 the oldest outstanding lookup answered, 3 the running
//! repair done (outcome byte), 4/5 the full scan started/ended, 6 a
//! full-scan request, 7 a signal, 8 the end of the stream, 9 time passes
//! (u16 ms).
//!
//! Checks: nothing panics; at most one repair is handed out at a time;
//! nothing is handed out after the exit; a deadline is never in the past.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;
use xfs_events::RECORD_LEN;
use xfs_healer::core::{Core, Effect, Input, NoPath, Now, RepairText, ScanEnd, Setup};
use xfs_policy::{Outcome, Target};
use xfs_report::RepairOutcome;

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Vec<u8> {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        let mut out = head.to_vec();
        out.resize(n, 0);
        out
    }
    fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
}

fuzz_target!(|data: &[u8]| {
    let mut core = Core::new(Setup {
        mount_arg: b"/mnt".to_vec(),
        uuid: "u".into(),
        device: "/dev/vdb".into(),
        repair: true,
        quiet: data.first().is_some_and(|b| b & 1 == 1),
        paths: true,
        policy: xfs_policy::Config::default(),
        hook_classes: xfs_healer::kinds::HookClass::ALL.to_vec(),
        hook_interval_ms: 1_000,
        metrics_interval_ms: Some(1_000),
        started_usec: 0,
    });
    let mut input = Reader(data);
    let mut now = 0u64;
    let mut running: Option<Target> = None;
    let mut lookups: VecDeque<Input> = VecDeque::new();
    let mut exited = false;
    let mut effects = core.step(Now { ms: 0, usec: 0 }, Input::Start { interrupted: false });
    loop {
        for effect in effects.drain(..) {
            assert!(!exited, "{effect:?} after the exit");
            match effect {
                Effect::Repair(target) => {
                    assert!(running.is_none(), "two repairs at once");
                    running = Some(target);
                }
                Effect::LookupPaths { token, .. } => lookups.push_back(Input::Paths {
                    token,
                    paths: if token % 2 == 0 {
                        Ok(vec![b"/mnt/a\nb".to_vec(), vec![0xff, b'/', 0x1b]])
                    } else {
                        Err(NoPath::Gone)
                    },
                }),
                Effect::LookupOwners { token, .. } => lookups.push_back(Input::Owners {
                    token,
                    owners: Err(xfs_abi::Errno::IO),
                }),
                Effect::Exit(_) => exited = true,
                _ => {}
            }
        }
        if let Some(due) = core.next_deadline(now) {
            assert!(due >= now, "a deadline in the past");
        }
        let Some(op) = input.byte() else { break };
        now += 1;
        let at = Now {
            ms: now,
            usec: now * 1000,
        };
        let step = match op % 10 {
            0 => {
                let count = usize::from(input.byte().unwrap_or(1) % 4 + 1);
                let records = (0..count)
                    .map(|_| {
                        let mut raw = [0u8; RECORD_LEN];
                        raw.copy_from_slice(&input.take(RECORD_LEN));
                        xfs_events::decode(&raw)
                    })
                    .collect();
                Input::Records(records)
            }
            1 => {
                let bytes = input.take(8);
                Input::BatchEnd {
                    fdinfo_lost: Some(u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))),
                }
            }
            2 => match lookups.pop_front() {
                Some(answer) => answer,
                None => continue,
            },
            3 => match running.take() {
                Some(target) => {
                    let outcome =
                        Outcome::ALL[usize::from(input.byte().unwrap_or(0)) % Outcome::ALL.len()];
                    Input::RepairDone {
                        target,
                        outcome,
                        text: RepairText::Reference(RepairOutcome::Success),
                    }
                }
                None => continue,
            },
            4 => Input::ScanStarted(Ok(())),
            5 => Input::ScanEnded(ScanEnd::Exited(Some(0))),
            6 => Input::FullScanRequested,
            7 => Input::Signal(15),
            8 => Input::Eof { truncated: 0 },
            _ => {
                let bytes = input.take(2);
                now += u64::from(u16::from_le_bytes(bytes.try_into().unwrap_or([0; 2])));
                Input::Tick
            }
        };
        let at = if op % 10 == 9 {
            Now {
                ms: now,
                usec: now * 1000,
            }
        } else {
            at
        };
        effects = core.step(at, step);
    }
});
