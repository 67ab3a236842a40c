//! Raw values and their aggregates, per data element and year.
//!
//! Layout of one (element, year) block:
//! - `leaf`: raw monthly values of every leaf area, `[leaf][month]`, NaN = absent. Leaf months
//!   are the raw layer; a leaf's quarter and year are summed from it on read (3 or 12 cells).
//! - `sum`/`cnt`: aggregates of every inner area for the 17 period slots of the year
//!   (12 months, 4 quarters, the year), maintained on every write.
//! - `extra`: raw values that are not (leaf, month), (leaf, day) or (leaf, week): values entered
//!   for an inner area or for a whole quarter/year. Rare in practice, so a hash map.
//! - `days` (only once a day value is written for this calendar year): raw daily values of
//!   every leaf, `[leaf][day of year]`; per leaf, the sum and count of its days in each month;
//!   and the daily aggregates of every inner area, `[inner][day of year]`. A day value also adds
//!   to the month, quarter and year slots above, so month/quarter/year reads stay O(1).
//! - `weeks` (only once a week value is written for this ISO year): raw weekly values of every
//!   leaf, `[leaf][week]`, and their inner aggregates. A week value adds to the year slot (the
//!   ISO year). A week's aggregate is its raw week values plus its seven days' aggregates,
//!   summed on read, so no aggregate spans two year blocks.

use crate::error::AnalyticsError;
use crate::tree::{AreaId, AreaTree, NONE};
use healthplan_core::period::{MAX_YEAR, MIN_YEAR};
use healthplan_core::{Aggregation, Period};
use rayon::prelude::*;
use std::collections::HashMap;

/// Period slots in one year: 12 months, then 4 quarters, then the year.
pub const SLOTS: usize = 17;
/// Day slots in one calendar year (day of year − 1).
pub const DAYS: usize = 366;
/// Week slots in one ISO year (week − 1).
pub const WEEKS: usize = 53;
/// Keys of `extra`: the 17 period slots, then days, then weeks.
const DAY0: u16 = SLOTS as u16;
const WEEK0: u16 = DAY0 + DAYS as u16;
const YEARS: usize = (MAX_YEAR - MIN_YEAR + 1) as usize;

/// Dense index of a data element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ElementId(pub u32);

/// An aggregate: the sum of the contributing raw values and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Cell {
    pub sum: f64,
    pub count: u64,
}

/// The year block a raw value at `p` lives in, and the month/quarter/year slots it adds to: a
/// month, quarter or year itself first; a day its month, quarter and calendar year; a week only
/// the year of its ISO year.
pub fn slot_chain(p: Period) -> (i32, &'static [u8]) {
    const CHAINS: [[u8; 3]; 12] = [
        [0, 12, 16],
        [1, 12, 16],
        [2, 12, 16],
        [3, 13, 16],
        [4, 13, 16],
        [5, 13, 16],
        [6, 14, 16],
        [7, 14, 16],
        [8, 14, 16],
        [9, 15, 16],
        [10, 15, 16],
        [11, 15, 16],
    ];
    const QCHAINS: [[u8; 2]; 4] = [[12, 16], [13, 16], [14, 16], [15, 16]];
    match p {
        Period::Month(y, m) => (y, &CHAINS[(m.clamp(1, 12) - 1) as usize]),
        Period::Quarter(y, q) => (y, &QCHAINS[(q.clamp(1, 4) - 1) as usize]),
        Period::Day(y, m, _) => (y, &CHAINS[(m.clamp(1, 12) - 1) as usize]),
        Period::Year(y) | Period::Week(y, _) => (y, &[16]),
    }
}

