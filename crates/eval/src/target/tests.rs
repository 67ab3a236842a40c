use super::*;
use healthplan_core::Indicator;
use proptest::prelude::*;

fn ind(json: &str) -> Indicator {
    serde_json::from_str(json).unwrap()
}

/// 居民健康素养水平 of spec §8.
fn literacy() -> Indicator {
    ind(
        r#"{"name":"居民健康素养水平","unit":"%","direction":"higher","property":"binding",
        "baseline":{"value":14.18,"year":2017,"text":"14.18"},
        "targets":[{"year":2022,"kind":"threshold","cmp":">=","value":22,"text":"≥22"},
                   {"year":2030,"kind":"threshold","cmp":">=","value":30,"text":"≥30"}]}"#,
    )
}

fn run_with(
    ind: &Indicator,
    obs: &[(i32, f64)],
    refs: &[(&str, &[(i32, f64)])],
    as_of: i32,
    s: &Settings,
) -> Vec<TargetAssessment> {
    let ctx = Context {
        indicator: ind,
        observations: obs,
        references: refs.iter().map(|(k, v)| (*k, *v)).collect(),
        as_of,
        settings: s,
    };
    ind.targets.iter().map(|t| assess_target(&ctx, t)).collect()
}

fn run(ind: &Indicator, obs: &[(i32, f64)], as_of: i32) -> Vec<TargetAssessment> {
    run_with(ind, obs, &[], as_of, &Settings::default())
}

fn method<'a>(t: &'a TargetAssessment, name: &str) -> &'a MethodResult {
    t.methods.iter().find(|m| m.method == name).unwrap()
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn worked_case_of_the_spec() {
    let r = run(&literacy(), &[(2021, 25.4)], 2021);
    let (t22, t30) = (&r[0], &r[1]);
    assert_eq!(t22.status, Status::Achieved, "{}", t22.explanation_zh);
    assert_eq!(t30.status, Status::OnTrack);
    // p = 11.22 / 15.82 = 0.7092 by the spec's formula; the spec's printed 0.7079 is
    // 11.2 / 15.82 (see docs/evaluation-output.md).
    assert!(close(t30.p.unwrap(), 0.70923, 5e-5), "{:?}", t30.p);
    assert!(close(t30.s.unwrap(), 0.3077, 5e-5));
    assert!(close(t30.r.unwrap(), 2.30, 5e-3));
    let e = method(t30, "eurostat");
    assert!(
        close(e.values["cagr_actual"], 0.15688, 5e-6),
        "{:?}",
        e.values
    );
    assert!(close(e.values["cagr_required"], 0.05934, 5e-6));
    assert!(close(e.ratio.unwrap(), 2.644, 5e-4));
    assert_eq!(e.category, "significant_progress");
    assert!(!e.fallback_linear);
    assert!(
        t30.explanation_zh.starts_with("2021年值25.4%，较基线14.18%（2017年）提高11.22个百分点，完成目标进程70.9%，时间进度30.8%，进度正常"),
        "{}",
        t30.explanation_zh
    );
    assert!(
        t30.explanation_en.contains("up 11.22 percentage points"),
        "{}",
        t30.explanation_en
    );
    // Two points (baseline + one observation): a straight line, no interval.
    let f = t30.forecast.as_ref().unwrap();
    assert_eq!(f.method, "linear");
    assert!(f.lower.is_none() && f.probability.is_none());
}

/// Baseline 0 (2020) → target 100 (2030), observed 2025: s = 0.5, r = y / 50.
fn boundary_cases() -> Vec<(&'static str, f64, Status)> {
    vec![
        ("higher", 100.0, Status::Achieved),
        ("higher", 99.99, Status::OnTrack),
        ("higher", 47.5, Status::OnTrack),
        ("higher", 47.49, Status::Moderate),
        ("higher", 30.0, Status::Moderate),
        ("higher", 29.99, Status::Insufficient),
        ("higher", 0.0, Status::Insufficient),
        ("higher", -0.01, Status::MovingAway),
        // lower is better: baseline 100 → target ≤ 0, r = (100 − y) / 50.
        ("lower", 0.0, Status::Achieved),
        ("lower", 0.01, Status::OnTrack),
        ("lower", 52.5, Status::OnTrack),
        ("lower", 52.51, Status::Moderate),
        ("lower", 70.0, Status::Moderate),
        ("lower", 70.01, Status::Insufficient),
        ("lower", 100.0, Status::Insufficient),
        ("lower", 100.01, Status::MovingAway),
    ]
}

fn boundary_indicator(dir: &str) -> Indicator {
    let (b, cmp, v) = if dir == "higher" {
        (0, ">=", 100)
    } else {
        (100, "<=", 0)
    };
    ind(&format!(
        r#"{{"name":"x","unit":"分","direction":"{dir}","baseline":{{"value":{b},"year":2020,"text":""}},
        "targets":[{{"year":2030,"kind":"threshold","cmp":"{cmp}","value":{v},"text":""}}]}}"#
    ))
}

