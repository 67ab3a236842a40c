//! `healthplan bench detect`: the outbreak detectors on synthetic daily surveillance counts.
//!
//! A city of `--communities` communities (city → districts → streets → communities) reports
//! daily counts of `--diseases` diseases for `--years` years of whole ISO weeks. Each series is
//! Poisson with a disease-specific level, an annual sine season, a day-of-week reporting
//! pattern (fewer cases at weekends) and injected outbreaks of known start, length (3–14 days)
//! and size (daily excess Poisson with mean k·max(√λ, 0.5), k uniform in 1–4). The last two
//! diseases are rare (`plague`, `cholera`: the settings give them the fixed threshold).
//!
//! Everything goes through the analytics engine: the counts are loaded as day values, series
//! are read back with `day_series`/`week_series`, and the arrival of one day is written with
//! `Engine::set` before the detectors run at that day. Accuracy is scored in the last weeks,
//! where every detector (Farrington's three years included) has its history:
//! - an outbreak is detected when a daily detector alarms on one of its days, or Farrington on
//!   a week overlapping it; the delay runs from its first day to the alarm day (for a week,
//!   its Sunday, when the weekly count is complete);
//! - a false alert is an alarm outside every outbreak and the week after it; false alerts per
//!   area-year divide by the series' evaluated days (or weeks) in the scoring window.

use crate::engine::{median, peak_rss_bytes, Rng};
use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_analytics::{AreaId, AreaTree, ElementId, Engine};
use healthplan_core::{Aggregation, AreaCode, Period};
use healthplan_surveillance::{
    evaluate_at, sweep, Detector, Method, Outcome, Series, Settings, Signal, Step,
};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct DetectArgs {
    #[arg(long, default_value_t = 2000)]
    pub communities: usize,
    #[arg(long, default_value_t = 20)]
    pub diseases: usize,
    /// Years of daily counts (rounded up to whole ISO weeks from the first Monday).
    #[arg(long, default_value_t = 4)]
    pub years: usize,
    #[arg(long, default_value_t = 2021)]
    pub start_year: i32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Stop after the arrival timings (no full sweep, no scores).
    #[arg(long)]
    pub no_sweep: bool,
}

const RARE: [&str; 2] = ["plague", "cholera"];

/// CPU seconds used by this process so far (user + system, from /proc; Linux's 100 ticks a
/// second). On a shared machine this says more than the wall clock.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| {
        f.get(i)
            .and_then(|x| x.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (tick(11) + tick(12)) / 100.0
}
/// Outbreaks per series-year.
const OUTBREAK_RATE: f64 = 0.5;
/// Reporting by weekday, Monday first (mean 1).
const WEEKDAY: [f64; 7] = [1.15, 1.1, 1.05, 1.0, 1.0, 0.85, 0.85];

struct DiseaseModel {
    code: String,
    /// Mean daily count per community.
    level: f64,
    amplitude: f64,
    phase: f64,
    rare: bool,
}

#[derive(Debug, Clone, Copy)]
struct Outbreak {
    start: usize,
    len: usize,
}

/// Poisson draw: Knuth's product of uniforms below 30, a rounded normal above (a benchmark
/// generator, not an estimator).
fn poisson(rng: &mut Rng, lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let mut k = 0.0;
        let mut p = rng.unit();
        while p > limit {
            p *= rng.unit();
            k += 1.0;
        }
        return k;
    }
    let (u1, u2) = (rng.unit().max(1e-300), rng.unit());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    (lambda + lambda.sqrt() * z).round().max(0.0)
}

fn diseases(n: usize, seed: u64) -> Vec<DiseaseModel> {
    let mut rng = Rng::new(seed, 0xD15E);
    (0..n)
        .map(|d| {
            let rare = d + RARE.len() >= n;
            let code = if rare {
                RARE[d + RARE.len() - n].to_string()
            } else {
                format!("d{:02}", d + 1)
            };
            DiseaseModel {
                code,
                // Log-uniform 0.05–3 cases a community-day; rare ones about one a year a city.
                level: if rare {
                    0.5 / 365.0 / 2000.0
                } else {
                    0.05 * 60f64.powf(rng.unit())
                },
                amplitude: 0.2 + 0.6 * rng.unit(),
                phase: rng.unit(),
                rare,
            }
        })
        .collect()
}

