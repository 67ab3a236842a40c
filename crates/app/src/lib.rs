//! The running application's state: the store, the analytics engine kept in step with it, and
//! the access policy (the area tree and who answers for what) capabilities are judged on.
//!
//! At start-up the engine is loaded from every stored data value. Every write goes through
//! [`App`]: it commits to the store, then applies the same change to the engine before it
//! returns, so the next read anywhere sees the new value at every level of the area tree.
//! Writes that change what the policy rests on (areas, plans, links) rebuild it.

pub mod alerts;
pub mod areas_csv;
pub mod bulk;
pub mod clock;
pub mod cluster;
mod commit;
pub mod csv_input;
pub mod demo;
pub mod departments;
pub mod entry;
mod eval_cache;
pub mod evaluation;
pub mod exchange;
pub mod home;
pub mod lists;
pub mod notify;
pub mod plans;
pub mod proposals;
pub mod report;
pub mod rounds;
pub mod search;
pub mod surveillance;
pub mod text;

pub use eval_cache::CacheStats;
pub use evaluation::{EvaluationRun, PlanScope};

// The lower crates' types the doors name (rows, filters, queries, settings, file errors),
// so the server and the command line depend on `app` alone.
pub use healthplan_analytics as analytics;
pub use healthplan_eval as eval;
pub use healthplan_exchange as formats;
pub use healthplan_importer as importer;
pub use healthplan_store as store;

use healthplan_access::{
    BulkWriter, Caps, PlanEditor, Policy, RegistryAdmin, Responsibilities, Reviewer, ValueWriter,
    Via,
};
use healthplan_analytics::{AnalyticsError, AreaTree, ElementId, Engine, Query, Row};
use healthplan_core::{
    Aggregation, Area, AreaCode, DataValue, Period, PlanDocument, ReviewDecision, TaskProgress,
    User, Value, ValueStatus,
};
use healthplan_store::{ImportCount, Numeric, NumericValue, Store, StoreError, TaskKey, ValueKey};
use std::collections::{HashMap, HashSet};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("analytics: {0}")]
    Analytics(#[from] AnalyticsError),
    /// Input a person gave (a file, a form) that cannot be used; the message names where.
    #[error("{0}")]
    Input(String),
    #[error(transparent)]
    Core(#[from] healthplan_core::CoreError),
    /// A data or mapping file refused: every bad row with where it sits, or why the file
    /// cannot be read at all.
    #[error("{}", render_exchange(file, error))]
    Exchange {
        file: String,
        error: healthplan_exchange::ExchangeError,
    },
    /// A plan document that cannot be read; the message names the file.
    #[error("{message}")]
    Document { file: String, message: String },
    /// Work run off the async workers panicked: a bug, never the caller's fault.
    #[error("internal error: {0}")]
    Panicked(String),
    /// The report or an export could not be written.
    #[error(transparent)]
    Report(#[from] healthplan_report::ReportError),
    /// The reporting round is closed to entry.
    #[error("该填报轮次已关闭 / this round is closed")]
    Closed,
    /// A value the value rules refuse; nothing was written.
    #[error("{0}")]
    Refused(entry::Refusal),
}

impl AppError {
    /// The caller's role lacks the right a flow needs (`zh`/`en`: what it may not do, e.g.
    /// "您的角色无权填报数据"); answered as 403 like the store's own refusals.
    pub fn no_right(zh: &str, en: &str) -> AppError {
        AppError::Store(StoreError::Forbidden(healthplan_access::Denied {
            zh: zh.into(),
            en: en.into(),
        }))
    }
}

fn render_exchange(file: &str, e: &healthplan_exchange::ExchangeError) -> String {
    match e {
        healthplan_exchange::ExchangeError::Rejected(r) => r.render(Some(file)),
        other => format!("{file}: {other}"),
    }
}

pub type Result<T, E = AppError> = std::result::Result<T, E>;

/// Runs CPU-bound or blocking work (conversions, rendering, hashing) off the async workers;
/// a panic in it is logged and reported as [`AppError::Panicked`].
pub async fn blocking<T, F>(f: F) -> Result<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "blocking task failed");
        AppError::Panicked(e.to_string())
    })
}

