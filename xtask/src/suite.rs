//! Scenarios: listing, running one or all of them against a healer, and the
//! two README entry points (`test`, `demo`).
//!
//! A scenario is `vm/scenarios/NAME.sh`, a busybox-sh script run in the guest
//! with `vm/guest/lib.sh` loaded. Header comments configure it:
//!
//! ```text
//! # summary: one line saying what it proves
//! # healers: reference ours      (the healers the suite runs it against)
//! # timeout: 120                 (seconds for the whole boot, default 120)
//! # install: deb                  (our .deb is in /payload for the scenario to
//!                                  install; the guest's init installs nothing)
//! ```

use crate::cache::{Cache, repo_root};
use crate::initramfs::{self, Images};
use crate::vm::{self, Accel, Boot, BootResult};
use crate::{deps, fetch};
use anyhow::{Context, Result, bail};
use serde::Serialize;
use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub path: PathBuf,
    pub summary: String,
    pub healers: Vec<String>,
    pub timeout: Duration,
    /// `# known-kernel-bug: SYMBOL`: an oops whose trace names SYMBOL is a
    /// known kernel bug: the run's verdict is [`Verdict::KnownKernelBug`]
    /// (console kept), neither a pass nor a failure.
    pub known_kernel_bug: Option<String>,
    /// `# install: deb`: the scenario installs our Debian package itself.
    pub installs_deb: bool,
}

pub fn header(text: &str, key: &str) -> Option<String> {
    text.lines()
        .take_while(|l| l.starts_with('#'))
        .find_map(|l| {
            l.strip_prefix("# ")
                .and_then(|l| l.strip_prefix(key))
                .and_then(|l| l.strip_prefix(':'))
        })
        .map(|v| v.trim().to_string())
}

pub fn scenarios() -> Result<Vec<Scenario>> {
    scenarios_in(&repo_root().join("vm/scenarios"))
}

/// The `*.sh` scenarios of a directory, by name.
pub fn scenarios_in(dir: &Path) -> Result<Vec<Scenario>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "sh") {
            continue;
        }
        let text = fs::read_to_string(&path)?;
        let name = path
            .file_stem()
            .expect("file")
            .to_string_lossy()
            .into_owned();
        let healers = header(&text, "healers")
            .with_context(|| format!("{}: no '# healers:' header", path.display()))?
            .split_whitespace()
            .map(String::from)
            .collect();
        let timeout = header(&text, "timeout")
            .map_or(Ok(120), |t| t.parse())
            .context("bad timeout")?;
        out.push(Scenario {
            known_kernel_bug: header(&text, "known-kernel-bug"),
            installs_deb: match header(&text, "install").as_deref() {
                None => false,
                Some("deb") => true,
                Some(other) => bail!("{}: unknown '# install: {other}'", path.display()),
            },
            summary: header(&text, "summary").unwrap_or_default(),
            name,
            path,
            healers,
            timeout: Duration::from_secs(timeout),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

pub fn list() -> Result<bool> {
    for s in scenarios()? {
        println!("{:<28} [{}] {}", s.name, s.healers.join(" "), s.summary);
    }
    Ok(true)
}

/// Which healer binary runs in the guest.
#[derive(Debug, Clone)]
pub enum Healer {
    /// Ours, built from this tree.
    Ours(PathBuf),
    /// xfsprogs 7.2's C daemon inside the guest.
    Reference,
}

impl Healer {
    fn kind(&self) -> &'static str {
        match self {
            Healer::Ours(_) => "ours",
            Healer::Reference => "reference",
        }
    }
}

/// Builds our healer (release) and returns the binaries' directory.
pub fn build_ours() -> Result<PathBuf> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "--bins",
            "-p",
            "xfs-healer",
            "-p",
            "xfs-launcher",
            "-p",
            "xfs-healerctl",
        ])
        .current_dir(repo_root())
        .status()?;
    if !status.success() {
        bail!("building the healer failed");
    }
    // The raw event recorder the capture-events scenario runs.
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--quiet",
            "--release",
            "-p",
            "xfs-abi",
            "--example",
            "capture_events",
        ])
        .current_dir(repo_root())
        .status()?;
    if !status.success() {
        bail!("building capture_events failed");
    }
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| repo_root().join("target"), PathBuf::from);
    Ok(dir.join("release"))
}

