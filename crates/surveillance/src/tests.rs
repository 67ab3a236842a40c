//! Hand-computed cases for every detector (zero sd and missing values included), and property
//! tests: a larger count at t never removes an alarm at t, and nothing panics on any series.

use crate::*;
use healthplan_core::Period;
use proptest::prelude::*;

const NA: f64 = f64::NAN;

fn daily(values: &[f64]) -> Series<'_> {
    Series::new(Period::Day(2024, 1, 1), values).unwrap()
}

fn weekly(values: &[f64]) -> Series<'_> {
    Series::new(Period::Week(2020, 1), values).unwrap()
}

fn one(series: &Series, t: usize, d: Detector) -> Outcome {
    let v = assess_at(series, t, &[d]);
    assert_eq!(v.len(), 1);
    v[0]
}

fn assessed(o: Outcome) -> Assessment {
    match o {
        Outcome::Assessed(a) => a,
        other => panic!("expected an assessment, got {other:?}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-3
}

fn c1() -> Detector {
    Detector::EarsC1(Ears::default())
}

#[test]
fn ears_c1_by_hand() {
    // Baseline 1…7: mean 4, sd √(28/6) = 2.1602; x = 11 gives C1 = 7 / 2.1602 = 3.2404.
    let mut v = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 11.0];
    let a = assessed(one(&daily(&v), 7, c1()));
    assert!(close(a.statistic, 3.2404), "{a:?}");
    assert!(close(a.expected, 4.0) && close(a.threshold, 10.4807) && a.alarm);
    v[7] = 10.0;
    let a = assessed(one(&daily(&v), 7, c1()));
    assert!(close(a.statistic, 2.7775) && !a.alarm);
    // Too short a history, and a missing value at t.
    assert_eq!(
        one(&daily(&v), 6, c1()),
        detect::skipped(Method::EarsC1, 6, Skip::ShortHistory)
    );
    v[7] = NA;
    assert_eq!(
        one(&daily(&v), 7, c1()),
        detect::skipped(Method::EarsC1, 7, Skip::Missing)
    );
}

#[test]
fn ears_zero_sd_uses_the_floor_or_infinity() {
    let v = [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 3.0];
    // sd 0 → floor 0.5: C1 = (3 − 2) / 0.5 = 2, no alarm; 4 would give 4.
    let a = assessed(one(&daily(&v), 7, c1()));
    assert!(close(a.statistic, 2.0) && !a.alarm && close(a.threshold, 3.5));
    let mut w = v;
    w[7] = 4.0;
    assert!(assessed(one(&daily(&w), 7, c1())).alarm);
    // With the floor off, any excess over a constant baseline is infinite; none is 0.
    let raw = Detector::EarsC1(Ears {
        min_sd: 0.0,
        ..Ears::default()
    });
    let a = assessed(one(&daily(&v), 7, raw.clone()));
    assert!(a.statistic.is_infinite() && a.alarm);
    w[7] = 2.0;
    let a = assessed(one(&daily(&w), 7, raw));
    assert_eq!(a.statistic, 0.0);
    assert!(!a.alarm);
}

#[test]
fn ears_missing_baseline_days() {
    // Two of seven baseline days missing: mean and sd of the other five (1, 3, 5, 6, 7:
    // mean 4.4, sd √(23.2/4) = 2.4083); x = 12 gives C1 = 3.1558.
    let v = [1.0, NA, 3.0, NA, 5.0, 6.0, 7.0, 12.0];
    let a = assessed(one(&daily(&v), 7, c1()));
    assert!(
        close(a.expected, 4.4) && close(a.statistic, 3.1558) && a.alarm,
        "{a:?}"
    );
    // Three missing: fewer than min_baseline = 5 values.
    let v = [1.0, NA, NA, NA, 5.0, 6.0, 7.0, 12.0];
    assert_eq!(
        one(&daily(&v), 7, c1()),
        detect::skipped(Method::EarsC1, 7, Skip::ShortHistory)
    );
}

#[test]
fn ears_c2_skips_the_guard_band() {
    // The 100s at t−2 and t−1 are in the guard band; the baseline is 1…7.
    let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 100.0, 100.0, 11.0];
    let a = assessed(one(&daily(&v), 9, Detector::EarsC2(Ears::default())));
    assert!(close(a.statistic, 3.2404) && a.alarm);
    // C1 sees the 100s in its baseline and stays quiet.
    assert!(!assessed(one(&daily(&v), 9, c1())).alarm);
}

