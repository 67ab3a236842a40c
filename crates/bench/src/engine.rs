//! `healthplan-bench gen | run | xl`: a synthetic province for the analytics engine, and its
//! measurements.
//!
//! Files written by `bench gen` (CSV with a header, integer ids):
//! - `areas.csv`: id (pre-order), code, name, level, parent_id, idlevel1..idlevel5 (the
//!   DHIS2-style area-structure columns: the ancestor at each level);
//! - `periods.csv`: id, iso, kind, month_id, quarter_id, year_id (the period structure);
//! - `elements.csv`: id, code, aggregation;
//! - `datavalues.csv`: element_id, area_id, period_id, value (integers, so every system sums
//!   them exactly and checksums can be compared bit for bit).
//!
//! Checksums, per (area level, period type), over every (element, area, period) group with
//! data: rows, Σsum, Σcount, Σ((sum·k) mod M), Σ((count·k) mod M) with
//! k = ((e·100003 + a)·4099 + p) mod 1000003 + 1 and M = 2³¹−1. `bench/compare.py` computes the
//! same in SQL.

use anyhow::{bail, Context, Result};
use clap::Args;
use healthplan_analytics::{AreaId, AreaTree, ElementId, Engine, SLOTS};
use healthplan_core::{Aggregation, AreaCode, Period};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Args, Clone, Debug)]
pub struct Shape {
    /// Leaf areas (communities) wanted; the count of counties is derived from it.
    #[arg(long, default_value_t = 26000)]
    pub leaves: usize,
    #[arg(long, default_value_t = 100)]
    pub elements: usize,
    #[arg(long, default_value_t = 60)]
    pub months: usize,
    /// Share of (leaf, element, month) cells that hold a value.
    #[arg(long, default_value_t = 0.6)]
    pub density: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 2020)]
    pub start_year: i32,
    #[arg(long, default_value_t = 21)]
    pub cities: usize,
    #[arg(long, default_value_t = 13)]
    pub towns_per_county: usize,
    #[arg(long, default_value_t = 16)]
    pub communities_per_town: usize,
}

#[derive(Args)]
pub struct GenArgs {
    #[command(flatten)]
    pub shape: Shape,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args)]
pub struct RunArgs {
    #[arg(long)]
    pub dir: PathBuf,
    /// Timed repetitions of the build and of the workload.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Random updates, each followed by a read-back of the province's yearly aggregate.
    #[arg(long, default_value_t = 100_000)]
    pub updates: usize,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

#[derive(Args)]
pub struct XlArgs {
    #[arg(long, default_value_t = 40768)]
    pub leaves: usize,
    #[arg(long, default_value_t = 205)]
    pub elements: usize,
    #[arg(long, default_value_t = 120)]
    pub months: usize,
    #[arg(long, default_value_t = 1.0)]
    pub density: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 3)]
    pub runs: usize,
    #[arg(long)]
    pub json: Option<PathBuf>,
}

/// SplitMix64: tiny, deterministic, and the same on every platform.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next();
        r
    }
    pub(crate) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One area of the synthetic tree, in pre-order.
struct GenArea {
    code: String,
    level: u8,
    parent: Option<usize>,
}

fn validate_shape(s: &Shape) -> Result<()> {
    if !(s.density > 0.0 && s.density <= 1.0) {
        bail!("--density {} must be in (0, 1]", s.density);
    }
    if s.months == 0 || s.elements == 0 || s.leaves == 0 {
        bail!("--months, --elements and --leaves must be positive");
    }
    if !(1..=99).contains(&s.cities)
        || !(1..=999).contains(&s.towns_per_county)
        || !(1..=999).contains(&s.communities_per_town)
    {
        bail!("--cities must be 1–99, --towns-per-county and --communities-per-town 1–999");
    }
    let last = s.start_year as i64 + (s.months as i64 - 1) / 12;
    if s.start_year < healthplan_core::period::MIN_YEAR
        || last > healthplan_core::period::MAX_YEAR as i64
    {
        bail!(
            "periods {}..{last} fall outside the supported years",
            s.start_year
        );
    }
    Ok(())
}