fn healer_from_arg(arg: &str) -> Result<Healer> {
    Ok(match arg {
        "reference" => Healer::Reference,
        "ours" => Healer::Ours(build_ours()?.join("xfs_healer")),
        path => Healer::Ours(PathBuf::from(path)),
    })
}

/// What one (scenario, healer) run came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The scenario ran to its end and the host's checks agree.
    Pass,
    Fail,
    /// An expected failure of the kernel (XFAIL): it oopsed in the
    /// scenario's `known-kernel-bug`, so the scenario proved nothing
    /// about the healer either way. Not a pass; does not fail the run.
    KnownKernelBug,
}

impl Verdict {
    fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Fail => "FAIL",
            Verdict::KnownKernelBug => "XFAIL",
        }
    }
}

/// The verdict of one (scenario, healer) run.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub scenario: String,
    pub healer: String,
    pub verdict: Verdict,
    pub reason: String,
    pub seconds: f64,
    pub accel: &'static str,
    pub workdir: PathBuf,
    pub facts: Vec<(String, String)>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }
}

fn run_dir() -> PathBuf {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    repo_root().join(format!("target/vm-runs/{stamp}-{}", std::process::id()))
}

fn read_text(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_default()
}

/// Our Debian package, built once per run of the harness (scenarios run
/// on several threads).
fn the_deb() -> Result<PathBuf> {
    static DEB: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut deb = DEB
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(path) = deb.as_ref() {
        return Ok(path.clone());
    }
    let path = crate::deb::build()?;
    *deb = Some(path.clone());
    Ok(path)
}

