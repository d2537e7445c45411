//! `cargo xtask install`: the release binaries, systemd units, journal
//! catalog, event JSON Schema, man pages and shell completion, laid out as xfsprogs lays out
//! its own (binaries in `<prefix>/libexec/xfsprogs`), under `DESTDIR` for
//! packagers. Also the packaging check `cargo xtask test` runs: install
//! into a scratch directory, then lint the man pages and the units.

use crate::cache::repo_root;
use crate::suite::build_ours;
use anyhow::{Context, Result, bail};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BINARIES: [&str; 2] = ["xfs_healer", "xfs_healer_start"];
const UNITS: [&str; 3] = [
    "xfs_healer@.service",
    "xfs_healer_start.service",
    "system-xfs_healer.slice",
];
/// Drop-ins of ours for xfsprogs' healer unit, in `xfs_healer@.service.d/`.
const DROPINS: [&str; 3] = [
    "10-least-privilege.conf",
    "10-reload.conf",
    "10-restart.conf",
];
/// Drop-ins an operator adds for a feature that needs more privilege
/// (installed as examples, in `packaging/systemd/optional/`), with their
/// names in the VM payload.
const OPTIONAL_DROPINS: [(&str, &str); 1] = [("60-api-group.conf", "optional-60-api-group.conf")];
const MAN_PAGES: [&str; 3] = ["xfs_healer.8", "xfs_healer_start.8", "xfs_healerctl.8"];
/// Example hook scripts, installed for operators to copy.
const HOOK_EXAMPLES: [&str; 4] = [
    "all-logger",
    "repair_failed-mail",
    "shutdown-mail",
    "media_error-webhook",
];
/// The settings file of the webhook example, installed beside the hooks.
const WEBHOOK_SETTINGS: &str = "webhook.conf";
/// The journald message catalog (one entry per `MESSAGE_ID`), in
/// `packaging/journal/`, installed to `<prefix>/lib/systemd/catalog/`.
const CATALOG: &str = "xfs_healer.catalog";
/// Prometheus alert rules for the metrics (and their promtool tests, which
/// name the rules beside them), installed as examples.
const PROMETHEUS_EXAMPLES: [&str; 2] = ["xfs_healer.rules.yml", "xfs_healer.rules.test.yml"];

/// Where things go: `destdir` + the `prefix` layout.
#[derive(Debug)]
pub struct Layout {
    pub destdir: PathBuf,
    pub prefix: PathBuf,
}

impl Layout {
    fn under(&self, path: &Path) -> PathBuf {
        self.destdir.join(path.strip_prefix("/").unwrap_or(path))
    }
    fn libexec(&self) -> PathBuf {
        self.prefix.join("libexec/xfsprogs")
    }
}

/// Where the drop-ins are in the source tree.
pub fn dropin_dir() -> PathBuf {
    repo_root().join("packaging/systemd/xfs_healer@.service.d")
}

/// The drop-ins, as (name, contents), for the VM payload; the optional
/// ones named `optional-<name>` (the guest installs only the others).
pub fn dropins() -> Result<Vec<(&'static str, Vec<u8>)>> {
    let optional = repo_root().join("packaging/systemd/optional");
    let shipped = DROPINS
        .iter()
        .map(|d| Ok((*d, fs::read(dropin_dir().join(d))?)));
    let opt_in = OPTIONAL_DROPINS
        .iter()
        .map(|(d, payload)| Ok((*payload, fs::read(optional.join(d))?)));
    shipped.chain(opt_in).collect()
}

/// The catalog, as (name, contents), for the VM payload.
pub fn catalog() -> Result<(&'static str, Vec<u8>)> {
    Ok((
        CATALOG,
        fs::read(repo_root().join("packaging/journal").join(CATALOG))?,
    ))
}

/// The example hooks, for a scenario to install as an operator would.
pub fn hook_examples() -> Result<Vec<(&'static str, Vec<u8>)>> {
    HOOK_EXAMPLES
        .iter()
        .map(|&hook| {
            Ok((
                hook,
                fs::read(repo_root().join("packaging/hooks").join(hook))?,
            ))
        })
        .collect()
}

/// A unit file's sections and directives in order, without comments and
/// blank lines: what systemd sees.
fn directives(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .fold(String::new(), |acc, l| acc + l + "\n")
}