#[test]
fn ears_c3_sums_three_days() {
    // Zero baselines (sd floored at 0.5): each 1 gives C2 = 2, a term of 1.
    let v = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0];
    let d = Detector::EarsC3(EarsC3::default());
    let a = assessed(one(&daily(&v), 10, d.clone()));
    assert!(close(a.statistic, 2.0) && !a.alarm, "{a:?}");
    let a = assessed(one(&daily(&v), 11, d.clone()));
    assert!(close(a.statistic, 3.0) && a.alarm);
    assert!(close(a.threshold, 0.5));
    // A missing lag adds nothing.
    let mut w = v;
    w[10] = NA;
    let a = assessed(one(&daily(&w), 11, d));
    assert!(close(a.statistic, 2.0) && !a.alarm);
}

#[test]
fn ears_c3_threshold_is_the_one_that_applies() {
    // The lags' terms (9 + 9) already exceed 2: any count alarms, so the threshold is 0.
    let mut v = vec![0.0; 12];
    v.extend([5.0, 5.0, 0.0]);
    let a = assessed(one(&daily(&v), 14, Detector::EarsC3(EarsC3::default())));
    assert!(
        close(a.statistic, 18.0) && a.alarm && a.observed == 0.0,
        "{a:?}"
    );
    assert_eq!(a.threshold, 0.0);
}

#[test]
fn ears_keeps_its_precision_on_large_counts() {
    // The by-hand baseline 1…7 shifted by 999 999 980: the same mean offset, sd and C1.
    let base = 999_999_980.0;
    let v: Vec<f64> = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 11.0]
        .iter()
        .map(|x| base + x)
        .collect();
    let s = daily(&v);
    let a = assessed(one(&s, 7, c1()));
    assert!(
        close(a.statistic, 3.2404) && a.expected == base + 4.0 && a.alarm,
        "{a:?}"
    );
    // A point check and a sweep see the same numbers.
    for d in Detector::defaults() {
        let mut one_by_one = Vec::new();
        for t in 0..s.len() {
            one_by_one.extend(assess_at(&s, t, std::slice::from_ref(&d)));
        }
        let mut all = Vec::new();
        sweep(&s, std::slice::from_ref(&d), |o| all.push(*o));
        assert_eq!(all, one_by_one, "{:?}", d.method());
    }
    // Counts above the stated maximum are refused, naming the day.
    for big in [MAX_COUNT + 1.0, 1e154, f64::MAX] {
        let e = Series::new(Period::Day(2024, 1, 1), &[1.0, big]).unwrap_err();
        assert!(matches!(e, SurveillanceError::TooLarge { .. }), "{e:?}");
        assert!(
            e.to_string().contains("20240102") && e.to_string().contains("1e9"),
            "{e}"
        );
    }
    assert!(Series::new(Period::Day(2024, 1, 1), &[MAX_COUNT]).is_ok());
}

#[test]
fn moving_percentile_rank_is_exact() {
    // Weekly: 15 historical weeks, twelve 0s and three 5s. P80 sits at rank 14 × 0.8 = 11.2:
    // 0 + 0.2 × (5 − 0) = 1 exactly, so a week of 1 case is not above it.
    let mut v = vec![0.0; 159];
    for j in 1..=3 {
        v[158 - 52 * j] = 5.0;
    }
    v[158] = 1.0;
    let d = Detector::MovingPercentile(MovingPercentile::default());
    let a = assessed(one(&weekly(&v), 158, d.clone()));
    assert_eq!(a.limit, 1.0);
    assert!(!a.alarm, "{a:?}");
    v[158] = 2.0;
    assert!(assessed(one(&weekly(&v), 158, d)).alarm);
}

