//! The demonstration set-up `healthplan demo` makes: the bundled Guangdong area tree, the three
//! bundled published plans, an account for every role, open reporting rounds, and synthetic
//! monitoring data (演示数据) for 2020–2025 generated from a fixed seed. Every generated value
//! is marked synthetic in the database. Running it again adds only what is missing.

pub mod surveillance;

use crate::{App, AppError, Result};
use healthplan_access::password::hash_password;
use healthplan_access::Caps;
use healthplan_core::{
    AppliesTo, AreaCode, AreaLevel, DataValue, Date, Grant, NewRound, Period, PlanDocument,
    PlanStatus, ReviewDecision, Role, TaskProgress, TaskStatus, User, Value, ValueStatus,
};
use healthplan_eval::evaluate::indicator_targets;
use healthplan_eval::target::{assess_target, Context};
use healthplan_eval::{Settings, Status};
use healthplan_store::{DataValueFilter, TaskKey};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::collections::BTreeMap;

/// The demo's area tree, compiled into the binary.
pub const BUNDLED_AREAS_CSV: &str = include_str!("../../data/areas.csv");

/// The published plans bundled with the binary, so the demo works offline.
pub const BUNDLED_PLANS: [(&str, &str); 3] = [
    (
        "001_1089f704d02fb494.txt",
        include_str!("../../../../fixtures/seeds/001_1089f704d02fb494.txt"),
    ),
    (
        "002_7e66034cdb9a4942.txt",
        include_str!("../../../../fixtures/seeds/002_7e66034cdb9a4942.txt"),
    ),
    (
        "004_761ed102bf2849c9.txt",
        include_str!("../../../../fixtures/seeds/004_761ed102bf2849c9.txt"),
    ),
];

/// The bundled plan that is published, so the public pages show one: 健康云浮行动2030,
/// which runs past the demo's data.
const PUBLISHED: usize = 2;

/// Synthetic data covers these years.
pub const FIRST_YEAR: i32 = 2020;
pub const LAST_YEAR: i32 = 2025;
/// The seed every synthetic value comes from.
pub const SEED: u64 = 20_201_225;

/// A demonstration account. Its password is printed by `healthplan demo`; never use these
/// accounts on a server others can reach.
#[derive(Debug, Clone, Copy)]
pub struct DemoAccount {
    pub username: &'static str,
    pub password: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    pub area: &'static str,
    pub departments: &'static [&'static str],
}

pub const ACCOUNTS: [DemoAccount; 6] = [
    DemoAccount {
        username: "admin",
        password: "Demo-Admin-2026",
        display_name: "系统管理员",
        role: Role::Admin,
        area: "440000",
        departments: &[],
    },
    DemoAccount {
        username: "planner",
        password: "Demo-Planner-2026",
        display_name: "深圳市健康深圳行动推进委员会办公室",
        role: Role::Planner,
        area: "440300",
        departments: &[],
    },
    DemoAccount {
        username: "planner-yunfu",
        password: "Demo-Planner-Yunfu-2026",
        display_name: "云浮市健康云浮行动推进委员会办公室",
        role: Role::Planner,
        area: "445300",
        departments: &[],
    },
    DemoAccount {
        username: "reporter-guangming",
        password: "Demo-Reporter-GM-2026",
        display_name: "光明区卫生健康局",
        role: Role::Reporter,
        area: "440311",
        departments: &["区卫生健康局"],
    },
    DemoAccount {
        username: "reporter-yuncheng",
        password: "Demo-Reporter-YC-2026",
        display_name: "云城区教育局",
        role: Role::Reporter,
        area: "445302",
        departments: &["区教育局"],
    },
    DemoAccount {
        username: "viewer",
        password: "Demo-Viewer-2026",
        display_name: "省卫生健康委领导",
        role: Role::Viewer,
        area: "440000",
        departments: &[],
    },
];

/// What a set-up run did, line by line.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub lines: Vec<String>,
    pub plans: Vec<(i64, String)>,
    pub synthetic_values: usize,
}