/// Where a raw value at a period lives.
#[derive(Debug, Clone, Copy)]
enum Pos {
    /// A month, quarter or year: its chain of the 17 slots (own slot first).
    Slot(&'static [u8]),
    /// A day of the calendar year (0-based) and its month's chain.
    Day(u16, &'static [u8]),
    /// An ISO week (0-based).
    Week(u8),
}

impl Pos {
    fn extra_key(self) -> u16 {
        match self {
            Pos::Slot(chain) => chain[0] as u16,
            Pos::Day(d, _) => DAY0 + d,
            Pos::Week(w) => WEEK0 + w as u16,
        }
    }
}

/// The year index and position of `p`; an error for a year outside the engine's range or a
/// variant that names no real day or week.
fn locate(p: Period) -> Result<(usize, Pos), AnalyticsError> {
    let yi = year_index(p)?;
    let bad = || AnalyticsError::PeriodOutOfRange(p.to_string());
    let pos = match p {
        Period::Day(..) => {
            let doy = p.day_of_year().ok_or_else(bad)?;
            Pos::Day(doy - 1, slot_chain(p).1)
        }
        Period::Week(_, w) => {
            if p.day_numbers().is_empty() {
                return Err(bad());
            }
            Pos::Week(w - 1)
        }
        _ => Pos::Slot(slot_chain(p).1),
    };
    Ok((yi, pos))
}

/// The period of an `extra` key in a year.
fn extra_period(year: i32, key: u16) -> Period {
    if key < DAY0 {
        slot_period(year, key as u8)
    } else if key < WEEK0 {
        day_of(year, key - DAY0).unwrap_or(Period::Year(year))
    } else {
        Period::Week(year, (key - WEEK0) as u8 + 1)
    }
}

/// The day `doy` (0-based) of `year`.
fn day_of(year: i32, doy: u16) -> Option<Period> {
    Period::from_day_number(Period::Year(year).day_numbers().start + doy as i32)
}

/// Adds `(ds, dc)` to `slots` (within rows of `stride`) of inner area `i` and its ancestors.
#[allow(clippy::too_many_arguments)]
fn propagate(
    tree: &AreaTree,
    sum: &mut [f64],
    cnt: &mut [u32],
    stride: usize,
    mut i: u32,
    slots: &[usize],
    ds: f64,
    dc: i64,
) {
    while i != NONE {
        let base = i as usize * stride;
        for &s in slots {
            let k = base + s;
            let c = (cnt[k] as i64 + dc) as u32;
            cnt[k] = c;
            // An emptied cell is exactly zero, whatever rounding the deltas left behind.
            sum[k] = if c == 0 { 0.0 } else { sum[k] + ds };
        }
        i = tree.inner_parent[i as usize];
    }
}

/// Adds each inner area's row into its parent's, children first (pre-order walked backwards).
/// The row length is a constant so the inner loops compile to fixed-length vector code.
fn roll_up<const STRIDE: usize>(tree: &AreaTree, sum: &mut [f64], cnt: &mut [u32]) {
    for i in (0..tree.inner_count()).rev() {
        let p = tree.inner_parent[i];
        if p == NONE {
            continue;
        }
        let (lo, hi) = (i * STRIDE, p as usize * STRIDE);
        debug_assert!(hi < lo);
        let (head, tail) = sum.split_at_mut(lo);
        for k in 0..STRIDE {
            head[hi + k] += tail[k];
        }
        let (head, tail) = cnt.split_at_mut(lo);
        for k in 0..STRIDE {
            head[hi + k] += tail[k];
        }
    }
}

/// Adds one present raw value to a cell.
fn add_raw(cell: &mut Cell, v: f64) {
    if !v.is_nan() {
        cell.sum += v;
        cell.count += 1;
    }
}

/// Daily values of one calendar year.
#[derive(Debug, Clone)]
struct DayBlock {
    /// `[leaf][day]`, NaN = absent.
    leaf: Vec<f64>,
    /// `[leaf][month]`: sum and count of the leaf's day values in each month.
    month_sum: Vec<f64>,
    month_cnt: Vec<u32>,
    /// `[inner][day]` aggregates.
    sum: Vec<f64>,
    cnt: Vec<u32>,
}

impl DayBlock {
    fn new(leaves: usize, inner: usize) -> Box<DayBlock> {
        Box::new(DayBlock {
            leaf: vec![f64::NAN; leaves * DAYS],
            month_sum: vec![0.0; leaves * 12],
            month_cnt: vec![0; leaves * 12],
            sum: vec![0.0; inner * DAYS],
            cnt: vec![0; inner * DAYS],
        })
    }
}

/// Weekly values of one ISO year.
#[derive(Debug, Clone)]
struct WeekBlock {
    /// `[leaf][week]`, NaN = absent.
    leaf: Vec<f64>,
    /// `[inner][week]` aggregates of raw week values (days are added on read).
    sum: Vec<f64>,
    cnt: Vec<u32>,
}

impl WeekBlock {
    fn new(leaves: usize, inner: usize) -> Box<WeekBlock> {
        Box::new(WeekBlock {
            leaf: vec![f64::NAN; leaves * WEEKS],
            sum: vec![0.0; inner * WEEKS],
            cnt: vec![0; inner * WEEKS],
        })
    }

    fn leaf_year(&self, l: usize) -> (f64, u32) {
        let mut c = Cell::default();
        for &v in &self.leaf[l * WEEKS..(l + 1) * WEEKS] {
            add_raw(&mut c, v);
        }
        (c.sum, c.count as u32)
    }
}

/// The period of a slot in a year.
pub fn slot_period(year: i32, slot: u8) -> Period {
    match slot {
        0..=11 => Period::Month(year, slot + 1),
        12..=15 => Period::Quarter(year, slot - 11),
        _ => Period::Year(year),
    }
}

#[derive(Debug, Clone)]
struct YearBlock {
    leaf: Vec<f64>,
    sum: Vec<f64>,
    cnt: Vec<u32>,
    extra: HashMap<(u32, u16), f64>,
    days: Option<Box<DayBlock>>,
    weeks: Option<Box<WeekBlock>>,
}

impl YearBlock {
    fn new(leaves: usize, inner: usize) -> Box<YearBlock> {
        Box::new(YearBlock {
            leaf: vec![f64::NAN; leaves * 12],
            sum: vec![0.0; inner * SLOTS],
            cnt: vec![0; inner * SLOTS],
            extra: HashMap::new(),
            days: None,
            weeks: None,
        })
    }

    /// Applies a raw-value change `(ds, dc)` at `pos`, written at area `a` (leaf slot `leaf`
    /// when `a` is a leaf), to every aggregate it feeds, starting at inner area `start`.
    #[allow(clippy::too_many_arguments)]
    fn apply(
        &mut self,
        tree: &AreaTree,
        leaf: Option<usize>,
        start: u32,
        pos: Pos,
        ds: f64,
        dc: i64,
    ) {
        let chain: &[u8] = match pos {
            Pos::Slot(chain) | Pos::Day(_, chain) => chain,
            Pos::Week(_) => &[16],
        };
        let mut slots = [0usize; 3];
        for (s, &c) in slots.iter_mut().zip(chain) {
            *s = c as usize;
        }
        let slots = &slots[..chain.len()];
        propagate(
            tree,
            &mut self.sum,
            &mut self.cnt,
            SLOTS,
            start,
            slots,
            ds,
            dc,
        );
        match pos {
            Pos::Slot(_) => {}
            Pos::Day(d, chain) => {
                if let Some(db) = self.days.as_deref_mut() {
                    if let Some(l) = leaf {
                        let k = l * 12 + chain[0] as usize;
                        propagate_leaf(&mut db.month_sum, &mut db.month_cnt, k, ds, dc);
                    }
                    propagate(
                        tree,
                        &mut db.sum,
                        &mut db.cnt,
                        DAYS,
                        start,
                        &[d as usize],
                        ds,
                        dc,
                    );
                }
            }
            Pos::Week(w) => {
                if let Some(wb) = self.weeks.as_deref_mut() {
                    propagate(
                        tree,
                        &mut wb.sum,
                        &mut wb.cnt,
                        WEEKS,
                        start,
                        &[w as usize],
                        ds,
                        dc,
                    );
                }
            }
        }
    }

    /// The 17 slot aggregates of leaf `l` from its raw months, days and weeks (not `extra`).
    fn leaf_row<C: Copy + Default + std::ops::Add<Output = C> + From<u8>>(
        &self,
        l: usize,
        s: &mut [f64; SLOTS],
        c: &mut [C; SLOTS],
    ) where
        u32: Into<C>,
    {
        month_row(&self.leaf[l * 12..l * 12 + 12], s, c);
        if let Some(db) = self.days.as_deref() {
            // Each month's day values feed the month, its quarter and the year.
            for m in 0..12 {
                let (ds, dc) = (db.month_sum[l * 12 + m], db.month_cnt[l * 12 + m]);
                for k in [m, 12 + m / 3, 16] {
                    s[k] += ds;
                    c[k] = c[k] + dc.into();
                }
            }
        }
        if let Some(wb) = self.weeks.as_deref() {
            let (ws, wc) = wb.leaf_year(l);
            s[16] += ws;
            c[16] = c[16] + wc.into();
        }
    }

    /// Recomputes every inner aggregate from the raw values.
    fn rebuild(&mut self, tree: &AreaTree, year: i32) {
        self.sum.iter_mut().for_each(|x| *x = 0.0);
        self.cnt.iter_mut().for_each(|x| *x = 0);
        if let Some(db) = self.days.as_deref_mut() {
            db.sum.iter_mut().for_each(|x| *x = 0.0);
            db.cnt.iter_mut().for_each(|x| *x = 0);
            // Each leaf's days per month, from the day-of-year ranges of the months.
            let starts: Vec<usize> = (1..=12u8)
                .map(|m| {
                    let first = Period::Month(year, m).day_numbers().start;
                    (first - Period::Year(year).day_numbers().start) as usize
                })
                .chain([DAYS])
                .collect();
            for (l, row) in db.leaf.chunks_exact(DAYS).enumerate() {
                for m in 0..12 {
                    let mut c = Cell::default();
                    for &v in &row[starts[m]..starts[m + 1]] {
                        add_raw(&mut c, v);
                    }
                    db.month_sum[l * 12 + m] = c.sum;
                    db.month_cnt[l * 12 + m] = c.count as u32;
                }
                add_to_parent(&mut db.sum, &mut db.cnt, tree.leaf_parent[l], row);
            }
        }
        if let Some(wb) = self.weeks.as_deref_mut() {
            wb.sum.iter_mut().for_each(|x| *x = 0.0);
            wb.cnt.iter_mut().for_each(|x| *x = 0);
            for (l, row) in wb.leaf.chunks_exact(WEEKS).enumerate() {
                add_to_parent(&mut wb.sum, &mut wb.cnt, tree.leaf_parent[l], row);
            }
        }
        let mut s = [0.0f64; SLOTS];
        let mut c = [0u32; SLOTS];
        if self.days.is_none() && self.weeks.is_none() {
            // Months only (the common case): the tight loop of the raw month layer.
            for (l, row) in self.leaf.chunks_exact(12).enumerate() {
                let p = tree.leaf_parent[l];
                if p == NONE {
                    continue;
                }
                month_row(row, &mut s, &mut c);
                add_slots(&mut self.sum, &mut self.cnt, p, &s, &c);
            }
        } else {
            for l in 0..tree.leaf_count() {
                let p = tree.leaf_parent[l];
                if p == NONE {
                    continue;
                }
                self.leaf_row(l, &mut s, &mut c);
                add_slots(&mut self.sum, &mut self.cnt, p, &s, &c);
            }
        }
        for (&(a, key), &v) in &self.extra {
            let aid = AreaId(a);
            let target = if tree.is_leaf(aid) {
                tree.leaf_parent[tree.slot(aid) as usize]
            } else {
                tree.slot(aid)
            };
            if target == NONE {
                continue;
            }
            let chain = slot_chain(extra_period(year, key)).1;
            let base = target as usize * SLOTS;
            for &s in chain {
                self.sum[base + s as usize] += v;
                self.cnt[base + s as usize] += 1;
            }
            if (DAY0..WEEK0).contains(&key) {
                if let Some(db) = self.days.as_deref_mut() {
                    let k = target as usize * DAYS + (key - DAY0) as usize;
                    db.sum[k] += v;
                    db.cnt[k] += 1;
                }
            } else if key >= WEEK0 {
                if let Some(wb) = self.weeks.as_deref_mut() {
                    let k = target as usize * WEEKS + (key - WEEK0) as usize;
                    wb.sum[k] += v;
                    wb.cnt[k] += 1;
                }
            }
        }
        roll_up::<SLOTS>(tree, &mut self.sum, &mut self.cnt);
        if let Some(db) = self.days.as_deref_mut() {
            roll_up::<DAYS>(tree, &mut db.sum, &mut db.cnt);
        }
        if let Some(wb) = self.weeks.as_deref_mut() {
            roll_up::<WEEKS>(tree, &mut wb.sum, &mut wb.cnt);
        }
    }

    /// A leaf's month, quarter or year cell (`chain[0]` is the slot asked for).
    fn leaf_cell(&self, l: usize, a: u32, chain: &[u8]) -> Cell {
        let mut s = [0.0f64; SLOTS];
        let mut c = [0u64; SLOTS];
        let k = chain[0] as usize;
        let mut cell = if self.days.is_none() && self.weeks.is_none() {
            // Only the months the slot covers.
            let row = &self.leaf[l * 12..l * 12 + 12];
            let months = match chain[0] {
                m @ 0..=11 => m as usize..m as usize + 1,
                q @ 12..=15 => (q as usize - 12) * 3..(q as usize - 12) * 3 + 3,
                _ => 0..12,
            };
            let mut cell = Cell::default();
            for &v in &row[months] {
                add_raw(&mut cell, v);
            }
            cell
        } else {
            self.leaf_row(l, &mut s, &mut c);
            Cell {
                sum: s[k],
                count: c[k],
            }
        };
        if chain[0] >= 12 && !self.extra.is_empty() {
            let slots: &[u16] = if chain[0] == 16 {
                &[12, 13, 14, 15, 16]
            } else {
                &[chain[0] as u16]
            };
            for &s in slots {
                if let Some(&v) = self.extra.get(&(a, s)) {
                    cell.sum += v;
                    cell.count += 1;
                }
            }
        }
        cell
    }
}

/// The 17 slot aggregates of one leaf's 12 raw months (the common case: no days or weeks).
#[inline(always)]
fn month_row<C: Copy + Default + std::ops::Add<Output = C> + From<u8>>(
    row: &[f64],
    s: &mut [f64; SLOTS],
    c: &mut [C; SLOTS],
) {
    for m in 0..12 {
        let v = row[m];
        let present = !v.is_nan();
        s[m] = if present { v } else { 0.0 };
        c[m] = C::from(present as u8);
    }
    for q in 0..4 {
        s[12 + q] = s[3 * q] + s[3 * q + 1] + s[3 * q + 2];
        c[12 + q] = c[3 * q] + c[3 * q + 1] + c[3 * q + 2];
    }
    s[16] = s[12] + s[13] + s[14] + s[15];
    c[16] = c[12] + c[13] + c[14] + c[15];
}

/// Adds a leaf's 17 slot aggregates into its parent's (an empty leaf adds nothing).
#[inline(always)]
fn add_slots(sum: &mut [f64], cnt: &mut [u32], parent: u32, s: &[f64; SLOTS], c: &[u32; SLOTS]) {
    if c[16] == 0 {
        return;
    }
    let base = parent as usize * SLOTS;
    let ps = &mut sum[base..base + SLOTS];
    for k in 0..SLOTS {
        ps[k] += s[k];
    }
    let pc = &mut cnt[base..base + SLOTS];
    for k in 0..SLOTS {
        pc[k] += c[k];
    }
}

/// Adds a leaf's raw row (days or weeks) into its parent's aggregate row; a root leaf adds
/// nothing.
fn add_to_parent(sum: &mut [f64], cnt: &mut [u32], parent: u32, row: &[f64]) {
    if parent == NONE {
        return;
    }
    let base = parent as usize * row.len();
    for (k, &v) in row.iter().enumerate() {
        if !v.is_nan() {
            sum[base + k] += v;
            cnt[base + k] += 1;
        }
    }
}

/// Applies a change to one leaf-level counter (no tree walk).
fn propagate_leaf(sum: &mut [f64], cnt: &mut [u32], k: usize, ds: f64, dc: i64) {
    let c = (cnt[k] as i64 + dc) as u32;
    cnt[k] = c;
    sum[k] = if c == 0 { 0.0 } else { sum[k] + ds };
}

#[derive(Debug, Clone)]
struct ElementStore {
    code: String,
    aggregation: Aggregation,
    years: Vec<Option<Box<YearBlock>>>,
}

/// An indicator: `factor × Σnumerator / Σdenominator` over data elements.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorDef {
    pub numerator: Vec<ElementId>,
    /// Empty means no denominator: the value is `factor × Σnumerator`.
    pub denominator: Vec<ElementId>,
    pub factor: f64,
}

/// The in-memory analytics engine: every aggregate of every element over the area tree and the
/// month → quarter → year tree, kept current on every write.
#[derive(Debug, Clone)]
pub struct Engine {
    tree: AreaTree,
    elements: Vec<ElementStore>,
    element_index: HashMap<String, u32>,
    pub(crate) indicators: HashMap<String, IndicatorDef>,
}

fn year_index(p: Period) -> Result<usize, AnalyticsError> {
    let y = p.year();
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        return Err(AnalyticsError::PeriodOutOfRange(p.to_string()));
    }
    Ok((y - MIN_YEAR) as usize)
}

