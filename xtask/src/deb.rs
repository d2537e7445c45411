//! `cargo xtask deb`: a Debian package of the healer, built with `dpkg-deb
//! --build --root-owner-group` from a tree that [`install::install`] lays
//! out for prefix `/usr` (so the package and `cargo xtask install` never
//! disagree), plus what a package needs besides: gzipped man pages, the
//! copyright file and changelog, an example `/etc/xfs_healer.toml`, the
//! hooks directory, and maintainer scripts that divert xfsprogs' own
//! healer files (so an upgrade of xfsprogs does not bring the C healer
//! back, and our removal does) and enable and restart the launcher as
//! xfsprogs' scripts do. The test command builds it and runs `lintian`.

use crate::cache::{Cache, repo_root};
use crate::command::{output, run};
use crate::install::{self, Layout};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use xfs_healer::config::{RANGES, Settings};

const PACKAGE: &str = "xfs-healer";
/// The Debian revision of the workspace version.
const REVISION: &str = "1";
/// A reserved domain (RFC 2606): lintian rejects `localhost`.
const MAINTAINER: &str = "xfs-healer developers <xfs-healer@example.org>";
/// The files of xfsprogs 7.2's package that ours ships too, at the same
/// paths (`dpkg-deb -c xfsprogs_7.2.0-1_amd64.deb`, the names with
/// `xfs_healer` in them; the test command compares this list with sid's
/// package in the VM cache). Each is diverted to `<path>.xfsprogs`.
const DIVERTED: [&str; 7] = [
    "/usr/libexec/xfsprogs/xfs_healer",
    "/usr/libexec/xfsprogs/xfs_healer_start",
    "/usr/lib/systemd/system/system-xfs_healer.slice",
    "/usr/lib/systemd/system/xfs_healer@.service",
    "/usr/lib/systemd/system/xfs_healer_start.service",
    "/usr/share/man/man8/xfs_healer.8.gz",
    "/usr/share/man/man8/xfs_healer_start.8.gz",
];
const DIVERTED_SUFFIX: &str = ".xfsprogs";
/// The example configuration, the package's only conffile.
const CONFIG: &str = "/etc/xfs_healer.toml";
/// Shipped empty; `[hooks] dir` names it.
const HOOKS_DIR: &str = "/etc/xfs_healer/hooks.d";
/// Units the maintainer scripts enable and start, as xfsprogs' do (its
/// template `xfs_healer@.service` xfsprogs enables itself, and we depend
/// on xfsprogs).
const ENABLED_UNITS: [&str; 2] = ["system-xfs_healer.slice", "xfs_healer_start.service"];
const LAUNCHER_UNIT: &str = "xfs_healer_start.service";
/// What lintian may say that does not apply to a package built here.
const LINTIAN_OVERRIDES: &str = "\
# Built from the source tree, not uploaded to Debian: no ITP bug to close.
xfs-healer: initial-upload-closes-no-bugs
";

/// `<target dir>/debian`, beside the binaries `build_ours` makes.
fn output_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), PathBuf::from)
        .join("debian")
}

fn version() -> String {
    format!("{}-{REVISION}", env!("CARGO_PKG_VERSION"))
}

/// `cargo xtask deb`
pub fn deb_command(args: &[String]) -> Result<bool> {
    if let Some(arg) = args.first() {
        bail!("unknown deb argument {arg:?}; usage: cargo xtask deb");
    }
    let deb = build()?;
    println!("{}", deb.display());
    Ok(true)
}