/// Who leads an indicator, by words in its name; the rest are the health commission's.
const LEADS: [(&[&str], &str); 9] = [
    (&["学生", "学校", "近视", "中小学", "儿童青少年"], "教育局"),
    (&["体育", "健身", "运动", "体质"], "文化广电旅游体育局"),
    (&["空气", "环境", "PM2.5", "噪声"], "生态环境局"),
    (&["饮用水", "水质", "污水"], "水务局"),
    (&["食品"], "市场监督管理局"),
    (&["医保", "医疗保障", "参保"], "医疗保障局"),
    (&["养老", "老年", "托育"], "民政局"),
    (&["道路交通", "交通事故"], "公安局"),
    (&["卫生厕所", "农村"], "农业农村局"),
];

/// The level prefix departments of an area are named with (`市卫生健康局`, `区教育局`).
fn level_prefix(level: AreaLevel, name: &str) -> &'static str {
    match level {
        AreaLevel::Province => "省",
        AreaLevel::City => "市",
        AreaLevel::County if name.ends_with('县') => "县",
        AreaLevel::County => "区",
        AreaLevel::Town | AreaLevel::Village => "街道",
    }
}

/// What a committee office does to an imported plan before data collection: monitor the
/// prose targets as indicators, and name each indicator's lead department where the
/// document did not.
pub fn prepare_plan(doc: &mut PlanDocument, level: AreaLevel) -> crate::Result<()> {
    crate::proposals::accept_all(doc)?;
    let prefix = level_prefix(level, &doc.area);
    // A promoted prose target is led by the lead unit of the task that states it.
    let mut task_lead: BTreeMap<usize, String> = BTreeMap::new();
    for t in &doc.tasks {
        if let Some(lead) = t.responsible.as_ref().and_then(|r| r.lead.clone()) {
            for &k in &t.targets {
                task_lead.entry(k).or_insert_with(|| lead.clone());
            }
        }
    }
    let mut stated: BTreeMap<usize, String> = BTreeMap::new();
    for (k, s) in doc.target_statements.iter().enumerate() {
        if let (Some(i), Some(lead)) = (s.indicator, task_lead.get(&k)) {
            stated.entry(i).or_insert_with(|| lead.clone());
        }
    }
    for (i, ind) in doc.indicators.iter_mut().enumerate() {
        if ind.lead_department().is_some() {
            continue;
        }
        let lead = stated.get(&i).cloned().unwrap_or_else(|| {
            let function = LEADS
                .iter()
                .find(|(words, _)| words.iter().any(|w| ind.name.contains(w)))
                .map_or("卫生健康局", |(_, d)| d);
            format!("{prefix}{function}")
        });
        ind.lead = Some(lead);
    }
    Ok(())
}

/// The status a generated series is steered towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Achieved,
    OnTrack,
    Lagging,
    OffTrack,
}

impl Scenario {
    const ALL: [Scenario; 4] = [
        Scenario::Achieved,
        Scenario::OnTrack,
        Scenario::Lagging,
        Scenario::OffTrack,
    ];

    /// Share of the straight-line progress reached by the last year, tried in order.
    fn factors(self) -> &'static [f64] {
        match self {
            Scenario::Achieved => &[1.05, 1.2, 1.5, 2.1, 2.4, 3.0, 4.0],
            Scenario::OnTrack => &[1.05, 1.15, 1.0, 1.25, 0.95],
            Scenario::Lagging => &[0.75, 0.65, 0.85, 0.55],
            Scenario::OffTrack => &[0.25, -0.4, 0.15, 0.35, -0.8],
        }
    }

    fn accepts(self, s: Status) -> bool {
        match self {
            Scenario::Achieved => s == Status::Achieved,
            Scenario::OnTrack => s == Status::OnTrack,
            Scenario::Lagging => s == Status::Moderate,
            Scenario::OffTrack => matches!(s, Status::Insufficient | Status::MovingAway),
        }
    }
}