/// One boot; an early emulator crash or hang (before the scenario
/// started) is retried once, as about 1 boot in 50 under multi-threaded
/// TCG dies early.
fn run_once(
    images: &Images,
    scenario: &Scenario,
    healer: &Healer,
    workdir: &Path,
    accel: Accel,
    live: bool,
) -> Result<Outcome> {
    let mut payload: Vec<(&str, Vec<u8>, u32)> = vec![
        ("scenario.sh", fs::read(&scenario.path)?, 0o644),
        (
            "lib.sh",
            fs::read(repo_root().join("vm/guest/lib.sh"))?,
            0o644,
        ),
        (
            "run.sh",
            fs::read(repo_root().join("vm/guest/run.sh"))?,
            0o644,
        ),
    ];
    let (healer_path, launcher_path) = match healer {
        Healer::Reference => (
            "/usr/libexec/xfsprogs/xfs_healer".to_string(),
            "/usr/libexec/xfsprogs/xfs_healer_start".to_string(),
        ),
        Healer::Ours(path) => {
            payload.push((
                "xfs_healer",
                fs::read(path).with_context(|| format!("reading {}", path.display()))?,
                0o755,
            ));
            // The launcher built alongside, if any (a healer given by path
            // may come alone): it finds the healer next to itself.
            let launcher = path.with_file_name("xfs_healer_start");
            if let Ok(bytes) = fs::read(&launcher) {
                payload.push(("xfs_healer_start", bytes, 0o755));
            }
            if let Ok(bytes) = fs::read(path.with_file_name("xfs_healerctl")) {
                payload.push(("xfs_healerctl", bytes, 0o755));
            }
            if let Ok(bytes) = fs::read(path.with_file_name("examples").join("capture_events")) {
                payload.push(("capture_events", bytes, 0o755));
            }
            // Our drop-ins for the healer unit, installed by the guest's
            // init as a package would install them.
            for (name, bytes) in crate::install::dropins()? {
                payload.push((name, bytes, 0o644));
            }
            // The journal catalog, for a scenario to install where the
            // package puts it (and run `journalctl --update-catalog`).
            let (name, bytes) = crate::install::catalog()?;
            payload.push((name, bytes, 0o644));
            // The example hooks, for a scenario to copy into a hooks
            // directory as the README says.
            for (name, bytes) in crate::install::hook_examples()? {
                payload.push((name, bytes, 0o755));
            }
            (
                "/payload/xfs_healer".to_string(),
                "/payload/xfs_healer_start".to_string(),
            )
        }
    };
    if scenario.installs_deb {
        payload.push(("xfs-healer.deb", fs::read(the_deb()?)?, 0o644));
    }
    let env = format!(
        "SCENARIO={}\nHEALER={healer_path}\nLAUNCHER={launcher_path}\nHEALER_KIND={}\n",
        scenario.name,
        healer.kind()
    );
    payload.push(("env", env.into_bytes(), 0o644));
    fs::create_dir_all(workdir)?;
    let initrd = initramfs::build_initrd(images, workdir, &payload)?;
    let boot = Boot {
        images,
        initrd,
        workdir: workdir.to_path_buf(),
        timeout: scenario.timeout,
        accel,
        live_marker: live.then_some("@@ "),
    };
    let mut result = vm::boot(&boot)?;
    // An emulator that died, or hung with nothing on the console (seen
    // once under TCG on a loaded machine), before the scenario began; or a
    // kernel that trapped on its own live-patched text: not the
    // scenario's doing either way.
    let retry = if !result.scenario_started {
        Some("guest died or hung before the scenario started".to_string())
    } else {
        result
            .kernel_trouble
            .as_deref()
            .filter(|t| vm::text_patching_trap(t))
            .map(|t| format!("the kernel trapped on its own live-patched text ({t})"))
    };
    if let Some(why) = retry {
        eprintln!(
            "xtask: {} [{}]: {why}; retrying once",
            scenario.name,
            healer.kind()
        );
        result = vm::boot(&boot)?;
    }
    let _ = fs::remove_file(workdir.join("initrd"));
    let _ = fs::remove_file(workdir.join("payload.cpio"));
    Ok(judge(scenario, healer, workdir, accel, &result))
}

fn judge(
    scenario: &Scenario,
    healer: &Healer,
    workdir: &Path,
    accel: Accel,
    r: &BootResult,
) -> Outcome {
    let verdict = read_text(&r.results_dir.join("verdict")).trim().to_string();
    let console = read_text(&workdir.join("console.log"));
    let (verdict, reason) = if let Some(trouble) = &r.kernel_trouble {
        match scenario
            .known_kernel_bug
            .as_deref()
            .filter(|symbol| r.scenario_started && trace_names(&console, trouble, symbol))
        {
            Some(symbol) => (
                Verdict::KnownKernelBug,
                format!(
                    "expected kernel failure: known kernel bug in {symbol} ({trouble}); console: {}",
                    workdir.join("console.log").display()
                ),
            ),
            None => (Verdict::Fail, format!("kernel trouble: {trouble}")),
        }
    } else if r.timed_out {
        (
            Verdict::Fail,
            format!("timed out after {} s", scenario.timeout.as_secs()),
        )
    } else if let Some(why) = verdict.strip_prefix("xfail: ") {
        // The scenario saw the known kernel bug it declares, without an
        // oops (a wrong answer): an expected failure, never a pass.
        if scenario.known_kernel_bug.is_some() {
            (
                Verdict::KnownKernelBug,
                format!("expected kernel failure: {why}"),
            )
        } else {
            (
                Verdict::Fail,
                format!("xfail without a known-kernel-bug header: {why}"),
            )
        }
    } else if verdict == "pass" {
        match host_checks(&r.results_dir) {
            None => (Verdict::Pass, String::new()),
            Some(problem) => (Verdict::Fail, problem),
        }
    } else if verdict.is_empty() {
        (
            Verdict::Fail,
            "no verdict: the guest did not finish the scenario".into(),
        )
    } else {
        (
            Verdict::Fail,
            verdict.trim_start_matches("fail: ").to_string(),
        )
    };
    let facts = read_text(&r.results_dir.join("facts"))
        .lines()
        .filter_map(|l| {
            l.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    Outcome {
        scenario: scenario.name.clone(),
        healer: healer.kind().to_string(),
        verdict,
        reason,
        seconds: r.elapsed.as_secs_f64(),
        accel: accel.name(),
        workdir: workdir.to_path_buf(),
        facts,
    }
}

/// Whether the console's report that begins with the TROUBLE line (an
/// oops) names SYMBOL: in its trace, not anywhere else on the console.
fn trace_names(console: &str, trouble: &str, symbol: &str) -> bool {
    console
        .find(trouble)
        .is_some_and(|at| console[at..].contains(symbol))
}

/// Checks of what a passing guest left that need the host's tools:
/// Prometheus text files (`*.prom`) must parse with a strict Prometheus
/// text-format parser (`openmetrics-parser`) and hold metrics.
fn host_checks(results: &Path) -> Option<String> {
    let entries = fs::read_dir(results).ok()?;
    for path in entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "prom"))
    {
        match openmetrics_parser::prometheus::parse_prometheus(&read_text(&path)) {
            Ok(exposition) if exposition.families.is_empty() => {
                return Some(format!("{}: no metrics", path.display()));
            }
            Ok(_) => {}
            Err(e) => {
                return Some(format!(
                    "{}: not Prometheus text format: {e:?}",
                    path.display()
                ));
            }
        }
    }
    None
}

