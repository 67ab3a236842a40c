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
