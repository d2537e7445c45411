//! `cargo xtask bench`: the workloads in `vm/bench/` against our healer and
//! xfsprogs' in the same run, several repetitions each, plus a host-side
//! decode micro-benchmark; writes `BENCHMARKS.md`.

use crate::cache::{Cache, repo_root};
use crate::suite::{Healer, Outcome, Scenario, build_ours, header, prepare, run_all, scenarios_in};
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Write};
use std::time::Instant;
use xfs_events::{RECORD_LEN, RecordAssembler, decode};
use xfs_healer::core::{Core, Effect, Input as CoreInput, Now, READ_BUF, RepairText, Setup};
use xfs_healer::kinds::HookClass;
use xfs_policy::{Config, Outcome as RepairOutcome};

/// `cargo xtask bench [--reps N] [--only SUBSTRING[,...]] [--jobs N]`
pub fn bench(args: &[String]) -> Result<bool> {
    let mut reps = 3usize;
    let mut only: Option<String> = None;
    let mut jobs = 1usize;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--reps" => reps = it.next().context("--reps needs a number")?.parse()?,
            "--jobs" => jobs = it.next().context("--jobs needs a number")?.parse()?,
            "--only" => only = Some(it.next().context("--only needs a value")?.clone()),
            other => bail!("unknown bench argument {other:?}"),
        }
    }
    let command = std::iter::once("cargo xtask bench".to_string())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let built = build_ours()?;
    let ours = built.join("xfs_healer");
    let workloads: Vec<Scenario> = scenarios_in(&repo_root().join("vm/bench"))?
        .into_iter()
        .filter(|s| {
            only.as_ref()
                .is_none_or(|o| o.split(',').any(|part| s.name.contains(part)))
        })
        .collect();
    let mut work = Vec::new();
    for rep in 1..=reps {
        for s in &workloads {
            // `# reps: N` caps the repetitions of a slow workload.
            let cap = fs::read_to_string(&s.path)
                .ok()
                .and_then(|t| header(&t, "reps"))
                .and_then(|r| r.parse().ok());
            if cap.is_some_and(|cap: usize| rep > cap) {
                continue;
            }
            for healer in [Healer::Ours(ours.clone()), Healer::Reference] {
                let mut run = s.clone();
                run.name = format!("{}.{rep}", s.name);
                work.push((run, healer));
            }
        }
    }
    let (images, accel) = prepare()?;
    let outcomes = run_all(&images, accel, work, jobs, false);
    println!("==> decode micro-benchmark");
    let decode = decode_rates();
    let root = crate::fetch::fetch(&Cache::locate()?)?;
    let sizes = [
        (
            "xfs_healer",
            built.join("xfs_healer"),
            root.join("usr/libexec/xfsprogs/xfs_healer"),
        ),
        (
            "xfs_healer_start",
            built.join("xfs_healer_start"),
            root.join("usr/libexec/xfsprogs/xfs_healer_start"),
        ),
    ]
    .map(|(name, ours, theirs)| (name, file_size(&ours), file_size(&theirs)));
    let text = render(
        &command,
        accel.name(),
        &workloads,
        &outcomes,
        decode,
        &sizes,
        &root,
    )?;
    fs::write(repo_root().join("BENCHMARKS.md"), &text)?;
    if let Some(svg) = growth_svg(&collect(&outcomes)) {
        fs::write(repo_root().join(GROWTH_SVG), svg)?;
    }
    println!("wrote BENCHMARKS.md");
    Ok(outcomes.iter().all(|o| o.passed()))
}

