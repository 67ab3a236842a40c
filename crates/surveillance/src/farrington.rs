//! Farrington flexible (Farrington et al. 1996; Noufaily et al. 2013), as R `surveillance`'s
//! `farringtonFlexible` with `thresholdMethod = "nbPlugin"`: a quasi-Poisson log-linear model
//! with a linear trend and a seasonal factor, fitted to the past `b` years by IRLS, past
//! outbreaks down-weighted by their Anscombe residuals, and the (1 − α) quantile of a negative
//! binomial with the fitted mean and dispersion as the upper bound.
//!
//! The model is `log μ = α_level + β·t`: one intercept per factor level (the same model as
//! R's intercept + treatment dummies), so XᵀWX is an arrowhead matrix and each IRLS step is
//! O(n) with a closed-form solve.

use crate::detect::{skipped, Assessment, Outcome, Skip};
use crate::settings::{Farrington, Method};
use statrs::distribution::{ContinuousCDF, DiscreteCDF, NegativeBinomial, Poisson, StudentsT};

/// One baseline week: count, time index, factor level.
#[derive(Debug, Clone, Copy)]
struct Row {
    y: f64,
    t: f64,
    level: usize,
}

/// Buffers reused across time points of a sweep.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    rows: Vec<Row>,
    omega: Vec<f64>,
    mu: Vec<f64>,
}

/// A fitted model.
#[derive(Debug, Clone)]
struct Fit {
    alpha: Vec<f64>,
    beta: f64,
    trend: bool,
    /// Σ W per level, Σ W·t per level, and the Schur complement of the trend.
    d: Vec<f64>,
    b: Vec<f64>,
    schur: f64,
    /// Pearson dispersion estimate (R's `summary.glm` dispersion) and residual df.
    dispersion: f64,
    df: f64,
}

impl Fit {
    fn eta(&self, r: &Row) -> f64 {
        self.alpha[r.level] + if self.trend { self.beta * r.t } else { 0.0 }
    }

    /// Leverage of a row with working weight `w`.
    fn hat(&self, r: &Row, w: f64) -> f64 {
        let (d, b) = (self.d[r.level], self.b[r.level]);
        if d <= 0.0 {
            return 0.0;
        }
        let mut q = 1.0 / d;
        if self.trend && self.schur > 0.0 {
            let c = r.t - b / d;
            q += c * c / self.schur;
        }
        w * q
    }
}

const MAX_ITER: usize = 25;
const EPS: f64 = 1e-8;
/// Keeps log μ finite when a level holds only zeros (R lets it drift to about −25 too).
const ETA_MIN: f64 = -30.0;

/// Quasi-Poisson IRLS with prior weights `omega`; `mu` holds the start and receives the fit.
fn fit(rows: &[Row], omega: &[f64], mu: &mut [f64], levels: usize, trend: bool) -> Option<Fit> {
    let n = rows.len();
    let mut f = Fit {
        alpha: vec![0.0; levels],
        beta: 0.0,
        trend,
        d: vec![0.0; levels],
        b: vec![0.0; levels],
        schur: 0.0,
        dispersion: 1.0,
        df: 0.0,
    };
    let mut zl = vec![0.0; levels];
    let mut dev_old = f64::INFINITY;
    for _ in 0..MAX_ITER {
        f.d.iter_mut().for_each(|x| *x = 0.0);
        f.b.iter_mut().for_each(|x| *x = 0.0);
        zl.iter_mut().for_each(|x| *x = 0.0);
        let (mut c, mut tz) = (0.0, 0.0);
        for ((r, &om), &m) in rows.iter().zip(omega).zip(mu.iter()) {
            let w = om * m;
            let z = m.ln().max(ETA_MIN) + (r.y - m) / m;
            f.d[r.level] += w;
            f.b[r.level] += w * r.t;
            zl[r.level] += w * z;
            c += w * r.t * r.t;
            tz += w * r.t * z;
        }
        if trend {
            let mut s = c;
            let mut num = tz;
            for ((&d, &b), &z) in f.d.iter().zip(&f.b).zip(&zl) {
                if d > 0.0 {
                    s -= b * b / d;
                    num -= b * z / d;
                }
            }
            // A trend that the levels already explain (or NaN) cannot be fitted.
            if s.is_nan() || s <= 1e-12 * c.max(1e-300) {
                return None;
            }
            f.schur = s;
            f.beta = num / s;
        }
        for (((a, &d), &b), &z) in f.alpha.iter_mut().zip(&f.d).zip(&f.b).zip(&zl) {
            *a = if d > 0.0 {
                (z - b * f.beta) / d
            } else {
                f64::NAN
            };
        }
        let mut dev = 0.0;
        for ((r, &om), m) in rows.iter().zip(omega).zip(mu.iter_mut()) {
            let eta = f.eta(r).max(ETA_MIN);
            *m = eta.exp();
            let yl = if r.y > 0.0 {
                r.y * (r.y / *m).ln()
            } else {
                0.0
            };
            dev += 2.0 * om * (yl - (r.y - *m));
        }
        if !dev.is_finite()
            || f.alpha
                .iter()
                .zip(&f.d)
                .any(|(a, &d)| d > 0.0 && !a.is_finite())
        {
            return None;
        }
        if (dev - dev_old).abs() / (dev.abs() + 0.1) < EPS {
            break;
        }
        dev_old = dev;
    }
    let params = f.d.iter().filter(|&&d| d > 0.0).count() + trend as usize;
    f.df = n as f64 - params as f64;
    if f.df < 1.0 {
        return None;
    }
    let pearson: f64 = rows
        .iter()
        .zip(omega)
        .zip(mu.iter())
        .map(|((r, &om), &m)| {
            if m > 0.0 {
                om * (r.y - m) * (r.y - m) / m
            } else {
                0.0
            }
        })
        .sum();
    f.dispersion = pearson / f.df;
    Some(f)
}

