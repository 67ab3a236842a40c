//! The few special functions and regressions the methods need, written out so results do not
//! depend on a numerics crate's version.

fn ln_gamma(x: f64) -> f64 {
    // Lanczos approximation (g = 7, n = 9), accurate to ~1e-15 for x > 0.
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + 7.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// Continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    let tiny = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < tiny {
        d = tiny;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..500 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < tiny {
            d = tiny;
        }
        c = 1.0 + aa / c;
        if c.abs() < tiny {
            c = tiny;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// Regularised incomplete beta I_x(a, b).
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// Student t cumulative distribution with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * inc_beta(df / 2.0, 0.5, x);
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// Quantile of Student t (p in (0, 1)), by bisection on the CDF.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if p == 0.5 {
        return 0.0;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, df) < p {
        hi *= 2.0;
        if hi > 1e12 {
            return f64::INFINITY;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-13 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// Standard normal cumulative distribution, via erfc from the incomplete gamma function.
pub fn normal_cdf(z: f64) -> f64 {
    let x = z / std::f64::consts::SQRT_2;
    if x >= 0.0 {
        1.0 - 0.5 * erfc_pos(x)
    } else {
        0.5 * erfc_pos(-x)
    }
}

/// erfc(x) for x ≥ 0: Q(1/2, x²).
fn erfc_pos(x: f64) -> f64 {
    let a = 0.5;
    let v = x * x;
    if v == 0.0 {
        return 1.0;
    }
    let gln = ln_gamma(a);
    if v < a + 1.0 {
        // series for P, then Q = 1 - P
        let mut ap = a;
        let mut sum = 1.0 / a;
        let mut del = sum;
        for _ in 0..1000 {
            ap += 1.0;
            del *= v / ap;
            sum += del;
            if del.abs() < sum.abs() * 1e-16 {
                break;
            }
        }
        1.0 - sum * (-v + a * v.ln() - gln).exp()
    } else {
        let tiny = 1e-300;
        let mut b = v + 1.0 - a;
        let mut c = 1.0 / tiny;
        let mut d = 1.0 / b;
        let mut h = d;
        for i in 1..1000 {
            let an = -(i as f64) * (i as f64 - a);
            b += 2.0;
            d = an * d + b;
            if d.abs() < tiny {
                d = tiny;
            }
            c = b + an / c;
            if c.abs() < tiny {
                c = tiny;
            }
            d = 1.0 / d;
            let del = d * c;
            h *= del;
            if (del - 1.0).abs() < 1e-16 {
                break;
            }
        }
        (-v + a * v.ln() - gln).exp() * h
    }
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