/// Builds `<target dir>/debian/xfs-healer_<version>_<arch>.deb`.
pub fn build() -> Result<PathBuf> {
    let out = output_dir();
    // `debian/<package>` under a directory with a `debian/control`, where
    // dpkg-shlibdeps expects a package's files.
    let work = out.join("build");
    let root = work.join("debian").join(PACKAGE);
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&root)?;
    install::install(&Layout {
        destdir: root.clone(),
        prefix: PathBuf::from("/usr"),
    })?;
    let under = |path: &str| root.join(path.trim_start_matches('/'));

    let man8 = under("/usr/share/man/man8");
    for page in fs::read_dir(&man8)? {
        let page = page?.path();
        if page.extension().is_some_and(|e| e == "8") {
            run(Command::new("gzip").arg("-9nf").arg(&page))?;
        }
    }
    write(&under(CONFIG), example_config().as_bytes(), 0o644)?;
    fs::create_dir_all(under(HOOKS_DIR))?;
    let epoch = source_date_epoch();
    let doc = under(&format!("/usr/share/doc/{PACKAGE}"));
    write(&doc.join("copyright"), copyright(epoch)?.as_bytes(), 0o644)?;
    let changelog = doc.join("changelog.Debian");
    write(
        &changelog,
        changelog_text(&version(), epoch).as_bytes(),
        0o644,
    )?;
    run(Command::new("gzip").arg("-9nf").arg(&changelog))?;
    write(
        &under(&format!("/usr/share/lintian/overrides/{PACKAGE}")),
        LINTIAN_OVERRIDES.as_bytes(),
        0o644,
    )?;

    let files = walk(&root)?;
    for (path, meta) in &files {
        if meta.is_dir() {
            set_mode(&root.join(path), 0o755)?;
        }
    }
    let arch = output(Command::new("dpkg").arg("--print-architecture"))?;
    let installed_kib: u64 = files
        .iter()
        .map(|(_, m)| {
            if m.is_file() {
                m.len().div_ceil(1024)
            } else {
                1
            }
        })
        .sum();
    fs::write(
        work.join("debian/control"),
        format!("Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n"),
    )?;
    let depends = shlib_depends(&work, &root)?;
    let control_dir = root.join("DEBIAN");
    fs::create_dir_all(&control_dir)?;
    write(
        &control_dir.join("control"),
        control(&version(), arch.trim(), &depends, installed_kib).as_bytes(),
        0o644,
    )?;
    write(
        &control_dir.join("conffiles"),
        format!("{CONFIG}\n").as_bytes(),
        0o644,
    )?;
    let sums: Vec<&Path> = files
        .iter()
        .filter(|(p, m)| m.is_file() && Path::new("/").join(p) != Path::new(CONFIG))
        .map(|(p, _)| p.as_path())
        .collect();
    let md5sums = output(Command::new("md5sum").args(&sums).current_dir(&root))?;
    write(&control_dir.join("md5sums"), md5sums.as_bytes(), 0o644)?;
    for (name, text) in maintainer_scripts() {
        write(&control_dir.join(name), text.as_bytes(), 0o755)?;
    }

    let deb = out.join(format!("{PACKAGE}_{}_{}.deb", version(), arch.trim()));
    run(Command::new("dpkg-deb")
        .args(["--build", "--root-owner-group"])
        .arg(&root)
        .arg(&deb)
        .env("SOURCE_DATE_EPOCH", epoch.to_string()))?;
    Ok(deb)
}

/// Builds the package and checks it: the diversions are exactly
/// xfsprogs' healer files in sid's package, each shipped by ours; the
/// maintainer scripts parse; `lintian` finds no error (its warnings and
/// notes are printed, not failures).
pub fn check(cache: &Cache) -> Result<bool> {
    println!("==> Debian package");
    let deb = build()?;
    let mut ok = true;
    let listing = |deb: &Path| -> Result<Vec<String>> {
        let text = output(Command::new("dpkg-deb").arg("-c").arg(deb))?;
        Ok(text
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .map(|p| p.trim_start_matches('.').to_string())
            .collect())
    };
    let ours = listing(&deb)?;
    let sid_debs = cache.path("debs");
    let xfsprogs = fs::read_dir(&sid_debs)
        .with_context(|| format!("reading {}", sid_debs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("xfsprogs_"))
        })
        .context("no xfsprogs package in the VM cache (cargo xtask fetch)")?;
    let mut theirs: Vec<String> = listing(&xfsprogs)?
        .into_iter()
        .filter(|p| {
            p.rsplit('/')
                .next()
                .is_some_and(|n| n.contains("xfs_healer"))
        })
        .collect();
    theirs.sort();
    let mut diverted: Vec<String> = DIVERTED.map(String::from).into();
    diverted.sort();
    if theirs != diverted {
        ok = false;
        println!("xfsprogs' healer files {theirs:?} are not the diverted ones {diverted:?}");
    }
    for path in DIVERTED {
        if !ours.iter().any(|p| p == path) {
            ok = false;
            println!("{path} is diverted but not in the package");
        }
    }
    let control_dir = output_dir()
        .join("build/debian")
        .join(PACKAGE)
        .join("DEBIAN");
    for (name, _) in maintainer_scripts() {
        let syntax = Command::new("sh")
            .arg("-n")
            .arg(control_dir.join(name))
            .output()?;
        if !syntax.status.success() {
            ok = false;
            println!("{name}: {}", String::from_utf8_lossy(&syntax.stderr));
        }
    }
    let lintian = Command::new("lintian")
        .args(["--fail-on", "error", "--display-info", "--show-overrides"])
        .arg(&deb)
        .output()
        .context("running lintian (Debian package lintian)")?;
    print!("{}", String::from_utf8_lossy(&lintian.stdout));
    eprint!("{}", String::from_utf8_lossy(&lintian.stderr));
    if !lintian.status.success() {
        ok = false;
        println!("lintian found errors in {}", deb.display());
    }
    println!("Debian package: {}", if ok { "ok" } else { "FAILED" });
    Ok(ok)
}