#[test]
fn every_status_boundary_from_both_sides() {
    for (dir, y, want) in boundary_cases() {
        let got = &run(&boundary_indicator(dir), &[(2025, y)], 2025)[0];
        assert_eq!(got.status, want, "{dir} y={y}: {}", got.explanation_zh);
        assert_eq!(got.status_zh, want.zh());
    }
}

#[test]
fn thresholds_are_settings() {
    let mut s = Settings::default();
    s.status.on_track = 0.9;
    let got = &run_with(
        &boundary_indicator("higher"),
        &[(2025, 46.0)],
        &[],
        2025,
        &s,
    )[0];
    assert_eq!(got.status, Status::OnTrack); // r = 0.92
}

#[test]
fn no_data_and_data_after_as_of() {
    let r = run(&literacy(), &[(2023, 26.0)], 2021);
    assert_eq!(r[1].status, Status::NoData);
    assert!(r[1].explanation_zh.contains("无观测值"));
}

#[test]
fn baseline_met_then_regressing_is_moving_away() {
    // 婴儿死亡率: baseline 2.32 already under the ceiling 6.
    let i = ind(
        r#"{"name":"婴儿死亡率","unit":"‰","direction":"lower","baseline":{"value":2.32,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"threshold","cmp":"<=","value":6,"text":"6"}]}"#,
    );
    assert_eq!(run(&i, &[(2022, 3.0)], 2022)[0].status, Status::Achieved);
    let r = &run(&i, &[(2022, 3.0), (2023, 6.5)], 2023)[0];
    assert_eq!(r.status, Status::MovingAway);
    assert!(
        r.explanation_zh.contains("基线2.32‰已达标"),
        "{}",
        r.explanation_zh
    );
    assert_eq!(method(r, "eurostat").category, "moving_away");
}

#[test]
fn no_baseline_uses_earliest_observation_and_says_so() {
    let i = ind(
        r#"{"name":"x","unit":"%","direction":"higher","baseline":null,
        "targets":[{"year":2030,"kind":"threshold","cmp":">=","value":60,"text":"≥60"}]}"#,
    );
    let r = &run(&i, &[(2022, 40.0), (2020, 30.0)], 2024)[0];
    let b = r.baseline.unwrap();
    assert_eq!(
        (b.year, b.value, b.source),
        (2020, 30.0, BaselineSource::EarliestObservation)
    );
    assert!(
        r.explanation_zh.contains("规划无基线，取最早观测值"),
        "{}",
        r.explanation_zh
    );
    assert!(r.explanation_en.contains("earliest observation"));
    // p = 10/30, s = 2/10 → r = 1.67
    assert_eq!(r.status, Status::OnTrack);
}

#[test]
fn single_observation_without_baseline() {
    let i = ind(r#"{"name":"x","unit":"%","direction":"higher",
        "targets":[{"year":2030,"kind":"threshold","cmp":">=","value":60,"text":"≥60"}]}"#);
    let r = &run(&i, &[(2022, 40.0)], 2024)[0];
    assert_eq!(r.status, Status::NotAssessable);
    assert!(
        r.reason_zh.as_deref().unwrap().contains("基线年"),
        "{:?}",
        r.reason_zh
    );
    assert!(r.forecast.is_none());
    // … but a single observation that meets the target is achieved.
    assert_eq!(run(&i, &[(2022, 61.0)], 2024)[0].status, Status::Achieved);
    // With a baseline, a single observation is enough.
    assert_eq!(
        run(&literacy(), &[(2019, 16.0)], 2024)[1].status,
        Status::Moderate
    );
}

#[test]
fn target_equal_to_baseline() {
    let i = ind(
        r#"{"name":"x","unit":"%","direction":"higher","baseline":{"value":98,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"threshold","cmp":">","value":98,"text":">98"}]}"#,
    );
    let r = &run(&i, &[(2022, 97.0)], 2022)[0];
    assert_eq!(r.status, Status::NotAssessable);
    assert!(r.reason_en.as_deref().unwrap().contains("V = b"));
    assert_eq!(run(&i, &[(2022, 99.0)], 2022)[0].status, Status::Achieved);
}

#[test]
fn range_targets() {
    let i = ind(
        r#"{"name":"x","unit":"%","direction":"higher","baseline":{"value":10,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"range","value":20,"value_hi":30,"text":"20–30"}]}"#,
    );
    assert_eq!(run(&i, &[(2025, 25.0)], 2025)[0].status, Status::Achieved);
    let r = &run(&i, &[(2025, 15.0)], 2025)[0];
    assert_eq!(r.goal, Some(20.0));
    assert_eq!(r.status, Status::OnTrack); // p = 0.5, s = 0.5
                                           // Beyond the favourable end (higher is better) counts as met.
    assert_eq!(run(&i, &[(2025, 31.0)], 2025)[0].status, Status::Achieved);
    // From above (lower is better): progress is measured towards the upper bound.
    let mut above = i.clone();
    above.baseline.as_mut().unwrap().value = Some(40.0);
    above.direction = Direction::Lower;
    let r = &run(&above, &[(2025, 36.0)], 2025)[0];
    assert_eq!(r.goal, Some(30.0));
    assert_eq!(r.status, Status::Moderate); // p = 0.4, s = 0.5 → r = 0.8
                                            // A baseline inside the range that leaves it on the unfavourable side is moving away.
    let mut inside = i.clone();
    inside.baseline.as_mut().unwrap().value = Some(25.0);
    inside.direction = Direction::Lower;
    assert_eq!(
        run(&inside, &[(2025, 31.0)], 2025)[0].status,
        Status::MovingAway
    );
}