impl Engine {
    pub fn new(tree: AreaTree) -> Engine {
        Engine {
            tree,
            elements: Vec::new(),
            element_index: HashMap::new(),
            indicators: HashMap::new(),
        }
    }

    pub fn tree(&self) -> &AreaTree {
        &self.tree
    }

    /// Registers a data element with its aggregation rule.
    pub fn add_element(
        &mut self,
        code: &str,
        aggregation: Aggregation,
    ) -> Result<ElementId, AnalyticsError> {
        if self.element_index.contains_key(code) {
            return Err(AnalyticsError::DuplicateElement(code.to_string()));
        }
        let id = self.elements.len() as u32;
        self.elements.push(ElementStore {
            code: code.to_string(),
            aggregation,
            years: (0..YEARS).map(|_| None).collect(),
        });
        self.element_index.insert(code.to_string(), id);
        Ok(ElementId(id))
    }

    pub fn element(&self, code: &str) -> Result<ElementId, AnalyticsError> {
        self.element_index
            .get(code)
            .map(|&i| ElementId(i))
            .ok_or_else(|| AnalyticsError::UnknownElement(code.to_string()))
    }

    pub fn element_code(&self, e: ElementId) -> &str {
        &self.elements[e.0 as usize].code
    }

    pub fn aggregation(&self, e: ElementId) -> Aggregation {
        self.elements[e.0 as usize].aggregation
    }

