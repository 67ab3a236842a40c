//! Evaluations kept between requests. An evaluation is a pure function of (plan, approved
//! values and task reports of the plan's areas, as-of year, settings), so a run is reused
//! until something it read changes: a value of one of its elements (`App::values_changed`,
//! the one hook every writer calls, other processes included), the plan or its task reports
//! (`App::plan_changed`) or the area tree (`App::evaluations_changed`). The plan's
//! `updated_at` and the settings are part of the key, so an edit that bypasses the hooks
//! still misses.
//!
//! Concurrent requests for one key share one computation (a `OnceCell` per entry). An
//! invalidation removes the entry, so a computation that started before the write ends in
//! an entry no later request finds.

use crate::evaluation::{EvaluationRun, PlanScope};
use healthplan_eval::Settings;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// How many runs are kept (plans × as-of years × reader scopes); the oldest goes first.
const CAPACITY: usize = 64;

pub(crate) struct Entry {
    plan_id: i64,
    as_of: i32,
    updated_at: String,
    settings: Settings,
    scope: PlanScope,
    pub(crate) run: OnceCell<Arc<EvaluationRun>>,
}

impl Entry {
    fn matches(
        &self,
        plan_id: i64,
        as_of: i32,
        updated_at: &str,
        settings: &Settings,
        scope: &PlanScope,
    ) -> bool {
        self.plan_id == plan_id
            && self.as_of == as_of
            && self.updated_at == updated_at
            && &self.settings == settings
            && &self.scope == scope
    }

    /// Whether a change to `element`'s values may change this run. A run still being
    /// computed may have read the old value, so it goes too.
    fn reads(&self, element: &str) -> bool {
        self.run.get().is_none_or(|run| {
            run.plan
                .indicators
                .iter()
                .any(|i| i.element.as_deref() == Some(element))
        })
    }
}

#[derive(Default)]
pub(crate) struct EvalCache {
    entries: Mutex<Vec<Arc<Entry>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

/// How often a run was reused and how often computed, since the process started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
}

impl EvalCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Entry>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry for this key, made (empty) when there is none.
    pub(crate) fn entry(
        &self,
        plan_id: i64,
        as_of: i32,
        updated_at: &str,
        settings: &Settings,
        scope: &PlanScope,
    ) -> Arc<Entry> {
        let mut entries = self.lock();
        if let Some(e) = entries
            .iter()
            .find(|e| e.matches(plan_id, as_of, updated_at, settings, scope))
        {
            return e.clone();
        }
        // A plan edited since: its older runs can never be asked for again.
        entries.retain(|e| e.plan_id != plan_id || e.updated_at == updated_at);
        if entries.len() >= CAPACITY {
            entries.remove(0);
        }
        let e = Arc::new(Entry {
            plan_id,
            as_of,
            updated_at: updated_at.to_string(),
            settings: settings.clone(),
            scope: scope.clone(),
            run: OnceCell::new(),
        });
        entries.push(e.clone());
        e
    }

    pub(crate) fn count(&self, hit: bool) {
        let c = if hit { &self.hits } else { &self.misses };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    pub(crate) fn values_changed<'a>(&self, elements: impl IntoIterator<Item = &'a str>) {
        let elements: Vec<&str> = elements.into_iter().collect();
        if elements.is_empty() {
            return;
        }
        self.lock()
            .retain(|e| !elements.iter().any(|el| e.reads(el)));
    }

    pub(crate) fn plan_changed(&self, plan_id: i64) {
        self.lock().retain(|e| e.plan_id != plan_id);
    }

    pub(crate) fn clear(&self) {
        self.lock().clear();
    }
}

#[cfg(test)]
mod tests {
    use crate::demo::{self, LAST_YEAR};
    use crate::tests::{on_postgres, on_sqlite};
    use crate::App;
    use healthplan_core::{DataValue, ReviewDecision, Value, ValueStatus};
    use healthplan_eval::Settings;
    use healthplan_store::{Store, ValueKey};