/// `cargo xtask install [--destdir DIR] [--prefix PREFIX]`
pub fn install_command(args: &[String]) -> Result<bool> {
    let mut layout = Layout {
        destdir: std::env::var_os("DESTDIR").map_or_else(|| PathBuf::from("/"), PathBuf::from),
        prefix: PathBuf::from("/usr"),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--destdir" => {
                layout.destdir = it.next().context("--destdir needs a directory")?.into()
            }
            "--prefix" => layout.prefix = it.next().context("--prefix needs a directory")?.into(),
            other => bail!(
                "unknown install argument {other:?}; usage: cargo xtask install [--destdir DIR] [--prefix PREFIX]"
            ),
        }
    }
    if !layout.prefix.is_absolute() {
        bail!("--prefix must be an absolute path");
    }
    install(&layout)?;
    Ok(true)
}

pub fn install(layout: &Layout) -> Result<()> {
    let built = build_ours()?;
    let packaging = repo_root().join("packaging");
    let libexec = layout.libexec();
    let put = |from: &Path, to: PathBuf, mode: u32| -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        fs::create_dir_all(to.parent().context("no parent directory")?)?;
        fs::copy(from, &to).with_context(|| format!("installing {}", to.display()))?;
        fs::set_permissions(&to, fs::Permissions::from_mode(mode))?;
        println!("installed {}", to.display());
        Ok(())
    };
    for bin in BINARIES {
        put(&built.join(bin), layout.under(&libexec.join(bin)), 0o755)?;
    }
    // The operator's client is a command, not a helper.
    put(
        &built.join("xfs_healerctl"),
        layout.under(&layout.prefix.join("sbin/xfs_healerctl")),
        0o755,
    )?;
    for (dropin, _) in OPTIONAL_DROPINS {
        put(
            &packaging.join("systemd/optional").join(dropin),
            layout.under(
                &layout
                    .prefix
                    .join("share/doc/xfs-healer/examples")
                    .join(dropin),
            ),
            0o644,
        )?;
    }
    let examples = layout.under(&layout.prefix.join("share/doc/xfs-healer/examples/hooks.d"));
    for hook in HOOK_EXAMPLES {
        put(
            &packaging.join("hooks").join(hook),
            examples.join(hook),
            0o755,
        )?;
    }
    put(
        &packaging.join("hooks").join(WEBHOOK_SETTINGS),
        examples
            .parent()
            .unwrap_or(&examples)
            .join(WEBHOOK_SETTINGS),
        0o644,
    )?;
    let rules = layout.under(
        &layout
            .prefix
            .join("share/doc/xfs-healer/examples/prometheus"),
    );
    for file in PROMETHEUS_EXAMPLES {
        put(
            &packaging.join("prometheus").join(file),
            rules.join(file),
            0o644,
        )?;
    }
    put(
        &repo_root().join("crates/varlink/io.xfs.Healer.varlink"),
        layout.under(&layout.prefix.join("share/varlink/io.xfs.Healer.varlink")),
        0o644,
    )?;
    // The JSON Schema of the events (JSON lines, hook stdin, the API).
    put(
        &packaging.join("schema/event.schema.json"),
        layout.under(&layout.prefix.join("share/xfs_healer/event.schema.json")),
        0o644,
    )?;
    let unit_dir = layout.under(&layout.prefix.join("lib/systemd/system"));
    for unit in UNITS {
        let text = fs::read_to_string(packaging.join("systemd").join(unit))?
            .replace("@libexecdir@", &libexec.to_string_lossy());
        fs::create_dir_all(&unit_dir)?;
        fs::write(unit_dir.join(unit), text)?;
        println!("installed {}", unit_dir.join(unit).display());
    }
    for dropin in DROPINS {
        put(
            &dropin_dir().join(dropin),
            unit_dir.join("xfs_healer@.service.d").join(dropin),
            0o644,
        )?;
    }
    // `journalctl --update-catalog` (run by packages on install) reads it
    // from there.
    put(
        &packaging.join("journal").join(CATALOG),
        layout.under(&layout.prefix.join("lib/systemd/catalog").join(CATALOG)),
        0o644,
    )?;
    for page in MAN_PAGES {
        put(
            &packaging.join("man").join(page),
            layout.under(&layout.prefix.join("share/man/man8").join(page)),
            0o644,
        )?;
    }
    let completions = layout.under(&layout.prefix.join("share/bash-completion/completions"));
    // bash-completion loads by command name. xfs_healerctl's is generated
    // by `xfs_healerctl completion SHELL` (a unit test keeps them in step).
    for command in ["xfs_healer", "xfs_healerctl"] {
        put(
            &packaging.join(format!("completions/{command}.bash")),
            completions.join(command),
            0o644,
        )?;
    }
    // zsh and fish (generated likewise) where their own packages look.
    for (shell, dir, name) in [
        ("zsh", "share/zsh/vendor-completions", "_xfs_healerctl"),
        (
            "fish",
            "share/fish/vendor_completions.d",
            "xfs_healerctl.fish",
        ),
    ] {
        put(
            &packaging.join(format!("completions/xfs_healerctl.{shell}")),
            layout.under(&layout.prefix.join(dir)).join(name),
            0o644,
        )?;
    }
    let alias = completions.join("xfs_healer_start");
    let _ = fs::remove_file(&alias);
    std::os::unix::fs::symlink("xfs_healer", &alias)?;
    Ok(())
}

