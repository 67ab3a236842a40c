//! Bulk review: approve or return a whole form (an area's values of a round) or a chosen set
//! of values in one action.
//!
//! Each value goes through the same single-value review (`Store::review_data_value`): its
//! own transaction and audit row, the reviewer's area scope and the four-eyes rule judged
//! for that value. A value the rules refuse is listed with why and left as it was; the
//! others are decided. A return or reopen needs a comment, checked before anything is done.

use crate::{App, AppError, Result};
use healthplan_access::{ReadScope, Reviewer};
use healthplan_core::{AreaCode, DataValue, ReviewDecision, ValueStatus};
use healthplan_store::{DataValueFilter, StoreError, ValueKey};
use std::collections::BTreeSet;

/// Which values a bulk decision is about.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Every submitted value of `area` in round `round_id` (its plan's elements, its period).
    Form { round_id: i64, area: AreaCode },
    /// These values, each at the version the reviewer saw.
    Values(Vec<(ValueKey, i64)>),
}

/// What a bulk decision did.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    /// The values decided, as stored now.
    pub done: Vec<DataValue>,
    /// The values refused, each with the reason; nothing was written for them.
    pub refused: Vec<(ValueKey, AppError)>,
}

/// Most values one bulk decision takes (a district's form is ~35; a city's queue a few
/// hundred).
pub const MAX_BULK: usize = 1_000;

impl App {
    /// Applies `decision` to every selected value the reviewer may decide.
    pub async fn review_many(
        &self,
        reviewer: &Reviewer,
        scope: &ReadScope,
        selection: &Selection,
        decision: ReviewDecision,
        comment: Option<&str>,
    ) -> Result<BulkOutcome> {
        let comment = comment.map(str::trim).filter(|c| !c.is_empty());
        if decision != ReviewDecision::Approve && comment.is_none() {
            return Err(AppError::Input(
                "退回或重新开放需填写意见 / a comment is required to return or reopen".into(),
            ));
        }
        let targets: Vec<(ValueKey, i64)> = match selection {
            Selection::Values(v) => v.clone(),
            Selection::Form { round_id, area } => self.form_values(scope, *round_id, area).await?,
        };
        if targets.is_empty() {
            return Err(AppError::Input(
                "没有可审核的数据 / nothing to review in this selection".into(),
            ));
        }
        if targets.len() > MAX_BULK {
            return Err(AppError::Input(format!(
                "一次最多审核 {MAX_BULK} 条 / at most {MAX_BULK} values at once"
            )));
        }
        let mut out = BulkOutcome::default();
        let mut seen = BTreeSet::new();
        for (key, version) in targets {
            if !seen.insert(key.to_string()) {
                continue;
            }
            if let Err(d) = reviewer.check_area(&key.area) {
                out.refused.push((key, StoreError::Forbidden(d).into()));
                continue;
            }
            match self
                .store()
                .review_data_value(reviewer, &key, version, decision, comment)
                .await
            {
                Ok(v) => out.done.push(v),
                Err(e @ StoreError::Db(_)) => return Err(e.into()),
                Err(e) => out.refused.push((key, e.into())),
            }
        }
        Ok(out)
    }

    /// The submitted values of `area` in a round: its plan's elements for its period.
    async fn form_values(
        &self,
        scope: &ReadScope,
        round_id: i64,
        area: &AreaCode,
    ) -> Result<Vec<(ValueKey, i64)>> {
        let store = self.store();
        let round = store.round(scope, round_id).await?;
        if !round.areas.contains(area) {
            return Err(AppError::Input(format!(
                "地区 {area} 不在该轮次中 / area {area} does not report in this round"
            )));
        }
        let plan = store.plan(scope, round.plan_id).await?;
        let elements: Vec<String> = plan
            .indicators
            .iter()
            .filter_map(|i| i.element.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if elements.is_empty() {
            return Ok(Vec::new());
        }
        Ok(store
            .list_data_values(
                scope,
                &DataValueFilter {
                    elements,
                    area: Some(area.clone()),
                    period: Some(round.period),
                    status: Some(ValueStatus::Submitted),
                    ..Default::default()
                },
            )
            .await?
            .into_iter()
            .map(|v| (ValueKey::of(&v), v.version))
            .collect())
    }
}