fn file_size(path: &std::path::Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

/// (median, min, max)
fn stats(values: &mut [f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    let median = if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    };
    Some((median, values[0], values[values.len() - 1]))
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// workload -> fact -> healer -> values, from the runs that passed.
type Table = BTreeMap<String, BTreeMap<String, BTreeMap<String, Vec<f64>>>>;

fn collect(outcomes: &[Outcome]) -> Table {
    let mut table = Table::new();
    for o in outcomes.iter().filter(|o| o.passed()) {
        let workload = o
            .scenario
            .rsplit_once('.')
            .map_or(o.scenario.as_str(), |(w, _)| w)
            .to_string();
        for (key, value) in &o.facts {
            if let Ok(v) = value.parse::<f64>() {
                table
                    .entry(workload.clone())
                    .or_default()
                    .entry(key.clone())
                    .or_default()
                    .entry(o.healer.clone())
                    .or_default()
                    .push(v);
            }
        }
    }
    table
}

/// The median of one fact for one healer.
fn median(table: &Table, workload: &str, fact: &str, healer: &str) -> Option<f64> {
    let mut values = table.get(workload)?.get(fact)?.get(healer)?.clone();
    stats(&mut values).map(|(med, _, _)| med)
}

/// The plot of how the storm figures grow with the number of objects.
const GROWTH_SVG: &str = "BENCHMARKS-storm.svg";
const GROWTH_FACTS: [&str; 4] = ["repairs", "output_lines", "time_to_clean_ms", "peak_rss_kb"];

/// The object counts of the `storm-N` workloads that ran, ascending.
fn storm_sizes(table: &Table) -> Vec<u64> {
    let mut sizes: Vec<u64> = table
        .keys()
        .filter_map(|w| w.strip_prefix("storm-")?.parse().ok())
        .collect();
    sizes.sort_unstable();
    sizes
}

/// One row per storm size, ours / reference medians side by side.
fn growth_table(table: &Table) -> Result<String> {
    let mut md = String::new();
    write!(md, "| objects |")?;
    for fact in GROWTH_FACTS {
        write!(md, " {fact} (ours / ref) |")?;
    }
    writeln!(md, "\n|---|{}", "---|".repeat(GROWTH_FACTS.len()))?;
    for n in storm_sizes(table) {
        let workload = format!("storm-{n}");
        write!(md, "| {n} |")?;
        for fact in GROWTH_FACTS {
            let cell = |h| median(table, &workload, fact, h).map_or("–".into(), fmt_num);
            write!(md, " {} / {} |", cell("ours"), cell("reference"))?;
        }
        writeln!(md)?;
    }
    Ok(md)
}

/// Four small line charts (one per fact), objects on a log x axis, ours and
/// the reference as two lines. None with fewer than two storm sizes.
fn growth_svg(table: &Table) -> Option<String> {
    const W: f64 = 330.0;
    const H: f64 = 230.0;
    const PAD: f64 = 45.0;
    let sizes = storm_sizes(table);
    if sizes.len() < 2 {
        return None;
    }
    let (lo, hi) = ((sizes[0] as f64).ln(), (sizes[sizes.len() - 1] as f64).ln());
    let x = |n: u64| PAD + ((n as f64).ln() - lo) / (hi - lo) * (W - 2.0 * PAD);
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
        2.0 * W,
        2.0 * H + 20.0
    );
    for (i, fact) in GROWTH_FACTS.iter().enumerate() {
        let (ox, oy) = ((i % 2) as f64 * W, (i / 2) as f64 * H);
        let series = ["ours", "reference"].map(|h| {
            sizes
                .iter()
                .filter_map(|&n| Some((n, median(table, &format!("storm-{n}"), fact, h)?)))
                .collect::<Vec<_>>()
        });
        let top = series
            .iter()
            .flatten()
            .map(|&(_, v)| v)
            .fold(0.0, f64::max)
            .max(1.0)
            * 1.1;
        let y = |v: f64| H - PAD - v / top * (H - 2.0 * PAD);
        let _ = writeln!(
            svg,
            "<g transform=\"translate({ox},{oy})\"><text x=\"{PAD}\" y=\"20\" font-weight=\"bold\">{fact}</text>\
             <line x1=\"{PAD}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"black\"/><line x1=\"{PAD}\" y1=\"{PAD}\" x2=\"{PAD}\" y2=\"{b}\" stroke=\"black\"/>\
             <text x=\"{l}\" y=\"{ty:.1}\" text-anchor=\"end\">{t}</text><text x=\"{l}\" y=\"{b}\" text-anchor=\"end\">0</text>",
            b = H - PAD,
            r = W - PAD,
            l = PAD - 4.0,
            t = fmt_num(top / 1.1),
            ty = y(top / 1.1),
        );
        for &n in &sizes {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{n}</text>",
                x(n),
                H - PAD + 14.0
            );
        }
        for (points, colour) in series.iter().zip(["#1f77b4", "#ff7f0e"]) {
            let line: Vec<String> = points
                .iter()
                .map(|&(n, v)| format!("{:.1},{:.1}", x(n), y(v)))
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                line.join(" ")
            );
            for &(n, v) in points {
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                    x(n),
                    y(v)
                );
            }
        }
        svg.push_str("</g>\n");
    }
    let _ = write!(
        svg,
        "<text x=\"{PAD}\" y=\"{ly}\" fill=\"#1f77b4\">● ours</text><text x=\"{rx}\" y=\"{ly}\" fill=\"#ff7f0e\">● reference (xfsprogs 7.2)</text>\
         <text x=\"{W}\" y=\"{ly}\">objects damaged (log scale); medians</text>\n</svg>",
        ly = 2.0 * H + 10.0,
        rx = PAD + 60.0,
    );
    Some(svg)
}

