//! How statuses and events are printed.

use std::io::Write;
use xfs_varlink::{Event, Status};

/// Microseconds since the epoch, now.
fn now_usec() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

pub fn ago(usec: u64) -> String {
    let s = now_usec().saturating_sub(usec) / 1_000_000;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{}s", s / 60, s % 60),
        3600..86400 => format!("{}h{}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// ISO 8601 in UTC to the second, as `2026-03-01T12:34:56Z`.
pub fn utc(usec: u64) -> String {
    let secs = usec / 1_000_000;
    let (days, rest) = (secs / 86400, secs % 86400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 ≥ 0.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

pub fn print_status(out: &mut impl Write, status: &Status) -> std::io::Result<()> {
    let c = &status.counters;
    writeln!(
        out,
        "{} ({}, {} mode, monitoring for {})",
        status.mountpoint,
        status.uuid,
        status.mode,
        ago(status.monitoring_since_usec)
    )?;
    if status.shut_down {
        writeln!(out, "  the filesystem has shut down")?;
    }
    if status.sick.is_empty() {
        writeln!(out, "  sick now: none")?;
    } else {
        writeln!(
            out,
            "  sick now: {}{}",
            status.sick.len(),
            if status.sick_truncated {
                " (and more)"
            } else {
                ""
            }
        )?;
        for s in &status.sick {
            writeln!(
                out,
                "    {}: {} (for {})",
                s.object,
                s.structures.join(", "),
                ago(s.since_usec)
            )?;
        }
    }
    writeln!(
        out,
        "  repairs: {} pending, {} running, {} succeeded, {} failed; full scans: {}{}; events: {}, lost: {}{}",
        status.repairs_pending,
        status.repairs_running,
        c.repairs_succeeded,
        c.repairs_failed,
        c.full_scans,
        if status.full_scan_running {
            " (one running)"
        } else {
            ""
        },
        c.events,
        c.lost_events,
        match c.test_events {
            0 => String::new(),
            n => format!("; test events: {n}"),
        }
    )
}

/// `status --check`'s verdict on one filesystem: its exit status and line.
pub fn check(status: &Status) -> (u8, String) {
    let m = &status.mountpoint;
    if status.shut_down {
        return (crate::UNREACHABLE, format!("{m}: CRITICAL: shut down"));
    }
    let failed = status.counters.repairs_failed;
    let mut trouble = Vec::new();
    if !status.sick.is_empty() {
        let n = status.sick.len();
        trouble.push(format!(
            "{n}{} sick object{}",
            if status.sick_truncated { "+" } else { "" },
            if n == 1 { "" } else { "s" }
        ));
    }
    if failed > 0 {
        trouble.push(format!(
            "{failed} failed repair{}",
            if failed == 1 { "" } else { "s" }
        ));
    }
    if trouble.is_empty() {
        (crate::OK, format!("{m}: OK: healthy"))
    } else {
        (crate::SICK, format!("{m}: WARNING: {}", trouble.join(", ")))
    }
}

/// An event: with `json`, the daemon's own JSON line for it, key for key.
pub fn print_event(out: &mut impl Write, event: &Event, json: bool) -> std::io::Result<()> {
    if json {
        writeln!(out, "{}", xfs_healer::core::json_line(event))
    } else {
        writeln!(out, "{} {}", utc(event.time_usec), event.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xfs_varlink::SickObject;

    #[test]
    fn durations_read_well() {
        let now = now_usec();
        assert_eq!(ago(now - 5_000_000), "5s");
        assert_eq!(ago(now - 125_000_000), "2m5s");
        assert_eq!(ago(now - 90_000_000_000), "1d1h");
    }

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_709_210_096_999_999), "2024-02-29T12:34:56Z");
        assert_eq!(utc(4_107_542_399_000_000), "2100-02-28T23:59:59Z");
        assert_eq!(utc(4_107_542_400_000_000), "2100-03-01T00:00:00Z");
    }

    #[test]
    fn check_grades_each_filesystem() {
        let mut s = Status {
            mountpoint: "/mnt".into(),
            ..Status::default()
        };
        assert_eq!(check(&s), (crate::OK, "/mnt: OK: healthy".into()));
        s.counters.repairs_failed = 1;
        assert_eq!(
            check(&s),
            (crate::SICK, "/mnt: WARNING: 1 failed repair".into())
        );
        s.sick = vec![
            SickObject {
                object: "inode 1".into(),
                structures: vec!["directory".into()],
                since_usec: 0,
            };
            2
        ];
        s.sick_truncated = true;
        s.counters.repairs_failed = 3;
        assert_eq!(
            check(&s),
            (
                crate::SICK,
                "/mnt: WARNING: 2+ sick objects, 3 failed repairs".into()
            )
        );
        s.shut_down = true;
        assert_eq!(
            check(&s),
            (crate::UNREACHABLE, "/mnt: CRITICAL: shut down".into())
        );
    }

    #[test]
    fn json_events_carry_the_mount_point_and_version() {
        let mut event = Event::new(1, "sick", "/mnt/a directory: sick");
        (event.seq, event.mountpoint, event.uuid) = (4, "/mnt".into(), "u".into());
        event.device = "/dev/vdb".into();
        event.structures = Some(vec!["directory".into()]);
        let mut out = Vec::new();
        print_event(&mut out, &event, true).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"class":"sick","device":"/dev/vdb","kind":"sick","message":"/mnt/a directory: sick","mountpoint":"/mnt","seq":4,"structures":["directory"],"time_usec":1,"uuid":"u","v":1}"#
                .to_owned()
                + "\n"
        );
        let mut out = Vec::new();
        print_event(&mut out, &event, false).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:00Z /mnt/a directory: sick\n"
        );
    }
}
