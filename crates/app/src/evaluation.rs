//! Evaluation, assessment and alignment of stored plans on stored data.
//!
//! A plan's indicators are measured through the data elements they link to; the values that
//! count are the *approved* yearly values of those elements in the plan's area and every area
//! below it that the reader may see. Task completion uses the approved task reports of the
//! evaluated year.

use crate::{App, AppError, Result};
use healthplan_access::ReadScope;
use healthplan_core::{AreaCode, Period, PlanDocument, Value, ValueStatus};
use healthplan_eval::{
    self as eval, evaluate::EvaluationInput, Assessment, Observations, PlanEvaluation, References,
    Settings, TaskStatuses,
};
use healthplan_store::{DataValueFilter, PlanSummary};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The areas a plan is evaluated over: its own area and the readable areas below it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanScope {
    /// Area name (the label evaluation results carry) → code.
    pub areas: BTreeMap<String, AreaCode>,
    /// The plan's own area, when the plan is linked to one.
    pub root: Option<AreaCode>,
    /// Where each area sits, by name: the evaluation ranks areas against their peers.
    pub tree: eval::AreaTree,
    /// `areas` the other way round: names are looked up once per value.
    names: BTreeMap<AreaCode, String>,
}

impl PlanScope {
    pub fn code(&self, name: &str) -> Option<&AreaCode> {
        self.areas.get(name)
    }

    pub fn name(&self, code: &AreaCode) -> Option<&str> {
        self.names.get(code).map(String::as_str)
    }
}

/// One evaluation of a stored plan, with what it was computed from.
#[derive(Debug, Clone)]
pub struct EvaluationRun {
    pub plan_id: i64,
    pub summary: PlanSummary,
    pub plan: PlanDocument,
    pub scope: PlanScope,
    pub evaluation: PlanEvaluation,
    pub tasks: TaskStatuses,
    pub settings: Settings,
    /// Values used, per (indicator index, area name, year): whether each is demonstration
    /// data.
    pub synthetic: bool,
    /// How many approved values went in.
    pub values_used: usize,
}

impl EvaluationRun {
    /// What the public pages show of a plan published from this run.
    pub fn publication(&self) -> serde_json::Value {
        serde_json::json!({
            "title": self.plan.title,
            "area": self.plan.area,
            "as_of": self.evaluation.as_of,
            "synthetic": self.synthetic,
            "document": self.plan,
            "evaluation": self.evaluation,
        })
    }

    pub fn assess(&self) -> Assessment {
        let tasks = (!self.tasks.status.is_empty()).then_some(&self.tasks);
        eval::assess(&self.plan, &self.evaluation, tasks, &self.settings)
    }
}

/// The number an approved value contributes: a ratio through the indicator's factor.
fn observed(value: &Value, factor: f64) -> Option<f64> {
    match value {
        Value::Number { value } => Some(*value),
        Value::Ratio {
            numerator,
            denominator,
        } => Some(factor * numerator / denominator),
        Value::Boolean { value } => Some(if *value { 1.0 } else { 0.0 }),
        Value::Text { value } => eval::data::parse_milestone(value),
    }
}

impl App {
    /// The areas `plan` is evaluated over for `scope`.
    pub fn plan_scope(&self, scope: &ReadScope, summary: &PlanSummary) -> PlanScope {
        let policy = self.policy();
        let areas = policy.areas();
        let mut out = BTreeMap::new();
        let mut tree = eval::AreaTree::default();
        if let Some(root) = &summary.area_code {
            tree.root = areas.name(root).map(str::to_string);
            for code in areas.subtree(root) {
                if scope.area(&code) {
                    if let Some(name) = areas.name(&code) {
                        out.insert(name.to_string(), code.clone());
                        let parent = areas.ancestors(&code).into_iter().next();
                        if let Some(p) = parent.filter(|_| &code != root) {
                            if let Some(pn) = areas.name(&p) {
                                tree.parents.insert(name.to_string(), pn.to_string());
                            }
                        }
                    }
                }
            }
        }
        // From `areas`, so a name two areas share answers for the one `areas` kept.
        let mut names = BTreeMap::new();
        for (n, c) in &out {
            names.insert(c.clone(), n.clone());
        }
        PlanScope {
            areas: out,
            root: summary.area_code.clone(),
            tree,
            names,
        }
    }