fn render(
    command: &str,
    accel: &str,
    workloads: &[Scenario],
    outcomes: &[Outcome],
    decode: DecodeRates,
    sizes: &[(&str, u64, u64)],
    root: &std::path::Path,
) -> Result<String> {
    let table = &collect(outcomes);
    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed())
        .map(|o| format!("{} [{}]: {}", o.scenario, o.healer, o.reason))
        .collect();
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_string())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let kernel = fs::read_dir(root.join("usr/lib/modules"))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .next()
        .unwrap_or_default();
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo_root())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut md = String::new();
    writeln!(md, "# Benchmarks\n")?;
    writeln!(
        md,
        "Generated by `{command}`; rerun it to regenerate this file. Do not edit by hand.\n"
    )?;
    writeln!(
        md,
        "Machine: {cpu}, {cores} host cores; guest: Debian sid Linux {kernel}, QEMU {accel}, 2 vCPUs, 1 GiB. \
         Reference: xfsprogs 7.2.0 `xfs_healer`. Ours: commit {commit}. Each row: median (min–max) over the \
         repetitions; ratio = ours / reference (below 1 is better for times, lines, repairs and memory). \
         Guest times have 10 ms resolution (`/proc/uptime`).\n"
    )?;
    for s in workloads {
        let Some(facts) = table.get(&s.name) else {
            continue;
        };
        writeln!(md, "## {}\n\n{}\n", s.name, s.summary)?;
        writeln!(md, "Reproduce: `cargo xtask bench --only {}`\n", s.name)?;
        writeln!(
            md,
            "| measure | ours | reference | ratio |\n|---|---|---|---|"
        )?;
        for (fact, by_healer) in facts {
            let cell = |h: &str| -> (String, Option<f64>) {
                let mut values = by_healer.get(h).cloned().unwrap_or_default();
                match stats(&mut values) {
                    Some((med, min, max)) if min == max => (fmt_num(med), Some(med)),
                    Some((med, min, max)) => (
                        format!("{} ({}–{})", fmt_num(med), fmt_num(min), fmt_num(max)),
                        Some(med),
                    ),
                    None => ("–".into(), None),
                }
            };
            let (ours, o) = cell("ours");
            let (theirs, t) = cell("reference");
            let ratio = match (o, t) {
                (Some(o), Some(t)) if t != 0.0 => format!("{:.2}", o / t),
                _ => "–".into(),
            };
            writeln!(md, "| {fact} | {ours} | {theirs} | {ratio} |")?;
        }
        writeln!(md)?;
    }
    if storm_sizes(table).len() >= 2 {
        writeln!(md, "## storm growth\n")?;
        writeln!(
            md,
            "How the storm figures grow with the number of damaged objects (medians of the storm-N tables above).\n"
        )?;
        writeln!(
            md,
            "{}\n![storm figures against the number of objects]({GROWTH_SVG})\n",
            growth_table(table)?
        )?;
    }
    writeln!(md, "## decode (host)\n")?;
    writeln!(
        md,
        "The real per-record path on one core of the host: records decoded and stepped through the \
         daemon's core (repair engine, line limiter, status book, hook decisions, the reference's \
         lines) with every effect going to a null sink and each repair answered at once; one \
         million SICK reports, each of a distinct inode, in batches of the kernel queue's 585 \
         records. Reproduce: `cargo xtask bench --only none`.\n"
    )?;
    writeln!(md, "| measure | events/s |\n|---|---|")?;
    writeln!(
        md,
        "| decode + core, in memory | {:.1} million |",
        decode.in_memory / 1e6
    )?;
    writeln!(
        md,
        "| read() from a pipe + decode + core | {:.1} million |\n",
        decode.through_pipe / 1e6
    )?;
    writeln!(
        md,
        "## binaries\n\n| program | ours (bytes) | reference (bytes) |\n|---|---|---|"
    )?;
    for (name, ours, theirs) in sizes {
        writeln!(md, "| {name} | {ours} | {theirs} |")?;
    }
    writeln!(
        md,
        "\nFile sizes of the stripped release binaries; shared libraries they load are not counted.\n"
    )?;
    if !failures.is_empty() {
        writeln!(md, "## runs that failed (left out of the tables)\n")?;
        for f in failures {
            writeln!(md, "- {f}")?;
        }
        writeln!(md)?;
    }
    md.push_str(&fs::read_to_string(repo_root().join("vm/bench/NOTES.md")).unwrap_or_default());
    Ok(md)
}