/// Keeps generated values where the unit allows them (rates within their base, ages
/// human, nothing negative).
fn clamp(unit: Option<&str>, x: f64) -> f64 {
    let hi = match unit.map(str::trim) {
        Some("%") => 100.0,
        Some("‰") => 1000.0,
        Some("岁") => 100.0,
        _ => f64::INFINITY,
    };
    x.clamp(0.0, hi)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Units that count whole things (家, 个, 人 as a head count …); money and 万人 are not.
fn counts_whole(ind: &healthplan_core::Indicator) -> bool {
    const WHOLE: [&str; 10] = ["个", "家", "所", "人", "名", "张", "项", "支", "座", "处"];
    let unit = ind.unit.as_deref().map(str::trim).unwrap_or("");
    ind.applies_to() == AppliesTo::PlanArea && WHOLE.contains(&unit)
}

/// One indicator's generated yearly values in one area.
struct Series {
    points: Vec<(i32, f64)>,
    /// Yes/no values (实现/未实现), copied to sub-areas rather than spread.
    milestone: bool,
}

/// Yearly values of one indicator in one area whose evaluation as of [`LAST_YEAR`] comes out
/// as `scenario`, when the targets allow it (qualitative targets cannot be steered; their
/// series is a plain trend).
fn series(
    doc: &PlanDocument,
    i: usize,
    scenario: Scenario,
    rng: &mut StdRng,
    settings: &Settings,
) -> Series {
    let ind = &doc.indicators[i];
    let whole = counts_whole(ind);
    let round = |x: f64| if whole { x.round() } else { round2(x) };
    let targets = indicator_targets(doc, i);
    let head = targets.iter().max_by_key(|t| t.year);
    let base_year = ind
        .baseline
        .as_ref()
        .and_then(|b| b.year)
        .unwrap_or(FIRST_YEAR)
        .min(LAST_YEAR - 1);
    let assess = |obs: &[(i32, f64)]| {
        head.map(|t| {
            assess_target(
                &Context {
                    indicator: ind,
                    observations: obs,
                    references: BTreeMap::new(),
                    as_of: LAST_YEAR,
                    settings,
                },
                t,
            )
        })
    };
    // The goal as the evaluator resolves it from a provisional baseline.
    let stated = ind.baseline.as_ref().and_then(|b| b.value);
    let provisional = stated.unwrap_or_else(|| match head.and_then(|t| t.value) {
        Some(v) if ind.direction == healthplan_core::Direction::Lower => v * 1.15 + 0.1,
        Some(v) => v * 0.93,
        None => 50.0,
    });
    let b = round(provisional);
    let probe = assess(&[(base_year, b)]);
    let goal = probe.as_ref().and_then(|a| a.goal);
    let milestone = probe
        .as_ref()
        .and_then(|a| a.condition)
        .is_some_and(|c| matches!(c, healthplan_eval::Condition::Milestone));
    let years = FIRST_YEAR..=LAST_YEAR;
    if milestone {
        let v = match scenario {
            Scenario::Achieved | Scenario::OnTrack => 1.0,
            Scenario::Lagging => 0.5,
            Scenario::OffTrack => 0.0,
        };
        return Series {
            points: years
                .map(|y| (y, if y == LAST_YEAR { v } else { 0.0 }))
                .collect(),
            milestone: true,
        };
    }
    let plain = |points| Series {
        points,
        milestone: false,
    };
    let Some(goal) = goal.filter(|g| g.is_finite()) else {
        return plain(
            years
                .map(|y| (y, round(b * (1.0 + rng.random_range(-0.02..0.02)))))
                .collect(),
        );
    };
    let target_year = head.map_or(LAST_YEAR + 5, |t| t.year).max(LAST_YEAR);
    let gap = if (goal - b).abs() < 1e-9 {
        b.abs().max(1.0) * 0.1
    } else {
        goal - b
    };
    let noise: Vec<f64> = years
        .clone()
        .map(|_| rng.random_range(-0.015..0.015) * gap.abs())
        .collect();
    let make = |f: f64| -> Vec<(i32, f64)> {
        years
            .clone()
            .zip(&noise)
            .map(|(y, n)| {
                let t = f64::from(y - base_year) / f64::from(target_year - base_year);
                let n = if y == base_year { 0.0 } else { *n };
                (
                    y,
                    round(clamp(ind.unit.as_deref(), b + f * gap * t.max(0.0) + n)),
                )
            })
            .collect()
    };
    let mut last = make(1.0);
    for &f in scenario.factors() {
        let s = make(f);
        if assess(&s).is_some_and(|a| scenario.accepts(a.status)) {
            return plain(s);
        }
        last = s;
    }
    plain(last)
}

/// Spreads a parent's yearly values over its children so the two agree: a sum is split
/// into shares that add up to it (whole numbers for counts), a rate into values around it
/// whose mean it is, so it lies within their range. Each child drifts on its own course.
fn spread(
    parent: &[(i32, f64)],
    children: usize,
    sum: bool,
    whole: bool,
    unit: Option<&str>,
    rng: &mut StdRng,
) -> Vec<Vec<(i32, f64)>> {
    let span = f64::from(LAST_YEAR - FIRST_YEAR).max(1.0);
    let courses: Vec<(f64, f64)> = (0..children)
        .map(|_| {
            if sum {
                (rng.random_range(0.5..1.5), rng.random_range(-0.3..0.3))
            } else {
                (rng.random_range(-0.06..0.06), rng.random_range(-0.05..0.05))
            }
        })
        .collect();
    let mut out = vec![Vec::with_capacity(parent.len()); children];
    for &(year, total) in parent {
        let t = f64::from(year - FIRST_YEAR) / span;
        if sum {
            let w: Vec<f64> = courses.iter().map(|(a, b)| a * (1.0 + b * t)).collect();
            let all: f64 = w.iter().sum();
            let step = if whole { 1.0 } else { 0.01 };
            // Largest remainder in steps of one (or of 0.01), so the parts add up exactly.
            let units = (total / step).round();
            let raw: Vec<f64> = w.iter().map(|x| units * x / all).collect();
            let mut parts: Vec<f64> = raw.iter().map(|x| x.floor()).collect();
            let mut left = units - parts.iter().sum::<f64>();
            let mut order: Vec<usize> = (0..children).collect();
            order.sort_by(|&a, &b| (raw[b] - parts[b]).total_cmp(&(raw[a] - parts[a])));
            for &k in order.iter().cycle().take(children * 2) {
                if left < 0.5 {
                    break;
                }
                parts[k] += 1.0;
                left -= 1.0;
            }
            for (k, p) in parts.iter().enumerate() {
                out[k].push((year, round2(p * step)));
            }
        } else {
            let f: Vec<f64> = courses.iter().map(|(a, b)| 1.0 + a + b * t).collect();
            let mean = f.iter().sum::<f64>() / children as f64;
            for (k, x) in f.iter().enumerate() {
                out[k].push((year, round2(clamp(unit, total * (x - mean + 1.0)))));
            }
        }
    }
    out
}

/// Synthetic yearly values for every indicator of the plan in every given area (code and
/// parent). The plan's own area (`root`) cycles through the four scenarios across
/// indicators, so each plan shows every status; the values of the areas below are spread
/// from their parent's, so a district agrees with its streets.
pub fn synthetic_values(
    doc: &PlanDocument,
    root: &AreaCode,
    areas: &[(AreaCode, Option<AreaCode>)],
    seed: u64,
    settings: &Settings,
) -> Vec<DataValue> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for (i, ind) in doc.indicators.iter().enumerate() {
        let Some(element) = &ind.element else {
            continue;
        };
        let top = series(doc, i, Scenario::ALL[i % 4], &mut rng, settings);
        let sum = ind.applies_to() == AppliesTo::PlanArea;
        let whole = counts_whole(ind);
        let mut values: Vec<(AreaCode, Vec<(i32, f64)>)> = vec![(root.clone(), top.points)];
        let mut k = 0;
        while k < values.len() {
            let parent = values[k].0.clone();
            let children: Vec<AreaCode> = areas
                .iter()
                .filter(|(_, p)| p.as_ref() == Some(&parent))
                .map(|(c, _)| c.clone())
                .collect();
            if !children.is_empty() {
                let parts = if top.milestone {
                    vec![values[k].1.clone(); children.len()]
                } else {
                    let unit = ind.unit.as_deref();
                    spread(&values[k].1, children.len(), sum, whole, unit, &mut rng)
                };
                values.extend(children.into_iter().zip(parts));
            }
            k += 1;
        }
        for (area, points) in values {
            for (year, v) in points {
                if let Ok(mut dv) = DataValue::new(
                    element,
                    area.clone(),
                    Period::Year(year),
                    Value::Number { value: v },
                ) {
                    dv.status = ValueStatus::Approved;
                    dv.synthetic = true;
                    dv.comment = Some("演示数据".into());
                    out.push(dv);
                }
            }
        }
    }
    out
}