/// Province → cities → counties (spread ~evenly, about `leaves / (towns × communities)` in all)
/// → towns → communities, codes in the GB/T 2260 style.
fn gen_tree(s: &Shape) -> Result<Vec<GenArea>> {
    let per_county = s.towns_per_county * s.communities_per_town;
    let counties = ((s.leaves as f64 / per_county as f64).round() as usize).max(s.cities);
    let mut per_city = vec![counties / s.cities; s.cities];
    let mut rng = Rng::new(s.seed, 0xA7EA);
    for _ in 0..counties % s.cities {
        // Hand the remainder to random cities so the tree is slightly uneven.
        loop {
            let i = (rng.next() % s.cities as u64) as usize;
            if per_city[i] == counties / s.cities {
                per_city[i] += 1;
                break;
            }
        }
    }
    if per_city.iter().any(|&c| c > 99) {
        bail!("more than 99 counties per city; raise --cities");
    }
    let mut v = vec![GenArea {
        code: "440000".into(),
        level: 1,
        parent: None,
    }];
    for (ci, &nc) in per_city.iter().enumerate() {
        let city = v.len();
        let cc = format!("44{:02}", ci + 1);
        v.push(GenArea {
            code: format!("{cc}00"),
            level: 2,
            parent: Some(0),
        });
        for k in 0..nc {
            let county = v.len();
            let kc = format!("{cc}{:02}", k + 1);
            v.push(GenArea {
                code: kc.clone(),
                level: 3,
                parent: Some(city),
            });
            for t in 0..s.towns_per_county {
                let town = v.len();
                let tc = format!("{kc}{:03}", t + 1);
                v.push(GenArea {
                    code: tc.clone(),
                    level: 4,
                    parent: Some(county),
                });
                for m in 0..s.communities_per_town {
                    v.push(GenArea {
                        code: format!("{tc}{:03}", m + 1),
                        level: 5,
                        parent: Some(town),
                    });
                }
            }
        }
    }
    Ok(v)
}

/// Canonical period id: (year − start year) · 17 + slot (months 0–11, quarters 12–15, year 16).
fn period_id(start_year: i32, year: i32, slot: u8) -> i64 {
    (year - start_year) as i64 * 17 + slot as i64
}

fn month_period(start_year: i32, month_index: usize) -> Period {
    Period::Month(
        start_year + (month_index / 12) as i32,
        (month_index % 12) as u8 + 1,
    )
}