/// One series' counts and outbreaks; deterministic in (seed, series).
fn gen_series(
    seed: u64,
    series: usize,
    m: &DiseaseModel,
    day_of_year: &[f64],
    out: &mut Vec<f64>,
) -> Vec<Outbreak> {
    let mut rng = Rng::new(seed, 0x5E41E5 + series as u64);
    let days = day_of_year.len();
    let community = 0.5 + rng.unit();
    let expected = |i: usize| -> f64 {
        let season =
            1.0 + m.amplitude * (std::f64::consts::TAU * (day_of_year[i] / 365.25 - m.phase)).sin();
        m.level * community * season * WEEKDAY[i % 7]
    };
    out.clear();
    out.extend((0..days).map(|i| poisson(&mut rng, expected(i))));
    let mut outbreaks: Vec<Outbreak> = Vec::new();
    let count = poisson(&mut rng, OUTBREAK_RATE * days as f64 / 365.25) as usize;
    for _ in 0..count {
        let len = 3 + (rng.next() % 12) as usize;
        let start = (rng.next() % days as u64) as usize;
        let k = 1.0 + 3.0 * rng.unit();
        // Keep outbreaks apart (a week's gap) so each is scored on its own.
        if start + len > days
            || outbreaks
                .iter()
                .any(|o| start < o.start + o.len + 7 && o.start < start + len + 7)
        {
            continue;
        }
        for (i, x) in out.iter_mut().enumerate().skip(start).take(len) {
            let base = if m.rare {
                1.0
            } else {
                expected(i).sqrt().max(0.5)
            };
            *x += poisson(&mut rng, k * base);
        }
        outbreaks.push(Outbreak { start, len });
    }
    outbreaks
}

/// City 440300 → 10 districts → streets of 20 communities.
fn city(communities: usize) -> Result<AreaTree> {
    let mut areas: Vec<(AreaCode, Option<AreaCode>)> = Vec::new();
    let code = |s: String| AreaCode::parse(&s).with_context(|| format!("area code {s}"));
    let root = code("440300".into())?;
    areas.push((root.clone(), None));
    let streets = communities.div_ceil(20);
    for s in 0..streets {
        let district = code(format!("4403{:02}", s % 10 + 1))?;
        if s < 10 {
            areas.push((district.clone(), Some(root.clone())));
        }
        let street = code(format!("{district}{:03}", s / 10 + 1))?;
        areas.push((street.clone(), Some(district)));
        for c in 0..20.min(communities - s * 20) {
            areas.push((code(format!("{street}{:03}", c + 1))?, Some(street.clone())));
        }
    }
    Ok(AreaTree::new(areas)?)
}

/// Scores of one detector.
#[derive(Debug, Default, Clone)]
struct Score {
    outbreaks: u64,
    detected: u64,
    delays: Vec<f64>,
    false_alarms: u64,
    /// Evaluated points (days or weeks) in the scoring window.
    evaluated: u64,
    alarms: u64,
    weekly: bool,
}

impl Score {
    fn merge(&mut self, o: &Score) {
        self.outbreaks += o.outbreaks;
        self.detected += o.detected;
        self.delays.extend_from_slice(&o.delays);
        self.false_alarms += o.false_alarms;
        self.evaluated += o.evaluated;
        self.alarms += o.alarms;
        self.weekly |= o.weekly;
    }
}

type Scores = BTreeMap<Method, Score>;

fn merge(mut a: Scores, b: Scores) -> Scores {
    for (k, v) in b {
        a.entry(k).or_default().merge(&v);
    }
    a
}

/// What the sweep keeps of one series and detector: points evaluated in the scoring window,
/// and the alarm indices there.
#[derive(Debug, Default, Clone)]
struct Tally {
    evaluated: u64,
    alarms: Vec<usize>,
}

/// One tally per detector, indexed by `Method as usize`.
type Tallies = [Tally; Method::ALL.len()];

/// Streams outcomes into tallies per detector (points before `from` are not scored).
fn tally(tallies: &mut Tallies, o: &Outcome, step: usize, from_day: usize) {
    let (method, index, alarm) = match o {
        Outcome::Assessed(a) => (a.method, a.index, a.alarm),
        Outcome::Skipped { method, index, .. } => (*method, *index, false),
    };
    if index * step < from_day {
        return;
    }
    let t = &mut tallies[method as usize];
    if matches!(o, Outcome::Assessed(_)) {
        t.evaluated += 1;
    }
    if alarm {
        t.alarms.push(index);
    }
}