    pub fn element_count(&self) -> usize {
        self.elements.len()
    }

    /// Defines (or redefines) an indicator over registered data elements.
    pub fn define_indicator(
        &mut self,
        code: &str,
        numerator: &[&str],
        denominator: &[&str],
        factor: f64,
    ) -> Result<(), AnalyticsError> {
        let bad = |reason: &str| AnalyticsError::BadIndicator {
            code: code.to_string(),
            reason: reason.to_string(),
        };
        if numerator.is_empty() {
            return Err(bad("the numerator names no data element"));
        }
        if !factor.is_finite() || factor == 0.0 {
            return Err(bad("the factor must be a finite non-zero number"));
        }
        let ids = |codes: &[&str]| -> Result<Vec<ElementId>, AnalyticsError> {
            codes.iter().map(|c| self.element(c)).collect()
        };
        let def = IndicatorDef {
            numerator: ids(numerator)?,
            denominator: ids(denominator)?,
            factor,
        };
        self.indicators.insert(code.to_string(), def);
        Ok(())
    }

    pub fn indicator(&self, code: &str) -> Result<&IndicatorDef, AnalyticsError> {
        self.indicators
            .get(code)
            .ok_or_else(|| AnalyticsError::UnknownIndicator(code.to_string()))
    }

    fn block_mut(&mut self, e: ElementId, yi: usize) -> &mut YearBlock {
        let (leaves, inner) = (self.tree.leaf_count(), self.tree.inner_count());
        self.elements[e.0 as usize].years[yi].get_or_insert_with(|| YearBlock::new(leaves, inner))
    }

