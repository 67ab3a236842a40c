//! Raw values and their aggregates, per data element and year.
//!
//! Layout of one (element, year) block:
//! - `leaf`: raw monthly values of every leaf area, `[leaf][month]`, NaN = absent. Leaf months
//!   are the raw layer; a leaf's quarter and year are summed from it on read (3 or 12 cells).
//! - `sum`/`cnt`: aggregates of every inner area for the 17 period slots of the year
//!   (12 months, 4 quarters, the year), maintained on every write.
//! - `extra`: raw values that are not (leaf, month): values entered for an inner area or for a
//!   whole quarter/year. Rare in practice, so a hash map.

use crate::error::AnalyticsError;
use crate::tree::{AreaId, AreaTree, NONE};
use healthplan_core::period::{MAX_YEAR, MIN_YEAR};
use healthplan_core::{Aggregation, Period};
use rayon::prelude::*;
use std::collections::HashMap;

/// Period slots in one year: 12 months, then 4 quarters, then the year.
pub const SLOTS: usize = 17;
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

/// Slot of a period within its year, and the slots it rolls up into (itself first).
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
        Period::Year(y) => (y, &[16]),
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
    extra: HashMap<(u32, u8), f64>,
}

impl YearBlock {
    fn new(leaves: usize, inner: usize) -> Box<YearBlock> {
        Box::new(YearBlock {
            leaf: vec![f64::NAN; leaves * 12],
            sum: vec![0.0; inner * SLOTS],
            cnt: vec![0; inner * SLOTS],
            extra: HashMap::new(),
        })
    }

    /// Adds `(ds, dc)` to `slots` of inner area `i` and all its inner ancestors.
    fn propagate(&mut self, tree: &AreaTree, mut i: u32, slots: &[u8], ds: f64, dc: i64) {
        while i != NONE {
            let base = i as usize * SLOTS;
            for &s in slots {
                let k = base + s as usize;
                let c = (self.cnt[k] as i64 + dc) as u32;
                self.cnt[k] = c;
                // An emptied cell is exactly zero, whatever rounding the deltas left behind.
                self.sum[k] = if c == 0 { 0.0 } else { self.sum[k] + ds };
            }
            i = tree.inner_parent[i as usize];
        }
    }

    /// Recomputes every inner aggregate from the raw values.
    fn rebuild(&mut self, tree: &AreaTree) {
        self.sum.iter_mut().for_each(|x| *x = 0.0);
        self.cnt.iter_mut().for_each(|x| *x = 0);
        for (l, row) in self.leaf.chunks_exact(12).enumerate() {
            let p = tree.leaf_parent[l];
            if p == NONE {
                continue;
            }
            let mut s = [0.0f64; SLOTS];
            let mut c = [0u32; SLOTS];
            for m in 0..12 {
                let v = row[m];
                if !v.is_nan() {
                    s[m] = v;
                    c[m] = 1;
                }
            }
            for q in 0..4 {
                s[12 + q] = s[3 * q] + s[3 * q + 1] + s[3 * q + 2];
                c[12 + q] = c[3 * q] + c[3 * q + 1] + c[3 * q + 2];
            }
            s[16] = s[12] + s[13] + s[14] + s[15];
            c[16] = c[12] + c[13] + c[14] + c[15];
            if c[16] == 0 {
                continue;
            }
            let base = p as usize * SLOTS;
            let ps = &mut self.sum[base..base + SLOTS];
            for k in 0..SLOTS {
                ps[k] += s[k];
            }
            let pc = &mut self.cnt[base..base + SLOTS];
            for k in 0..SLOTS {
                pc[k] += c[k];
            }
        }
        for (&(a, slot), &v) in &self.extra {
            let aid = AreaId(a);
            let target = if tree.is_leaf(aid) {
                tree.leaf_parent[tree.slot(aid) as usize]
            } else {
                tree.slot(aid)
            };
            if target == NONE {
                continue;
            }
            let chain = slot_chain(slot_period(2000, slot)).1;
            let base = target as usize * SLOTS;
            for &s in chain {
                self.sum[base + s as usize] += v;
                self.cnt[base + s as usize] += 1;
            }
        }
        // Pre-order: walking backwards finishes every child before its parent.
        for i in (0..tree.inner_count()).rev() {
            let p = tree.inner_parent[i];
            if p == NONE {
                continue;
            }
            let (lo, hi) = (i * SLOTS, p as usize * SLOTS);
            debug_assert!(hi < lo);
            let (head, tail) = self.sum.split_at_mut(lo);
            for k in 0..SLOTS {
                head[hi + k] += tail[k];
            }
            let (head, tail) = self.cnt.split_at_mut(lo);
            for k in 0..SLOTS {
                head[hi + k] += tail[k];
            }
        }
    }