/// Scores one series' tallies against its outbreaks; `step` days per point.
fn score(
    tallies: &Tallies,
    methods: &[Detector],
    outbreaks: &[Outbreak],
    step: usize,
    from_day: usize,
    scores: &mut Scores,
) {
    for d in methods {
        let method = d.method();
        let t = &tallies[method as usize];
        let mut s = Score {
            evaluated: t.evaluated,
            alarms: t.alarms.len() as u64,
            weekly: step > 1,
            ..Score::default()
        };
        for &i in &t.alarms {
            let (first, last) = (i * step, i * step + step - 1);
            let near = outbreaks
                .iter()
                .any(|b| first < b.start + b.len + 7 && b.start <= last);
            if !near {
                s.false_alarms += 1;
            }
        }
        for b in outbreaks.iter().filter(|b| b.start >= from_day) {
            s.outbreaks += 1;
            let hit = t.alarms.iter().find(|&&i| {
                let (first, last) = (i * step, i * step + step - 1);
                first < b.start + b.len && b.start <= last
            });
            if let Some(&i) = hit {
                s.detected += 1;
                s.delays
                    .push((i * step + step - 1).saturating_sub(b.start) as f64);
            }
        }
        scores.entry(method).or_default().merge(&s);
    }
}

/// Detectors the product runs on the bench's series: the settings' daily list on daily
/// series, and Farrington on the weekly aggregates of common diseases.
fn detectors_for(settings: &Settings, m: &DiseaseModel) -> (Vec<Detector>, Vec<Detector>) {
    let daily = settings.detectors(&m.code, Step::Day);
    let weekly = if m.rare {
        Vec::new()
    } else {
        settings
            .detectors(&m.code, Step::Week)
            .into_iter()
            .filter(|d| d.method() == Method::Farrington)
            .collect()
    };
    (daily, weekly)
}