/// What the start-up load did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadReport {
    pub values: usize,
    /// Text values, which have no number to aggregate.
    pub skipped_text: usize,
    /// Values whose area is no longer in the area tree.
    pub skipped_unknown_area: usize,
    /// Values the engine cannot hold (a ratio whose quotient is not finite).
    pub skipped_unusable: usize,
    pub elapsed: Duration,
}

/// Store + engine + policy. Share it behind an `Arc`.
pub struct App {
    store: Store,
    engine: RwLock<Engine>,
    policy: RwLock<Arc<Policy>>,
    /// Serialises writes so store commits and engine updates happen in the same order.
    write: tokio::sync::Mutex<()>,
    /// Data-value saves waiting to be committed together (group commit).
    queue: commit::Queue,
    /// A commit's engine update was abandoned; the next write rebuilds the engine first.
    engine_stale: std::sync::atomic::AtomicBool,
    report: RwLock<LoadReport>,
    watch: RwLock<Arc<surveillance::Watch>>,
    /// Last known state of each outbreak subject, loaded on the first check.
    outbreak_states: tokio::sync::Mutex<Option<HashMap<String, String>>>,
    clock: clock::Clock,
    /// Evaluations kept until a value, plan or area they read changes.
    evals: eval_cache::EvalCache,
    /// The last change of the store's change feed the engine holds (PostgreSQL, where other
    /// processes write too; see `cluster`).
    seen: AtomicI64,
    /// Reload markers this process announced (it has rebuilt already; see `cluster`).
    own_markers: std::sync::Mutex<HashSet<i64>>,
}

/// Suffixes of the elements a ratio value (numerator and denominator) is split into; the
/// indicator named after the element is Σnumerator / Σdenominator.
pub const NUM_SUFFIX: &str = ".num";
pub const DEN_SUFFIX: &str = ".den";

impl App {
    /// Loads the engine from the store and reports how long it took.
    pub async fn open(store: Store) -> Result<App> {
        // Read before the load: changes after it are applied again, which is harmless.
        let seen = store.change_head().await?;
        let (engine, report) = load(&store).await?;
        tracing::info!(
            values = report.values,
            elapsed_ms = report.elapsed.as_millis() as u64,
            "analytics engine loaded"
        );
        let policy = load_policy(&store).await?;
        let watch = surveillance::load_watch(&store).await?;
        Ok(App {
            store,
            engine: RwLock::new(engine),
            policy: RwLock::new(policy),
            write: tokio::sync::Mutex::new(()),
            queue: commit::Queue::default(),
            engine_stale: std::sync::atomic::AtomicBool::new(false),
            report: RwLock::new(report),
            watch: RwLock::new(Arc::new(watch)),
            outbreak_states: tokio::sync::Mutex::new(None),
            clock: clock::Clock::default(),
            evals: eval_cache::EvalCache::default(),
            seen: AtomicI64::new(seen),
            own_markers: std::sync::Mutex::new(HashSet::new()),
        })
    }

    /// The one clock every flow reads the time from.
    pub fn clock(&self) -> &clock::Clock {
        &self.clock
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The policy capabilities are currently judged on.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Rebuilds the policy from the stored areas, plans and links.
    pub async fn refresh_policy(&self) -> Result<()> {
        let p = load_policy(&self.store).await?;
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = p;
        self.evaluations_changed();
        self.announce_reload().await;
        Ok(())
    }

    /// Tells other processes on the database to rebuild what this one just rebuilt. Their
    /// engines stay right without it until their next restart only, so a failure is logged,
    /// not the caller's.
    async fn announce_reload(&self) {
        match self.store.announce_reload().await {
            Ok(id) => {
                self.own_markers
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id);
            }
            Err(e) => tracing::warn!(error = %e, "cannot tell other processes to reload"),
        }
    }