#[test]
fn cusum_by_hand() {
    let d = Detector::Cusum(Cusum::default());
    // Baseline mean 4 (√m = 2); x = 8 gives z = 2 and S grows by 2 − 1.04 = 0.96 a day.
    let mut v = vec![4.0; 9];
    v.extend([8.0, 8.0, 8.0]);
    let s = daily(&v);
    let a9 = assessed(one(&s, 9, d.clone()));
    let a10 = assessed(one(&s, 10, d.clone()));
    let a11 = assessed(one(&s, 11, d.clone()));
    assert!(close(a9.statistic, 0.96) && close(a10.statistic, 1.92) && close(a11.statistic, 2.88));
    assert!(!a10.alarm && a11.alarm);
    assert!(close(a11.threshold, 6.76), "{a11:?}");
    // With a memory of 2 steps S_11 sums only the last two increments.
    let short = Detector::Cusum(Cusum {
        memory: 2,
        ..Cusum::default()
    });
    let m11 = assessed(one(&s, 11, short.clone()));
    assert!(close(m11.statistic, 1.92) && !m11.alarm, "{m11:?}");
    let mut swept = Vec::new();
    sweep(&s, &[short], |o| swept.push(*o));
    assert_eq!(swept[11], Outcome::Assessed(m11));
    // A missing day leaves S unchanged.
    v[10] = NA;
    let s = daily(&v);
    assert_eq!(
        one(&s, 10, d.clone()),
        detect::skipped(Method::Cusum, 10, Skip::Missing)
    );
    let a11 = assessed(one(&s, 11, d.clone()));
    assert!(close(a11.statistic, 1.92) && !a11.alarm);
    // All-zero baseline: m is floored at 0.5; x = 3 gives z = 2.5 / √0.5 = 3.5355.
    let mut z = vec![0.0; 9];
    z.push(3.0);
    let a = assessed(one(&daily(&z), 9, d.clone()));
    assert!(close(a.statistic, 2.4955) && a.alarm && close(a.expected, 0.5));
    z[9] = 2.0;
    assert!(!assessed(one(&daily(&z), 9, d)).alarm);
}

#[test]
fn moving_percentile_by_hand() {
    // t = 400; one year back the blocks end on days 22, 29, 36, 43, 50 and hold 1…5 cases.
    let mut v = vec![0.0; 401];
    for (k, day) in [22, 29, 36, 43, 50].iter().enumerate() {
        v[*day] = (k + 1) as f64;
    }
    v[400] = 5.0;
    let d = Detector::MovingPercentile(MovingPercentile::default());
    // P80 of 1…5 (type 7): 4 + 0.2 × (5 − 4) = 4.2; the current 7-day count is 5.
    let a = assessed(one(&daily(&v), 400, d.clone()));
    assert!(close(a.limit, 4.2) && close(a.expected, 3.0) && a.observed == 5.0 && a.alarm);
    v[400] = 4.0;
    assert!(!assessed(one(&daily(&v), 400, d.clone())).alarm);
    // A missing day in the current block, or in a historical block (leaving 4 of 5).
    v[397] = NA;
    assert_eq!(
        one(&daily(&v), 400, d.clone()),
        detect::skipped(Method::MovingPercentile, 400, Skip::Missing)
    );
    v[397] = 0.0;
    v[20] = NA;
    assert_eq!(
        one(&daily(&v), 400, d.clone()),
        detect::skipped(Method::MovingPercentile, 400, Skip::ShortHistory)
    );
    // Less than a year of history.
    assert_eq!(
        one(&daily(&v), 300, d),
        detect::skipped(Method::MovingPercentile, 300, Skip::ShortHistory)
    );
}

#[test]
fn sweeps_equal_point_checks() {
    // Running windows (sweep) and direct sums (one point) must agree, missing values included.
    let v: Vec<f64> = (0..800)
        .map(|i| {
            if i % 37 == 5 {
                NA
            } else {
                ((i * 7919) % 13) as f64
            }
        })
        .collect();
    for s in [daily(&v), weekly(&v[..300])] {
        let ds = Detector::defaults();
        let mut swept = Vec::new();
        sweep(&s, &ds, |o| swept.push(*o));
        let mut pointwise = Vec::new();
        for d in &ds {
            for t in 0..s.len() {
                pointwise.extend(assess_at(&s, t, std::slice::from_ref(d)));
            }
        }
        assert_eq!(swept.len(), pointwise.len());
        for (a, b) in swept.iter().zip(&pointwise) {
            match (a, b) {
                (Outcome::Assessed(x), Outcome::Assessed(y)) => {
                    assert_eq!((x.method, x.index, x.alarm), (y.method, y.index, y.alarm));
                    assert!(
                        close(x.statistic, y.statistic) || x.statistic == y.statistic,
                        "{x:?} {y:?}"
                    );
                }
                _ => assert_eq!(a, b),
            }
        }
        assert!(swept.iter().any(|o| o.alarm().is_some()));
    }
}