    fn block(&self, e: ElementId, yi: usize) -> Option<&YearBlock> {
        self.elements[e.0 as usize].years.get(yi)?.as_deref()
    }

    /// The raw value stored at exactly (element, area, period).
    pub fn raw(&self, e: ElementId, a: AreaId, p: Period) -> Option<f64> {
        let (yi, pos) = locate(p).ok()?;
        let b = self.block(e, yi)?;
        let leaf = self.tree.is_leaf(a);
        let l = self.tree.slot(a) as usize;
        let v = match pos {
            Pos::Slot(chain) if chain[0] < 12 && leaf => b.leaf[l * 12 + chain[0] as usize],
            Pos::Day(d, _) if leaf => b.days.as_ref()?.leaf[l * DAYS + d as usize],
            Pos::Week(w) if leaf => b.weeks.as_ref()?.leaf[l * WEEKS + w as usize],
            _ => return b.extra.get(&(a.0, pos.extra_key())).copied(),
        };
        (!v.is_nan()).then_some(v)
    }

    /// Stores a raw value (or removes it with `None`) and updates every ancestor aggregate:
    /// O(tree depth × the period levels the value feeds). Returns the previous raw value.
    pub fn set(
        &mut self,
        e: ElementId,
        a: AreaId,
        p: Period,
        value: Option<f64>,
    ) -> Result<Option<f64>, AnalyticsError> {
        let (yi, pos) = locate(p)?;
        let old = self.write_raw(e, a, p, yi, pos, value)?;
        if old.is_none() && value.is_none() {
            return Ok(None);
        }
        let ds = value.unwrap_or(0.0) - old.unwrap_or(0.0);
        let dc = value.is_some() as i64 - old.is_some() as i64;
        let leaf = self.tree.is_leaf(a).then(|| self.tree.slot(a) as usize);
        let start = match leaf {
            Some(l) => self.tree.leaf_parent[l],
            None => self.tree.slot(a),
        };
        let tree = &self.tree;
        if let Some(b) = self.elements[e.0 as usize].years[yi].as_deref_mut() {
            b.apply(tree, leaf, start, pos, ds, dc);
        }
        Ok(old)
    }

