//! Plan documents in: any supported file, read through `office` (.txt and .docx directly,
//! .doc/.wps/.rtf/.odt through LibreOffice, .pdf through poppler), stored as a draft with its
//! source text for review.

use crate::{App, AppError, Result};
use healthplan_access::Caps;
use healthplan_importer::Imported;

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
            AppError::Store(healthplan_store::StoreError::Forbidden(
                healthplan_access::Denied {
                    zh: "您的角色无权编辑规划".into(),
                    en: "your role may not edit plans".into(),
                },
            ))
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
