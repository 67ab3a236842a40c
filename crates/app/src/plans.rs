//! Plan documents in: any supported file, read through `office` (.txt and .docx directly,
//! .doc/.wps/.rtf/.odt through LibreOffice, .pdf through poppler), stored as a draft with its
//! source text for review.

use crate::proposals::Choice;
use crate::{App, AppError, Result};
use healthplan_access::Caps;
use healthplan_core::{AppliesTo, Indicator, PlanDocument, Responsibility, Section, Task};
use healthplan_importer::Imported;
use healthplan_store::StoreError;

/// A stored plan import: the new plan's id and what the importer read.
#[derive(Debug, Clone)]
pub struct PlanImport {
    pub id: i64,
    pub imported: Imported,
}

impl App {
    /// Reads a plan document and stores it as a draft of the caller's; every door (the API,
    /// the review page, the command line) reads the same formats the same way.
    pub async fn import_plan(&self, caps: &Caps, name: &str, bytes: Vec<u8>) -> Result<PlanImport> {
        let editor = caps.plan_editor().ok_or_else(|| {
            AppError::no_right("您的角色无权编辑规划", "your role may not edit plans")
        })?;
        let file = name.to_string();
        // Conversions run LibreOffice or poppler for seconds: off the async workers.
        let imported = crate::blocking(move || healthplan_office::import_plan_file(&bytes, &file))
            .await?
            .map_err(|e| AppError::Document {
                file: name.to_string(),
                message: e.to_string(),
            })?;
        let id = self
            .save_plan(&editor, &imported.plan, Some(&imported.text))
            .await?;
        Ok(PlanImport { id, imported })
    }
}

/// One edit of a plan's document, as the review page and the API express it.
#[derive(Debug, Clone)]
pub enum PlanChange {
    /// The whole document (a reviewer's corrections in the interchange JSON).
    Replace(Box<PlanDocument>),
    AddIndicator(Box<Indicator>),
    ReplaceIndicator(usize, Box<Indicator>),
    /// Removes an indicator; prose targets naming it lose the link.
    RemoveIndicator(usize),
    SetAppliesTo(usize, Option<AppliesTo>),
    /// Replaces the task with this id, or adds it when the id is new.
    PutTask(Box<Task>),
    /// A task's text and responsible units as a person corrected them; the rest is kept.
    CorrectTask {
        id: String,
        text: String,
        responsible: Option<Responsibility>,
    },
    /// Removes a task and its place in the section tree.
    RemoveTask(String),
    /// A planner's choice for one of the importer's proposals.
    Decide(usize, Choice),
}

/// A stored plan edit: the plan's new version and document, and for an added indicator or a
/// decided proposal the index of the indicator concerned.
#[derive(Debug, Clone)]
pub struct PlanEdit {
    pub version: i64,
    pub document: PlanDocument,
    pub indicator: Option<usize>,
}

fn no_indicator(index: usize) -> AppError {
    StoreError::NotFound {
        entity: "indicator",
        key: index.to_string(),
    }
    .into()
}

fn no_task(id: &str) -> AppError {
    StoreError::NotFound {
        entity: "task",
        key: id.to_string(),
    }
    .into()
}