/// `DEBIAN/control`.
fn control(version: &str, arch: &str, depends: &str, installed_kib: u64) -> String {
    format!(
        "Package: {PACKAGE}\n\
         Version: {version}\n\
         Architecture: {arch}\n\
         Maintainer: {MAINTAINER}\n\
         Installed-Size: {installed_kib}\n\
         Depends: {depends}, xfsprogs (>= 7.2)\n\
         Section: admin\n\
         Priority: optional\n\
         Description: self-healing daemon for XFS filesystems, in Rust\n \
         A drop-in replacement for xfsprogs' xfs_healer and xfs_healer_start:\n \
         the same options, output and systemd units, so the units xfsprogs\n \
         ships run it. It repairs the metadata the kernel reports sick, with\n \
         rate limits and full-scan escalation, and adds a status API\n \
         (xfs_healerctl), journal records with a message catalog, Prometheus\n \
         metrics, hook scripts and a background media patrol.\n \
         .\n \
         The package diverts xfsprogs' healer programs, units and manual pages\n \
         to <path>.xfsprogs; removing it puts them back.\n"
    )
}

/// The ELF binaries' library dependencies from dpkg-shlibdeps (package
/// dpkg-dev), run in `work` on the files under `root`; without it, the
/// C library of the build host and the GCC runtime Rust's std links.
fn shlib_depends(work: &Path, root: &Path) -> Result<String> {
    let elves = [
        "usr/libexec/xfsprogs/xfs_healer",
        "usr/libexec/xfsprogs/xfs_healer_start",
        "usr/sbin/xfs_healerctl",
    ];
    let out = Command::new("dpkg-shlibdeps")
        .arg("-O")
        .args(elves.map(|e| root.join(e)))
        .current_dir(work)
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text
                .lines()
                .find_map(|l| l.strip_prefix("shlibs:Depends="))
                .context("dpkg-shlibdeps printed no shlibs:Depends")?;
            Ok(line.trim().to_string())
        }
        Ok(out) => bail!(
            "dpkg-shlibdeps failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => {
            println!("dpkg-shlibdeps not installed ({e}): depending on this host's glibc");
            let glibc = output(Command::new("getconf").arg("GNU_LIBC_VERSION"))?;
            let glibc = glibc
                .split_whitespace()
                .nth(1)
                .context("getconf GNU_LIBC_VERSION")?;
            Ok(format!("libc6 (>= {glibc}), libgcc-s1"))
        }
    }
}

/// The settings that have no default, with an example value each and
/// what their absence means.
const UNSET: [(&str, &str, &str); 3] = [
    ("api", "group", "only root may use the API"),
    ("metrics", "textfile_dir", "no metrics file"),
    ("hooks", "dir", "no hooks run"),
];

/// Notes on defaults that are not numbers (numbers get their range).
const NOTES: [(&str, &str, &str); 2] = [
    ("patrol", "enabled", "verify the media in the background"),
    (
        "output",
        "format",
        "journal under systemd, else text; or text, json, journal",
    ),
];