#[derive(Debug, Clone, Copy)]
struct DecodeRates {
    in_memory: f64,
    through_pipe: f64,
}

/// A sick report of inode `ino`'s directory, as the kernel writes it.
/// A SICK report of a directory's inode `ino` (native byte order, as the
/// kernel writes it).
fn sick_record(ino: u64) -> [u8; RECORD_LEN] {
    let mut r = [0u8; RECORD_LEN];
    r[0..4].copy_from_slice(&3u32.to_ne_bytes()); // inode domain
    r[4..8].copy_from_slice(&3u32.to_ne_bytes()); // sick
    r[8..16].copy_from_slice(&ino.wrapping_mul(1_000_003).to_ne_bytes());
    r[16..20].copy_from_slice(&0x10u32.to_ne_bytes()); // directory
    r[20..24].copy_from_slice(&1u32.to_ne_bytes());
    r[24..32].copy_from_slice(&ino.to_ne_bytes());
    r
}

/// Records per batch: the kernel queue's size, so each batch is what one
/// wake-up of the healer reads at most.
const BATCH: usize = 585;

/// The daemon's core as the reactor drives it, with every effect carried
/// out by a null sink (each report made into the wire event every sink
/// starts from), except that each repair is answered at once (so the
/// engine hands out the next) and lookups are off.
struct CoreBench {
    core: Core,
    now: u64,
}

impl CoreBench {
    fn new() -> CoreBench {
        let mut core = Core::new(Setup {
            mount_arg: b"/mnt/test".to_vec(),
            uuid: "00000000-0000-0000-0000-000000000000".into(),
            device: "/dev/vdb".into(),
            repair: true,
            quiet: false,
            paths: false,
            policy: Config {
                storm_targets: usize::MAX,
                ..Config::default()
            },
            hook_classes: HookClass::ALL.to_vec(),
            hook_interval_ms: 3_600_000,
            metrics_interval_ms: None,
            started_usec: 0,
        });
        core.step(
            Now { ms: 0, usec: 0 },
            CoreInput::Start { interrupted: false },
        );
        CoreBench { core, now: 0 }
    }

    /// One batch: its records, its end, the repairs it handed out.
    fn batch(&mut self, records: Vec<xfs_events::Record>) -> usize {
        self.now += 1;
        let now = Now {
            ms: self.now,
            usec: self.now * 1000,
        };
        let mut effects = self.core.step(now, CoreInput::Records(records));
        effects.extend(self.core.step(
            now,
            CoreInput::BatchEnd {
                fdinfo_lost: Some(0),
            },
        ));
        let mut out = 0;
        while let Some(effect) = effects.pop() {
            out += 1;
            // What every sink starts from (`Sinks::emit`).
            if let Effect::Emit { report, .. } = &effect {
                std::hint::black_box(report.to_wire(self.core.identity()));
            }
            if let Effect::Repair(target) = effect {
                effects.extend(self.core.step(
                    now,
                    CoreInput::RepairDone {
                        target,
                        outcome: RepairOutcome::Repaired,
                        text: RepairText::Reference(xfs_report::RepairOutcome::Success),
                    },
                ));
            }
        }
        out
    }
}