    /// The policy and the watched series from the store, announcing nothing (a reload that
    /// another process announced).
    pub(crate) async fn reload_derived(&self) -> Result<()> {
        let p = load_policy(&self.store).await?;
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = p;
        let w = surveillance::load_watch(&self.store).await?;
        *self.watch.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(w);
        Ok(())
    }

    /// The capabilities of a signed-in user (or a token's owner).
    pub fn caps(&self, user: &User, via: Via) -> Caps {
        self.policy().caps(user, via)
    }

    /// What anyone may do without signing in.
    pub fn public_caps(&self) -> Caps {
        self.policy().public()
    }

    /// The operator at the command line (every right); never used by the server.
    pub fn local_caps(&self, actor: &str) -> Caps {
        Caps::local(self.policy(), actor)
    }

    /// Stores a plan (linking its indicators to elements) and refreshes the policy.
    pub async fn save_plan(
        &self,
        by: &PlanEditor,
        doc: &PlanDocument,
        source_text: Option<&str>,
    ) -> Result<i64> {
        let doc = self.resolve_departments(doc).await?;
        let id = self.store.save_plan(by, &doc, source_text).await?;
        self.refresh_policy().await?;
        Ok(id)
    }

    pub async fn update_plan(&self, by: &PlanEditor, id: i64, doc: &PlanDocument) -> Result<()> {
        self.store.update_plan(by, id, doc).await?;
        self.plan_changed(id);
        self.refresh_policy().await
    }

    pub async fn link_indicator(
        &self,
        by: &PlanEditor,
        plan_id: i64,
        index: usize,
        element: &str,
    ) -> Result<()> {
        self.store
            .link_indicator(by, plan_id, index, element)
            .await?;
        self.plan_changed(plan_id);
        self.refresh_policy().await
    }

    /// Imports areas, then rebuilds the engine (its tree) and the policy.
    pub async fn import_areas(&self, by: &RegistryAdmin, areas: &[Area]) -> Result<ImportCount> {
        let n = self.store.import_areas(by, areas).await?;
        if n.inserted + n.updated > 0 {
            self.reload().await?;
            self.refresh_policy().await?;
        }
        Ok(n)
    }