    /// Reused until a value it reads is approved or reopened, or its plan is edited;
    /// entry moves (drafts, submissions) leave it.
    async fn story(store: Store) {
        let app = App::open(store).await.unwrap();
        let setup = demo::setup(&app, "test").await.unwrap();
        let caps = app.local_caps("test");
        let settings = Settings::default();
        let reader = caps.reader();
        let (plan_id, _) = setup.plans[0].clone();
        let eval = || app.evaluate_plan(&reader, plan_id, LAST_YEAR, &settings);
        let before = app.evaluation_cache_stats();
        let first = eval().await.unwrap();
        let again = eval().await.unwrap();
        let stats = app.evaluation_cache_stats();
        assert_eq!(stats.misses - before.misses, 1);
        assert_eq!(stats.hits - before.hits, 1);
        assert_eq!(
            serde_json::to_value(&first.evaluation).unwrap(),
            serde_json::to_value(&again.evaluation).unwrap()
        );

        // A submitted value of an element the plan reads, in the plan's area.
        let (index, element) = first
            .plan
            .indicators
            .iter()
            .enumerate()
            .find_map(|(i, ind)| Some((i, ind.element.clone()?)))
            .unwrap();
        let area = first.scope.root.clone().unwrap();
        let mut v = DataValue::new(
            &element,
            area.clone(),
            healthplan_core::Period::Year(LAST_YEAR + 1),
            Value::Number { value: 42.0 },
        )
        .unwrap();
        v.status = ValueStatus::Submitted;
        v.comment = Some("核实".into());
        let stored = app
            .put_data_value(&caps.value_writer().unwrap(), &v, None)
            .await
            .unwrap();
        let as_of = LAST_YEAR + 1;
        let eval_next = || app.evaluate_plan(&reader, plan_id, as_of, &settings);
        let pending = eval_next().await.unwrap();
        let latest = |run: &crate::EvaluationRun| {
            let name = run.scope.name(&area).unwrap().to_string();
            run.evaluation
                .results
                .iter()
                .find(|r| r.indicator == index && r.area == name)
                .and_then(|r| r.observations.last().map(|o| (o.year, o.value)))
        };
        assert_ne!(latest(&pending), Some((as_of, 42.0)), "not approved yet");
        let misses = app.evaluation_cache_stats().misses;
        // Approved by someone else (four eyes): the next evaluation reads it.
        app.review_data_value(
            &app.local_caps("reviewer").reviewer().unwrap(),
            &ValueKey::of(&stored),
            stored.version,
            ReviewDecision::Approve,
            None,
        )
        .await
        .unwrap();
        let approved = eval_next().await.unwrap();
        assert_eq!(latest(&approved), Some((as_of, 42.0)));
        assert_eq!(app.evaluation_cache_stats().misses, misses + 1);

        // The hook other writers (another process) call.
        eval_next().await.unwrap();
        let misses = app.evaluation_cache_stats().misses;
        app.values_changed(["no-such-element"]);
        eval_next().await.unwrap();
        assert_eq!(app.evaluation_cache_stats().misses, misses, "unrelated");
        app.values_changed([element.as_str()]);
        eval_next().await.unwrap();
        assert_eq!(app.evaluation_cache_stats().misses, misses + 1);

        // A plan edit.
        let mut doc = app.store().plan(&caps.reader(), plan_id).await.unwrap();
        doc.indicators[index].name.push_str("（修订）");
        app.update_plan(&caps.plan_editor().unwrap(), plan_id, &doc)
            .await
            .unwrap();
        let edited = eval_next().await.unwrap();
        assert!(edited.plan.indicators[index].name.ends_with("（修订）"));
    }

    #[tokio::test]
    async fn sqlite_evaluations_are_reused_until_what_they_read_changes() {
        on_sqlite(story).await;
    }

    #[tokio::test]
    async fn postgres_evaluations_are_reused_until_what_they_read_changes() {
        on_postgres(story).await;
    }
}