/// Installs into a scratch prefix and checks what landed: man pages render
/// without warnings, units pass `systemd-analyze verify` (when installed)
/// and carry exactly the directives of xfsprogs' units in `sid_root`.
pub fn check(sid_root: &Path) -> Result<bool> {
    println!("==> packaging check");
    // The scratch directory is the prefix, not a DESTDIR, so the units
    // name binaries that exist and systemd-analyze can check them.
    let prefix = repo_root().join("target/install-check/usr");
    let _ = fs::remove_dir_all(&prefix);
    let layout = Layout {
        destdir: PathBuf::from("/"),
        prefix: prefix.clone(),
    };
    install(&layout)?;
    let mut ok = true;
    for page in MAN_PAGES {
        // `man xfs_healer`, as a user would type it, found through MANPATH.
        let name = page.trim_end_matches(".8");
        let out = Command::new("man")
            .args(["--warnings", "8", name])
            .env("MANPATH", prefix.join("share/man"))
            .env("MANWIDTH", "80")
            .output();
        match out {
            Ok(out) if out.status.success() && out.stderr.is_empty() && !out.stdout.is_empty() => {}
            Ok(out) => {
                ok = false;
                println!("man {page}: {}", String::from_utf8_lossy(&out.stderr));
            }
            Err(e) => println!("man not installed ({e}): man pages not rendered"),
        }
    }
    for bin in BINARIES {
        let path = prefix.join("libexec/xfsprogs").join(bin);
        let version = Command::new(&path).arg("-V").output()?;
        if String::from_utf8_lossy(&version.stdout) != format!("{bin} version 7.2.0\n") {
            ok = false;
            println!(
                "{bin} -V printed {:?}",
                String::from_utf8_lossy(&version.stdout)
            );
        }
    }
    let units: Vec<PathBuf> = UNITS
        .iter()
        .map(|u| prefix.join("lib/systemd/system").join(u))
        .collect();
    match Command::new("systemd-analyze")
        .arg("verify")
        .args(&units)
        .output()
    {
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let problems: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            if !out.status.success() || !problems.is_empty() {
                ok = false;
                println!("systemd-analyze verify:\n{}", problems.join("\n"));
            }
        }
        Err(e) => println!("systemd-analyze not installed ({e}): units not verified"),
    }
    for unit in UNITS {
        let ours = directives(&fs::read_to_string(
            prefix.join("lib/systemd/system").join(unit),
        )?)
        .replace(
            &*prefix.join("libexec/xfsprogs").to_string_lossy(),
            "/usr/libexec/xfsprogs",
        );
        let theirs = directives(&fs::read_to_string(
            sid_root.join("usr/lib/systemd/system").join(unit),
        )?);
        if ours != theirs {
            ok = false;
            println!("{unit} differs from xfsprogs' unit:\n--- ours\n{ours}--- xfsprogs\n{theirs}");
        }
    }
    for hook in HOOK_EXAMPLES {
        let path = prefix
            .join("share/doc/xfs-healer/examples/hooks.d")
            .join(hook);
        let syntax = Command::new("sh").arg("-n").arg(&path).output()?;
        if !syntax.status.success() {
            ok = false;
            println!(
                "{}: {}",
                path.display(),
                String::from_utf8_lossy(&syntax.stderr)
            );
        }
    }
    for unit in UNITS.iter().filter(|u| u.ends_with(".service")) {
        let ours = exposure(&prefix.join("lib/systemd/system").join(unit));
        let theirs = exposure(&sid_root.join("usr/lib/systemd/system").join(unit));
        match (ours, theirs) {
            (Some(o), Some(t)) if o <= t => {
                println!("{unit}: systemd-analyze security exposure {o} (xfsprogs' unit: {t})")
            }
            (Some(o), Some(t)) => {
                ok = false;
                println!("{unit}: exposure {o} is above xfsprogs' {t}");
            }
            _ => println!("{unit}: systemd-analyze security gave no score; exposure not compared"),
        }
    }
    println!("packaging check: {}", if ok { "ok" } else { "FAILED" });
    Ok(ok)
}

/// `systemd-analyze security --offline` of a unit file: its overall
/// exposure level (0 = locked down, 10 = exposed).
fn exposure(unit: &Path) -> Option<f64> {
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--no-pager"])
        .arg(unit)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("Overall exposure level"))?;
    line.rsplit_once(": ")?
        .1
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