/// Every setting, the unset ones given [`UNSET`]'s example values.
fn every_setting() -> Settings {
    let mut s = Settings::default();
    s.api.group = Some("adm".into());
    s.metrics.textfile_dir = Some("/var/lib/prometheus/node-exporter".into());
    s.hooks.dir = Some(HOOKS_DIR.into());
    s
}

/// (section, line) of each setting line of `check-config`'s text.
fn setting_lines(text: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut lines = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
        } else if !line.is_empty() {
            lines.push((section.clone(), line.to_string()));
        }
    }
    lines
}

/// `/etc/xfs_healer.toml` as shipped: every setting commented out, at its
/// default (what `xfs_healerctl check-config` prints without a file),
/// the unset ones at an example value.
fn example_config() -> String {
    let defaults = setting_lines(&Settings::default().describe());
    let mut text = String::from(
        "# Settings of xfs_healer(8), one healer per mounted XFS. Each is shown\n\
         # commented out at its built-in default; the file as shipped changes\n\
         # nothing, and the defaults behave as xfsprogs does. Settings marked\n\
         # \"unset\" have no default: their feature is off until set.\n\
         #\n\
         # A healer reads this file when it starts; to apply a change:\n\
         #   systemctl restart xfs_healer_start.service\n\
         # (the launcher restarts the healer of each filesystem).\n\
         # `xfs_healerctl check-config` prints the settings in force and any\n\
         # problem. The file must be owned by root and writable by nobody else.\n",
    );
    let mut section = String::new();
    for line in every_setting().describe().lines() {
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            let _ = writeln!(text, "\n#{line}");
            continue;
        }
        let key = line.split(" = ").next().unwrap_or(line);
        let here = |u: &&(&str, &str, &str)| u.0 == section && u.1 == key;
        let note = if !defaults.contains(&(section.clone(), line.to_string())) {
            let absent = UNSET.iter().find(here).map_or("", |u| u.2);
            Some(format!("unset: {absent}"))
        } else if let Some(r) = RANGES.iter().find(|r| r.section == section && r.key == key) {
            Some(format!("{} to {}", r.min, r.max))
        } else {
            NOTES.iter().find(here).map(|n| n.2.to_string())
        };
        match note {
            Some(note) => {
                let _ = writeln!(text, "{:<36}  # {note}", format!("#{line}"));
            }
            None => {
                let _ = writeln!(text, "#{line}");
            }
        }
    }
    text
}

/// The shipped license, from the workspace's SPDX expression, as a DEP-5
/// short name and the paragraph that goes with it.
fn license() -> Result<(&'static str, &'static str)> {
    match env!("CARGO_PKG_LICENSE") {
        "GPL-2.0-or-later" => Ok((
            "GPL-2+",
            " This program is free software; you can redistribute it and/or modify\n \
             it under the terms of the GNU General Public License as published by\n \
             the Free Software Foundation; either version 2 of the License, or\n \
             (at your option) any later version.\n \
             .\n \
             This program is distributed in the hope that it will be useful,\n \
             but WITHOUT ANY WARRANTY; without even the implied warranty of\n \
             MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.  See the\n \
             GNU General Public License for more details.\n \
             .\n \
             On Debian systems, the complete text of the GNU General Public\n \
             License version 2 can be found in \"/usr/share/common-licenses/GPL-2\".\n",
        )),
        other => bail!("no Debian copyright text for license {other:?}: add it to deb.rs"),
    }
}

/// `/usr/share/doc/xfs-healer/copyright`, machine-readable (DEP-5).
fn copyright(epoch: u64) -> Result<String> {
    let (name, text) = license()?;
    let (year, ..) = civil(epoch);
    Ok(format!(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
         Upstream-Name: {PACKAGE}\n\
         \n\
         Files: *\n\
         Copyright: {year} xfs-healer developers\n\
         License: {name}\n\
         \n\
         License: {name}\n\
         {text}"
    ))
}

/// `changelog.Debian` (gzipped when installed): one entry, dated `epoch`.
fn changelog_text(version: &str, epoch: u64) -> String {
    format!(
        "{PACKAGE} ({version}) unstable; urgency=medium\n\
         \n  \
         * Built by cargo xtask deb from the xfs-healer source tree.\n\
         \n \
         -- {MAINTAINER}  {}\n",
        rfc2822(epoch)
    )
}