#[test]
fn history_is_all_a_point_check_reads() {
    // Judging the last point on only its `history` steps of past gives what the whole series
    // gives: an arrival check can load just that window.
    let v: Vec<f64> = (0..6 * 365)
        .map(|i| {
            if i % 41 == 3 {
                NA
            } else {
                ((i * 7919) % 17) as f64 + if i % 365 < 30 { 9.0 } else { 0.0 }
            }
        })
        .collect();
    for (step, s) in [(Step::Day, daily(&v)), (Step::Week, weekly(&v[..400]))] {
        for d in Detector::defaults() {
            let t = s.len() - 1;
            let from = t - d.history(step);
            let first = s.period(from).unwrap();
            let cut = Series::new(first, &s.values[from..]).unwrap();
            let whole = assess_at(&s, t, std::slice::from_ref(&d));
            let part = assess_at(&cut, cut.len() - 1, std::slice::from_ref(&d));
            match (&whole[0], &part[0]) {
                (Outcome::Assessed(x), Outcome::Assessed(y)) => {
                    assert_eq!(x.alarm, y.alarm, "{:?} {step:?}", d.method());
                    assert!(close(x.statistic, y.statistic), "{x:?} {y:?}");
                }
                (Outcome::Skipped { reason: a, .. }, Outcome::Skipped { reason: b, .. }) => {
                    assert_eq!(a, b, "{:?} {step:?}", d.method())
                }
                (x, y) => panic!("{:?} {step:?}: {x:?} vs {y:?}", d.method()),
            }
        }
        assert_eq!(
            Settings::history(&Detector::defaults(), step),
            Detector::defaults()
                .iter()
                .map(|d| d.history(step))
                .max()
                .unwrap()
        );
    }
}

#[test]
fn farrington_by_hand() {
    // A constant 4 a week: the fit is μ = 4 exactly, dispersion 0 → φ = 1, no trend, so the
    // bound is the 99.5% Poisson(4) quantile: cdf(9) = 0.99187 < 0.995 ≤ cdf(10) = 0.99716.
    let mut v = vec![4.0; 200];
    v[199] = 11.0;
    let d = Detector::Farrington(Farrington::default());
    let a = assessed(one(&weekly(&v), 199, d.clone()));
    assert!(
        close(a.expected, 4.0) && a.threshold == 10.0 && a.alarm,
        "{a:?}"
    );
    v[199] = 10.0;
    assert!(!assessed(one(&weekly(&v), 199, d.clone())).alarm);
    // Fewer than 5 cases in the last 4 weeks: no alarm possible, no bound.
    let mut quiet = vec![4.0; 200];
    for x in &mut quiet[196..200] {
        *x = 1.0;
    }
    assert_eq!(
        one(&weekly(&quiet), 199, d.clone()),
        detect::skipped(Method::Farrington, 199, Skip::FewCases)
    );
    // An all-zero baseline: expected 0, any case alarms once the 5-in-4-weeks rule is met.
    let mut zero = vec![0.0; 200];
    zero[199] = 5.0;
    let a = assessed(one(&weekly(&zero), 199, d.clone()));
    assert!(a.alarm && a.expected == 0.0 && a.threshold == 0.0);
    // Less than three years of history; a daily series.
    assert_eq!(
        one(&weekly(&v[..150]), 149, d.clone()),
        detect::skipped(Method::Farrington, 149, Skip::ShortHistory)
    );
    assert_eq!(
        one(&daily(&v), 199, d),
        detect::skipped(Method::Farrington, 199, Skip::WeeklyOnly)
    );
}

#[test]
fn farrington_downweights_a_past_outbreak_and_follows_a_trend() {
    // Seasonal weekly counts with a past outbreak one year back; the bound must stay close to
    // the seasonal level, not the outbreak's.
    let season = |i: usize| 10.0 + 5.0 * ((i % 52) as f64 * std::f64::consts::TAU / 52.0).sin();
    let mut v: Vec<f64> = (0..260).map(|i| season(i).round()).collect();
    for x in &mut v[200..206] {
        *x += 40.0;
    }
    let d = Detector::Farrington(Farrington::default());
    let a = assessed(one(&weekly(&v), 255, d.clone()));
    assert!(a.expected < 20.0 && a.threshold < 30.0, "{a:?}");
    // Seasonal counts growing by half over five years, judged in a seasonal trough (so the
    // prediction stays below the baseline's peaks and R's rule keeps a significant trend):
    // the trend lifts the expectation above the no-trend fit's.
    let grow: Vec<f64> = (0..260)
        .map(|i| (season(i) * 2.0 * (1.0 + i as f64 / 520.0)).round())
        .collect();
    let k = 52 * 4 + 39; // season's trough
    let with = assessed(one(&weekly(&grow), k, d));
    let flat = Detector::Farrington(Farrington {
        trend: false,
        ..Farrington::default()
    });
    let without = assessed(one(&weekly(&grow), k, flat));
    assert!(
        with.expected > without.expected * 1.05,
        "{with:?} {without:?}"
    );
}