fn report(o: &Outcome) {
    println!(
        "{} {} [{}] {:.1}s {}",
        o.verdict.label(),
        o.scenario,
        o.healer,
        o.seconds,
        o.reason
    );
    if !o.passed() {
        let results = o.workdir.join("results");
        for (title, file, lines) in [
            ("scenario log", results.join("scenario.log"), 30),
            ("healer output", results.join("healer.out"), 30),
            ("console", o.workdir.join("console.log"), 40),
        ] {
            let text = read_text(&file);
            let tail: Vec<&str> = text.lines().rev().take(lines).collect();
            if !tail.is_empty() {
                println!(
                    "  --- {title} (last {} lines of {}) ---",
                    tail.len(),
                    file.display()
                );
                for line in tail.iter().rev() {
                    println!("  | {line}");
                }
            }
        }
    }
}

/// Fetches, builds the base image, and picks the accelerator.
pub fn prepare() -> Result<(Images, Accel)> {
    deps::ensure_host_tools()?;
    let cache = Cache::locate()?;
    let root = fetch::fetch(&cache)?;
    let images = initramfs::build_base(&cache, &root)?;
    let probe_dir = run_dir().join("kvm-probe");
    let accel = vm::choose_accel(|accel| {
        let probe = Scenario {
            name: "kvm-probe".into(),
            path: repo_root().join("vm/guest/probe.sh"),
            summary: String::new(),
            healers: vec![],
            timeout: Duration::from_secs(60),
            known_kernel_bug: None,
            installs_deb: false,
        };
        run_once(
            &images,
            &probe,
            &Healer::Reference,
            &probe_dir,
            accel,
            false,
        )
        .is_ok_and(|o| o.passed())
    });
    Ok((images, accel))
}

