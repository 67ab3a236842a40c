//! Distributions (from statrs) and the regressions the forecast and UNESCAP methods need.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Quantile of Student t with `df` degrees of freedom (p in (0, 1)).
pub fn t_quantile(p: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |t| t.inverse_cdf(p))
}

/// Standard normal cumulative distribution.
pub fn normal_cdf(z: f64) -> f64 {
    Normal::standard().cdf(z)
}

/// A fitted straight line `y = intercept + slope·x` with what a prediction interval needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub intercept: f64,
    pub slope: f64,
    pub n: usize,
    pub x_mean: f64,
    pub sxx: f64,
    /// Residual variance SSE/(n−2); `None` with fewer than 3 points.
    pub s2: Option<f64>,
}

impl Line {
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }

    /// Standard error of a new observation at `x` (prediction, not mean).
    pub fn prediction_se(&self, x: f64) -> Option<f64> {
        let s2 = self.s2?;
        let n = self.n as f64;
        Some((s2 * (1.0 + 1.0 / n + (x - self.x_mean).powi(2) / self.sxx)).sqrt())
    }
}

/// Weighted least squares; `None` when fewer than two distinct x values.
pub fn wls(points: &[(f64, f64)], weights: &[f64]) -> Option<Line> {
    let sw: f64 = weights.iter().sum();
    if points.len() < 2 || sw <= 0.0 {
        return None;
    }
    let xm = points
        .iter()
        .zip(weights)
        .map(|(p, w)| p.0 * w)
        .sum::<f64>()
        / sw;
    let ym = points
        .iter()
        .zip(weights)
        .map(|(p, w)| p.1 * w)
        .sum::<f64>()
        / sw;
    let sxx: f64 = points
        .iter()
        .zip(weights)
        .map(|(p, w)| w * (p.0 - xm).powi(2))
        .sum();
    if sxx <= 0.0 {
        return None;
    }
    let sxy: f64 = points
        .iter()
        .zip(weights)
        .map(|(p, w)| w * (p.0 - xm) * (p.1 - ym))
        .sum();
    let slope = sxy / sxx;
    let intercept = ym - slope * xm;
    let n = points.len();
    let s2 = (n >= 3).then(|| {
        points
            .iter()
            .zip(weights)
            .map(|(p, w)| w * (p.1 - intercept - slope * p.0).powi(2))
            .sum::<f64>()
            / (n as f64 - 2.0)
    });
    Some(Line {
        intercept,
        slope,
        n,
        x_mean: xm,
        sxx,
        s2,
    })
}

/// Ordinary least squares.
pub fn ols(points: &[(f64, f64)]) -> Option<Line> {
    wls(points, &vec![1.0; points.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 95 % critical values from standard tables.
        for (df, q) in [
            (1.0, 12.706_2),
            (2.0, 4.302_7),
            (5.0, 2.570_6),
            (10.0, 2.228_1),
            (30.0, 2.042_3),
        ] {
            let got = t_quantile(0.975, df);
            assert!((got - q).abs() < 1e-4, "df {df}: {got} vs {q}");
        }
    }

    #[test]
    fn normal_cdf_matches_tables() {
        for (z, p) in [
            (0.0, 0.5),
            (1.0, 0.841_344_746),
            (-1.959_964, 0.025),
            (3.0, 0.998_650_102),
        ] {
            assert!((normal_cdf(z) - p).abs() < 1e-8, "z {z}");
        }
    }

    #[test]
    fn ols_fits_a_known_line() {
        let l = ols(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.2), (3.0, 6.8)]).unwrap();
        assert!((l.slope - 1.96).abs() < 1e-12, "{l:?}");
        assert!((l.intercept - 1.06).abs() < 1e-12);
        assert!(l.s2.unwrap() > 0.0);
        assert!(ols(&[(1.0, 1.0), (1.0, 2.0)]).is_none());
    }
}
