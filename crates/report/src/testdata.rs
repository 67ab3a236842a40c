//! Report inputs for tests: the evaluation fixtures of the CLI, and the seed plans with
//! generated observations and task statuses (deterministic).

use crate::ReportInput;
use healthplan_core::{Direction, PlanDocument, TargetKind, TaskStatus};
use healthplan_eval::data::{parse_references, parse_tasks, parse_values};
use healthplan_eval::{
    evaluate, EvaluationInput, Observations, References, Settings, TaskStatuses,
};

const RAOPING: &str = include_str!("../../cli/tests/eval_fixtures/raoping_style.json");
const RAOPING_VALUES: &str = include_str!("../../cli/tests/eval_fixtures/raoping_values.csv");
const RAOPING_REFS: &str = include_str!("../../cli/tests/eval_fixtures/raoping_reference.csv");
const RAOPING_TASKS: &str = include_str!("../../cli/tests/eval_fixtures/raoping_tasks.csv");

pub const SEEDS: [(&str, &str); 3] = [
    (
        "001_1089f704d02fb494.txt",
        include_str!("../../../fixtures/seeds/001_1089f704d02fb494.txt"),
    ),
    (
        "002_7e66034cdb9a4942.txt",
        include_str!("../../../fixtures/seeds/002_7e66034cdb9a4942.txt"),
    ),
    (
        "004_761ed102bf2849c9.txt",
        include_str!("../../../fixtures/seeds/004_761ed102bf2849c9.txt"),
    ),
];

fn input(
    plan: PlanDocument,
    obs: &Observations,
    refs: &References,
    tasks: Option<&TaskStatuses>,
    as_of: i32,
) -> ReportInput {
    let settings = Settings::default();
    let ev = evaluate(&EvaluationInput {
        plan: &plan,
        tree: &Default::default(),
        observations: obs,
        references: refs,
        tasks,
        as_of,
        settings: &settings,
    });
    let a = healthplan_eval::assess(&plan, &ev, tasks, &settings);
    ReportInput::new(plan, ev, a, settings).unwrap()
}

/// The Raoping-style fixture: a county and a town, 8 indicators, 3 tasks, as of 2021.
pub fn raoping() -> ReportInput {
    let plan = PlanDocument::from_json(RAOPING).unwrap();
    let (obs, e1) = parse_values(&plan, RAOPING_VALUES).unwrap();
    let (refs, e2) = parse_references(&plan, RAOPING_REFS).unwrap();
    let (tasks, e3) = parse_tasks(&plan, RAOPING_TASKS).unwrap();
    assert!(e1.is_empty() && e2.is_empty() && e3.is_empty());
    input(plan, &obs, &refs, Some(&tasks), 2021)
}

/// A small deterministic generator (64-bit LCG), so the data never change between runs.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The value an indicator aims at, from its last numeric target.
fn goal(plan: &PlanDocument, i: usize, base: f64) -> Option<(i32, f64)> {
    let t = plan.indicators[i].targets.iter().max_by_key(|t| t.year)?;
    match t.kind {
        TargetKind::Threshold | TargetKind::Range => Some((t.year, t.value?)),
        TargetKind::RelativeChange => {
            let pct = t.value?;
            Some((t.year, base * (1.0 + pct / 100.0)))
        }
        TargetKind::Milestone => Some((t.year, 1.0)),
        _ => None,
    }
}

/// Observations for the plan's area and three sub-areas from the baseline towards each
/// target at paces from well ahead to going backwards, and task statuses for each area.
pub fn generated(plan: PlanDocument, as_of: i32, areas: &[&str]) -> ReportInput {
    let mut rng = Lcg(plan.indicators.len() as u64 * 7919 + plan.tasks.len() as u64);
    let paces = [1.6, 1.1, 0.8, 0.4, -0.3];
    let mut points = Vec::new();
    for (i, ind) in plan.indicators.iter().enumerate() {
        let first_target = ind.targets.iter().map(|t| t.year).min();
        let b = ind.baseline.as_ref();
        let (t0, b0) = match (b.and_then(|b| b.year), b.and_then(|b| b.value)) {
            (Some(y), Some(v)) => (y, v),
            _ => {
                // No usable baseline: start five years before the first target, 15 % away.
                let Some(ty) = first_target else { continue };
                let v = ind.targets.iter().find_map(|t| t.value).unwrap_or(50.0);
                let v = if ind.direction == Direction::Lower {
                    v * 1.15
                } else {
                    v * 0.85
                };
                (ty - 5, v)
            }
        };
        let Some((ty, v)) = goal(&plan, i, b0) else {
            continue;
        };
        if ty <= t0 {
            continue;
        }
        let milestone = ind.targets.iter().any(|t| t.kind == TargetKind::Milestone);
        for (k, area) in areas.iter().enumerate() {
            let pace = paces[(i + k) % paces.len()];
            if (i * 3 + k) % 11 == 5 {
                continue; // some areas never report some indicators
            }
            let start = if k == 0 { t0 } else { t0 + 1 };
            for year in start..=as_of.min(ty) {
                let share = (year - t0) as f64 / (ty - t0) as f64;
                let value = if milestone {
                    if share * pace > 0.9 {
                        1.0
                    } else if share * pace > 0.4 {
                        0.5
                    } else {
                        0.0
                    }
                } else {
                    let noise = (rng.next() - 0.5) * 0.04 * (v - b0).abs();
                    let x = b0 + (v - b0) * share * pace + noise;
                    if ind.unit.as_deref() == Some("%") {
                        x.clamp(0.0, 100.0)
                    } else {
                        x
                    }
                };
                points.push((i, area.to_string(), year, (value * 100.0).round() / 100.0));
            }
        }
    }
    let obs = Observations::from_points(points).unwrap();
    let statuses = [
        Some(TaskStatus::Completed),
        Some(TaskStatus::InProgress),
        Some(TaskStatus::InProgress),
        Some(TaskStatus::Delayed),
        Some(TaskStatus::Completed),
        None,
        Some(TaskStatus::NotStarted),
    ];
    let mut tasks = TaskStatuses::default();
    for (n, t) in plan.tasks.iter().enumerate() {
        for (k, area) in areas.iter().enumerate() {
            if let Some(s) = statuses[(n + 2 * k) % statuses.len()] {
                tasks.status.insert((t.id.clone(), area.to_string()), s);
            }
        }
    }
    input(plan, &obs, &References::default(), Some(&tasks), as_of)
}

/// A seed plan imported from its document, with generated data as of 2024.
pub fn seed(k: usize) -> ReportInput {
    let (name, text) = SEEDS[k];
    let plan = healthplan_importer::import_text(text, name).unwrap().plan;
    let own = plan.area.clone();
    let areas = [own.as_str(), "示范一区", "示范二区", "示范三区"];
    let mut input = generated(plan, 2024, &areas);
    input.synthetic = true;
    input
}