fn push_int(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Values of one element, in (leaf, month) order; the same stream for files and XL.
fn element_values(
    s_seed: u64,
    density: f64,
    e: usize,
    leaves: usize,
    months: usize,
    mut f: impl FnMut(usize, usize, u32),
) {
    let mut rng = Rng::new(s_seed, e as u64 + 1);
    for l in 0..leaves {
        for m in 0..months {
            let r = rng.next();
            // Upper bits decide presence, lower bits the value (0–999).
            if ((r >> 11) as f64 / (1u64 << 53) as f64) < density {
                f(l, m, (r % 1000) as u32);
            }
        }
    }
}

pub fn gen(a: &GenArgs) -> Result<()> {
    let s = &a.shape;
    validate_shape(s)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let areas = gen_tree(s)?;
    let leaves: Vec<usize> = (0..areas.len()).filter(|&i| areas[i].level == 5).collect();

    let path = a.out.join("areas.csv");
    let mut w = BufWriter::new(File::create(&path).with_context(|| path.display().to_string())?);
    writeln!(
        w,
        "id,code,name,level,parent_id,idlevel1,idlevel2,idlevel3,idlevel4,idlevel5"
    )?;
    let mut chain = [None::<usize>; 5];
    for (i, ar) in areas.iter().enumerate() {
        chain[ar.level as usize - 1] = Some(i);
        for c in chain.iter_mut().skip(ar.level as usize) {
            *c = None;
        }
        let lv: Vec<String> = chain
            .iter()
            .map(|c| c.map(|x| x.to_string()).unwrap_or_default())
            .collect();
        writeln!(
            w,
            "{i},{},area-{},{},{},{}",
            ar.code,
            ar.code,
            ar.level,
            ar.parent.map(|p| p.to_string()).unwrap_or_default(),
            lv.join(",")
        )?;
    }
    w.flush()?;

    let path = a.out.join("periods.csv");
    let mut w = BufWriter::new(File::create(&path).with_context(|| path.display().to_string())?);
    writeln!(w, "id,iso,kind,month_id,quarter_id,year_id")?;
    let years = s.months.div_ceil(12);
    let sy = s.start_year;
    for yo in 0..years as i32 {
        let y = sy + yo;
        let yid = period_id(sy, y, 16);
        for m in 0..12u8 {
            if (yo as usize) * 12 + m as usize >= s.months {
                break;
            }
            let qid = period_id(sy, y, 12 + m / 3);
            let mid = period_id(sy, y, m);
            writeln!(
                w,
                "{mid},{},month,{mid},{qid},{yid}",
                Period::Month(y, m + 1)
            )?;
        }
        for q in 0..4u8 {
            let qid = period_id(sy, y, 12 + q);
            writeln!(
                w,
                "{qid},{},quarter,,{qid},{yid}",
                Period::Quarter(y, q + 1)
            )?;
        }
        writeln!(w, "{yid},{},year,,,{yid}", Period::Year(y))?;
    }
    w.flush()?;

    let path = a.out.join("elements.csv");
    let mut w = BufWriter::new(File::create(&path).with_context(|| path.display().to_string())?);
    writeln!(w, "id,code,aggregation")?;
    for e in 0..s.elements {
        writeln!(w, "{e},DE{:04},sum", e + 1)?;
    }
    w.flush()?;

    let path = a.out.join("datavalues.csv");
    let mut w = BufWriter::with_capacity(
        1 << 20,
        File::create(&path).with_context(|| path.display().to_string())?,
    );
    w.write_all(b"element_id,area_id,period_id,value\n")?;
    let month_ids: Vec<u64> = (0..s.months)
        .map(|m| period_id(sy, sy + (m / 12) as i32, (m % 12) as u8) as u64)
        .collect();
    let pb = ProgressBar::new(s.elements as u64).with_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} elements, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    pb.set_message("datavalues.csv");
    let mut total = 0u64;
    let mut buf = Vec::with_capacity(1 << 20);
    for e in 0..s.elements {
        let mut io_err = None;
        element_values(s.seed, s.density, e, leaves.len(), s.months, |l, m, v| {
            push_int(&mut buf, e as u64);
            buf.push(b',');
            push_int(&mut buf, leaves[l] as u64);
            buf.push(b',');
            push_int(&mut buf, month_ids[m]);
            buf.push(b',');
            push_int(&mut buf, v as u64);
            buf.push(b'\n');
            total += 1;
            if buf.len() > (1 << 20) - 64 {
                if let Err(x) = w.write_all(&buf) {
                    io_err.get_or_insert(x);
                }
                buf.clear();
            }
        });
        if let Some(x) = io_err {
            return Err(x).with_context(|| path.display().to_string());
        }
        pb.inc(1);
    }
    w.write_all(&buf)?;
    w.flush()?;
    pb.finish_and_clear();
    println!(
        "wrote {}: {} areas ({} leaves), {} elements, {} months, {} values",
        a.out.display(),
        areas.len(),
        leaves.len(),
        s.elements,
        s.months,
        total
    );
    Ok(())
}