#[test]
fn fixed_threshold_by_hand() {
    let v = [0.0, 1.0, NA];
    let d = Detector::FixedThreshold(FixedThreshold::default());
    assert!(!assessed(one(&daily(&v), 0, d.clone())).alarm);
    assert!(assessed(one(&daily(&v), 1, d.clone())).alarm);
    assert_eq!(
        one(&daily(&v), 2, d),
        detect::skipped(Method::FixedThreshold, 2, Skip::Missing)
    );
}

#[test]
fn signals_explain_in_both_languages() {
    let v = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 11.0];
    let s = daily(&v);
    let sig = evaluate_at(
        &s,
        7,
        &[c1(), Detector::FixedThreshold(FixedThreshold::default())],
    );
    assert_eq!(sig.len(), 2);
    assert_eq!(sig[0].period, Period::Day(2024, 1, 8));
    assert!(sig[0].explanation_zh.contains("20240108") && sig[0].explanation_zh.contains("3.24"));
    assert!(
        sig[0].explanation_en.contains("mean 4"),
        "{}",
        sig[0].explanation_en
    );
    assert_eq!(sweep_signals(&s, &[c1()]).len(), 1);
    let w = weekly(&v);
    assert_eq!(w.period(7), Some(Period::Week(2020, 8)));
    assert_eq!(w.index_of(Period::Week(2020, 8)), Some(7));
}

#[test]
fn series_and_settings_are_checked() {
    assert!(Series::new(Period::Month(2024, 1), &[1.0]).is_err());
    let e = Series::new(Period::Day(2024, 1, 1), &[1.0, -1.0]).unwrap_err();
    assert!(e.to_string().contains("20240102"), "{e}");
    let s = Settings::default();
    assert!(s.validate().is_ok());
    assert_eq!(Settings::from_toml(&s.to_toml().unwrap()).unwrap(), s);
    assert_eq!(
        s.detectors("cholera", Step::Day),
        vec![Detector::FixedThreshold(FixedThreshold::default())]
    );
    assert_eq!(s.detectors("dengue", Step::Week).len(), 2);
    assert_eq!(s.detectors("dengue", Step::Day).len(), 5);
    let t = Settings::from_toml("[diseases.hfmd]\npercentile = 60.0\n").unwrap();
    let mp = t
        .detectors("hfmd", Step::Day)
        .into_iter()
        .find_map(|d| match d {
            Detector::MovingPercentile(m) => Some(m.percentile),
            _ => None,
        });
    assert_eq!(mp, Some(60.0));
    let bad = Settings::from_toml("[diseases.hfmd]\npercentile = 95.0\n").unwrap_err();
    assert!(
        bad.to_string().contains("diseases.hfmd.percentile"),
        "{bad}"
    );
    let bad = Settings::from_toml("[[daily]]\nmethod = \"cusum\"\nh = -1.0\n").unwrap_err();
    assert!(bad.to_string().contains("cusum.h"), "{bad}");
}

fn any_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        6 => (0u32..8).prop_map(f64::from),
        2 => (0u32..200).prop_map(f64::from),
        1 => Just(NA),
        1 => Just(0.0),
        1 => 0.0f64..1e9,
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn never_panics(values in prop::collection::vec(any_value(), 0..420), week in any::<bool>(), t in 0usize..450) {
        let s = if week { weekly(&values) } else { daily(&values) };
        let ds = Detector::defaults();
        let mut n = 0usize;
        sweep(&s, &ds, |_| n += 1);
        prop_assert!(n <= values.len() * ds.len());
        let out = assess_at(&s, t, &ds);
        prop_assert_eq!(out.len(), if t < values.len() { ds.len() } else { 0 });
        let _ = sweep_signals(&s, &ds);
    }

    #[test]
    fn a_larger_count_never_removes_an_alarm(
        values in prop::collection::vec(any_value(), 1..420),
        week in any::<bool>(),
        pick in any::<prop::sample::Index>(),
        extra in 1u32..50,
    ) {
        let t = pick.index(values.len());
        let mut more = values.clone();
        more[t] = if values[t].is_nan() { f64::from(extra) } else { values[t] + f64::from(extra) };
        let (s, s2) = if week { (weekly(&values), weekly(&more)) } else { (daily(&values), daily(&more)) };
        for d in Detector::defaults() {
            let before = assess_at(&s, t, std::slice::from_ref(&d));
            if before[0].alarm().is_some() {
                let after = assess_at(&s2, t, std::slice::from_ref(&d));
                prop_assert!(after[0].alarm().is_some(), "{:?}: {:?} → {:?}", d.method(), before, after);
            }
        }
    }
}
