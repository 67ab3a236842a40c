//! Farrington flexible (Farrington et al. 1996; Noufaily et al. 2013), as R `surveillance`'s
//! `farringtonFlexible` with `thresholdMethod = "nbPlugin"`: a quasi-Poisson log-linear model
//! with a linear trend and a seasonal factor, fitted to the past `b` years by maximum
//! likelihood, past outbreaks down-weighted by their Anscombe residuals, and the (1 − α)
//! quantile of a negative binomial with the fitted mean and dispersion as the upper bound.
//!
//! The model is `log μ = α_level + β·t`: one intercept per factor level (the same model as
//! R's intercept + treatment dummies), so XᵀWX is an arrowhead matrix: the intercepts have a
//! closed form given β, leverages and the trend's variance come from its Schur complement.

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
    work: Work,
}

/// Per-row buffers of a fit.
#[derive(Debug, Default)]
struct Work {
    omega: Vec<f64>,
    mu: Vec<f64>,
    e: Vec<f64>,
    e6: Vec<f64>,
}

/// A fitted model.
#[derive(Debug, Clone, Default)]
struct Fit {
    alpha: Vec<f64>,
    beta: f64,
    trend: bool,
    /// Σ W and Σ W·t per level (W = ω·μ, the working weight), and the Schur complement of the
    /// trend in XᵀWX (its inverse is the trend's variance over φ).
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
/// Newton stops when the trend moves less than this (per week, on the log scale).
const EPS: f64 = 1e-10;

/// `out[i] = exp(k·t_i)` for rows in increasing t, by repeated multiplication (no exp per row;
/// the relative error stays near 1e-14 over a few hundred weeks).
fn exp_series(rows: &[Row], k: f64, out: &mut Vec<f64>) {
    out.clear();
    let Some(first) = rows.first() else {
        return;
    };
    let step = k.exp();
    let (mut t, mut e) = (first.t, (k * first.t).exp());
    for r in rows {
        let gap = r.t - t;
        if gap == 1.0 {
            e *= step;
        } else if gap != 0.0 {
            e = (k * r.t).exp();
        }
        t = r.t;
        out.push(e);
    }
}

/// The Poisson maximum-likelihood fit (= the quasi-Poisson estimate) of
/// `log μ = α_level + β·t` with prior weights `omega`, leaving the fitted means in `mu`.
///
/// For a fixed β each level's intercept has a closed form, `exp α_l = Σ_l ω·y / Σ_l ω·e^{βt}`,
/// so the fit is a one-dimensional Newton search on β over the profile likelihood (whose
/// information is the Schur complement of XᵀWX); without a trend it is just the level means.
/// This reaches the same estimate as R's IRLS.
fn fit(
    rows: &[Row],
    omega: &[f64],
    mu: &mut Vec<f64>,
    levels: usize,
    trend: bool,
    beta0: f64,
    e: &mut Vec<f64>,
) -> Option<Fit> {
    let n = rows.len();
    let mut y_l = vec![0.0; levels];
    let mut ty = 0.0;
    for (r, &om) in rows.iter().zip(omega) {
        y_l[r.level] += om * r.y;
        ty += om * r.t * r.y;
    }
    let mut s = vec![0.0; levels];
    let mut tl = vec![0.0; levels];
    let mut ql = vec![0.0; levels];
    let mut beta = if beta0.is_finite() { beta0 } else { 0.0 };
    let mut schur = 0.0;
    let iterations = if trend { MAX_ITER } else { 1 };
    for _ in 0..iterations {
        exp_series(rows, beta, e);
        s.iter_mut().for_each(|x| *x = 0.0);
        tl.iter_mut().for_each(|x| *x = 0.0);
        ql.iter_mut().for_each(|x| *x = 0.0);
        for ((r, &om), &ei) in rows.iter().zip(omega).zip(e.iter()) {
            let w = om * ei;
            s[r.level] += w;
            tl[r.level] += w * r.t;
            ql[r.level] += w * r.t * r.t;
        }
        if !trend {
            break;
        }
        let (mut score, mut info, mut scale) = (ty, 0.0, 0.0);
        for l in 0..levels {
            if s[l] > 0.0 {
                let c = y_l[l] / s[l];
                score -= c * tl[l];
                info += c * (ql[l] - tl[l] * tl[l] / s[l]);
                scale += c * ql[l];
            }
        }
        // A trend that the levels already explain (or an all-zero baseline) cannot be fitted.
        if info.is_nan() || info <= 1e-12 * scale.max(1e-300) {
            return None;
        }
        schur = info;
        let step = (score / info).clamp(-0.5, 0.5);
        beta += step;
        if !beta.is_finite() {
            return None;
        }
        if step.abs() < EPS * (1.0 + beta.abs()) {
            exp_series(rows, beta, e);
            break;
        }
    }
    let alpha: Vec<f64> = (0..levels)
        .map(|l| {
            if s[l] > 0.0 {
                // A level of zeros has mean 0 (log −∞), whatever the trend; R's IRLS lets it
                // drift towards −∞ and stops near −25.
                (y_l[l] / s[l]).ln()
            } else {
                f64::NAN
            }
        })
        .collect();
    let level_mu: Vec<f64> = alpha.iter().map(|a| a.exp()).collect();
    mu.clear();
    mu.extend(
        rows.iter()
            .zip(e.iter())
            .map(|(r, &ei)| level_mu[r.level] * ei),
    );
    let mut d = vec![0.0; levels];
    let mut b = vec![0.0; levels];
    let mut pearson = 0.0;
    let mut info = 0.0;
    for ((r, &om), &m) in rows.iter().zip(omega).zip(mu.iter()) {
        let w = om * m;
        d[r.level] += w;
        b[r.level] += w * r.t;
        info += w * r.t * r.t;
        if m > 0.0 {
            pearson += om * (r.y - m) * (r.y - m) / m;
        }
    }
    if trend {
        for (&dl, &bl) in d.iter().zip(&b) {
            if dl > 0.0 {
                info -= bl * bl / dl;
            }
        }
        if info.is_nan() || info <= 0.0 {
            return None;
        }
        schur = info;
    }
    let params = d.iter().filter(|&&x| x > 0.0).count() + trend as usize;
    let df = n as f64 - params as f64;
    if df < 1.0 {
        return None;
    }
    Some(Fit {
        alpha,
        beta: if trend { beta } else { 0.0 },
        trend,
        d,
        b,
        schur,
        dispersion: pearson / df,
        df,
    })
}

/// y^{2/3}, from a table for the small whole counts that make up most weeks.
fn pow23(y: f64) -> f64 {
    thread_local! {
        static TABLE: Vec<f64> = (0..256).map(|i: i32| f64::from(i).cbrt().powi(2)).collect();
    }
    if (0.0..256.0).contains(&y) && y.fract() == 0.0 {
        TABLE.with(|t| t[y as usize])
    } else {
        y.cbrt().powi(2)
    }
}

/// Fits, then (if asked) refits with past outbreaks down-weighted. Returns the fit and φ ≥ 1.
fn fit_weighted(
    cfg: &Farrington,
    rows: &[Row],
    scratch: &mut Work,
    levels: usize,
    trend: bool,
) -> Option<(Fit, f64)> {
    let Work { omega, mu, e, e6 } = scratch;
    omega.clear();
    omega.resize(rows.len(), 1.0);
    // Newton starts at no trend for the unweighted fit (a start carried over from the
    // previous week would save steps but make a sweep depend on its order).
    let f = fit(rows, omega, mu, levels, trend, 0.0, e)?;
    let phi = f.dispersion.max(1.0);
    if !cfg.reweight {
        return Some((f, phi));
    }
    // Anscombe residuals 1.5·(y^{2/3} μ^{−1/6} − μ^{1/2}), standardised by φ and the leverage;
    // μ^{1/6} = exp(α/6)·exp(βt/6) along the rows.
    exp_series(rows, f.beta / 6.0, e6);
    let level6: Vec<f64> = f.alpha.iter().map(|a| (a / 6.0).exp()).collect();
    let mut total = 0.0;
    let mut downweighted = false;
    for (((r, om), &m), &e6i) in rows
        .iter()
        .zip(omega.iter_mut())
        .zip(mu.iter())
        .zip(e6.iter())
    {
        let m6 = level6[r.level] * e6i;
        let h = f.hat(r, m);
        let raw = 1.5 * (pow23(r.y) / m6 - m6 * m6 * m6);
        let denom = (phi * (1.0 - h)).sqrt();
        let s = if denom > 0.0 && raw.is_finite() {
            raw / denom
        } else {
            0.0
        };
        *om = if s > cfg.weights_threshold {
            downweighted = true;
            1.0 / (s * s)
        } else {
            1.0
        };
        total += *om;
    }
    if !downweighted {
        // Every weight is 1: the refit would be this fit again.
        return Some((f, phi));
    }
    let gamma = rows.len() as f64 / total;
    omega.iter_mut().for_each(|w| *w *= gamma);
    let f = fit(rows, omega, mu, levels, trend, f.beta, e)?;
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
    let Scratch { rows, work } = scratch;
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
            if let Some((f, phi)) = fit_weighted(cfg, rows, work, levels, true) {
                let mu0 = f.eta(&now).exp();
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
            match fit_weighted(cfg, rows, work, levels, false) {
                Some((f, phi)) => result = Some((f.eta(&now).exp(), phi)),
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
