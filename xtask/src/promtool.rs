//! The Prometheus alert rules in `packaging/prometheus/`: `promtool check
//! rules` lints them and `promtool test rules` runs their unit tests
//! (every alert firing in one case and silent in its neighbours). promtool
//! comes from Debian's `prometheus` package, which
//! [`crate::deps::ensure_host_tools`] installs.

use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

/// Where the rules live, relative to the repository root.
const DIR: &str = "packaging/prometheus";
const RULES: &str = "xfs_healer.rules.yml";
/// Names [`RULES`] in `rule_files`, relative to itself.
const TESTS: &str = "xfs_healer.rules.test.yml";

/// Lints and tests the rules under `root` (the repository root).
pub fn check(root: &Path) -> Result<bool> {
    println!("==> promtool: Prometheus alert rules");
    let dir = root.join(DIR);
    let mut ok = true;
    for (verb, file) in [("check", RULES), ("test", TESTS)] {
        let status = Command::new("promtool")
            .args([verb, "rules", file])
            .current_dir(&dir)
            .status()
            .context("running promtool (Debian package prometheus)")?;
        ok &= status.success();
    }
    println!("promtool: {}", if ok { "ok" } else { "FAILED" });
    Ok(ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::repo_root;

    fn read(rel: &str) -> String {
        std::fs::read_to_string(repo_root().join(rel)).unwrap()
    }

    /// What the test command runs, by hand (needs promtool):
    /// `cargo test -p xtask promtool -- --ignored`.
    #[test]
    #[ignore = "runs promtool"]
    fn promtool_passes() {
        assert!(check(&repo_root()).unwrap());
    }

    /// Every `xfs_healer_*` metric the rules use is one the healer writes,
    /// so a renamed metric cannot leave an alert that never fires.
    #[test]
    fn rules_name_metrics_the_healer_writes() {
        let rules = read(&format!("{DIR}/{RULES}"));
        let status = read("crates/healer/src/status.rs");
        let mut used: Vec<&str> = rules
            .match_indices("xfs_healer_")
            .map(|(at, _)| {
                let rest = &rules[at..];
                let end = rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            // Not metrics: `xfs_healer_<key>.prom` and the launcher.
            .filter(|name| !name.ends_with('_') && *name != "xfs_healer_start")
            .collect();
        used.sort_unstable();
        used.dedup();
        assert!(used.len() >= 6, "{used:?}");
        for name in used {
            assert!(
                status.contains(&format!("\"{name}\"")),
                "{RULES} uses {name}, which crates/healer/src/status.rs does not write"
            );
        }
    }

    /// Each alert has a `for:`, a severity and both annotations, and a
    /// test of its own.
    #[test]
    fn every_alert_is_complete_and_tested() {
        let rules = read(&format!("{DIR}/{RULES}"));
        let tests = read(&format!("{DIR}/{TESTS}"));
        let alerts: Vec<&str> = rules
            .lines()
            .filter_map(|l| l.trim().strip_prefix("- alert: "))
            .collect();
        assert_eq!(alerts.len(), 6, "{alerts:?}");
        for key in ["for: ", "severity: ", "summary: ", "description: "] {
            let n = rules
                .lines()
                .filter(|l| l.trim_start().starts_with(key))
                .count();
            assert_eq!(n, alerts.len(), "{key:?} in {RULES}");
        }
        for alert in alerts {
            assert!(
                tests.contains(&format!("alertname: {alert}\n")),
                "{TESTS} does not test {alert}"
            );
        }
    }
}