#[test]
fn relative_change_targets() {
    // 下降30% from the baseline 20 → V = 14, cmp <=.
    let i = ind(
        r#"{"name":"x","unit":"%","direction":"lower","baseline":{"value":20,"year":2015,"text":""},
        "targets":[{"year":2030,"kind":"relative_change","value":-30,"relative_to":"baseline","text":"下降30%"},
                   {"year":2025,"kind":"relative_change","value":-10,"relative_to":2018,"text":"比2018年降低10%"},
                   {"year":2028,"kind":"relative_change","value":5,"unit":"个百分点","relative_to":2018,"text":"比2018年提高5个百分点"}]}"#,
    );
    let r = run(&i, &[(2018, 18.0), (2021, 16.0)], 2021);
    assert_eq!(
        r[0].condition,
        Some(Condition::Compare {
            cmp: Cmp::Le,
            value: 14.0
        })
    );
    assert!(r[0]
        .resolution_zh
        .as_deref()
        .unwrap()
        .contains("20 × (1 − 30%)"));
    assert_eq!(r[0].status, Status::OnTrack); // p = 4/6, s = 6/15 → r = 1.67
    let Some(Condition::Compare { cmp, value }) = r[1].condition else {
        panic!()
    };
    assert_eq!(cmp, Cmp::Le);
    assert!(close(value, 16.2, 1e-12));
    assert_eq!(r[1].status, Status::Achieved);
    assert_eq!(
        r[2].condition,
        Some(Condition::Compare {
            cmp: Cmp::Ge,
            value: 23.0
        })
    );
    // Without the 2018 observation the year-relative targets cannot be resolved.
    let r = run(&i, &[(2021, 16.0)], 2021);
    assert_eq!(r[1].status, Status::NotAssessable);
    assert!(
        r[1].reason_zh.as_deref().unwrap().contains("2018年"),
        "{:?}",
        r[1].reason_zh
    );
    // A reference year after the as-of year is not known yet.
    let r = run(&i, &[(2016, 19.0), (2018, 18.0)], 2017);
    assert_eq!(r[1].status, Status::NotAssessable);
    // Without a baseline, the baseline-relative target cannot.
    let mut nb = i.clone();
    nb.baseline = None;
    let r = run(&nb, &[(2019, 18.0), (2021, 16.0)], 2021);
    assert_eq!(r[0].status, Status::NotAssessable);
    assert!(r[0]
        .reason_en
        .as_deref()
        .unwrap()
        .contains("baseline value is missing"));
}

#[test]
fn reference_relative_targets() {
    let i = ind(
        r#"{"name":"x","unit":"%","direction":"higher","baseline":{"value":20,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"reference_relative","cmp":">=","value":5,"unit":"个百分点","relative_to":"national_average","text":"比全国平均水平高5个百分点"}]}"#,
    );
    let nat: &[(i32, f64)] = &[(2020, 18.0), (2022, 20.0)];
    let r = &run_with(
        &i,
        &[(2022, 26.0)],
        &[("national_average", nat)],
        2022,
        &Settings::default(),
    )[0];
    assert_eq!(r.goal, Some(25.0));
    assert_eq!(r.status, Status::Achieved);
    // No value for 2023: the latest up to as-of (2022) is used.
    let r = &run_with(
        &i,
        &[(2023, 24.0)],
        &[("national_average", nat)],
        2023,
        &Settings::default(),
    )[0];
    assert_eq!(r.goal, Some(25.0));
    assert!(r.resolution_zh.as_deref().unwrap().contains("2022年"));
    let r = &run(&i, &[(2022, 26.0)], 2022)[0];
    assert_eq!(r.status, Status::NotAssessable);
    assert!(r.reason_zh.as_deref().unwrap().contains("national_average"));
}