/// Applies a change to a document; returns the indicator concerned, if any.
pub fn apply(doc: &mut PlanDocument, change: PlanChange) -> Result<Option<usize>> {
    match change {
        PlanChange::Replace(new) => {
            *doc = *new;
            Ok(None)
        }
        PlanChange::AddIndicator(ind) => {
            ind.validate("indicator")?;
            doc.indicators.push(*ind);
            Ok(Some(doc.indicators.len() - 1))
        }
        PlanChange::ReplaceIndicator(index, ind) => {
            ind.validate("indicator")?;
            let slot = doc
                .indicators
                .get_mut(index)
                .ok_or_else(|| no_indicator(index))?;
            *slot = *ind;
            Ok(Some(index))
        }
        PlanChange::RemoveIndicator(index) => {
            if index >= doc.indicators.len() {
                return Err(no_indicator(index));
            }
            doc.indicators.remove(index);
            for s in &mut doc.target_statements {
                s.indicator = match s.indicator {
                    Some(i) if i == index => None,
                    Some(i) if i > index => Some(i - 1),
                    other => other,
                };
            }
            Ok(None)
        }
        PlanChange::SetAppliesTo(index, applies_to) => {
            doc.indicators
                .get_mut(index)
                .ok_or_else(|| no_indicator(index))?
                .applies_to = applies_to;
            Ok(Some(index))
        }
        PlanChange::PutTask(task) => {
            match doc.tasks.iter_mut().find(|x| x.id == task.id) {
                Some(slot) => *slot = *task,
                None => doc.tasks.push(*task),
            }
            Ok(None)
        }
        PlanChange::CorrectTask {
            id,
            text,
            responsible,
        } => {
            let text = text.trim();
            if text.is_empty() {
                return Err(AppError::Input(
                    "任务内容不能为空 / the task text is empty".into(),
                ));
            }
            let t = doc
                .tasks
                .iter_mut()
                .find(|t| t.id == id)
                .ok_or_else(|| no_task(&id))?;
            t.text = text.to_string();
            t.responsible = responsible;
            // A person has checked the item: the importer's doubts are settled.
            t.doubts.clear();
            Ok(None)
        }
        PlanChange::RemoveTask(id) => {
            let before = doc.tasks.len();
            doc.tasks.retain(|t| t.id != id);
            if doc.tasks.len() == before {
                return Err(no_task(&id));
            }
            fn unlist(sections: &mut [Section], task: &str) {
                for s in sections {
                    s.tasks.retain(|t| t != task);
                    unlist(&mut s.children, task);
                }
            }
            unlist(&mut doc.sections, &id);
            Ok(None)
        }
        PlanChange::Decide(index, choice) => crate::proposals::decide(doc, index, choice),
    }
}

/// How often an edit made without a version is retried when another edit lands between its
/// read and its write.
const UNVERSIONED_ATTEMPTS: usize = 3;

impl App {
    /// Edits a plan's document: the one way the review page, the API and the command line
    /// change a stored plan. `version` is the plan version the caller's edit was made on: a
    /// stale one is refused with `VersionConflict` naming the current version, nothing
    /// written. Without a version the change is applied to the latest document (and
    /// re-applied if another edit lands meanwhile), never to an older copy. Audited by the
    /// store with before and after.
    pub async fn edit_plan(
        &self,
        caps: &Caps,
        plan_id: i64,
        version: Option<i64>,
        change: PlanChange,
    ) -> Result<PlanEdit> {
        let editor = caps.plan_editor().ok_or_else(|| {
            AppError::no_right("您的角色无权编辑规划", "your role may not edit plans")
        })?;
        let scope = caps.reader();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let stored = self.store().plan_summary(&scope, plan_id).await?.version;
            if let Some(v) = version.filter(|&v| v != stored) {
                return Err(StoreError::VersionConflict {
                    entity: "plan",
                    key: plan_id.to_string(),
                    sent: Some(v),
                    stored: Some(stored),
                }
                .into());
            }
            let mut doc = self.store().plan(&scope, plan_id).await?;
            let indicator = apply(&mut doc, change.clone())?;
            doc.validate()?;
            match self
                .store()
                .edit_plan(&editor, plan_id, Some(stored), &doc)
                .await
            {
                Ok(new) => {
                    self.refresh_policy().await?;
                    return Ok(PlanEdit {
                        version: new,
                        document: doc,
                        indicator,
                    });
                }
                // The document read may predate `stored`: try again on the latest one.
                Err(StoreError::VersionConflict { .. })
                    if version.is_none() && attempt < UNVERSIONED_ATTEMPTS => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
}
