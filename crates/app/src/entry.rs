//! Values as people enter them, whatever the door (the form, the API, a template): each value
//! checked by its element's rule against last period's value, then written all or nothing
//! with the versions the writer sent.

use crate::{App, AppError, Result};
use healthplan_access::Caps;
use healthplan_core::validate::{check_value, previous_period, Issue, ValueRule};
use healthplan_core::{DataValue, Value, ValueType};
use healthplan_store::ValueKey;
use std::collections::{BTreeSet, HashMap};

/// A value refused by the value rules: its place in the batch and what blocks it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub index: usize,
    pub issues: Vec<Issue>,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text: Vec<String> = self.issues.iter().map(|i| i.to_string()).collect();
        write!(f, "#{}: {}", self.index + 1, text.join("; "))
    }
}

impl App {
    /// Saves values as a reporter enters them: every value passes its element's rule (type,
    /// range, ratio, and the jump from last period unless the comment explains it), then all
    /// are written or none, each replacing the version sent with it. The first refused value
    /// is named; nothing is written.
    pub async fn enter_values(
        &self,
        caps: &Caps,
        values: &[(DataValue, Option<i64>)],
    ) -> Result<Vec<DataValue>> {
        let writer = caps.value_writer().ok_or_else(|| {
            AppError::no_right("您的角色无权填报数据", "your role may not enter values")
        })?;
        let rules = self.rules_for(caps, values.iter().map(|(v, _)| v)).await?;
        let previous = self
            .previous_values(caps, values.iter().map(|(v, _)| v))
            .await?;
        for (index, (v, _)) in values.iter().enumerate() {
            let Some(rule) = rules.get(&v.element) else {
                continue;
            };
            let before = previous_period(v.period)
                .and_then(|p| previous.get(&ValueKey::new(&v.element, v.area.clone(), p)));
            let issues: Vec<Issue> = check_value(rule, &v.value, before)
                .into_iter()
                .filter(|i| i.blocks(v.comment.as_deref()))
                .collect();
            if !issues.is_empty() {
                return Err(AppError::Refused(Refusal { index, issues }));
            }
        }
        self.put_data_values(&writer, values).await
    }

    /// The value rule of each element among the values: the first indicator measuring it
    /// in the plans the caller reads (by plan, then position), else its type's rule. The
    /// same rules `exchange::known` gives, read for these elements only.
    async fn rules_for(
        &self,
        caps: &Caps,
        values: impl Iterator<Item = &DataValue>,
    ) -> Result<HashMap<String, ValueRule>> {
        let wanted: BTreeSet<&str> = values.map(|v| v.element.as_str()).collect();
        let elements = self.store().list_data_elements().await?;
        let types: HashMap<&str, ValueType> = elements
            .iter()
            .filter(|e| wanted.contains(e.code.as_str()))
            .map(|e| (e.code.as_str(), e.value_type))
            .collect();
        let codes: Vec<String> = types.keys().map(|c| c.to_string()).collect();
        let mut rules: HashMap<String, ValueRule> = HashMap::new();
        for pi in self
            .store()
            .indicators_of_elements(&caps.reader(), &codes)
            .await?
        {
            let Some(code) = pi.indicator.element.clone() else {
                continue;
            };
            if let Some(t) = types.get(code.as_str()) {
                rules
                    .entry(code)
                    .or_insert_with(|| ValueRule::for_indicator(&pi.indicator, *t));
            }
        }
        for (code, t) in types {
            rules
                .entry(code.to_string())
                .or_insert_with(|| ValueRule::new(t));
        }
        Ok(rules)
    }

    /// Last period's stored value of each value's cell, as far as the caller reads.
    async fn previous_values(
        &self,
        caps: &Caps,
        values: impl Iterator<Item = &DataValue>,
    ) -> Result<HashMap<ValueKey, Value>> {
        let keys: Vec<ValueKey> = values
            .filter_map(|v| {
                Some(ValueKey::new(
                    &v.element,
                    v.area.clone(),
                    previous_period(v.period)?,
                ))
            })
            .collect();
        Ok(self
            .store()
            .data_values_at(&caps.reader(), &keys)
            .await?
            .into_iter()
            .map(|v| (ValueKey::of(&v), v.value))
            .collect())
    }
}