/// The time files and the changelog carry: `SOURCE_DATE_EPOCH`, else the
/// last commit's, else now (so the same commit builds the same package).
fn source_date_epoch() -> u64 {
    let from_env = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse().ok());
    let from_git = || {
        Command::new("git")
            .args(["log", "-1", "--format=%ct"])
            .current_dir(repo_root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
    };
    from_env.or_else(from_git).unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// (year, month, day, hour, minute, second, weekday 0 = Sunday) in UTC.
fn civil(epoch: u64) -> (i64, u32, u32, u64, u64, u64, u64) {
    let days = (epoch / 86_400) as i64;
    let secs = epoch % 86_400;
    // Howard Hinnant's days-from-civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = (if mp < 10 { mp + 3 } else { mp - 9 }) as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    // 1970-01-01 was a Thursday.
    let weekday = (epoch / 86_400 + 4) % 7;
    (
        year,
        month,
        day,
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        weekday,
    )
}

/// `Wed, 02 Dec 2026 14:10:46 +0000`
fn rfc2822(epoch: u64) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (y, mo, d, h, mi, s, wd) = civil(epoch);
    format!(
        "{}, {d:02} {} {y} {h:02}:{mi:02}:{s:02} +0000",
        DAYS[wd as usize],
        MONTHS[mo as usize - 1]
    )
}

fn divert(action: &str, path: &str) -> String {
    format!(
        "\t\tdpkg-divert --package {PACKAGE} --{action} --rename --divert {path}{DIVERTED_SUFFIX} {path}\n"
    )
}