#[test]
fn milestones_and_qualitative() {
    let i = ind(
        r#"{"name":"建立健康科普专家库","unit":"","direction":"qualitative","property":"binding",
        "baseline":{"value":null,"year":2020,"text":"基本实现"},
        "targets":[{"year":2022,"kind":"milestone","text":"实现"},{"year":2030,"kind":"qualitative","text":"保持省内先进水平"}]}"#,
    );
    let r = run(&i, &[(2022, 1.0)], 2022);
    assert_eq!(r[0].status, Status::Achieved);
    assert_eq!(r[1].status, Status::NotAssessable);
    assert!(r[1].reason_zh.as_deref().unwrap().contains("人工"));
    // 基本实现 stays 基本实现: p = 0 → insufficient; 未实现 after 基本实现 → moving away.
    assert_eq!(
        run(&i, &[(2021, 0.5)], 2021)[0].status,
        Status::Insufficient
    );
    assert_eq!(run(&i, &[(2021, 0.0)], 2021)[0].status, Status::MovingAway);
    assert!(r[0].methods.is_empty() && r[0].forecast.is_none());
}

fn higher(b: f64, v: f64) -> Indicator {
    ind(&format!(
        r#"{{"name":"x","unit":"分","direction":"higher","baseline":{{"value":{b},"year":2020,"text":""}},
        "targets":[{{"year":2030,"kind":"threshold","cmp":">=","value":{v},"text":""}}]}}"#
    ))
}

#[test]
fn ratio_methods_cut_where_the_settings_say() {
    // Baseline 100 → 200 by 2030; 2025 value y. Eurostat/UNSD 2022 cut the CAGR ratio.
    let req = 2f64.powf(0.1) - 1.0;
    let y_for = |ratio: f64| 100.0 * (1.0 + ratio * req).powi(5);
    let cases = [
        (
            "eurostat",
            0.95,
            "significant_progress",
            "moderate_progress",
        ),
        (
            "eurostat",
            0.60,
            "moderate_progress",
            "insufficient_progress",
        ),
        ("eurostat", 0.0, "insufficient_progress", "moving_away"),
        (
            "unsd2022",
            0.5,
            "moderate_progress",
            "insufficient_progress",
        ),
        ("unsd2022", -0.1, "insufficient_progress", "moving_away"),
    ];
    for (m, cut, at, below) in cases {
        let i = higher(100.0, 200.0);
        let r = &run(&i, &[(2025, y_for(cut) + 1e-7)], 2025)[0];
        assert_eq!(
            method(r, m).category,
            at,
            "{m} at {cut}: {:?}",
            method(r, m).ratio
        );
        let r = &run(&i, &[(2025, y_for(cut) - 1e-4)], 2025)[0];
        assert_eq!(method(r, m).category, below, "{m} below {cut}");
    }
}

#[test]
fn sdsn_and_unsd2023() {
    // Linear: baseline 0 → 100 by 2030, y at 2025; SDSN ratio = y / 50.
    let i = higher(0.0, 100.0);
    for (y, want) in [
        (50.0, "on_track"),
        (49.9, "moderately_improving"),
        (25.0, "moderately_improving"),
        (24.9, "stagnating"),
        (0.0, "stagnating"),
        (-1.0, "decreasing"),
    ] {
        let r = &run(&i, &[(2025, y)], 2025)[0];
        assert_eq!(method(r, "sdsn").category, want, "y = {y}");
        // Zero baseline: CAGR impossible, linear used and said.
        let u = method(r, "unsd2023");
        assert!(u.fallback_linear && u.explanation_zh.contains("线性"));
    }
    // UNSD 2023 boundaries (linear fallback from a zero baseline: projection = 2y, ratio = y/50).
    for (y, want) in [
        (47.5, "on_track"),
        (47.49, "fair_progress"),
        (5.0, "fair_progress"),
        (4.99, "stagnation_or_regression"),
        (-1.0, "stagnation_or_regression"),
    ] {
        let r = &run(&i, &[(2025, y)], 2025)[0];
        assert_eq!(method(r, "unsd2023").category, want, "y = {y}");
    }
    // UNSD 2023 with a CAGR: 100 → 200; y = 150 in 2025: projection 225 ≥ target → on track.
    let i = higher(100.0, 200.0);
    let r = &run(&i, &[(2025, 150.0)], 2025)[0];
    let u = method(r, "unsd2023");
    assert!(close(u.values["projected"], 225.0, 1e-9));
    assert_eq!(u.category, "on_track");
    // y = 120: projected 144, ratio 0.44 → fair progress; y = 101: projected 102.01 → 0.02.
    let r = &run(&i, &[(2025, 120.0)], 2025)[0];
    assert_eq!(method(r, "unsd2023").category, "fair_progress");
    let r = &run(&i, &[(2025, 101.0)], 2025)[0];
    assert_eq!(method(r, "unsd2023").category, "stagnation_or_regression");
}

#[test]
fn lower_is_better_cagr() {
    // 30 → 15 by 2030 (halving); 2025 value 21.21 ≈ on the CAGR path.
    let i = ind(
        r#"{"name":"x","unit":"‰","direction":"lower","baseline":{"value":30,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"threshold","cmp":"<=","value":15,"text":""}]}"#,
    );
    let y = 30.0 * 0.5f64.powf(0.5);
    let r = &run(&i, &[(2025, y)], 2025)[0];
    let e = method(r, "eurostat");
    assert!(e.values["cagr_actual"] < 0.0 && e.values["cagr_required"] < 0.0);
    assert!(close(e.ratio.unwrap(), 1.0, 1e-9));
    assert_eq!(e.category, "significant_progress");
    let r = &run(&i, &[(2025, 31.0)], 2025)[0];
    assert_eq!(method(r, "eurostat").category, "moving_away");
    assert_eq!(method(r, "escap").category, "reverse");
}