pub fn run(a: &DetectArgs) -> Result<()> {
    if a.communities == 0 || a.diseases < RARE.len() + 1 || a.years == 0 || a.years > 20 {
        bail!(
            "--communities must be positive, --diseases at least {}, --years 1–20",
            RARE.len() + 1
        );
    }
    // Start on the Monday of ISO week 1.
    let first = Period::Week(a.start_year, 1);
    let start = first.day_numbers().start;
    if first.check().is_err() || first.day_numbers().is_empty() {
        bail!(
            "--start-year {} is outside the supported years",
            a.start_year
        );
    }
    let weeks = (a.years as f64 * 365.25 / 7.0).ceil() as usize;
    let days = weeks * 7;
    let day_periods: Vec<Period> = (0..days as i32)
        .map(|i| Period::from_day_number(start + i))
        .collect::<Option<_>>()
        .context("the period runs past the supported years")?;
    let day_of_year: Vec<f64> = day_periods
        .iter()
        .map(|p| p.day_of_year().map_or(0.0, f64::from))
        .collect();
    let settings = Settings::default();
    let models = diseases(a.diseases, a.seed);

    // Generate, and load all but the last two days (they arrive later, one by one).
    let t0 = Instant::now();
    let mut engine = Engine::new(city(a.communities)?);
    let leaves: Vec<AreaId> = engine
        .tree()
        .all()
        .filter(|&x| engine.tree().is_leaf(x))
        .collect();
    let n_series = leaves.len() * models.len();
    let mut outbreaks: Vec<Vec<Outbreak>> = Vec::with_capacity(n_series);
    let mut arrivals: Vec<[f64; 2]> = Vec::with_capacity(n_series);
    let mut values = 0u64;
    let mut gen_s = 0.0;
    for (d, m) in models.iter().enumerate() {
        let e = engine.add_element(&m.code, Aggregation::Sum)?;
        let tg = Instant::now();
        let generated: Vec<(Vec<f64>, Vec<Outbreak>)> = (0..leaves.len())
            .into_par_iter()
            .map(|l| {
                let mut v = Vec::with_capacity(days);
                let ob = gen_series(a.seed, d * leaves.len() + l, m, &day_of_year, &mut v);
                (v, ob)
            })
            .collect();
        gen_s += tg.elapsed().as_secs_f64();
        for (l, (v, ob)) in generated.into_iter().enumerate() {
            for (i, &x) in v.iter().enumerate().take(days - 2) {
                engine.load(e, leaves[l], day_periods[i], x)?;
                values += 1;
            }
            arrivals.push([v[days - 2], v[days - 1]]);
            outbreaks.push(ob);
        }
    }
    let tb = Instant::now();
    engine.build();
    let build_s = tb.elapsed().as_secs_f64();
    let load_s = t0.elapsed().as_secs_f64();
    println!(
        "bench detect: {} communities × {} diseases × {} days ({} to {}) = {} series, {} values loaded (+{} arriving); generated in {gen_s:.2} s, loaded + built in {load_s:.2} s (build {build_s:.2} s)",
        leaves.len(),
        models.len(),
        days,
        day_periods[0],
        day_periods[days - 1],
        n_series,
        values,
        2 * n_series
    );

    // One day arrives: write its counts, run the detectors at that day, produce the alerts.
    let series_of = |i: usize| (i / leaves.len(), leaves[i % leaves.len()]);
    // Days the daily detectors read before the day they judge.
    let lookback = models
        .iter()
        .map(|m| Settings::history(&detectors_for(&settings, m).0, Step::Day))
        .max()
        .unwrap_or(0);
    // Weeks Farrington reads (b years and the window), and needs at least (min_years).
    let (fw, fw_min) = settings
        .weekly
        .iter()
        .find_map(|d| match d {
            Detector::Farrington(f) => Some((f.b * 52 + f.w + 1, f.min_years * 52 + f.w + 1)),
            _ => None,
        })
        .unwrap_or((0, 0));
    let mut arrival_ms = Vec::new();
    let mut arrival_cpu_ms = Vec::new();
    let mut arrival_signals = Vec::new();
    for k in 0..2 {
        let day = days - 2 + k;
        let p = day_periods[day];
        let t = Instant::now();
        let c = cpu_seconds();
        for (i, arrival) in arrivals.iter().enumerate() {
            let (d, leaf) = series_of(i);
            engine.set(ElementId(d as u32), leaf, p, Some(arrival[k]))?;
        }
        let sunday = p.weekday() == Some(7);
        let signals: Vec<Signal> = (0..n_series)
            .into_par_iter()
            .map_init(
                || (Vec::new(), Vec::new()),
                |(cells, vals), i| {
                    let (d, leaf) = series_of(i);
                    let (daily, weekly) = detectors_for(&settings, &models[d]);
                    let e = ElementId(d as u32);
                    let from = (day + 1).saturating_sub(lookback);
                    cells.clear();
                    engine.day_series(e, leaf, start + from as i32..start + day as i32 + 1, cells);
                    healthplan_analytics::counts_or_nan(cells, vals);
                    let mut out = match Series::new(day_periods[from], vals) {
                        Ok(s) => evaluate_at(&s, vals.len() - 1, &daily),
                        Err(_) => Vec::new(),
                    };
                    if sunday && !weekly.is_empty() {
                        let week = day / 7;
                        let from_w = (week + 1).saturating_sub(fw);
                        let first_week = day_periods[from_w * 7].iso_week();
                        cells.clear();
                        if let Some(fwk) = first_week {
                            engine.week_series(e, leaf, fwk, week + 1 - from_w, cells);
                            healthplan_analytics::counts_or_nan(cells, vals);
                            if let Ok(s) = Series::new(fwk, vals) {
                                out.extend(evaluate_at(&s, vals.len() - 1, &weekly));
                            }
                        }
                    }
                    out
                },
            )
            .flatten()
            .collect();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        let cpu_ms = (cpu_seconds() - c) * 1e3;
        println!(
            "arrival of {p} ({}): {} values written, {} series evaluated{}, {} alerts in {ms:.1} ms (CPU {cpu_ms:.0} ms)",
            if sunday { "Sunday" } else { "weekday" },
            n_series,
            n_series,
            if sunday { " (Farrington too: the week is complete)" } else { "" },
            signals.len()
        );
        arrival_ms.push(ms);
        arrival_cpu_ms.push(cpu_ms);
        arrival_signals.push(signals.len());
        if k == 1 {
            if let Some(s) = signals.first() {
                println!("  e.g. {} / {}", s.explanation_zh, s.explanation_en);
            }
        }
    }

    if a.no_sweep {
        return Ok(());
    }
    // The full sweep: every detector over every series, read from the engine.
    let from_day = fw_min.max(lookback.div_ceil(7) + 1) * 7;
    let tr = Instant::now();
    let read_total: usize = (0..n_series)
        .into_par_iter()
        .map_init(Vec::new, |cells, i| {
            let (d, leaf) = series_of(i);
            cells.clear();
            engine.day_series(ElementId(d as u32), leaf, start..start + days as i32, cells);
            cells.len()
        })
        .sum();
    let read_s = tr.elapsed().as_secs_f64();
    let ts = Instant::now();
    let cs = cpu_seconds();
    let scores: Scores = (0..n_series)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new(), Tallies::default()),
            |(cells, vals, tallies), i| {
                let (d, leaf) = series_of(i);
                let (daily, weekly) = detectors_for(&settings, &models[d]);
                let e = ElementId(d as u32);
                let mut scores = Scores::new();
                cells.clear();
                engine.day_series(e, leaf, start..start + days as i32, cells);
                healthplan_analytics::counts_or_nan(cells, vals);
                *tallies = Tallies::default();
                if let Ok(s) = Series::new(day_periods[0], vals) {
                    sweep(&s, &daily, |o| tally(tallies, o, 1, from_day));
                }
                score(tallies, &daily, &outbreaks[i], 1, from_day, &mut scores);
                if !weekly.is_empty() {
                    cells.clear();
                    engine.week_series(e, leaf, first, weeks, cells);
                    healthplan_analytics::counts_or_nan(cells, vals);
                    *tallies = Tallies::default();
                    if let Ok(s) = Series::new(first, vals) {
                        sweep(&s, &weekly, |o| tally(tallies, o, 7, from_day));
                    }
                    score(tallies, &weekly, &outbreaks[i], 7, from_day, &mut scores);
                }
                scores
            },
        )
        .reduce(Scores::new, merge);
    let sweep_s = ts.elapsed().as_secs_f64();
    let sweep_cpu_s = cpu_seconds() - cs;
    println!(
        "full sweep: {} series × {} days (+ {} weeks for Farrington): {sweep_s:.2} s (CPU {sweep_cpu_s:.2} s on {} threads; reading the {} daily values alone: {read_s:.2} s)",
        n_series, days, weeks, rayon::current_num_threads(), read_total
    );
    println!(
        "scored from {} (the last {} days, where every detector has its history):",
        day_periods[from_day.min(days - 1)],
        days.saturating_sub(from_day)
    );
    println!(
        "{:<20} {:>9} {:>9} {:>11} {:>18} {:>17} {:>10}",
        "detector",
        "outbreaks",
        "detected",
        "sensitivity",
        "false/area-year",
        "median delay (d)",
        "alarms"
    );
    let mut rows = Vec::new();
    for (method, s) in &scores {
        let per_year = if s.weekly { 365.25 / 7.0 } else { 365.25 };
        let area_years = s.evaluated as f64 / per_year;
        let sens = s.detected as f64 / s.outbreaks.max(1) as f64;
        let fa = s.false_alarms as f64 / area_years.max(f64::MIN_POSITIVE);
        let mut delays = s.delays.clone();
        let delay = median(&mut delays);
        println!(
            "{:<20} {:>9} {:>9} {:>11.3} {:>18.3} {:>17.1} {:>10}",
            method.code(),
            s.outbreaks,
            s.detected,
            sens,
            fa,
            delay,
            s.alarms
        );
        rows.push(serde_json::json!({
            "detector": method.code(),
            "outbreaks": s.outbreaks,
            "detected": s.detected,
            "sensitivity": sens,
            "false_alerts_per_area_year": fa,
            "median_delay_days": if delay.is_nan() { None } else { Some(delay) },
            "alarms": s.alarms,
            "area_years": area_years,
        }));
    }
    let rss = peak_rss_bytes();
    println!(
        "peak RSS {} MB; engine arrays {} MB",
        rss.map_or("?".into(), |r| (r / 1_000_000).to_string()),
        engine.heap_bytes() / 1_000_000
    );
    if let Some(p) = &a.json {
        let j = serde_json::json!({
            "communities": leaves.len(),
            "diseases": models.len(),
            "days": days,
            "series": n_series,
            "values": values + 2 * n_series as u64,
            "generate_s": gen_s,
            "load_build_s": load_s,
            "arrival_ms": arrival_ms,
            "arrival_cpu_ms": arrival_cpu_ms,
            "sweep_cpu_s": sweep_cpu_s,
            "arrival_alerts": arrival_signals,
            "read_s": read_s,
            "sweep_s": sweep_s,
            "scored_from": day_periods[from_day.min(days - 1)].to_string(),
            "detectors": rows,
            "peak_rss_bytes": rss,
        });
        std::fs::write(p, serde_json::to_string_pretty(&j)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