/// Parses a CSV of small non-negative integers (empty field → None); errors name file and line.
fn read_int_csv(path: &Path, mut f: impl FnMut(usize, &[Option<i64>]) -> Result<()>) -> Result<()> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    let mut fields: Vec<Option<i64>> = Vec::new();
    let mut no = 0usize;
    loop {
        line.clear();
        if r.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        no += 1;
        if no == 1 {
            continue;
        }
        let text = line.strip_suffix(b"\n").unwrap_or(&line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() {
            continue;
        }
        fields.clear();
        for (col, part) in text.split(|&b| b == b',').enumerate() {
            if part.is_empty() {
                fields.push(None);
                continue;
            }
            let mut n: i64 = 0;
            for &b in part {
                if !b.is_ascii_digit() || n > i64::MAX / 10 - 10 {
                    bail!(
                        "{}:{no}: column {}: {:?} is not a whole number",
                        path.display(),
                        col + 1,
                        String::from_utf8_lossy(part)
                    );
                }
                n = n * 10 + (b - b'0') as i64;
            }
            fields.push(Some(n));
        }
        f(no, &fields).with_context(|| format!("{}:{no}", path.display()))?;
    }
    Ok(())
}

/// A CSV with text columns (small files only).
fn read_text_csv(path: &Path) -> Result<Vec<Vec<String>>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect())
}

fn field<'a>(row: &'a [String], i: usize, path: &Path, line: usize) -> Result<&'a str> {
    row.get(i)
        .map(String::as_str)
        .with_context(|| format!("{}:{}: missing column {}", path.display(), line + 2, i + 1))
}

/// What `bench run` needs from the files besides the engine.
struct Loaded {
    engine: Engine,
    /// File id of each engine area, and tree level.
    area_file_id: Vec<i64>,
    area_level: Vec<u8>,
    start_year: i32,
    years: Vec<i32>,
    values: u64,
    province: AreaId,
    leaves: Vec<AreaId>,
    months: Vec<Period>,
}