/// Runs the given (scenario, healer) pairs on `jobs` VMs at a time.
pub fn run_all(
    images: &Images,
    accel: Accel,
    work: Vec<(Scenario, Healer)>,
    jobs: usize,
    live: bool,
) -> Vec<Outcome> {
    let dir = run_dir();
    let queue = Mutex::new(work.into_iter().collect::<VecDeque<_>>());
    let outcomes = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let next = queue.lock().expect("queue").pop_front();
                    let Some((scenario, healer)) = next else {
                        break;
                    };
                    let workdir = dir.join(format!("{}-{}", scenario.name, healer.kind()));
                    let outcome = run_once(images, &scenario, &healer, &workdir, accel, live)
                        .unwrap_or_else(|e| Outcome {
                            scenario: scenario.name.clone(),
                            healer: healer.kind().into(),
                            verdict: Verdict::Fail,
                            reason: format!("harness error: {e:#}"),
                            seconds: 0.0,
                            accel: accel.name(),
                            workdir: workdir.clone(),
                            facts: vec![],
                        });
                    report(&outcome);
                    outcomes.lock().expect("outcomes").push(outcome);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().expect("outcomes");
    outcomes.sort_by(|a, b| (&a.scenario, &a.healer).cmp(&(&b.scenario, &b.healer)));
    let _ = fs::create_dir_all(&dir);
    let _ = fs::write(
        dir.join("summary.json"),
        serde_json::to_string_pretty(&outcomes).unwrap_or_default(),
    );
    outcomes
}

/// Prints the summary; true when no run failed (an expected kernel
/// failure is not one) and at least one ran.
fn summarize(outcomes: &[Outcome]) -> bool {
    let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
    let (passed, failed, xfailed) = (
        count(Verdict::Pass),
        count(Verdict::Fail),
        count(Verdict::KnownKernelBug),
    );
    println!();
    println!(
        "VM scenarios ({} acceleration):",
        outcomes.first().map_or("-", |o| o.accel)
    );
    for o in outcomes.iter().filter(|o| o.verdict == Verdict::Fail) {
        println!("  failed: {} [{}]: {}", o.scenario, o.healer, o.reason);
    }
    for o in outcomes
        .iter()
        .filter(|o| o.verdict == Verdict::KnownKernelBug)
    {
        println!("  XFAIL: {} [{}]: {}", o.scenario, o.healer, o.reason);
    }
    print_facts(outcomes);
    if xfailed > 0 {
        println!(
            "vm: {xfailed} expected kernel failure{} (XFAIL: a known kernel bug, neither passed nor failed)",
            if xfailed == 1 { "" } else { "s" }
        );
    }
    println!("vm: {passed} passed, {failed} failed");
    failed == 0 && !outcomes.is_empty()
}

/// The measurements scenarios recorded, ours next to the reference's.
fn print_facts(outcomes: &[Outcome]) {
    let mut rows: std::collections::BTreeMap<(&str, &str), [Option<&str>; 2]> =
        std::collections::BTreeMap::new();
    for o in outcomes {
        let column = usize::from(o.healer != "ours");
        for (key, value) in &o.facts {
            rows.entry((o.scenario.as_str(), key.as_str())).or_default()[column] =
                Some(value.as_str());
        }
    }
    if rows.is_empty() {
        return;
    }
    println!("measurements (ours | reference):");
    for ((scenario, key), [ours, theirs]) in rows {
        println!(
            "  {scenario} {key}: {} | {}",
            ours.unwrap_or("-"),
            theirs.unwrap_or("-")
        );
    }
}

/// `cargo xtask vm run SCENARIO... [--healer H] [--keep]`
pub fn vm_run(args: &[String]) -> Result<bool> {
    let mut healer_arg = "ours".to_string();
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--healer" => healer_arg = it.next().context("--healer needs a value")?.clone(),
            _ => names.push(a.clone()),
        }
    }
    let all = scenarios()?;
    let mut work = Vec::new();
    let healer = healer_from_arg(&healer_arg)?;
    for name in &names {
        let s = all
            .iter()
            .find(|s| &s.name == name)
            .with_context(|| format!("no scenario {name:?} (see `cargo xtask vm list`)"))?;
        work.push((s.clone(), healer.clone()));
    }
    if work.is_empty() {
        bail!("name at least one scenario (see `cargo xtask vm list`)");
    }
    let (images, accel) = prepare()?;
    let outcomes = run_all(&images, accel, work, 1, false);
    for o in &outcomes {
        println!("  logs: {}", o.workdir.display());
    }
    Ok(summarize(&outcomes))
}