fn local(app: &App, actor: &str) -> Caps {
    app.local_caps(actor)
}

fn right<T>(r: Option<T>) -> Result<T> {
    r.ok_or_else(|| AppError::Input("the command line holds every right".into()))
}

/// Sets up (or completes) the demonstration database.
pub async fn setup(app: &App, actor: &str) -> Result<DemoReport> {
    let mut report = DemoReport::default();
    let caps = local(app, actor);
    let store = app.store();

    let known = store.list_areas().await?;
    let areas = crate::areas_csv::parse_areas_csv("bundled areas.csv", BUNDLED_AREAS_CSV, &known)?;
    let n = app
        .import_areas(&right(caps.registry_admin())?, &areas)
        .await?;
    report.lines.push(format!(
        "areas: {} bundled; {} new, {} changed, {} unchanged",
        areas.len(),
        n.inserted,
        n.updated,
        n.unchanged
    ));
    // The policy now knows the tree.
    let caps = local(app, actor);
    let all = caps.reader();
    let editor = right(caps.plan_editor())?;

    let stored = store.list_plans(&all).await?;
    let by_code: BTreeMap<String, AreaLevel> = store
        .list_areas()
        .await?
        .into_iter()
        .map(|a| (a.name, a.level))
        .collect();
    for (file, text) in BUNDLED_PLANS {
        let imported = healthplan_importer::import_text(text, file)
            .map_err(|e| AppError::Input(e.to_string()))?;
        let mut doc = imported.plan;
        if let Some(s) = stored.iter().find(|s| s.title == doc.title) {
            report
                .lines
                .push(format!("plan already stored: {}", doc.title));
            report.plans.push((s.id, s.title.clone()));
            continue;
        }
        let level = by_code.get(&doc.area).copied().unwrap_or(AreaLevel::City);
        prepare_plan(&mut doc, level)?;
        let id = app.save_plan(&editor, &doc, Some(&imported.text)).await?;
        store
            .set_plan_status(&editor, id, PlanStatus::Confirmed)
            .await?;
        report.lines.push(format!(
            "plan {id} imported from {file}: {} — {} tasks, {} indicators, {} target statements",
            doc.title,
            doc.tasks.len(),
            doc.indicators.len(),
            doc.target_statements.len()
        ));
        report.plans.push((id, doc.title.clone()));
    }

    let admin = right(caps.user_admin())?;
    for a in ACCOUNTS {
        if store.user(a.username).await?.is_some() {
            continue;
        }
        let area = AreaCode::parse(a.area)?;
        let user = User::new(
            a.username,
            a.display_name,
            vec![Grant {
                role: a.role,
                area,
                departments: a.departments.iter().map(|d| d.to_string()).collect(),
            }],
        )?;
        let hash = hash_password(a.password).map_err(|e| AppError::Input(e.to_string()))?;
        store.create_user(&admin, &user, Some(&hash)).await?;
        report
            .lines
            .push(format!("account {} ({})", a.username, a.role.as_str()));
    }

    let settings = Settings::default();
    let policy = app.policy();
    for (id, title) in report.plans.clone() {
        let summary = store.plan_summary(&all, id).await?;
        let Some(root) = summary.area_code.clone() else {
            continue;
        };
        let doc = store.plan(&all, id).await?;
        let elements: Vec<String> = doc
            .indicators
            .iter()
            .filter_map(|i| i.element.clone())
            .collect();
        let present = if elements.is_empty() {
            0
        } else {
            store
                .list_data_values(
                    &all,
                    &DataValueFilter {
                        elements: elements.clone(),
                        under: Some(root.clone()),
                        ..Default::default()
                    },
                )
                .await?
                .iter()
                .filter(|v| v.synthetic)
                .count()
        };
        if present == 0 && !elements.is_empty() {
            let index = policy.areas();
            let areas: Vec<(AreaCode, Option<AreaCode>)> = index
                .subtree(&root)
                .into_iter()
                .map(|a| {
                    let parent = index.ancestors(&a).into_iter().next();
                    (a, parent)
                })
                .collect();
            let values =
                synthetic_values(&doc, &root, &areas, SEED.wrapping_add(id as u64), &settings);
            app.import_data_values(&right(caps.bulk_writer())?, &values)
                .await?;
            report.synthetic_values += values.len();
            report.lines.push(format!(
                "plan {id}: {} synthetic values (演示数据) for {} areas, {FIRST_YEAR}–{LAST_YEAR}",
                values.len(),
                areas.len()
            ));
        }
        demo_task_reports(app, &caps, id, &doc, &root).await?;
        demo_round(app, &caps, id, &title, &root, doc.period).await?;
    }
    if let Some((id, title)) = report.plans.get(PUBLISHED).cloned() {
        if store.plan_summary(&all, id).await?.status != PlanStatus::Published {
            let run = app.evaluate_plan(&all, id, LAST_YEAR, &settings).await?;
            store
                .publish_plan(&editor, id, LAST_YEAR, &run.publication())
                .await?;
            report
                .lines
                .push(format!("plan {id} published as of {LAST_YEAR}: {title}"));
        }
    }
    let today = jiff::ZonedDateTime::now().date();
    let today = Period::Day(today.year() as i32, today.month() as u8, today.day() as u8);
    if let Some(line) = surveillance::setup(app, &caps, today.day_numbers().start, SEED).await? {
        report.lines.push(line);
    }
    Ok(report)
}