#[test]
fn sign_change_falls_back_to_linear() {
    let i = ind(
        r#"{"name":"净增长","unit":"","direction":"higher","baseline":{"value":-10,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"threshold","cmp":">=","value":10,"text":""}]}"#,
    );
    let r = &run(&i, &[(2025, 0.0)], 2025)[0];
    let e = method(r, "eurostat");
    assert!(e.fallback_linear);
    assert!(close(e.ratio.unwrap(), 1.0, 1e-12));
    assert!(e.explanation_en.contains("linear used"));
}

#[test]
fn escap_indices() {
    let i = higher(0.0, 100.0);
    // Steady 10 a year from 2020: the weighted line reaches 100 by 2030 → maintain.
    let obs: Vec<(i32, f64)> = (2021..=2024)
        .map(|y| (y, 10.0 * (y - 2020) as f64))
        .collect();
    let r = &run(&i, &obs, 2024)[0];
    let m = method(r, "escap");
    assert_eq!(m.category, "maintain");
    assert!(close(m.values["csi"], 40.0, 1e-9));
    // Slower: accelerate. Going down: reverse, and the CSI shows 0 with regress said apart.
    let r = &run(&i, &[(2022, 5.0), (2024, 10.0)], 2024)[0];
    assert_eq!(method(r, "escap").category, "accelerate");
    let r = &run(&i, &[(2022, -5.0), (2024, -10.0)], 2024)[0];
    let m = method(r, "escap");
    assert_eq!(m.category, "reverse");
    assert_eq!(m.values["csi"], 0.0);
    assert!(m.explanation_zh.contains("倒退"));
}

#[test]
fn forecast_interval_probability_and_clamp() {
    let i = ind(
        r#"{"name":"x","unit":"%","direction":"higher","baseline":{"value":50,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"threshold","cmp":">=","value":95,"text":""}]}"#,
    );
    let obs = [(2021, 56.0), (2022, 59.0), (2023, 66.0), (2024, 69.0)];
    let r = &run(&i, &obs, 2024)[0];
    let f = r.forecast.as_ref().unwrap();
    assert_eq!((f.method, f.points), ("ols", 5));
    // OLS over 2020..2024: slope 4.8, intercept at 2022 = 60 → 2030: 98.4.
    assert!(close(f.value, 98.4, 1e-9), "{f:?}");
    let (lo, hi) = (f.lower.unwrap(), f.upper.unwrap());
    assert!(lo < 98.4 && hi == 100.0 && f.clamped, "{f:?}");
    let p = f.probability.unwrap();
    assert!(p > 0.5 && p < 1.0, "{p}");
    // Independent check of the interval's lower end: t(0.975, 3) = 3.182446.
    let resid: [f64; 5] = [
        50.0 - 50.4,
        56.0 - 55.2,
        59.0 - 60.0,
        66.0 - 64.8,
        69.0 - 69.6,
    ];
    let s2 = resid.iter().map(|e| e * e).sum::<f64>() / 3.0;
    let se = (s2 * (1.0 + 0.2 + 64.0 / 10.0)).sqrt();
    assert!(close(lo, 98.4 - 3.182446 * se, 1e-4), "{lo}");
    assert!(close(
        p,
        1.0 - crate::stats::normal_cdf((95.0 - 98.4) / se),
        1e-12
    ));
}

#[test]
fn perfect_line_gives_certain_probability() {
    let i = higher(0.0, 100.0);
    let obs = [(2022, 20.0), (2024, 40.0)];
    let r = &run(&i, &obs, 2024)[0];
    let f = r.forecast.as_ref().unwrap();
    assert_eq!(f.probability, Some(1.0));
    let slow = [(2022, 10.0), (2024, 20.0)];
    assert_eq!(
        run(&i, &slow, 2024)[0]
            .forecast
            .as_ref()
            .unwrap()
            .probability,
        Some(0.0)
    );
}