/// Records per second through the real per-record path: decode, the core
/// (engine, line limiter, status book, hook decisions, the reference's
/// lines) and its effects to null sinks, each record a distinct object.
fn decode_rates() -> DecodeRates {
    const N: usize = 1_000_000;
    let stream: Vec<u8> = (0..N as u64).flat_map(|i| sick_record(1024 + i)).collect();
    let mut bench = CoreBench::new();
    let t0 = Instant::now();
    let mut sink = 0usize;
    for chunk in stream.chunks(BATCH * RECORD_LEN) {
        let records = chunk
            .chunks_exact(RECORD_LEN)
            .map(|raw| decode(std::hint::black_box(raw.try_into().expect("64 bytes"))))
            .collect();
        sink = sink.wrapping_add(bench.batch(records));
    }
    let in_memory = N as f64 / t0.elapsed().as_secs_f64();
    std::hint::black_box(sink);

    // Through a pipe, in the healer's read size.
    let (mut reader, mut writer) = std::io::pipe().expect("pipe");
    let producer = std::thread::spawn(move || {
        let _ = writer.write_all(&stream);
    });
    let mut bench = CoreBench::new();
    let mut assembler = RecordAssembler::default();
    let mut buf = vec![0u8; READ_BUF];
    let mut count = 0usize;
    let t0 = Instant::now();
    while let Ok(n) = reader.read(&mut buf) {
        if n == 0 {
            break;
        }
        let mut records = Vec::with_capacity(n / RECORD_LEN);
        assembler.feed(&buf[..n], |r| records.push(r));
        count += records.len();
        sink = sink.wrapping_add(bench.batch(records));
    }
    let through_pipe = count as f64 / t0.elapsed().as_secs_f64();
    let _ = producer.join();
    std::hint::black_box(sink);
    DecodeRates {
        in_memory,
        through_pipe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_core_bench_takes_the_real_path() {
        let mut bench = CoreBench::new();
        let records: Vec<_> = (0..BATCH as u64)
            .map(|i| decode(&sick_record(2048 + i)))
            .collect();
        // Each distinct report is emitted, and its repair answered and
        // reported: at least two effects a record.
        assert!(bench.batch(records) >= 2 * BATCH);
        let c = bench.core.status().counters;
        assert_eq!(c.sick_reports, BATCH as u64);
        assert!(c.repairs_succeeded > 0);
    }

    /// `cargo test -p xtask --release -- --ignored --nocapture core_rate`
    #[test]
    #[ignore]
    fn core_rate() {
        let rates = decode_rates();
        println!(
            "in memory {:.2} M/s, through a pipe {:.2} M/s",
            rates.in_memory / 1e6,
            rates.through_pipe / 1e6
        );
    }

    fn table_of(rows: &[(&str, &str, &str, f64)]) -> Table {
        let mut table = Table::new();
        for &(workload, fact, healer, v) in rows {
            table
                .entry(workload.into())
                .or_default()
                .entry(fact.into())
                .or_default()
                .entry(healer.into())
                .or_default()
                .push(v);
        }
        table
    }

    #[test]
    fn growth_orders_storms_by_size_and_plots_both_healers() {
        let table = table_of(&[
            ("storm-1000", "repairs", "ours", 1000.0),
            ("storm-50", "repairs", "ours", 50.0),
            ("storm-50", "repairs", "reference", 250.0),
            ("storm-50", "repairs", "reference", 150.0),
            ("storm-200", "repairs", "ours", 200.0),
            ("idle", "repairs", "ours", 7.0),
        ]);
        assert_eq!(storm_sizes(&table), [50, 200, 1000]);
        let md = growth_table(&table).unwrap();
        let rows: Vec<&str> = md.lines().skip(2).collect();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].starts_with("| 50 | 50 / 200 |"), "{}", rows[0]);
        assert!(rows[2].starts_with("| 1000 | 1000 / – |"), "{}", rows[2]);
        let svg = growth_svg(&table).unwrap();
        // one line per healer per fact; the reference's repairs have one point
        assert_eq!(svg.matches("<polyline").count(), 2 * GROWTH_FACTS.len());
        assert_eq!(svg.matches("<circle").count(), 3 + 1);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn growth_needs_two_storm_sizes() {
        assert!(growth_svg(&table_of(&[("storm-50", "repairs", "ours", 1.0)])).is_none());
    }
}