/// Approved progress reports of the plan's own area for the last year, so task completion
/// shows; only when the plan has none yet.
async fn demo_task_reports(
    app: &App,
    caps: &Caps,
    plan_id: i64,
    doc: &PlanDocument,
    root: &AreaCode,
) -> Result<()> {
    let store = app.store();
    if !store
        .list_task_progress(&caps.reader(), plan_id)
        .await?
        .is_empty()
    {
        return Ok(());
    }
    let writer = right(caps.progress_writer())?;
    // Four eyes: the demo's reports are approved by a second operator.
    let reviewer = right(
        app.local_caps(&format!("{} (review)", caps.actor()))
            .reviewer(),
    )?;
    let mut rng = StdRng::seed_from_u64(SEED ^ plan_id as u64);
    for t in &doc.tasks {
        let status = match rng.random_range(0..10) {
            0..=4 => TaskStatus::Completed,
            5..=7 => TaskStatus::InProgress,
            8 => TaskStatus::Delayed,
            _ => TaskStatus::NotStarted,
        };
        let p = TaskProgress {
            plan_id,
            task_id: t.id.clone(),
            area: root.clone(),
            period: Period::Year(LAST_YEAR),
            status,
            note: "演示数据".into(),
            workflow: ValueStatus::Submitted,
            version: 1,
            review_comment: None,
        };
        let stored = store.put_task_progress(&writer, &p, None).await?;
        let key = TaskKey {
            plan_id,
            task_id: t.id.clone(),
            area: root.clone(),
            period: p.period,
        };
        app.review_task_progress(
            &reviewer,
            &key,
            stored.version,
            ReviewDecision::Approve,
            None,
        )
        .await?;
    }
    Ok(())
}