/// Fits, then (if asked) refits with past outbreaks down-weighted. Returns the fit and φ ≥ 1.
fn fit_weighted(
    cfg: &Farrington,
    rows: &[Row],
    omega: &mut Vec<f64>,
    mu: &mut Vec<f64>,
    levels: usize,
    trend: bool,
) -> Option<(Fit, f64)> {
    omega.clear();
    omega.resize(rows.len(), 1.0);
    mu.clear();
    // R's Poisson starting values.
    mu.extend(rows.iter().map(|r| r.y + 0.1));
    let f = fit(rows, omega, mu, levels, trend)?;
    let phi = f.dispersion.max(1.0);
    if !cfg.reweight {
        return Some((f, phi));
    }
    // Anscombe residuals, standardised by φ and the leverage.
    let mut total = 0.0;
    for ((r, om), &m) in rows.iter().zip(omega.iter_mut()).zip(mu.iter()) {
        let h = f.hat(r, m);
        let raw = 1.5 * (r.y.cbrt().powi(2) / m.cbrt().sqrt() - m.sqrt());
        let denom = (phi * (1.0 - h)).sqrt();
        let s = if denom > 0.0 && raw.is_finite() {
            raw / denom
        } else {
            0.0
        };
        *om = if s > cfg.weights_threshold {
            1.0 / (s * s)
        } else {
            1.0
        };
        total += *om;
    }
    let gamma = rows.len() as f64 / total;
    omega.iter_mut().for_each(|w| *w *= gamma);
    // The unweighted fit is a good start for the weighted one.
    let f = fit(rows, omega, mu, levels, trend)?;
    let phi = f.dispersion.max(1.0);
    Some((f, phi))
}

/// Builds the baseline of week `k` into `rows`: `b` years of reference windows (level
/// `no_periods − 1`) and the weeks between them split into `no_periods − 1` blocks, the last
/// `past_weeks_not_included` weeks and missing weeks left out. Time indices count from the
/// first baseline week.
fn baseline_rows(cfg: &Farrington, values: &[f64], k: usize, b: usize, rows: &mut Vec<Row>) {
    rows.clear();
    let (w, p) = (cfg.w, cfg.no_periods);
    let first = k - 52 * b - w;
    let mut level = vec![usize::MAX; k + 1 - first];
    let mut set = |i: usize, l: usize| {
        if let Some(x) = i.checked_sub(first).and_then(|j| level.get_mut(j)) {
            *x = l;
        }
    };
    for i in 1..=b {
        let refw = k - 52 * i;
        for j in refw - w..=refw + w {
            set(j, p - 1);
        }
        if p > 1 {
            let next = k - 52 * (i - 1);
            let between = next - 2 * w - 1 - refw;
            let (len, rest) = (between / (p - 1), between % (p - 1));
            let mut j = refw + w + 1;
            for blk in 0..p - 1 {
                let n = len + usize::from(blk < rest);
                for _ in 0..n {
                    set(j, blk);
                    j += 1;
                }
            }
        }
    }
    let last = k.saturating_sub(cfg.past_weeks_not_included);
    for (j, &l) in level.iter().enumerate() {
        let i = first + j;
        if l == usize::MAX || i >= last {
            continue;
        }
        if let Some(&y) = values.get(i).filter(|v| !v.is_nan()) {
            rows.push(Row {
                y,
                t: j as f64,
                level: l,
            });
        }
    }
}