proptest! {
    #[test]
    fn improving_series_never_moves_away(steps in proptest::collection::vec(0.0f64..5.0, 1..8), b in 0.0f64..50.0, lower in any::<bool>()) {
        let (dir, cmp, v) = if lower { ("lower", "<=", b - 40.0) } else { ("higher", ">=", b + 40.0) };
        let i = ind(&format!(r#"{{"name":"x","unit":"分","direction":"{dir}","baseline":{{"value":{b},"year":2015,"text":""}},
            "targets":[{{"year":2030,"kind":"threshold","cmp":"{cmp}","value":{v},"text":""}}]}}"#));
        let mut y = b;
        let obs: Vec<(i32, f64)> = steps.iter().enumerate().map(|(k, d)| { y += if lower { -d } else { *d }; (2016 + k as i32, y) }).collect();
        let r = &run(&i, &obs, 2030)[0];
        prop_assert_ne!(r.status, Status::MovingAway);
    }

    #[test]
    fn a_better_latest_value_never_worsens_the_status(y in -20.0f64..120.0, d in 0.0f64..30.0, lower in any::<bool>(), t in 2021i32..2030) {
        let i = boundary_indicator(if lower { "lower" } else { "higher" });
        let better = if lower { y - d } else { y + d };
        let a = run(&i, &[(t, y)], t)[0].status.rank().unwrap();
        let b = run(&i, &[(t, better)], t)[0].status.rank().unwrap();
        prop_assert!(b <= a, "y {} → {}: {:?} → {:?}", y, better, a, b);
    }

    #[test]
    fn order_of_observations_does_not_matter(vals in proptest::collection::vec(10.0f64..40.0, 2..7), seed in any::<u64>()) {
        let pts: Vec<(usize, String, i32, f64)> = vals.iter().enumerate().map(|(k, v)| (0, "a".to_string(), 2018 + k as i32, *v)).collect();
        let mut shuffled = pts.clone();
        let n = shuffled.len();
        let mut s = seed;
        for k in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            shuffled.swap(k, (s >> 33) as usize % (k + 1));
        }
        let a = crate::data::Observations::from_points(pts).unwrap();
        let b = crate::data::Observations::from_points(shuffled).unwrap();
        let ra = run(&literacy(), a.get(0, "a"), 2025);
        let rb = run(&literacy(), b.get(0, "a"), 2025);
        prop_assert_eq!(ra, rb);
    }
}

/// 婴儿死亡率 of the 十四五 plan: ≤ 2‰ by 2025 from 2.32‰ in 2020.
fn infant_mortality() -> Indicator {
    ind(
        r#"{"name":"婴儿死亡率","unit":"‰","direction":"lower","property":"binding",
        "baseline":{"value":2.32,"year":2020,"text":"2.32"},
        "targets":[{"year":2025,"kind":"threshold","cmp":"<=","value":2,"text":"≤2"}]}"#,
    )
}

#[test]
fn final_year_missed() {
    let obs = [(2021, 2.3), (2023, 2.1), (2025, 2.02)];
    let r = &run(&infant_mortality(), &obs, 2025)[0];
    assert_eq!(r.status, Status::Missed, "{}", r.explanation_zh);
    assert!(r.is_final && r.status_zh == "未完成");
    assert!(
        r.explanation_zh
            .starts_with("目标年份已到，2025年实际值2.02‰，未达到≤2‰的目标，未完成"),
        "{}",
        r.explanation_zh
    );
    assert!(r
        .explanation_en
        .contains("does not meet the target ≤2‰: missed"));
    // Judged a year later the verdict stands, on the 2025 value, and time never passes 100 %.
    let later = &run(&infant_mortality(), &[(2025, 2.02), (2026, 1.9)], 2026)[0];
    assert_eq!(later.status, Status::Missed);
    assert_eq!(later.latest.unwrap().year, 2025);
    assert_eq!(later.s, Some(1.0));
    assert!(!later.explanation_zh.contains("120"));
    // No forecast once the target year has come, and it says why.
    assert!(r.forecast.is_none());
    assert!(r
        .forecast_note_zh
        .as_deref()
        .unwrap()
        .contains("目标年份已到"));
    assert_eq!(method(r, "eurostat").category, "missed");
    // Met in the target year: achieved, for good.
    let met = &run(&infant_mortality(), &[(2025, 1.98)], 2026)[0];
    assert_eq!(met.status, Status::Achieved);
    assert!(met
        .explanation_zh
        .contains("目标年份已到，2025年实际值1.98‰，达到≤2‰的目标"));
    // A higher-is-better count short by 0.01 is missed too (医生数 2.97 vs ≥ 2.98).
    let doctors = ind(
        r#"{"name":"每千常住人口执业（助理）医师数","unit":"人","direction":"higher",
        "baseline":{"value":2.5,"year":2020,"text":""},
        "targets":[{"year":2025,"kind":"threshold","cmp":">=","value":2.98,"text":"≥2.98"}]}"#,
    );
    assert_eq!(
        run(&doctors, &[(2025, 2.97)], 2025)[0].status,
        Status::Missed
    );
}

#[test]
fn final_year_without_its_value_uses_the_latest_before_and_says_so() {
    let r = &run(&infant_mortality(), &[(2023, 2.1), (2026, 1.5)], 2026)[0];
    assert_eq!(r.status, Status::Missed);
    assert_eq!(r.latest.unwrap().year, 2023);
    assert!(
        r.explanation_zh.contains("2025年无观测值，取2023年值"),
        "{}",
        r.explanation_zh
    );
    // Nothing up to the target year: no data, naming the year.
    let none = &run(&infant_mortality(), &[(2026, 1.5)], 2026)[0];
    assert_eq!(none.status, Status::NoData);
    assert!(none
        .reason_zh
        .as_deref()
        .unwrap()
        .contains("2025年及以前无观测值"));
}