    /// The last start-up (or reload) report.
    pub fn load_report(&self) -> LoadReport {
        self.report
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Rebuilds the engine from the store, e.g. after the area tree or element rules changed.
    pub async fn reload(&self) -> Result<LoadReport> {
        let _w = self.write.lock().await;
        let report = self.reload_locked().await?;
        self.announce_reload().await;
        Ok(report)
    }

    /// [`App::reload`] with the write lock already held.
    async fn reload_locked(&self) -> Result<LoadReport> {
        let seen = self.store.change_head().await?;
        let (engine, report) = load(&self.store).await?;
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = engine;
        *self.report.write().unwrap_or_else(|e| e.into_inner()) = report.clone();
        self.evaluations_changed();
        self.seen.store(seen, Ordering::SeqCst);
        Ok(report)
    }

    /// Read access to the engine for queries beyond [`App::query`].
    pub fn engine(&self) -> RwLockReadGuard<'_, Engine> {
        self.engine.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn query(&self, q: &Query) -> Result<Vec<Row>> {
        Ok(self.engine().query(q)?)
    }

    /// Commits one value to the store (audited, version-checked), then updates the aggregates.
    pub async fn put_data_value(
        &self,
        by: &ValueWriter,
        value: &DataValue,
        expected_version: Option<i64>,
    ) -> Result<DataValue> {
        let mut stored = self
            .put_data_values(by, &[(value.clone(), expected_version)])
            .await?;
        stored
            .pop()
            .ok_or_else(|| AppError::Input("no value was saved".into()))
    }

    /// Several saves at once, all or nothing, then into the engine. Saves that arrive
    /// together share one commit (`commit.rs`); each is answered after its own commit.
    pub async fn put_data_values(
        &self,
        by: &ValueWriter,
        values: &[(DataValue, Option<i64>)],
    ) -> Result<Vec<DataValue>> {
        let stored = self.commit_values(by, values).await?;
        self.after_arrival(arrivals(&stored)).await;
        self.notify_submitted(&stored).await;
        Ok(stored)
    }

    /// Bulk load through the store, then into the engine.
    pub async fn import_data_values(
        &self,
        by: &BulkWriter,
        values: &[DataValue],
    ) -> Result<ImportCount> {
        let n = {
            let _w = self.write.lock().await;
            self.recover_engine().await;
            let n = self.store.import_data_values(by, values).await?;
            self.mirror(values).await;
            // A bulk load may overwrite an approved value with any status.
            self.values_changed(values.iter().map(|v| v.element.as_str()));
            n
        };
        self.after_arrival(arrivals(values)).await;
        Ok(n)
    }

    pub async fn delete_data_value(
        &self,
        by: &ValueWriter,
        key: &ValueKey,
        expected_version: i64,
    ) -> Result<DataValue> {
        let _w = self.write.lock().await;
        self.recover_engine().await;
        let before = self
            .store
            .delete_data_value(by, key, expected_version)
            .await?;
        self.after_commit(&[Committed {
            element: &key.element,
            area: &key.area,
            period: key.period,
            value: None,
            evaluated: true,
        }])
        .await;
        Ok(before)
    }

    /// A reviewer's decision on a value. Approving and reopening change what evaluations
    /// read; a value sent back is announced to its reporters.
    pub async fn review_data_value(
        &self,
        by: &Reviewer,
        key: &ValueKey,
        expected_version: i64,
        decision: ReviewDecision,
        comment: Option<&str>,
    ) -> Result<DataValue> {
        let v = self
            .store
            .review_data_value(by, key, expected_version, decision, comment)
            .await?;
        if decision != ReviewDecision::Return {
            self.values_changed([key.element.as_str()]);
        }
        // Returned or reopened: back with its reporters, who hear why.
        if v.status == ValueStatus::Returned {
            self.notify_returned(&v).await;
        }
        Ok(v)
    }

    /// A reviewer's decision on a task report; an approved report counts in its plan's
    /// evaluation.
    pub async fn review_task_progress(
        &self,
        by: &Reviewer,
        key: &TaskKey,
        expected_version: i64,
        decision: ReviewDecision,
        comment: Option<&str>,
    ) -> Result<TaskProgress> {
        let p = self
            .store
            .review_task_progress(by, key, expected_version, decision, comment)
            .await?;
        self.plan_changed(key.plan_id);
        Ok(p)
    }

    /// Mirrors committed values in the engine (the write lock held). The write has happened
    /// and the store is the source of truth, so an engine that cannot take a change is not
    /// the writer's failure: it is logged and the engine rebuilt from the store.
    async fn mirror(&self, stored: &[DataValue]) {
        let changes: Vec<Committed<'_>> = stored
            .iter()
            .map(|v| Committed {
                element: &v.element,
                area: &v.area,
                period: v.period,
                value: Some(&v.value),
                // Evaluations read approved values only; entry moves leave them be.
                evaluated: v.status == ValueStatus::Approved,
            })
            .collect();
        self.after_commit(&changes).await;
    }

    /// THE after-commit hook: every committed change of data values reaches the engine (and
    /// anything derived from values) through here, whether this process wrote it (`mirror`,
    /// `delete_data_value`) or another process on the same database did (`cluster`, from
    /// the change feed). Called with the write lock held, in commit order.
    pub(crate) async fn after_commit(&self, changes: &[Committed<'_>]) {
        let failed = changes
            .iter()
            .find_map(|c| self.apply(c.element, c.area, c.period, c.value).err());
        if let Some(e) = failed {
            self.rebuild_after(e).await;
        }
        self.values_changed(changes.iter().filter(|c| c.evaluated).map(|c| c.element));
    }

    async fn rebuild_after(&self, e: AppError) {
        tracing::error!(error = %e, "the analytics engine refused a committed change; rebuilding it from the store");
        if let Err(e) = self.reload_locked().await {
            tracing::error!(error = %e, "rebuilding the analytics engine failed");
        }
    }

    /// Mirrors one stored change in the engine. Unknown areas are left out (a reload picks
    /// them up once the tree has them); unknown elements are registered as `none` (shown
    /// only where entered, never summed by guess).
    fn apply(&self, element: &str, area: &AreaCode, p: Period, v: Option<&Value>) -> Result<()> {
        let mut eng = self.engine.write().unwrap_or_else(|e| e.into_inner());
        let Ok(a) = eng.tree().id(area) else {
            return Ok(());
        };
        let parts = split(element, v);
        for (code, x) in parts {
            let e = match eng.element(&code) {
                Ok(e) => e,
                Err(_) if x.is_none() => continue,
                Err(_) => register(&mut eng, &code, element)?,
            };
            eng.set(e, a, p, x)?;
        }
        Ok(())
    }
}

/// One committed change of a stored value: its key and what it holds now (`None`: deleted
/// or nothing numeric).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Committed<'a> {
    pub element: &'a str,
    pub area: &'a AreaCode,
    pub period: Period,
    pub value: Option<&'a Value>,
    /// The change may alter what evaluations read (an approved value, a deletion, or
    /// another process's change, whose status is not known here): cached ones are dropped.
    pub evaluated: bool,
}

/// The (element, area, period) of saved values, for the outbreak check.
fn arrivals(values: &[DataValue]) -> Vec<(String, AreaCode, Period)> {
    values
        .iter()
        .filter(|v| matches!(v.period, Period::Day(..) | Period::Week(..)))
        .map(|v| (v.element.clone(), v.area.clone(), v.period))
        .collect()
}

/// The element values one stored value becomes: the value itself, and for a ratio also its
/// numerator and denominator parts (cleared when the value is not a ratio).
fn split(element: &str, v: Option<&Value>) -> Vec<(String, Option<f64>)> {
    let num = format!("{element}{NUM_SUFFIX}");
    let den = format!("{element}{DEN_SUFFIX}");
    match v {
        Some(Value::Number { value }) => {
            vec![(element.into(), Some(*value)), (num, None), (den, None)]
        }
        Some(Value::Boolean { value }) => vec![
            (element.into(), Some(if *value { 1.0 } else { 0.0 })),
            (num, None),
            (den, None),
        ],
        Some(Value::Ratio {
            numerator,
            denominator,
        }) => vec![
            (element.into(), Some(numerator / denominator)),
            (num, Some(*numerator)),
            (den, Some(*denominator)),
        ],
        Some(Value::Text { .. }) | None => vec![(element.into(), None), (num, None), (den, None)],
    }
}

/// Registers an element seen in a value but not declared; ratio parts get `sum` and the
/// indicator Σnum/Σden under the base code.
fn register(eng: &mut Engine, code: &str, base: &str) -> Result<healthplan_analytics::ElementId> {
    if code.ends_with(NUM_SUFFIX) || code.ends_with(DEN_SUFFIX) {
        let e = eng.add_element(code, Aggregation::Sum)?;
        let (n, d) = (format!("{base}{NUM_SUFFIX}"), format!("{base}{DEN_SUFFIX}"));
        if eng.element(&n).is_ok() && eng.element(&d).is_ok() {
            eng.define_indicator(base, &[&n], &[&d], 1.0)?;
        }
        Ok(e)
    } else {
        Ok(eng.add_element(code, Aggregation::None)?)
    }
}

/// The engine elements one stored element code loads into, resolved once per code.
struct ElementIds {
    base: ElementId,
    /// Numerator and denominator parts, resolved on the first ratio value.
    parts: Option<(ElementId, ElementId)>,
}

/// Loads one streamed value (the same elements [`split`] names); `false` when its area is
/// not in the tree.
fn load_one(
    eng: &mut Engine,
    ids: &mut HashMap<String, ElementIds>,
    v: &NumericValue<'_>,
) -> Result<bool> {
    let Ok(a) = eng.tree().id(v.area) else {
        return Ok(false);
    };
    let resolve = |eng: &mut Engine, code: &str| match eng.element(code) {
        Ok(e) => Ok(e),
        Err(_) => register(eng, code, v.element),
    };
    if !ids.contains_key(v.element) {
        let base = resolve(eng, v.element)?;
        ids.insert(v.element.to_string(), ElementIds { base, parts: None });
    }
    let Some(el) = ids.get_mut(v.element) else {
        return Ok(false);
    };
    match v.value {
        Numeric::Number(x) => eng.load(el.base, a, v.period, x)?,
        Numeric::Boolean(b) => eng.load(el.base, a, v.period, if b { 1.0 } else { 0.0 })?,
        Numeric::Ratio {
            numerator,
            denominator,
        } => {
            let (n, d) = match el.parts {
                Some(p) => p,
                None => {
                    let n = resolve(eng, &format!("{}{NUM_SUFFIX}", v.element))?;
                    let d = resolve(eng, &format!("{}{DEN_SUFFIX}", v.element))?;
                    el.parts = Some((n, d));
                    (n, d)
                }
            };
            eng.load(el.base, a, v.period, numerator / denominator)?;
            eng.load(n, a, v.period, numerator)?;
            eng.load(d, a, v.period, denominator)?;
        }
    }
    Ok(true)
}

/// The access policy from the stored area tree, element leads and task units.
pub async fn load_policy(store: &Store) -> Result<Arc<Policy>> {
    let areas = store.list_areas().await?;
    let rows = store.responsibilities().await?;
    let mut r = Responsibilities::default();
    for (element, lead) in &rows.elements {
        r.add_element(element, lead);
    }
    for (plan, task, units) in &rows.tasks {
        r.add_task(*plan, task, units);
    }
    // The department that answers for a surveillance series reports its counts.
    for w in store.list_watched().await? {
        if let Some(d) = &w.department {
            r.add_element(&w.element, d);
        }
    }
    let aliases = store.list_department_aliases().await?;
    Ok(Policy::with_aliases(&areas, r, &aliases))
}

async fn load(store: &Store) -> Result<(Engine, LoadReport)> {
    let t = Instant::now();
    let areas = store.list_areas().await?;
    let tree = AreaTree::from_areas(&areas)?;
    let mut eng = Engine::new(tree);
    let mut declared = HashSet::new();
    for el in store.list_data_elements().await? {
        eng.add_element(&el.code, el.aggregation)?;
        declared.insert(el.code);
    }
    let mut report = LoadReport::default();
    let mut ids: HashMap<String, ElementIds> = HashMap::new();
    let mut failed = None;
    // Streamed: no Vec<DataValue> of the whole store is ever built.
    let scan = store
        .for_each_numeric_value(&mut |v| {
            match load_one(&mut eng, &mut ids, &v) {
                Ok(true) => report.values += 1,
                Ok(false) => report.skipped_unknown_area += 1,
                // One value the engine cannot hold must not keep the rest from loading.
                Err(AppError::Analytics(e @ AnalyticsError::NotFinite { .. })) => {
                    tracing::warn!(error = %e, "value left out of the analytics engine");
                    report.skipped_unusable += 1;
                }
                Err(e) => {
                    failed = Some(e);
                    return ControlFlow::Break(());
                }
            }
            ControlFlow::Continue(())
        })
        .await?;
    if let Some(e) = failed {
        return Err(e);
    }
    report.skipped_text = scan.text;
    eng.build();
    report.elapsed = t.elapsed();
    Ok((eng, report))
}

#[cfg(test)]
mod tests;