    /// Stores a raw value without touching aggregates; call [`Engine::build`] after a bulk load.
    pub fn load(
        &mut self,
        e: ElementId,
        a: AreaId,
        p: Period,
        value: f64,
    ) -> Result<(), AnalyticsError> {
        let (yi, pos) = locate(p)?;
        self.write_raw(e, a, p, yi, pos, Some(value)).map(|_| ())
    }

    fn write_raw(
        &mut self,
        e: ElementId,
        a: AreaId,
        p: Period,
        yi: usize,
        pos: Pos,
        value: Option<f64>,
    ) -> Result<Option<f64>, AnalyticsError> {
        if let Some(v) = value {
            if !v.is_finite() {
                return Err(AnalyticsError::NotFinite {
                    element: self.element_code(e).to_string(),
                    area: self.tree.code(a).to_string(),
                    period: p.to_string(),
                    value: v,
                });
            }
        } else {
            // Removing from a block that does not exist changes nothing (and allocates nothing).
            let Some(b) = self.elements[e.0 as usize].years[yi].as_deref() else {
                return Ok(None);
            };
            let missing = match pos {
                Pos::Day(..) => b.days.is_none(),
                Pos::Week(_) => b.weeks.is_none(),
                Pos::Slot(_) => false,
            };
            if missing {
                return Ok(None);
            }
        }
        let leaf = self.tree.is_leaf(a);
        let l = self.tree.slot(a) as usize;
        let (leaves, inner) = (self.tree.leaf_count(), self.tree.inner_count());
        let b = self.block_mut(e, yi);
        let cell = match pos {
            Pos::Slot(chain) if chain[0] < 12 && leaf => &mut b.leaf[l * 12 + chain[0] as usize],
            Pos::Day(d, _) if leaf => {
                let db = b.days.get_or_insert_with(|| DayBlock::new(leaves, inner));
                &mut db.leaf[l * DAYS + d as usize]
            }
            Pos::Week(w) if leaf => {
                let wb = b.weeks.get_or_insert_with(|| WeekBlock::new(leaves, inner));
                &mut wb.leaf[l * WEEKS + w as usize]
            }
            _ => {
                // Inner areas' days and weeks still need the block that aggregates them.
                match pos {
                    Pos::Day(..) if value.is_some() => {
                        b.days.get_or_insert_with(|| DayBlock::new(leaves, inner));
                    }
                    Pos::Week(_) if value.is_some() => {
                        b.weeks.get_or_insert_with(|| WeekBlock::new(leaves, inner));
                    }
                    _ => {}
                }
                let key = (a.0, pos.extra_key());
                return Ok(match value {
                    Some(v) => b.extra.insert(key, v),
                    None => b.extra.remove(&key),
                });
            }
        };
        let old = *cell;
        *cell = value.unwrap_or(f64::NAN);
        Ok((!old.is_nan()).then_some(old))
    }

    /// Recomputes every aggregate from the raw values, elements in parallel.
    pub fn build(&mut self) {
        let tree = &self.tree;
        self.elements.par_iter_mut().for_each(|el| {
            for (yi, b) in el.years.iter_mut().enumerate() {
                if let Some(b) = b {
                    b.rebuild(tree, MIN_YEAR + yi as i32);
                }
            }
        });
    }

    /// Sum and count of every raw value of `e` in `a`'s subtree and within period `p` (see
    /// [`Period::contains`]: a week counts its own values and its seven days').
    pub fn cell(&self, e: ElementId, a: AreaId, p: Period) -> Cell {
        let Ok((yi, pos)) = locate(p) else {
            return Cell::default();
        };
        let s = self.tree.slot(a) as usize;
        let leaf = self.tree.is_leaf(a);
        if let Pos::Week(w) = pos {
            let mut cell = self.days_cell(e, a, p.day_numbers());
            if let Some(b) = self.block(e, yi) {
                if let Some(wb) = b.weeks.as_deref() {
                    let k = w as usize;
                    if leaf {
                        add_raw(&mut cell, wb.leaf[s * WEEKS + k]);
                    } else {
                        cell.sum += wb.sum[s * WEEKS + k];
                        cell.count += wb.cnt[s * WEEKS + k] as u64;
                    }
                }
            }
            return cell;
        }
        let Some(b) = self.block(e, yi) else {
            return Cell::default();
        };
        match pos {
            Pos::Day(d, _) => {
                let Some(db) = b.days.as_deref() else {
                    return Cell::default();
                };
                let mut cell = Cell::default();
                if leaf {
                    add_raw(&mut cell, db.leaf[s * DAYS + d as usize]);
                } else {
                    cell.sum = db.sum[s * DAYS + d as usize];
                    cell.count = db.cnt[s * DAYS + d as usize] as u64;
                }
                cell
            }
            Pos::Slot(chain) if leaf => b.leaf_cell(s, a.0, chain),
            Pos::Slot(chain) => {
                let k = s * SLOTS + chain[0] as usize;
                Cell {
                    sum: b.sum[k],
                    count: b.cnt[k] as u64,
                }
            }
            Pos::Week(_) => Cell::default(),
        }
    }