/// The (1 − α) quantile of a count distribution given by its cdf: the smallest u with
/// cdf(u) ≥ 1 − α.
fn upper_quantile(cdf: impl Fn(u64) -> f64, q: f64, mean: f64) -> f64 {
    let mut lo = 0u64;
    let mut hi = (mean.max(1.0) * 2.0).ceil() as u64 + 10;
    let mut guard = 0;
    while cdf(hi) < q {
        lo = hi;
        hi = hi.saturating_mul(2);
        guard += 1;
        if guard > 60 {
            return f64::INFINITY;
        }
    }
    if cdf(lo) >= q {
        return lo as f64;
    }
    // cdf(lo) < q ≤ cdf(hi)
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if cdf(mid) >= q {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi as f64
}

/// The plug-in count distribution's cdf: negative binomial with mean μ and variance φμ, or
/// Poisson when φ = 1.
fn count_cdf(mu: f64, phi: f64) -> Option<Box<dyn Fn(u64) -> f64>> {
    if mu.is_nan() || mu <= 1e-12 || !mu.is_finite() {
        return None;
    }
    if phi > 1.0 {
        let nb = NegativeBinomial::new(mu / (phi - 1.0), 1.0 / phi).ok()?;
        Some(Box::new(move |x| nb.cdf(x)))
    } else {
        let p = Poisson::new(mu).ok()?;
        Some(Box::new(move |x| p.cdf(x)))
    }
}

/// Farrington at week `k`.
pub(crate) fn assess(
    cfg: &Farrington,
    values: &[f64],
    k: usize,
    bounds: bool,
    scratch: &mut Scratch,
) -> Outcome {
    let m = Method::Farrington;
    let Some(y) = values.get(k).copied().filter(|v| !v.is_nan()) else {
        return skipped(m, k, Skip::Missing);
    };
    let years = k.saturating_sub(cfg.w) / 52;
    let b = years.min(cfg.b);
    if b < cfg.min_years || b == 0 {
        return skipped(m, k, Skip::ShortHistory);
    }
    // Cases in the last weeks, the current one included; a missing week counts none.
    let recent: f64 = values
        .get((k + 1).saturating_sub(cfg.limit_weeks)..=k)
        .map_or(0.0, |w| w.iter().filter(|v| !v.is_nan()).sum());
    if recent < cfg.limit_cases {
        return skipped(m, k, Skip::FewCases);
    }
    let Scratch { rows, omega, mu } = scratch;
    baseline_rows(cfg, values, k, b, rows);
    let levels = cfg.no_periods;
    let now = Row {
        y,
        t: (52 * b + cfg.w) as f64,
        level: levels - 1,
    };
    if !rows.iter().any(|r| r.level == now.level) {
        return skipped(m, k, Skip::NoFit);
    }
    let max_y = rows.iter().fold(0.0f64, |a, r| a.max(r.y));
    let (mu0, phi) = if max_y == 0.0 {
        // An all-zero baseline: the fitted mean is 0 and any case exceeds the bound.
        (0.0, 1.0)
    } else {
        let mut result = None;
        if cfg.trend {
            if let Some((f, phi)) = fit_weighted(cfg, rows, omega, mu, levels, true) {
                let mu0 = f.eta(&now).max(ETA_MIN).exp();
                // R keeps the trend when it is significant, the prediction does not exceed
                // every baseline count, and there are at least three years.
                let se = (f.dispersion / f.schur).sqrt();
                let t = f.beta / se;
                // A perfect fit (zero dispersion) has no defined t: no trend.
                let p = match StudentsT::new(0.0, 1.0, f.df) {
                    Ok(d) if t.is_finite() => 2.0 * (1.0 - d.cdf(t.abs())),
                    _ => 1.0,
                };
                if p < cfg.p_threshold_trend && mu0 <= max_y && b >= 3 {
                    result = Some((mu0, phi));
                }
            }
        }
        if result.is_none() {
            match fit_weighted(cfg, rows, omega, mu, levels, false) {
                Some((f, phi)) => result = Some((f.eta(&now).max(ETA_MIN).exp(), phi)),
                None => return skipped(m, k, Skip::NoFit),
            }
        }
        match result {
            Some(r) => r,
            None => return skipped(m, k, Skip::NoFit),
        }
    };
    let q = 1.0 - cfg.alpha;
    let cdf = count_cdf(mu0, phi);
    // y exceeds the (1 − α) quantile U exactly when cdf(y − 1) ≥ 1 − α.
    let alarm = y > 0.0
        && match &cdf {
            None => true,
            Some(c) => c((y.ceil() as u64).saturating_sub(1)) >= q,
        };
    let threshold = match (&cdf, bounds || alarm) {
        (None, _) => 0.0,
        (Some(c), true) => upper_quantile(c, q, mu0),
        (Some(_), false) => f64::NAN,
    };
    Outcome::Assessed(Assessment {
        method: m,
        index: k,
        observed: y,
        expected: mu0,
        threshold,
        statistic: y,
        limit: threshold,
        alarm,
    })
}