#[test]
fn interim_target_past_due() {
    // 2022 target ≥ 22 judged in 2025 on the 2022 value: missed, even though 2025 is above 22.
    let obs = [(2020, 19.0), (2022, 21.5), (2025, 27.0)];
    let r = run(&literacy(), &obs, 2025);
    assert_eq!(r[0].status, Status::Missed, "{}", r[0].explanation_zh);
    assert_eq!(r[0].latest.unwrap().value, 21.5);
    assert!(r[0]
        .explanation_zh
        .starts_with("目标年份已到，2022年实际值21.5%，未达到≥22%的目标"));
    assert_ne!(r[0].status, Status::Insufficient);
    assert_eq!(r[1].status, Status::OnTrack);
    assert!(!r[1].is_final && r[1].forecast.is_some());
    // Met in 2022: achieved.
    let ok = run(&literacy(), &[(2022, 22.4), (2025, 27.0)], 2025);
    assert_eq!(ok[0].status, Status::Achieved);
}

fn exact(unit: &str) -> Indicator {
    ind(&format!(
        r#"{{"name":"x","unit":"{unit}","direction":"higher",
        "baseline":{{"value":1.5,"year":2020,"text":""}},
        "targets":[{{"year":2030,"kind":"threshold","cmp":"=","value":2,"text":"=2"}}]}}"#
    ))
}

#[test]
fn exact_target_overshot() {
    // 2.42 against = 2: 0.42 away on the far side, where the baseline was 0.5 away.
    let r = &run(&exact("张"), &[(2025, 2.42)], 2025)[0];
    assert!(close(r.p.unwrap(), 0.16, 1e-9), "{:?}", r.p);
    assert!(close(r.s.unwrap(), 0.5, 1e-9));
    assert_eq!(r.status, Status::Insufficient, "{}", r.explanation_zh); // r = 0.32
    assert!(r.explanation_zh.contains("完成目标进程16.0%"));
    // Within the tolerance (2 % of V): met.
    assert_eq!(
        run(&exact("张"), &[(2025, 2.03)], 2025)[0].status,
        Status::Achieved
    );
    assert_eq!(
        run(&exact("张"), &[(2025, 1.97)], 2025)[0].status,
        Status::Achieved
    );
    // Overshooting so far that it is further than the baseline was: moving away.
    assert_eq!(
        run(&exact("张"), &[(2025, 2.6)], 2025)[0].status,
        Status::MovingAway
    );
    // Final year overshot: missed.
    assert_eq!(
        run(&exact("张"), &[(2030, 2.42)], 2030)[0].status,
        Status::Missed
    );
    // The tolerance is a setting.
    let mut s = Settings::default();
    s.status.exact_tolerance = 0.25;
    assert_eq!(
        run_with(&exact("张"), &[(2025, 2.42)], &[], 2025, &s)[0].status,
        Status::Achieved
    );
}

#[test]
fn range_exceeded() {
    let count = |dir: &str| {
        ind(&format!(
            r#"{{"name":"x","unit":"家","direction":"{dir}","baseline":{{"value":0,"year":2020,"text":""}},
            "targets":[{{"year":2025,"kind":"range","value":1,"value_hi":2,"text":"1–2家"}}]}}"#
        ))
    };
    // Higher is better: 2.9 is beyond the favourable end, so met — never moving away.
    let r = &run(&count("higher"), &[(2024, 2.9)], 2024)[0];
    assert_eq!(r.status, Status::Achieved, "{}", r.explanation_zh);
    assert_eq!(
        run(&count("higher"), &[(2025, 2.9)], 2025)[0].status,
        Status::Achieved
    );
    // No favourable end: outside both ends is not met, and final in the target year.
    assert_eq!(
        run(&count("qualitative"), &[(2025, 2.9)], 2025)[0].status,
        Status::Missed
    );
    // Lower is better, from above: past the upper end is not met.
    let mut lower = count("lower");
    lower.baseline.as_mut().unwrap().value = Some(4.0);
    let r = &run(&lower, &[(2025, 2.9)], 2025)[0];
    assert_eq!((r.status, r.goal), (Status::Missed, Some(2.0)));
    assert_eq!(
        run(&lower, &[(2025, 0.5)], 2025)[0].status,
        Status::Achieved
    );
}