/// The maintainer scripts, as (name, text).
fn maintainer_scripts() -> [(&'static str, String); 4] {
    let add: String = DIVERTED.iter().map(|p| divert("add", p)).collect();
    let remove: String = DIVERTED.iter().map(|p| divert("remove", p)).collect();
    let preinst = format!(
        "#!/bin/sh\n\
         set -e\n\
         \n\
         # xfsprogs ships the healer's programs, units and manual pages at the\n\
         # paths ours take: divert its copies to <path>{DIVERTED_SUFFIX}, before ours\n\
         # are unpacked, so that an upgrade of xfsprogs does not put them back.\n\
         case \"$1\" in\n\
         \tinstall|upgrade)\n\
         {add}\
         \t\t;;\n\
         esac\n\
         \n\
         exit 0\n"
    );
    let mut enable = String::new();
    for unit in ENABLED_UNITS {
        let _ = write!(
            enable,
            "\t\t\t# was-enabled is true on a first installation, false if the\n\
             \t\t\t# administrator disabled the unit.\n\
             \t\t\tif deb-systemd-helper --quiet was-enabled '{unit}'; then\n\
             \t\t\t\tdeb-systemd-helper enable '{unit}' >/dev/null || true\n\
             \t\t\telse\n\
             \t\t\t\tdeb-systemd-helper update-state '{unit}' >/dev/null || true\n\
             \t\t\tfi\n"
        );
    }
    let postinst = format!(
        "#!/bin/sh\n\
         set -e\n\
         \n\
         # As xfsprogs' own (dh_installsystemd) scripts do for the same units.\n\
         case \"$1\" in\n\
         \tconfigure|abort-upgrade|abort-deconfigure|abort-remove)\n\
         \t\tif command -v deb-systemd-helper >/dev/null; then\n\
         {enable}\
         \t\tfi\n\
         \t\tif [ -z \"${{DPKG_ROOT:-}}\" ] && [ -d /run/systemd/system ]; then\n\
         \t\t\tsystemctl --system daemon-reload >/dev/null || true\n\
         \t\t\t# Restarted, not just started: on a first installation the\n\
         \t\t\t# running launcher is xfsprogs', and a launcher that starts\n\
         \t\t\t# restarts the healer of every mounted XFS, now ours.\n\
         \t\t\tif command -v deb-systemd-invoke >/dev/null; then\n\
         \t\t\t\tdeb-systemd-invoke start 'system-xfs_healer.slice' >/dev/null || true\n\
         \t\t\t\tdeb-systemd-invoke restart '{LAUNCHER_UNIT}' >/dev/null || true\n\
         \t\t\tfi\n\
         \t\tfi\n\
         \t\t;;\n\
         esac\n\
         \n\
         exit 0\n"
    );
    let prerm = format!(
        "#!/bin/sh\n\
         set -e\n\
         \n\
         # Our launcher goes away with the package; the healers run on until\n\
         # postrm starts xfsprogs' launcher, which restarts each with its own.\n\
         if [ -z \"${{DPKG_ROOT:-}}\" ] && [ \"$1\" = remove ] && [ -d /run/systemd/system ]; then\n\
         \tif command -v deb-systemd-invoke >/dev/null; then\n\
         \t\tdeb-systemd-invoke stop '{LAUNCHER_UNIT}' >/dev/null || true\n\
         \tfi\n\
         fi\n\
         \n\
         exit 0\n"
    );
    // No `deb-systemd-helper purge`: the units' enablement is xfsprogs'
    // as much as ours, and xfsprogs stays.
    let postrm = format!(
        "#!/bin/sh\n\
         set -e\n\
         \n\
         # Our files are gone (or were never unpacked): put xfsprogs' back, and\n\
         # let its launcher restart every healer with xfsprogs' program.\n\
         case \"$1\" in\n\
         \tremove|abort-install|disappear)\n\
         {remove}\
         \t\tif [ -z \"${{DPKG_ROOT:-}}\" ] && [ -d /run/systemd/system ]; then\n\
         \t\t\tsystemctl --system daemon-reload >/dev/null || true\n\
         \t\t\tif command -v deb-systemd-invoke >/dev/null; then\n\
         \t\t\t\tdeb-systemd-invoke restart '{LAUNCHER_UNIT}' >/dev/null || true\n\
         \t\t\tfi\n\
         \t\tfi\n\
         \t\t;;\n\
         esac\n\
         \n\
         exit 0\n"
    );
    [
        ("preinst", preinst),
        ("postinst", postinst),
        ("prerm", prerm),
        ("postrm", postrm),
    ]
}

/// Every path under `root` (relative, sorted), `DEBIAN/` left out.
fn walk(root: &Path) -> Result<Vec<(PathBuf, fs::Metadata)>> {
    let mut found = Vec::new();
    let mut todo = vec![PathBuf::new()];
    while let Some(rel) = todo.pop() {
        for entry in fs::read_dir(root.join(&rel))? {
            let entry = entry?;
            let path = rel.join(entry.file_name());
            if path == Path::new("DEBIAN") {
                continue;
            }
            let meta = fs::symlink_metadata(root.join(&path))?;
            if meta.is_dir() {
                todo.push(path.clone());
            }
            found.push((path, meta));
        }
    }
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", path.display()))
}

fn write(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    fs::create_dir_all(path.parent().context("no parent directory")?)?;
    fs::write(path, contents).with_context(|| format!("writing {}", path.display()))?;
    set_mode(path, mode)
}

#[cfg(test)]
mod tests {
    use super::*;
    use xfs_healer::config::parse;

    /// The example with its settings uncommented: all of them, or only
    /// those with a default.
    fn uncommented(text: &str, unset_too: bool) -> String {
        text.lines()
            .filter_map(|l| match l.strip_prefix('#') {
                Some(rest) if rest.starts_with('[') => Some(rest),
                Some(rest) if rest.starts_with(|c: char| c.is_ascii_lowercase()) => {
                    (unset_too || !rest.contains("# unset:")).then_some(rest)
                }
                Some(_) => None,
                None => Some(l),
            })
            .fold(String::new(), |acc, l| acc + l + "\n")
    }

    /// What the test command runs, by hand (builds the release binaries,
    /// needs lintian and the VM cache's xfsprogs package):
    /// `cargo test -p xtask deb::tests::check_passes -- --ignored`.
    #[test]
    #[ignore = "builds the package and runs lintian"]
    fn check_passes() {
        assert!(check(&Cache::locate().unwrap()).unwrap());
    }

    #[test]
    fn the_example_config_changes_nothing_and_parses() {
        let text = example_config();
        // As shipped: comments only.
        assert!(
            text.lines().all(|l| l.is_empty() || l.starts_with('#')),
            "{text}"
        );
        assert_eq!(
            parse(&text).unwrap().describe(),
            Settings::default().describe()
        );
        // Uncommented, the defaults are the defaults...
        assert_eq!(
            parse(&uncommented(&text, false)).unwrap().describe(),
            Settings::default().describe(),
            "{}",
            uncommented(&text, false)
        );
        // ... and every setting parses (an unknown key would be an error).
        assert_eq!(
            parse(&uncommented(&text, true)).unwrap().describe(),
            every_setting().describe()
        );
    }

    /// Every key the configuration module documents (the TOML block of
    /// its `//!` comment) and every numeric key, in its section.
    #[test]
    fn the_example_config_lists_every_key() {
        let keys = |text: &str| -> Vec<(String, String)> {
            let mut keys: Vec<(String, String)> = setting_lines(text)
                .into_iter()
                .map(|(s, l)| (s, l.split(" = ").next().unwrap().trim().to_string()))
                .collect();
            keys.sort();
            keys
        };
        let source = fs::read_to_string(repo_root().join("crates/healer/src/config.rs")).unwrap();
        let doc: String = source
            .lines()
            .filter_map(|l| l.strip_prefix("//!"))
            .map(str::trim_start)
            .skip_while(|l| *l != "```toml")
            .skip(1)
            .take_while(|l| *l != "```")
            .fold(String::new(), |acc, l| acc + l + "\n");
        let documented = keys(&doc);
        assert!(documented.len() >= 20, "{documented:?}");
        let shipped = keys(&uncommented(&example_config(), true));
        assert_eq!(shipped, documented);
        for r in RANGES {
            assert!(
                shipped.contains(&(r.section.to_string(), r.key.to_string())),
                "{r:?}"
            );
        }
        // Each unset setting says what its absence means.
        for (section, key, _) in UNSET {
            let line = example_config()
                .lines()
                .find(|l| l.starts_with(&format!("#{key} = ")) && l.contains("unset"))
                .map(String::from);
            assert!(line.is_some(), "[{section}] {key}");
        }
        assert_eq!(example_config().matches("# unset: ").count(), UNSET.len());
    }

    #[test]
    fn the_control_file() {
        let text = control(
            "0.1.0-1",
            "amd64",
            "libc6 (>= 2.34), libgcc-s1 (>= 4.2)",
            4096,
        );
        let fields: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with(' '))
            .map(|l| l.split_once(": ").unwrap().0)
            .collect();
        assert_eq!(
            fields,
            [
                "Package",
                "Version",
                "Architecture",
                "Maintainer",
                "Installed-Size",
                "Depends",
                "Section",
                "Priority",
                "Description"
            ]
        );
        assert!(text.starts_with("Package: xfs-healer\nVersion: 0.1.0-1\nArchitecture: amd64\n"));
        assert!(
            text.contains("\nDepends: libc6 (>= 2.34), libgcc-s1 (>= 4.2), xfsprogs (>= 7.2)\n")
        );
        assert!(text.ends_with('\n') && !text.contains("\n\n"));
        // The long description: lines of at most 80 columns, a lone `.`
        // for a blank line.
        for line in text
            .lines()
            .skip_while(|l| !l.starts_with("Description: "))
            .skip(1)
        {
            assert!(line.starts_with(' ') && line.len() <= 80, "{line:?}");
            assert!(line.trim() != "" && (line == " ." || !line.starts_with(" .")));
        }
        let synopsis = text.lines().find_map(|l| l.strip_prefix("Description: "));
        assert!(synopsis.is_some_and(|s| s.len() < 80 && !s.ends_with('.')));
    }

    #[test]
    fn the_version_is_the_workspaces() {
        let manifest = fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
        let workspace = manifest
            .lines()
            .skip_while(|l| *l != "[workspace.package]")
            .find_map(|l| l.strip_prefix("version = "))
            .unwrap()
            .trim_matches('"');
        assert_eq!(version(), format!("{workspace}-{REVISION}"));
    }

    /// The diverted files are xfsprogs' healer files (the test command
    /// compares with sid's package), and each is one ours installs from
    /// the source tree, at the path the layout gives it.
    #[test]
    fn the_diversions_are_the_healer_files_we_ship() {
        let root = repo_root();
        for path in DIVERTED {
            let name = path.rsplit('/').next().unwrap();
            let source = match path.rsplit_once('/').unwrap().0 {
                "/usr/libexec/xfsprogs" => root.join("crates").join(match name {
                    "xfs_healer" => "healer",
                    "xfs_healer_start" => "launcher",
                    other => panic!("unknown binary {other}"),
                }),
                "/usr/lib/systemd/system" => root.join("packaging/systemd").join(name),
                "/usr/share/man/man8" => root
                    .join("packaging/man")
                    .join(name.strip_suffix(".gz").unwrap()),
                dir => panic!("{path}: xfsprogs ships no healer file in {dir}"),
            };
            assert!(source.exists(), "{path}: no {}", source.display());
        }
        let mut sorted = DIVERTED;
        sorted.sort_unstable();
        let mut unique = sorted.to_vec();
        unique.dedup();
        assert_eq!(unique.len(), DIVERTED.len());
    }

    #[test]
    fn preinst_adds_and_postrm_removes_each_diversion() {
        let scripts = maintainer_scripts();
        let script = |name: &str| {
            scripts
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, t)| t.clone())
                .unwrap()
        };
        for (name, text) in &scripts {
            assert!(text.starts_with("#!/bin/sh\nset -e\n"), "{name}");
            assert!(text.ends_with("\nexit 0\n"), "{name}");
        }
        let (preinst, postrm) = (script("preinst"), script("postrm"));
        for path in DIVERTED {
            let add = format!(
                "dpkg-divert --package xfs-healer --add --rename --divert {path}.xfsprogs {path}\n"
            );
            let remove = add.replace("--add", "--remove");
            assert_eq!(preinst.matches(&add).count(), 1, "{path}");
            assert_eq!(postrm.matches(&remove).count(), 1, "{path}");
            for (name, text) in &scripts {
                if *name != "preinst" {
                    assert!(!text.contains(&add), "{name} adds {path}");
                }
                if *name != "postrm" {
                    assert!(!text.contains(&remove), "{name} removes {path}");
                }
            }
        }
        // Added on install and upgrade only; removed when the package goes
        // or its installation fails, never on an upgrade.
        assert!(preinst.contains("\tinstall|upgrade)\n"));
        assert!(postrm.contains("\tremove|abort-install|disappear)\n"));
        assert!(!postrm.contains("upgrade"));
        assert_eq!(preinst.matches("dpkg-divert").count(), DIVERTED.len());
        assert_eq!(postrm.matches("dpkg-divert").count(), DIVERTED.len());
        // The launcher is enabled and restarted as xfsprogs' scripts do.
        let postinst = script("postinst");
        for unit in ENABLED_UNITS {
            assert!(postinst.contains(&format!("deb-systemd-helper enable '{unit}'")));
        }
        assert!(postinst.contains("deb-systemd-invoke restart 'xfs_healer_start.service'"));
        assert!(script("prerm").contains("deb-systemd-invoke stop 'xfs_healer_start.service'"));
    }

    #[test]
    fn the_copyright_file_is_dep5() {
        let text = copyright(1_796_220_646).unwrap();
        assert!(text.starts_with(
            "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        ));
        assert!(
            text.contains("\nFiles: *\nCopyright: 2026 xfs-healer developers\nLicense: GPL-2+\n")
        );
        assert!(text.contains("\n\nLicense: GPL-2+\n This program"));
        assert!(text.contains("/usr/share/common-licenses/GPL-2\""));
        // Paragraphs: fields, or continuation lines of one space.
        for line in text.lines().filter(|l| !l.is_empty()) {
            assert!(line.starts_with(' ') || line.contains(": "), "{line:?}");
        }
    }

    #[test]
    fn changelog_dates() {
        assert_eq!(rfc2822(0), "Thu, 01 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(951_782_400), "Tue, 29 Feb 2000 00:00:00 +0000");
        assert_eq!(rfc2822(1_796_220_646), "Wed, 02 Dec 2026 14:10:46 +0000");
        let entry = changelog_text("0.1.0-1", 0);
        assert!(entry.starts_with("xfs-healer (0.1.0-1) unstable; urgency=medium\n\n  * "));
        assert!(entry.ends_with(
            "\n\n -- xfs-healer developers <xfs-healer@example.org>  Thu, 01 Jan 1970 00:00:00 +0000\n"
        ));
    }
}