    /// Evaluates a stored plan as of a year on the approved values the scope may read.
    pub async fn evaluate_plan(
        &self,
        scope: &ReadScope,
        plan_id: i64,
        as_of: i32,
        settings: &Settings,
    ) -> Result<EvaluationRun> {
        if !healthplan_core::Period::plausible_year(as_of) {
            return Err(AppError::Input(format!(
                "as-of year {as_of} is not plausible / 评估年份不合理"
            )));
        }
        // The reader's right to the plan is checked on every call; the run itself depends
        // only on the areas the reader sees (`PlanScope`), so readers seeing the same areas
        // share it.
        let summary = self.store().plan_summary(scope, plan_id).await?;
        let plan_scope = self.plan_scope(scope, &summary);
        let entry = self
            .evals
            .entry(plan_id, as_of, &summary.updated_at, settings, &plan_scope);
        let mut computed = false;
        let run = entry
            .run
            .get_or_try_init(|| async {
                computed = true;
                self.compute_evaluation(scope, &summary, plan_scope.clone(), as_of, settings)
                    .await
                    .map(Arc::new)
            })
            .await?;
        self.evals.count(!computed);
        let mut run = EvaluationRun::clone(run);
        run.summary = summary;
        Ok(run)
    }

    /// Invalidates the evaluations that read values of these elements: the one hook every
    /// path that changes an approved value calls (a write in another process included).
    pub fn values_changed<'a>(&self, elements: impl IntoIterator<Item = &'a str>) {
        self.evals.values_changed(elements);
    }

    /// Invalidates the evaluations of a plan (its document or its task reports changed).
    pub fn plan_changed(&self, plan_id: i64) {
        self.evals.plan_changed(plan_id);
    }

    /// Invalidates every evaluation (the area tree or the policy changed).
    pub fn evaluations_changed(&self) {
        self.evals.clear();
    }

    /// How often evaluations were reused and computed.
    pub fn evaluation_cache_stats(&self) -> crate::eval_cache::CacheStats {
        self.evals.stats()
    }

    async fn compute_evaluation(
        &self,
        scope: &ReadScope,
        summary: &PlanSummary,
        plan_scope: PlanScope,
        as_of: i32,
        settings: &Settings,
    ) -> Result<EvaluationRun> {
        let store = self.store();
        let plan_id = summary.id;
        let plan = store.plan(scope, plan_id).await?;
        let mut by_element: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, ind) in plan.indicators.iter().enumerate() {
            if let Some(e) = &ind.element {
                by_element.entry(e.as_str()).or_default().push(i);
            }
        }
        let filter = DataValueFilter {
            elements: by_element.keys().map(|e| e.to_string()).collect(),
            status: Some(ValueStatus::Approved),
            ..Default::default()
        };
        let values = if filter.elements.is_empty() {
            Vec::new()
        } else {
            store.list_data_values(scope, &filter).await?
        };
        let mut points = Vec::new();
        let mut synthetic = false;
        let mut used = 0;
        for v in &values {
            let Period::Year(year) = v.period else {
                continue;
            };
            let Some(area) = plan_scope.name(&v.area) else {
                continue;
            };
            if year > as_of {
                continue;
            }
            for &i in by_element.get(v.element.as_str()).into_iter().flatten() {
                let factor = plan.indicators[i]
                    .formula
                    .as_ref()
                    .map_or(1.0, |f| f.factor);
                if let Some(x) = observed(&v.value, factor) {
                    points.push((i, area.to_string(), year, x));
                    synthetic |= v.synthetic;
                    used += 1;
                }
            }
        }
        let observations =
            Observations::from_points(points).map_err(|e| AppError::Input(e.to_string()))?;
        let mut tasks = TaskStatuses::default();
        for p in store.list_task_progress(scope, plan_id).await? {
            if p.workflow != ValueStatus::Approved || p.period != Period::Year(as_of) {
                continue;
            }
            if let Some(area) = plan_scope.name(&p.area) {
                tasks
                    .status
                    .insert((p.task_id.clone(), area.to_string()), p.status);
            }
        }
        let evaluation = eval::evaluate(&EvaluationInput {
            plan: &plan,
            tree: &plan_scope.tree,
            observations: &observations,
            references: &References::default(),
            tasks: (!tasks.status.is_empty()).then_some(&tasks),
            as_of,
            settings,
        });
        Ok(EvaluationRun {
            plan_id,
            summary: summary.clone(),
            plan,
            scope: plan_scope,
            evaluation,
            tasks,
            settings: settings.clone(),
            synthetic,
            values_used: used,
        })
    }

    /// A child plan's targets against its parent's (both must be readable).
    pub async fn align_plans(
        &self,
        scope: &ReadScope,
        child: i64,
        parent: Option<i64>,
        settings: &Settings,
    ) -> Result<eval::AlignmentReport> {
        let store = self.store();
        let child = store.plan(scope, child).await?;
        Ok(match parent {
            Some(p) => eval::align(&child, &store.plan(scope, p).await?, settings),
            None => eval::align_references(&child, settings),
        })
    }
}
