//! Filtered lists: the alerts a caller reads narrowed by plan, area, area level, type and
//! severity; the review queue narrowed by plan, round, area and department. The filters only
//! narrow what the scope already allows, so no filter value can widen a caller's view.

use crate::{App, Result};
use healthplan_access::Caps;
use healthplan_core::{
    Alert, AlertKind, AlertLevel, AlertStatus, AreaCode, AreaLevel, Period, ValueStatus,
};
use healthplan_store::{AlertFilter, DataValueFilter, ValueRecord};
use std::collections::{BTreeSet, HashMap};

/// Which alerts to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertView {
    pub status: Option<AlertStatus>,
    pub kind: Option<AlertKind>,
    pub plan_id: Option<i64>,
    /// The area and everything below it.
    pub area: Option<AreaCode>,
    /// Only alerts about areas of this level (省/市/区县/街道).
    pub area_level: Option<AreaLevel>,
    /// Severity.
    pub level: Option<AlertLevel>,
}

/// Which values of the review queue to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueView {
    pub status: Option<ValueStatus>,
    pub plan_id: Option<i64>,
    pub round_id: Option<i64>,
    /// The area and everything below it.
    pub area: Option<AreaCode>,
    pub period: Option<Period>,
    /// A lead department (matched as the access policy matches names: 市卫生健康局 is
    /// 卫生健康局).
    pub department: Option<String>,
}

/// Alerts read at most before filtering (an office's year has a few hundred).
const ALERT_WINDOW: i64 = 5_000;

impl App {
    /// The caller's alerts matching `view`, newest first; `page` (1-based) of `per`, and
    /// whether more follow.
    pub async fn alerts_view(
        &self,
        caps: &Caps,
        view: &AlertView,
        page: usize,
        per: usize,
    ) -> Result<(Vec<Alert>, bool)> {
        let scope = caps.reader();
        let narrowed = view.area.is_some() || view.area_level.is_some() || view.level.is_some();
        let want = page * per + 1;
        let mut alerts = self
            .store()
            .list_alerts(
                &scope,
                &AlertFilter {
                    status: view.status,
                    kind: view.kind,
                    plan_id: view.plan_id,
                    limit: Some(if narrowed { ALERT_WINDOW } else { want as i64 }),
                },
            )
            .await?;
        if narrowed {
            let policy = self.policy();
            let levels: HashMap<AreaCode, AreaLevel> = if view.area_level.is_some() {
                self.store()
                    .list_areas()
                    .await?
                    .into_iter()
                    .map(|a| (a.code, a.level))
                    .collect()
            } else {
                HashMap::new()
            };
            alerts.retain(|a| {
                view.area
                    .as_ref()
                    .is_none_or(|r| policy.areas().is_within(&a.area, r))
                    && view.level.is_none_or(|l| a.level == l)
                    && view
                        .area_level
                        .is_none_or(|l| levels.get(&a.area) == Some(&l))
            });
        }
        let more = alerts.len() > page * per;
        alerts.truncate(page * per);
        let rest = alerts.split_off(((page - 1) * per).min(alerts.len()));
        Ok((rest, more))
    }

    /// The review queue (non-demonstration values the caller reads) matching `view`, at
    /// most `limit`.
    pub async fn review_queue(
        &self,
        caps: &Caps,
        view: &QueueView,
        limit: usize,
    ) -> Result<Vec<ValueRecord>> {
        let scope = caps.reader();
        let store = self.store();
        let mut elements: Option<BTreeSet<String>> = None;
        let mut period = view.period;
        let mut areas: Option<Vec<AreaCode>> = None;
        if let Some(round_id) = view.round_id {
            let round = store.round(&scope, round_id).await?;
            let plan = store.plan(&scope, round.plan_id).await?;
            elements = Some(
                plan.indicators
                    .iter()
                    .filter_map(|i| i.element.clone())
                    .collect(),
            );
            period = Some(round.period);
            areas = Some(round.areas);
        } else if let Some(plan_id) = view.plan_id {
            let plan = store.plan(&scope, plan_id).await?;
            elements = Some(
                plan.indicators
                    .iter()
                    .filter_map(|i| i.element.clone())
                    .collect(),
            );
        }
        if elements.as_ref().is_some_and(|e| e.is_empty()) {
            return Ok(Vec::new());
        }
        let mut records = store
            .data_value_records(
                &scope,
                &DataValueFilter {
                    elements: elements.iter().flatten().cloned().collect(),
                    under: view.area.clone(),
                    period,
                    status: view.status,
                    // Demonstration history is not a review queue.
                    synthetic: Some(false),
                    ..Default::default()
                },
            )
            .await?;
        let policy = self.policy();
        let department = view.department.as_deref().map(|d| policy.department_key(d));
        records.retain(|r| {
            !r.value.synthetic
                && areas.as_ref().is_none_or(|a| a.contains(&r.value.area))
                && department.as_ref().is_none_or(|d| {
                    policy
                        .responsibilities()
                        .element(&r.value.element)
                        .contains(d)
                })
        });
        records.truncate(limit);
        Ok(records)
    }
}