#[test]
fn worsening_while_achieved() {
    // Infant mortality rising 2.32‰ → 3.14‰ still meets ≤ 6‰: achieved, and worsening.
    let i = ind(
        r#"{"name":"婴儿死亡率","unit":"‰","direction":"lower","baseline":{"value":2.32,"year":2020,"text":""},
        "targets":[{"year":2030,"kind":"threshold","cmp":"<=","value":6,"text":"≤6"}]}"#,
    );
    let r = &run(&i, &[(2024, 3.0), (2025, 3.14)], 2025)[0];
    assert_eq!(r.status, Status::Achieved);
    assert!(r.worsening, "{}", r.explanation_zh);
    assert!(
        r.worsening_zh
            .as_deref()
            .unwrap()
            .contains("较基线2.32‰（2020年）上升0.82个千分点"),
        "{:?}",
        r.worsening_zh
    );
    assert!(r.explanation_zh.contains("恶化"));
    // Within 5 % of the baseline and of the year before: not worsening.
    assert!(!run(&i, &[(2024, 2.3), (2025, 2.4)], 2025)[0].worsening);
    // Better than the baseline but much worse than the year before: worsening.
    let r = &run(&i, &[(2024, 1.5), (2025, 2.0)], 2025)[0];
    assert!(r.worsening && r.worsening_zh.as_deref().unwrap().contains("较2024年1.5‰"));
    // Higher is better: a fall is worsening; the share is a setting.
    let r = &run(&literacy(), &[(2020, 20.0), (2021, 18.5)], 2021)[1];
    assert!(r.worsening);
    let mut s = Settings::default();
    s.status.worsening_share = 0.1;
    assert!(!run_with(&literacy(), &[(2020, 20.0), (2021, 18.5)], &[], 2021, &s)[1].worsening);
}

#[test]
fn every_explanation_states_the_rule() {
    let cases: [(&[(i32, f64)], &str); 4] = [
        (&[(2021, 25.4)], "r = 2.30 ≥ 0.95"),
        (&[(2021, 18.0)], "0.6 ≤ r = 0.78 < 0.95"),
        (&[(2021, 15.0)], "0 ≤ r = 0.17 < 0.6"),
        (&[(2021, 13.0)], "r = -0.24 < 0"),
    ];
    for (obs, rule) in cases {
        let r = &run(&literacy(), obs, 2021)[1];
        assert!(
            r.explanation_zh.contains(rule),
            "{rule}: {}",
            r.explanation_zh
        );
    }
    let r = &run(&literacy(), &[(2021, 31.0)], 2021)[1];
    assert!(
        r.explanation_zh.contains("实际值满足≥30%"),
        "{}",
        r.explanation_zh
    );
}

#[test]
fn forecast_with_enough_years_never_says_points_are_short() {
    let obs = [(2018, 15.0), (2019, 16.0), (2020, 17.5), (2021, 18.0)];
    let r = &run(&literacy(), &obs, 2021)[1];
    assert!(r.forecast.is_some() && r.forecast_note_zh.is_none());
    let r = &run(&literacy(), &obs, 2030)[1];
    assert!(r.forecast.is_none());
    assert!(!r.forecast_note_zh.as_deref().unwrap().contains("不足"));
}

proptest! {
    #[test]
    fn once_the_target_year_has_come_the_verdict_is_final(
        vals in proptest::collection::vec(0.0f64..10.0, 1..8),
        as_of in 2025i32..2032,
        lower in any::<bool>(),
    ) {
        let i = if lower { infant_mortality() } else { exact("%") };
        let obs: Vec<(i32, f64)> = vals.iter().enumerate().map(|(k, v)| (2021 + k as i32, *v)).collect();
        let t = &run(&i, &obs, as_of)[0];
        let final_ = as_of >= t.year;
        if final_ {
            prop_assert!(matches!(t.status, Status::Achieved | Status::Missed | Status::NoData), "{:?}: {}", t.status, t.explanation_zh);
            prop_assert!(t.forecast.is_none());
            prop_assert!(t.latest.is_none_or(|p| p.year <= t.year));
        }
        prop_assert!(t.s.is_none_or(|s| s <= 1.0));
        prop_assert_eq!(t.status == Status::Achieved, t.latest.is_some_and(|p| t.condition.unwrap().met(p.value)));
    }

    #[test]
    fn exact_targets_are_met_within_the_tolerance(y in 0.0f64..4.0) {
        let t = &run(&exact("%"), &[(2025, y)], 2025)[0];
        prop_assert_eq!(t.status == Status::Achieved, (y - 2.0).abs() <= 0.04 + 1e-9);
        if let Some(p) = t.p { prop_assert!(p <= 1.0 + 1e-9, "p = {}", p); }
    }

    #[test]
    fn a_steadily_improving_series_is_never_worsening(
        steps in proptest::collection::vec(0.0f64..3.0, 1..8),
        lower in any::<bool>(),
    ) {
        let i = if lower { infant_mortality() } else { literacy() };
        let b = i.baseline.as_ref().unwrap().value.unwrap();
        let mut y = b;
        let obs: Vec<(i32, f64)> = steps.iter().enumerate().map(|(k, d)| {
            y = if lower { (y - d * 0.1).max(0.0) } else { y + d };
            (2021 + k as i32, y)
        }).collect();
        for t in run(&i, &obs, 2028) {
            prop_assert!(!t.worsening, "{}", t.explanation_zh);
        }
    }
}