/// The year the demo collects: one a reporter can fill (after the approved data, which the
/// reports read), inside the plan's period when the period reaches past the data; a plan that
/// ended with the data collects the follow-up year.
fn round_year(period: Option<[i32; 2]>) -> i32 {
    match period {
        Some([start, end]) if end > LAST_YEAR => (LAST_YEAR + 1).max(start),
        _ => LAST_YEAR + 1,
    }
}

/// An open round for the next year's data, so reporters find a form waiting.
async fn demo_round(
    app: &App,
    caps: &Caps,
    plan_id: i64,
    title: &str,
    root: &AreaCode,
    period: Option<[i32; 2]>,
) -> Result<()> {
    let store = app.store();
    let rounds = store.list_rounds(&caps.reader()).await?;
    if rounds.iter().any(|r| r.plan_id == plan_id) {
        return Ok(());
    }
    let policy = app.policy();
    let year = round_year(period);
    let round = NewRound {
        plan_id,
        title: format!("{year}年度监测数据填报 · {title}"),
        period: Period::Year(year),
        deadline: Date::parse(&format!("{}-01-31", year + 1))?,
        areas: policy
            .areas()
            .subtree(root)
            .into_iter()
            .filter(|a| a.as_str().len() == 6)
            .collect(),
        departments: Vec::new(),
    };
    store
        .open_round(&right(caps.round_manager())?, &round)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