fn load_dir(dir: &Path) -> Result<Loaded> {
    let ap = dir.join("areas.csv");
    let rows = read_text_csv(&ap)?;
    let mut pairs = Vec::with_capacity(rows.len());
    let mut by_id = std::collections::HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        let id: i64 = field(r, 0, &ap, i)?
            .parse()
            .with_context(|| format!("{}:{}: bad id", ap.display(), i + 2))?;
        let code = AreaCode::parse(field(r, 1, &ap, i)?)
            .with_context(|| format!("{}:{}", ap.display(), i + 2))?;
        by_id.insert(id, code.clone());
        pairs.push((id, code, field(r, 4, &ap, i)?.to_string()));
    }
    let mut tree_input = Vec::with_capacity(pairs.len());
    for (i, (_, code, parent)) in pairs.iter().enumerate() {
        let parent = if parent.is_empty() {
            None
        } else {
            let pid: i64 = parent
                .parse()
                .with_context(|| format!("{}:{}: bad parent_id", ap.display(), i + 2))?;
            Some(by_id.get(&pid).cloned().with_context(|| {
                format!("{}:{}: parent_id {pid} is not an area", ap.display(), i + 2)
            })?)
        };
        tree_input.push((code.clone(), parent));
    }
    let tree = AreaTree::new(tree_input).with_context(|| ap.display().to_string())?;
    let mut area_file_id = vec![0i64; tree.len()];
    let mut file_to_area = std::collections::HashMap::new();
    for (id, code, _) in &pairs {
        let a = tree.id(code)?;
        area_file_id[a.0 as usize] = *id;
        file_to_area.insert(*id, a);
    }
    let area_level: Vec<u8> = tree.all().map(|a| tree.level(a)).collect();
    let province = tree.all().next().context("areas.csv has no area")?;
    let leaves: Vec<AreaId> = tree.all().filter(|&a| tree.is_leaf(a)).collect();

    let pp = dir.join("periods.csv");
    let prow = read_text_csv(&pp)?;
    let mut period_of = std::collections::HashMap::new();
    let mut months = Vec::new();
    for (i, r) in prow.iter().enumerate() {
        let id: i64 = field(r, 0, &pp, i)?
            .parse()
            .with_context(|| format!("{}:{}: bad id", pp.display(), i + 2))?;
        let p: Period = field(r, 1, &pp, i)?
            .parse()
            .with_context(|| format!("{}:{}", pp.display(), i + 2))?;
        if matches!(p, Period::Month(..)) {
            months.push(p);
        }
        period_of.insert(id, p);
    }
    let start_year = period_of
        .values()
        .map(Period::year)
        .min()
        .context("periods.csv has no period")?;
    // Period ids must follow the canonical numbering the checksums use.
    for (&id, &p) in &period_of {
        let slot = healthplan_analytics::slot_chain(p).1[0];
        if period_id(start_year, p.year(), slot) != id {
            bail!("{}: period {p} has id {id}, expected the canonical (year − {start_year})·17 + slot", pp.display());
        }
    }

    let mut engine = Engine::new(tree);
    let ep = dir.join("elements.csv");
    let erows = read_text_csv(&ep)?;
    let mut elem_of = Vec::new();
    for (i, r) in erows.iter().enumerate() {
        let id: usize = field(r, 0, &ep, i)?
            .parse()
            .with_context(|| format!("{}:{}: bad id", ep.display(), i + 2))?;
        if id != i {
            bail!(
                "{}:{}: element ids must be 0, 1, 2, … in order",
                ep.display(),
                i + 2
            );
        }
        let agg = match field(r, 2, &ep, i)? {
            "sum" => Aggregation::Sum,
            "average" => Aggregation::Average,
            "none" => Aggregation::None,
            other => bail!(
                "{}:{}: aggregation {other:?} is not sum, average or none",
                ep.display(),
                i + 2
            ),
        };
        elem_of.push(engine.add_element(field(r, 1, &ep, i)?, agg)?);
    }

    let dp = dir.join("datavalues.csv");
    let size = std::fs::metadata(&dp)
        .with_context(|| dp.display().to_string())?
        .len();
    let pb = ProgressBar::new(size).with_style(
        ProgressStyle::with_template("loading {bytes}/{total_bytes} [{bar:40}] eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut values = 0u64;
    let mut bytes = 0u64;
    read_int_csv(&dp, |_, f| {
        let get = |i: usize, what: &str| {
            f.get(i)
                .copied()
                .flatten()
                .with_context(|| format!("missing {what}"))
        };
        let e = get(0, "element_id")?;
        let a = get(1, "area_id")?;
        let p = get(2, "period_id")?;
        let v = get(3, "value")?;
        let e = *elem_of
            .get(e as usize)
            .with_context(|| format!("element_id {e} is not in elements.csv"))?;
        let a = *file_to_area
            .get(&a)
            .with_context(|| format!("area_id {a} is not in areas.csv"))?;
        let p = *period_of
            .get(&p)
            .with_context(|| format!("period_id {p} is not in periods.csv"))?;
        engine.load(e, a, p, v as f64)?;
        values += 1;
        if values.is_multiple_of(1 << 20) {
            bytes = values * 18;
            pb.set_position(bytes.min(size));
        }
        Ok(())
    })?;
    pb.finish_and_clear();
    let mut years: Vec<i32> = period_of.values().map(Period::year).collect();
    years.sort();
    years.dedup();
    Ok(Loaded {
        engine,
        area_file_id,
        area_level,
        start_year,
        years,
        values,
        province,
        leaves,
        months,
    })
}

const CHK_M: i64 = 2_147_483_647;

/// Checksums of one (level, period type): rows, Σsum, Σcount, Σ(sum·k mod M), Σ(count·k mod M).
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct Chk {
    rows: u64,
    sum: i128,
    count: u64,
    chk_sum: i128,
    chk_count: i128,
}

fn add_chk(a: &mut [Chk; 15], b: &[Chk; 15]) {
    for (x, y) in a.iter_mut().zip(b) {
        x.rows += y.rows;
        x.sum += y.sum;
        x.count += y.count;
        x.chk_sum += y.chk_sum;
        x.chk_count += y.chk_count;
    }
}

/// Visits every non-empty aggregate (the whole workload) and folds it into the checksums.
fn workload(l: &Loaded) -> [Chk; 15] {
    let eng = &l.engine;
    (0..eng.element_count())
        .into_par_iter()
        .map(|e| {
            // Per element the terms fit in 64 bits: < 2³¹ each, a few million cells.
            let mut acc = [[0u64; 5]; 15];
            let mut sums = [0i64; 15];
            eng.for_each_row(ElementId(e as u32), |a, y, s, c| {
                let level = l.area_level[a.0 as usize] as usize;
                if !(1..=5).contains(&level) {
                    return;
                }
                let af = l.area_file_id[a.0 as usize];
                let base = (e as i64 * 100_003 + af) * 4099 + period_id(l.start_year, y, 0);
                for slot in 0..SLOTS {
                    let count = c[slot] as i64;
                    if count == 0 {
                        continue;
                    }
                    let pt = match slot {
                        0..=11 => 0,
                        12..=15 => 1,
                        _ => 2,
                    };
                    let k = (base + slot as i64) % 1_000_003 + 1;
                    let sv = s[slot] as i64;
                    let i = (level - 1) * 3 + pt;
                    let x = &mut acc[i];
                    x[0] += 1;
                    sums[i] += sv;
                    x[2] += count as u64;
                    // |sum·k| < 2⁶³ for sums below ~9·10¹²; beyond that, 128 bits.
                    x[3] += match sv.checked_mul(k) {
                        Some(v) => v.rem_euclid(CHK_M),
                        None => (sv as i128 * k as i128).rem_euclid(CHK_M as i128) as i64,
                    } as u64;
                    x[4] += (count * k % CHK_M) as u64;
                }
            });
            let mut out = [Chk::default(); 15];
            for (i, o) in out.iter_mut().enumerate() {
                *o = Chk {
                    rows: acc[i][0],
                    sum: sums[i] as i128,
                    count: acc[i][2],
                    chk_sum: acc[i][3] as i128,
                    chk_count: acc[i][4] as i128,
                };
            }
            out
        })
        .reduce(
            || [Chk::default(); 15],
            |mut a, b| {
                add_chk(&mut a, &b);
                a
            },
        )
}

pub(crate) fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        f64::NAN
    } else {
        v[v.len() / 2]
    }
}