fn default_jobs(accel: Accel) -> usize {
    // TCG already spreads one guest over both cores.
    match accel {
        Accel::Kvm => 2,
        Accel::Tcg => 1,
    }
}

/// `cargo xtask suite [--jobs N] [--only SUBSTRING[,SUBSTRING...]]`
pub fn suite(args: &[String]) -> Result<bool> {
    let mut jobs = None;
    let mut only = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--jobs" => jobs = Some(it.next().context("--jobs needs a number")?.parse()?),
            "--only" => only = Some(it.next().context("--only needs a value")?.clone()),
            other => bail!("unknown suite argument {other:?}"),
        }
    }
    let ours = build_ours()?.join("xfs_healer");
    let mut work = Vec::new();
    for s in scenarios()? {
        if only
            .as_ref()
            .is_some_and(|o: &String| !o.split(',').any(|part| s.name.contains(part)))
        {
            continue;
        }
        for h in &s.healers {
            let healer = match h.as_str() {
                "ours" => Healer::Ours(ours.clone()),
                "reference" => Healer::Reference,
                other => bail!("{}: unknown healer {other:?}", s.name),
            };
            work.push((s.clone(), healer));
        }
    }
    let (images, accel) = prepare()?;
    let outcomes = run_all(
        &images,
        accel,
        work,
        jobs.unwrap_or_else(|| default_jobs(accel)),
        false,
    );
    Ok(summarize(&outcomes))
}

fn cargo(args: &[&str], env: &[(&str, &Path)]) -> Result<bool> {
    println!("==> cargo {}", args.join(" "));
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args).current_dir(repo_root());
    for (k, v) in env {
        cmd.env(k, v);
    }
    Ok(cmd.status()?.success())
}

/// Targets the crates are checked for besides the host: big-endian, an
/// architecture whose ioctl numbers encode direction and size differently
/// from x86's, and two 32-bit ones (Debian's armhf, and i386, where a
/// `u64` is only 4-byte aligned), on which the layout assertions of
/// xfs-abi must hold with pointer-sized fields.
const CROSS_TARGETS: [&str; 4] = [
    "s390x-unknown-linux-gnu",
    "powerpc64le-unknown-linux-gnu",
    "armv7-unknown-linux-gnueabihf",
    "i686-unknown-linux-gnu",
];

/// `cargo check` of the crates (not xtask, whose dependencies build C)
/// for [`CROSS_TARGETS`], each standard library installed through rustup
/// if it is not there. Where it cannot be had, that is said and the check
/// skipped: xfs-abi's unit tests pin the ioctl numbers of those targets.
fn cross_check() -> Result<bool> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let mut ok = true;
    for target in CROSS_TARGETS {
        if !installed.lines().any(|l| l.trim() == target) {
            let added = Command::new("rustup")
                .args(["target", "add", target])
                .status()
                .is_ok_and(|s| s.success());
            if !added {
                println!(
                    "xtask: no standard library for {target} could be installed; its check is skipped (xfs-abi's tests pin its ioctl numbers)"
                );
                continue;
            }
        }
        ok &= cargo(&["check", "--quiet", "--target", target], &[])?;
    }
    Ok(ok)
}