    /// The summed day aggregates of `a` over the given day numbers.
    fn days_cell(&self, e: ElementId, a: AreaId, days: std::ops::Range<i32>) -> Cell {
        let mut out = Vec::with_capacity(days.len());
        self.day_series(e, a, days, &mut out);
        let mut cell = Cell::default();
        for (sum, count) in out {
            cell.sum += sum;
            cell.count += count as u64;
        }
        cell
    }

    /// Daily aggregates of `e` over `a`'s subtree for the days numbered `days` (days since
    /// 1970-01-01, see [`Period::day_number`]), appended to `out` as (sum, count) pairs; a
    /// count of 0 means no value that day. Only values saved for days count here (not weeks
    /// or months). One slice copy per calendar year for a leaf: what a detector sweep reads.
    pub fn day_series(
        &self,
        e: ElementId,
        a: AreaId,
        days: std::ops::Range<i32>,
        out: &mut Vec<(f64, u32)>,
    ) {
        let s = self.tree.slot(a) as usize;
        let leaf = self.tree.is_leaf(a);
        let mut n = days.start;
        while n < days.end {
            let Some(day) = Period::from_day_number(n) else {
                out.push((0.0, 0));
                n += 1;
                continue;
            };
            let y = day.year();
            let jan1 = Period::Year(y).day_numbers().start;
            let stop = days
                .end
                .min(jan1 + Period::Year(y).day_numbers().len() as i32);
            let (d0, d1) = ((n - jan1) as usize, (stop - jan1) as usize);
            let db = year_index(day)
                .ok()
                .and_then(|yi| self.block(e, yi))
                .and_then(|b| b.days.as_deref());
            match db {
                None => out.extend(std::iter::repeat_n((0.0, 0), d1 - d0)),
                Some(db) if leaf => {
                    out.extend(db.leaf[s * DAYS + d0..s * DAYS + d1].iter().map(|&v| {
                        if v.is_nan() {
                            (0.0, 0)
                        } else {
                            (v, 1)
                        }
                    }))
                }
                Some(db) => out.extend(
                    db.sum[s * DAYS + d0..s * DAYS + d1]
                        .iter()
                        .zip(&db.cnt[s * DAYS + d0..s * DAYS + d1])
                        .map(|(&v, &c)| (v, c)),
                ),
            }
            n = stop;
        }
    }

    /// Weekly aggregates of `e` over `a`'s subtree for `count` consecutive ISO weeks from
    /// `first` (each the week's own values plus its seven days'), appended to `out` as
    /// (sum, count). A `first` that is not a valid week yields nothing.
    pub fn week_series(
        &self,
        e: ElementId,
        a: AreaId,
        first: Period,
        count: usize,
        out: &mut Vec<(f64, u32)>,
    ) {
        if !matches!(first, Period::Week(..)) {
            return;
        }
        let start = first.day_numbers().start;
        if first.day_numbers().is_empty() {
            return;
        }
        let mut days = Vec::with_capacity(count * 7);
        self.day_series(e, a, start..start + 7 * count as i32, &mut days);
        let s = self.tree.slot(a) as usize;
        let leaf = self.tree.is_leaf(a);
        // Walk (ISO year, week) forward by counting, looking the calendar up once a year.
        let Period::Week(mut y, mut w) = first else {
            return;
        };
        let weeks_in = |y: i32| {
            if Period::Week(y, 53).day_numbers().is_empty() {
                52
            } else {
                53
            }
        };
        let mut year_weeks = weeks_in(y);
        let block = |y: i32| {
            year_index(Period::Year(y))
                .ok()
                .and_then(|yi| self.block(e, yi))
                .and_then(|b| b.weeks.as_deref())
        };
        let mut wb = block(y);
        for chunk in days.chunks(7) {
            let (mut sum, mut cnt) = chunk
                .iter()
                .fold((0.0, 0u32), |(s, c), &(v, k)| (s + v, c + k));
            if let Some(wb) = wb {
                let k = (w - 1) as usize;
                if leaf {
                    let v = wb.leaf[s * WEEKS + k];
                    if !v.is_nan() {
                        sum += v;
                        cnt += 1;
                    }
                } else {
                    sum += wb.sum[s * WEEKS + k];
                    cnt += wb.cnt[s * WEEKS + k];
                }
            }
            out.push((sum, cnt));
            if w < year_weeks {
                w += 1;
            } else {
                (y, w) = (y + 1, 1);
                year_weeks = weeks_in(y);
                wb = block(y);
            }
        }
    }