    fn leaf_cell(&self, l: usize, a: u32, chain: &[u8]) -> Cell {
        let row = &self.leaf[l * 12..l * 12 + 12];
        let months = match chain[0] {
            m @ 0..=11 => m as usize..m as usize + 1,
            q @ 12..=15 => (q as usize - 12) * 3..(q as usize - 12) * 3 + 3,
            _ => 0..12,
        };
        let mut cell = Cell::default();
        for &v in &row[months] {
            if !v.is_nan() {
                cell.sum += v;
                cell.count += 1;
            }
        }
        if chain[0] >= 12 && !self.extra.is_empty() {
            let slots: &[u8] = if chain[0] == 16 {
                &[12, 13, 14, 15, 16]
            } else {
                &chain[..1]
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

    /// The raw value stored at exactly (element, area, period).
    pub fn raw(&self, e: ElementId, a: AreaId, p: Period) -> Option<f64> {
        let yi = year_index(p).ok()?;
        let b = self.elements[e.0 as usize].years[yi].as_ref()?;
        let (_, chain) = slot_chain(p);
        if chain[0] < 12 && self.tree.is_leaf(a) {
            let v = b.leaf[self.tree.slot(a) as usize * 12 + chain[0] as usize];
            (!v.is_nan()).then_some(v)
        } else {
            b.extra.get(&(a.0, chain[0])).copied()
        }
    }

    /// Stores a raw value (or removes it with `None`) and updates every ancestor aggregate:
    /// O(tree depth × 3 period levels). Returns the previous raw value.
    pub fn set(
        &mut self,
        e: ElementId,
        a: AreaId,
        p: Period,
        value: Option<f64>,
    ) -> Result<Option<f64>, AnalyticsError> {
        let old = self.write_raw(e, a, p, value)?;
        if old.is_none() && value.is_none() {
            return Ok(None);
        }
        let ds = value.unwrap_or(0.0) - old.unwrap_or(0.0);
        let dc = value.is_some() as i64 - old.is_some() as i64;
        let yi = year_index(p)?;
        let (_, chain) = slot_chain(p);
        let start = if self.tree.is_leaf(a) {
            self.tree.leaf_parent[self.tree.slot(a) as usize]
        } else {
            self.tree.slot(a)
        };
        let tree = &self.tree;
        if let Some(b) = self.elements[e.0 as usize].years[yi].as_deref_mut() {
            b.propagate(tree, start, chain, ds, dc);
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
        self.write_raw(e, a, p, Some(value)).map(|_| ())
    }

    fn write_raw(
        &mut self,
        e: ElementId,
        a: AreaId,
        p: Period,
        value: Option<f64>,
    ) -> Result<Option<f64>, AnalyticsError> {
        let yi = year_index(p)?;
        if let Some(v) = value {
            if !v.is_finite() {
                return Err(AnalyticsError::NotFinite {
                    element: self.element_code(e).to_string(),
                    area: self.tree.code(a).to_string(),
                    period: p.to_string(),
                    value: v,
                });
            }
        } else if self.elements[e.0 as usize].years[yi].is_none() {
            return Ok(None);
        }
        let (_, chain) = slot_chain(p);
        let leaf_month = chain[0] < 12 && self.tree.is_leaf(a);
        let ls = self.tree.slot(a) as usize;
        let b = self.block_mut(e, yi);
        if leaf_month {
            let cell = &mut b.leaf[ls * 12 + chain[0] as usize];
            let old = *cell;
            *cell = value.unwrap_or(f64::NAN);
            Ok((!old.is_nan()).then_some(old))
        } else {
            match value {
                Some(v) => Ok(b.extra.insert((a.0, chain[0]), v)),
                None => Ok(b.extra.remove(&(a.0, chain[0]))),
            }
        }
    }

    /// Recomputes every aggregate from the raw values, elements in parallel.
    pub fn build(&mut self) {
        let tree = &self.tree;
        self.elements.par_iter_mut().for_each(|el| {
            for b in el.years.iter_mut().flatten() {
                b.rebuild(tree);
            }
        });
    }

    /// Sum and count of every raw value of `e` in `a`'s subtree and within period `p`.
    pub fn cell(&self, e: ElementId, a: AreaId, p: Period) -> Cell {
        let Ok(yi) = year_index(p) else {
            return Cell::default();
        };
        let Some(b) = self.elements[e.0 as usize].years[yi].as_ref() else {
            return Cell::default();
        };
        let (_, chain) = slot_chain(p);
        let s = self.tree.slot(a) as usize;
        if self.tree.is_leaf(a) {
            b.leaf_cell(s, a.0, chain)
        } else {
            let k = s * SLOTS + chain[0] as usize;
            Cell {
                sum: b.sum[k],
                count: b.cnt[k] as u64,
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
            for (&(a, s), &v) in &b.extra {
                out.push((AreaId(a), slot_period(y, s), v));
            }
        }
        out
    }

    /// Visits every non-empty aggregate of element `e`: each area × each month, quarter and year
    /// that holds data, as `(area, year, slot, cell)`.
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
            for (l, row) in b.leaf.chunks_exact(12).enumerate() {
                let a = tree.leaf_area[l];
                for m in 0..12 {
                    let v = row[m];
                    let present = !v.is_nan();
                    s[m] = if present { v } else { 0.0 };
                    c[m] = present as u64;
                }
                for q in 0..4 {
                    s[12 + q] = s[3 * q] + s[3 * q + 1] + s[3 * q + 2];
                    c[12 + q] = c[3 * q] + c[3 * q + 1] + c[3 * q + 2];
                }
                s[16] = s[12] + s[13] + s[14] + s[15];
                c[16] = c[12] + c[13] + c[14] + c[15];
                if !b.extra.is_empty() {
                    for slot in 12..SLOTS as u8 {
                        if let Some(&v) = b.extra.get(&(a, slot)) {
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
            .map(|b| b.leaf.len() * 8 + b.sum.len() * 8 + b.cnt.len() * 4 + b.extra.len() * 24)
            .sum()
    }
}