/// `cargo xtask test`: everything CI runs, failing if anything fails.
pub fn test_everything(args: &[String]) -> Result<bool> {
    deps::ensure_host_tools()?;
    let mut ok = cargo(&["fmt", "--all", "--check"], &[])?;
    ok &= cargo(
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--quiet",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    ok &= deps::unused_dependencies_check()?;
    ok &= cross_check()?;
    ok &= cargo(&["test", "--workspace", "--quiet"], &[])?;
    ok &= crate::fuzz::run(crate::fuzz::DEFAULT_SECONDS, &[])?;
    let cache = Cache::locate()?;
    let root = fetch::fetch(&cache)?;
    ok &= crate::getopt::check(&root)?;
    ok &= cargo(
        &[
            "test",
            "--quiet",
            "-p",
            "xfs-abi",
            "--test",
            "c_layout",
            "--",
            "--ignored",
        ],
        &[("XFS_INCLUDE_DIR", &root.join("usr/include"))],
    )?;
    ok &= crate::install::check(&root)?;
    ok &= crate::deb::check(&cache)?;
    ok &= crate::promtool::check(&repo_root())?;
    ok &= suite(args)?;
    if !ok {
        println!("xtask test: FAILED (see above)");
    }
    Ok(ok)
}

/// `cargo xtask demo [--reference]`: one VM, a damaged directory, the
/// healer's timeline printed live.
pub fn demo(args: &[String]) -> Result<bool> {
    let healer = if args.iter().any(|a| a == "--reference") {
        Healer::Reference
    } else {
        Healer::Ours(build_ours()?.join("xfs_healer"))
    };
    let scenario = Scenario {
        name: "demo".into(),
        path: repo_root().join("vm/guest/demo.sh"),
        summary: String::new(),
        healers: vec![],
        timeout: Duration::from_secs(300),
        known_kernel_bug: None,
        installs_deb: false,
    };
    let (images, accel) = prepare()?;
    println!(
        "Booting Debian sid's Linux 7.2 ({}); healer: {}",
        accel.name(),
        healer.kind()
    );
    let workdir = run_dir().join("demo");
    let outcome = run_once(&images, &scenario, &healer, &workdir, accel, true)?;
    println!();
    println!("--- what the healer printed ---");
    print!("{}", read_text(&workdir.join("results/healer.out")));
    println!("-------------------------------");
    report(&outcome);
    Ok(outcome.passed())
}

#[cfg(test)]
mod tests {
    use super::*;

    const OOPS: &str = "[  212.1] Oops: general protection fault, probably for non-canonical address 0xdead: 0000 [#1] SMP NOPTI
[  212.1] RIP: 0010:xrep_dinode_count_rtgroup_rmaps+0x4a/0x120 [xfs]
[  212.1] Kernel panic - not syncing: Fatal exception
";

    /// Judges a fake boot: CONSOLE as the console log, VERDICT (if any)
    /// as what the guest wrote, for a scenario with a known kernel bug.
    fn judged(name: &str, console: &str, verdict: Option<&str>) -> Outcome {
        let workdir =
            std::env::temp_dir().join(format!("xtask-judge-{}-{name}", std::process::id()));
        let results = workdir.join("results");
        fs::create_dir_all(&results).unwrap();
        fs::write(workdir.join("console.log"), console).unwrap();
        if let Some(v) = verdict {
            fs::write(results.join("verdict"), v).unwrap();
        }
        let scenario = Scenario {
            name: "inode-core-repair".into(),
            path: PathBuf::new(),
            summary: String::new(),
            healers: vec![],
            timeout: Duration::from_secs(400),
            known_kernel_bug: Some("xrep_dinode_count_rtgroup_rmaps".into()),
            installs_deb: false,
        };
        let boot = BootResult {
            results_dir: results,
            elapsed: Duration::from_secs(1),
            timed_out: false,
            kernel_trouble: vm::kernel_trouble(console),
            scenario_started: console.contains(vm::SCENARIO_START),
        };
        let outcome = judge(&scenario, &Healer::Reference, &workdir, Accel::Tcg, &boot);
        fs::remove_dir_all(&workdir).unwrap();
        outcome
    }

    #[test]
    fn the_install_header_is_deb_or_absent() {
        let dir = std::env::temp_dir().join(format!("xtask-install-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let write = |name: &str, header: &str| {
            fs::write(dir.join(name), format!("# healers: ours\n{header}exit 0\n")).unwrap();
        };
        write("a.sh", "# install: deb\n");
        write("b.sh", "");
        let found = scenarios_in(&dir).unwrap();
        assert_eq!(
            found.iter().map(|s| s.installs_deb).collect::<Vec<_>>(),
            [true, false]
        );
        write("c.sh", "# install: debs\n");
        let error = scenarios_in(&dir).unwrap_err().to_string();
        assert!(error.contains("unknown '# install: debs'"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_known_wrong_answer_is_an_expected_kernel_failure_not_a_pass() {
        let started = format!("{}\n", vm::SCENARIO_START);
        let o = judged(
            "xfail",
            &started,
            Some("xfail: GETFSMAP returned 2048 of 4096\n"),
        );
        assert_eq!(o.verdict, Verdict::KnownKernelBug, "{}", o.reason);
        assert!(o.reason.contains("2048 of 4096"));
    }

    #[test]
    fn the_known_oops_is_an_expected_kernel_failure_not_a_pass() {
        let console = format!("{}\n{OOPS}", vm::SCENARIO_START);
        let o = judged("known", &console, None);
        assert_eq!(o.verdict, Verdict::KnownKernelBug, "{}", o.reason);
        assert!(!o.passed());
        assert!(
            o.reason.starts_with("expected kernel failure"),
            "{}",
            o.reason
        );
    }

    #[test]
    fn without_the_oops_the_scenario_decides() {
        let started = format!("{}\n", vm::SCENARIO_START);
        assert_eq!(
            judged("pass", &started, Some("pass\n")).verdict,
            Verdict::Pass
        );
        let failed = judged("fail", &started, Some("fail: no sick report\n"));
        assert_eq!(
            (failed.verdict, failed.reason.as_str()),
            (Verdict::Fail, "no sick report")
        );
        assert_eq!(judged("none", &started, None).verdict, Verdict::Fail);
    }

    #[test]
    fn another_oops_or_the_symbol_outside_the_trace_fails() {
        let other = OOPS.replace("xrep_dinode_count_rtgroup_rmaps", "xfs_btree_lookup");
        let console = format!("{}\n{other}", vm::SCENARIO_START);
        assert_eq!(judged("other", &console, None).verdict, Verdict::Fail);
        // The symbol printed before an unrelated oops is not its trace.
        let console = format!(
            "{}\nscenario: expecting xrep_dinode_count_rtgroup_rmaps\n{other}",
            vm::SCENARIO_START
        );
        assert_eq!(judged("before", &console, None).verdict, Verdict::Fail);
        // The known oops before the scenario started is not the scenario's.
        assert_eq!(judged("early", OOPS, None).verdict, Verdict::Fail);
    }

    fn outcome(verdict: Verdict) -> Outcome {
        Outcome {
            scenario: "s".into(),
            healer: "ours".into(),
            verdict,
            reason: String::new(),
            seconds: 0.0,
            accel: "tcg",
            workdir: PathBuf::new(),
            facts: vec![],
        }
    }

    #[test]
    fn an_expected_kernel_failure_does_not_fail_the_run() {
        assert!(summarize(&[
            outcome(Verdict::Pass),
            outcome(Verdict::KnownKernelBug)
        ]));
        assert!(summarize(&[outcome(Verdict::KnownKernelBug)]));
        assert!(!summarize(&[
            outcome(Verdict::KnownKernelBug),
            outcome(Verdict::Fail)
        ]));
        assert!(!summarize(&[]));
    }

    #[test]
    fn prometheus_files_are_parsed() {
        let dir = std::env::temp_dir().join(format!("xtask-prom-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("good.prom"), "# HELP a_total A.\n# TYPE a_total counter\na_total{mountpoint=\"/mnt \\\"x\\\"\",kind=\"sick\"} 3\n").unwrap();
        assert_eq!(host_checks(&dir), None);
        fs::write(dir.join("empty.prom"), "").unwrap();
        assert!(host_checks(&dir).is_some(), "an empty file was accepted");
        fs::write(dir.join("empty.prom"), "a_total{mountpoint=\"/mnt} 3\n").unwrap();
        assert!(host_checks(&dir).is_some(), "a broken label was accepted");
        fs::remove_dir_all(&dir).unwrap();
    }
}