/// Peak resident set size of this process, from /proc (Linux).
pub(crate) fn peak_rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn chk_json(c: &[Chk; 15]) -> serde_json::Value {
    let pts = ["month", "quarter", "year"];
    serde_json::Value::Array(
        c.iter()
            .enumerate()
            .map(|(i, x)| {
                serde_json::json!({
                    "level": i / 3 + 1,
                    "ptype": pts[i % 3],
                    "rows": x.rows,
                    "sum": x.sum.to_string(),
                    "count": x.count,
                    "chk_sum": x.chk_sum.to_string(),
                    "chk_count": x.chk_count.to_string(),
                })
            })
            .collect(),
    )
}

fn print_chk(c: &[Chk; 15]) {
    let pts = ["month", "quarter", "year"];
    println!(
        "{:>5} {:>7} {:>12} {:>16} {:>12} {:>20} {:>20}",
        "level", "ptype", "rows", "sum", "count", "chk_sum", "chk_count"
    );
    for (i, x) in c.iter().enumerate() {
        println!(
            "{:>5} {:>7} {:>12} {:>16} {:>12} {:>20} {:>20}",
            i / 3 + 1,
            pts[i % 3],
            x.rows,
            x.sum,
            x.count,
            x.chk_sum,
            x.chk_count
        );
    }
}