    /// Years for which element `e` holds a block (possibly emptied by deletes).
    pub fn years(&self, e: ElementId) -> impl Iterator<Item = i32> + '_ {
        self.elements[e.0 as usize]
            .years
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_some())
            .map(|(i, _)| MIN_YEAR + i as i32)
    }

    /// Every raw value of element `e`, for rebuilding elsewhere or checking.
    pub fn raw_values(&self, e: ElementId) -> Vec<(AreaId, Period, f64)> {
        let mut out = Vec::new();
        for (yi, b) in self.elements[e.0 as usize].years.iter().enumerate() {
            let Some(b) = b else { continue };
            let y = MIN_YEAR + yi as i32;
            for (l, row) in b.leaf.chunks_exact(12).enumerate() {
                for (m, &v) in row.iter().enumerate() {
                    if !v.is_nan() {
                        out.push((
                            AreaId(self.tree.leaf_area[l]),
                            Period::Month(y, m as u8 + 1),
                            v,
                        ));
                    }
                }
            }
            if let Some(db) = b.days.as_deref() {
                for (l, row) in db.leaf.chunks_exact(DAYS).enumerate() {
                    for (d, &v) in row.iter().enumerate() {
                        if let (false, Some(p)) = (v.is_nan(), day_of(y, d as u16)) {
                            out.push((AreaId(self.tree.leaf_area[l]), p, v));
                        }
                    }
                }
            }
            if let Some(wb) = b.weeks.as_deref() {
                for (l, row) in wb.leaf.chunks_exact(WEEKS).enumerate() {
                    for (w, &v) in row.iter().enumerate() {
                        if !v.is_nan() {
                            let p = Period::Week(y, w as u8 + 1);
                            out.push((AreaId(self.tree.leaf_area[l]), p, v));
                        }
                    }
                }
            }
            for (&(a, key), &v) in &b.extra {
                out.push((AreaId(a), extra_period(y, key), v));
            }
        }
        out
    }

    /// Visits every non-empty month, quarter and year aggregate of element `e` (days and weeks
    /// are read with [`Engine::cell`], [`Engine::day_series`] and [`Engine::week_series`]), as
    /// `(area, year, slot, cell)`.
    pub fn for_each_cell(&self, e: ElementId, mut f: impl FnMut(AreaId, i32, u8, Cell)) {
        self.for_each_row(e, |a, y, sums, counts| {
            for k in 0..SLOTS {
                if counts[k] > 0 {
                    let cell = Cell {
                        sum: sums[k],
                        count: counts[k],
                    };
                    f(a, y, k as u8, cell);
                }
            }
        });
    }

    /// Visits, for element `e`, every (area, year) holding data with its 17 slot aggregates
    /// (sums and counts of 12 months, 4 quarters, the year). One linear pass per year: what a
    /// dashboard export or a checksum needs without a lookup per cell.
    pub fn for_each_row(
        &self,
        e: ElementId,
        mut f: impl FnMut(AreaId, i32, &[f64; SLOTS], &[u64; SLOTS]),
    ) {
        let tree = &self.tree;
        for (yi, b) in self.elements[e.0 as usize].years.iter().enumerate() {
            let Some(b) = b else { continue };
            let y = MIN_YEAR + yi as i32;
            let mut s = [0.0f64; SLOTS];
            let mut c = [0u64; SLOTS];
            for (i, &a) in tree.inner_area.iter().enumerate() {
                let base = i * SLOTS;
                if b.cnt[base + 16] == 0 {
                    continue;
                }
                s.copy_from_slice(&b.sum[base..base + SLOTS]);
                for (ck, &n) in c.iter_mut().zip(&b.cnt[base..base + SLOTS]) {
                    *ck = n as u64;
                }
                f(AreaId(a), y, &s, &c);
            }
            let months_only = b.days.is_none() && b.weeks.is_none();
            for l in 0..tree.leaf_count() {
                let a = tree.leaf_area[l];
                if months_only {
                    month_row(&b.leaf[l * 12..l * 12 + 12], &mut s, &mut c);
                } else {
                    b.leaf_row(l, &mut s, &mut c);
                }
                if !b.extra.is_empty() {
                    for slot in 12..SLOTS as u8 {
                        if let Some(&v) = b.extra.get(&(a, slot as u16)) {
                            for &k in slot_chain(slot_period(y, slot)).1 {
                                s[k as usize] += v;
                                c[k as usize] += 1;
                            }
                        }
                    }
                }
                if c[16] > 0 {
                    f(AreaId(a), y, &s, &c);
                }
            }
        }
    }

    /// Bytes held by raw values and aggregates (excluding the tree and maps' overhead).
    pub fn heap_bytes(&self) -> usize {
        self.elements
            .iter()
            .flat_map(|e| e.years.iter().flatten())
            .map(|b| {
                let days = b.days.as_deref().map_or(0, |d| {
                    d.leaf.len() * 8 + d.month_sum.len() * 12 + d.sum.len() * 12
                });
                let weeks = b
                    .weeks
                    .as_deref()
                    .map_or(0, |w| w.leaf.len() * 8 + w.sum.len() * 12);
                b.leaf.len() * 8
                    + b.sum.len() * 8
                    + b.cnt.len() * 4
                    + b.extra.len() * 24
                    + days
                    + weeks
            })
            .sum()
    }
}