pub fn run_files(a: &RunArgs) -> Result<()> {
    let t0 = Instant::now();
    let mut l = load_dir(&a.dir)?;
    let load_s = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    l.engine.build();
    let first_build_s = t1.elapsed().as_secs_f64();
    let startup_s = t0.elapsed().as_secs_f64();
    println!(
        "loaded {} values, {} areas ({} leaves), {} elements in {load_s:.2} s; first build {first_build_s:.3} s; start-up {startup_s:.2} s",
        l.values,
        l.engine.tree().len(),
        l.leaves.len(),
        l.engine.element_count()
    );
    let runs = a.runs.max(1);
    let (mut builds, mut scans, mut fulls) = (Vec::new(), Vec::new(), Vec::new());
    let mut chk = [Chk::default(); 15];
    for _ in 0..runs {
        let t = Instant::now();
        l.engine.build();
        let b = t.elapsed().as_secs_f64();
        let t = Instant::now();
        chk = workload(&l);
        let s = t.elapsed().as_secs_f64();
        builds.push(b);
        scans.push(s);
        fulls.push(b + s);
    }
    let (build_m, scan_m, full_m) = (median(&mut builds), median(&mut scans), median(&mut fulls));
    println!(
        "full build: median {build_m:.3} s; workload scan (every sum and count, with checksums): median {scan_m:.3} s; together median {full_m:.3} s ({runs} runs)"
    );
    print_chk(&chk);

    // Updates: a random raw value changes (or disappears, or appears), then the province's
    // yearly aggregate for that element is read back and checked.
    let mut rng = Rng::new(0xB0B, 7);
    let mut lat = Vec::with_capacity(a.updates);
    let ne = l.engine.element_count() as u64;
    for _ in 0..a.updates {
        if l.leaves.is_empty() || l.months.is_empty() || ne == 0 {
            break;
        }
        let e = ElementId((rng.next() % ne) as u32);
        let leaf = l.leaves[(rng.next() % l.leaves.len() as u64) as usize];
        let p = l.months[(rng.next() % l.months.len() as u64) as usize];
        let new = if rng.unit() < 0.1 {
            None
        } else {
            Some((rng.next() % 1000) as f64)
        };
        let year = Period::Year(p.year());
        let before = l.engine.cell(e, l.province, year);
        let t = Instant::now();
        let old = l.engine.set(e, leaf, p, new)?;
        let after = l.engine.cell(e, l.province, year);
        lat.push(t.elapsed().as_secs_f64());
        let want = before.sum - old.unwrap_or(0.0) + new.unwrap_or(0.0);
        if after.sum != want {
            bail!(
                "read-back after update: province {year} sum {} ≠ {want}",
                after.sum
            );
        }
    }
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        if lat.is_empty() {
            f64::NAN
        } else {
            lat[((lat.len() as f64 * q) as usize).min(lat.len() - 1)] * 1e6
        }
    };
    let (p50, p99, pmax) = (pct(0.5), pct(0.99), pct(1.0));
    println!(
        "update + read-back of the province's yearly aggregate: p50 {p50:.2} µs, p99 {p99:.2} µs, max {pmax:.1} µs ({} updates)",
        lat.len()
    );
    let rss = peak_rss_bytes();
    let raw_bytes = l.values * 8;
    println!(
        "peak RSS {} MB; raw value bytes {} MB ({} values × 8-byte f64); ratio {:.2}; engine arrays {} MB",
        rss.map_or("?".into(), |r| (r / 1_000_000).to_string()),
        raw_bytes / 1_000_000,
        l.values,
        rss.map_or(f64::NAN, |r| r as f64 / raw_bytes as f64),
        l.engine.heap_bytes() / 1_000_000
    );
    if let Some(p) = &a.json {
        let j = serde_json::json!({
            "values": l.values,
            "areas": l.engine.tree().len(),
            "leaves": l.leaves.len(),
            "elements": l.engine.element_count(),
            "years": l.years,
            "load_s": load_s,
            "startup_s": startup_s,
            "build_s": builds,
            "scan_s": scans,
            "full_s": fulls,
            "build_median_s": build_m,
            "scan_median_s": scan_m,
            "full_median_s": full_m,
            "updates": lat.len(),
            "update_p50_us": p50,
            "update_p99_us": p99,
            "update_max_us": pmax,
            "peak_rss_bytes": rss,
            "raw_value_bytes": raw_bytes,
            "engine_bytes": l.engine.heap_bytes(),
            "checksums": chk_json(&chk),
        });
        std::fs::write(p, serde_json::to_string_pretty(&j)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

pub fn xl(a: &XlArgs) -> Result<()> {
    let shape = Shape {
        leaves: a.leaves,
        elements: a.elements,
        months: a.months,
        density: a.density,
        seed: a.seed,
        start_year: 2020,
        cities: 21,
        towns_per_county: 13,
        communities_per_town: 16,
    };
    validate_shape(&shape)?;
    let t0 = Instant::now();
    let areas = gen_tree(&shape)?;
    let tree = AreaTree::new(areas.iter().map(|g| {
        (
            AreaCode::parse(&g.code).expect("generated codes are valid"),
            g.parent
                .map(|p| AreaCode::parse(&areas[p].code).expect("generated codes are valid")),
        )
    }))?;
    let mut engine = Engine::new(tree);
    let leaves: Vec<AreaId> = engine
        .tree()
        .all()
        .filter(|&x| engine.tree().is_leaf(x))
        .collect();
    let months: Vec<Period> = (0..a.months).map(|m| month_period(2020, m)).collect();
    let pb = ProgressBar::new(a.elements as u64).with_style(
        ProgressStyle::with_template("generating [{bar:40}] {pos}/{len} elements, eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut values = 0u64;
    for e in 0..a.elements {
        let id = engine.add_element(&format!("DE{:04}", e + 1), Aggregation::Sum)?;
        let mut err = None;
        element_values(a.seed, a.density, e, leaves.len(), a.months, |l, m, v| {
            if let Err(x) = engine.load(id, leaves[l], months[m], v as f64) {
                err.get_or_insert(x);
            }
            values += 1;
        });
        if let Some(x) = err {
            return Err(x.into());
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    let gen_s = t0.elapsed().as_secs_f64();
    println!(
        "XL: generated {values} values over {} areas ({} leaves), {} elements, {} months in memory in {gen_s:.1} s",
        engine.tree().len(),
        leaves.len(),
        a.elements,
        a.months
    );
    let mut builds = Vec::new();
    for _ in 0..a.runs.max(1) {
        let t = Instant::now();
        engine.build();
        builds.push(t.elapsed().as_secs_f64());
    }
    let bm = median(&mut builds);
    let province = engine.tree().all().next().context("empty tree")?;
    let top = engine.cell(ElementId(0), province, Period::Year(2020));
    let rss = peak_rss_bytes();
    println!(
        "XL: full build median {bm:.2} s over {} runs ({builds:.2?}); peak RSS {} MB; raw value bytes {} MB; engine arrays {} MB; check: DE0001 province 2020 sum {} from {} values",
        builds.len(),
        rss.map_or("?".into(), |r| (r / 1_000_000).to_string()),
        values * 8 / 1_000_000,
        engine.heap_bytes() / 1_000_000,
        top.sum,
        top.count
    );
    if let Some(p) = &a.json {
        let j = serde_json::json!({
            "values": values,
            "areas": engine.tree().len(),
            "leaves": leaves.len(),
            "generate_s": gen_s,
            "build_s": builds,
            "build_median_s": bm,
            "peak_rss_bytes": rss,
            "raw_value_bytes": values * 8,
            "engine_bytes": engine.heap_bytes(),
        });
        std::fs::write(p, serde_json::to_string_pretty(&j)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}
