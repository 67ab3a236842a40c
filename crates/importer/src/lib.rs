//! Plan importer: a government plan document (.txt in UTF-8 or GB18030, or .docx) in, a
//! structured [`PlanDocument`] out. Pure: bytes in, values out, no I/O.
//!
//! Pipeline: [`decode`] (bytes → text; .docx paragraphs and tables rendered to the same
//! tab-cell layout the text exports use) → [`clean`] (bookmark markers, whitespace; keeps an
//! offset map) → [`table`] (indicator tables) → [`structure`] (section tree, tasks,
//! responsible units via [`units`]) → [`targets`] (targets written in the prose).

pub mod clean;
pub mod decode;
pub mod docx;
mod lexicon;
mod num;
pub mod structure;
pub mod table;
pub mod targets;
pub mod text;
pub mod units;

use healthplan_core::PlanDocument;
pub use clean::OffsetMap;

/// Largest input accepted; a plan is a few hundred kilobytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// Why a document could not be imported. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: the file is empty / 文件为空")]
    Empty { file: String },
    #[error("{file}: {size} bytes is more than the {max} bytes accepted / 文件过大")]
    TooLarge { file: String, size: usize, max: usize },
    #[error("{file}: not a text document ({reason}) / 无法识别的文件")]
    NotText { file: String, reason: String },
    #[error("{file}: cannot read the .docx ({reason}) / 无法读取 docx")]
    Docx { file: String, reason: String },
    #[error("{file}: the extracted plan is invalid: {reason}")]
    Invalid { file: String, reason: String },
}

/// Something the importer noticed but could work around; `line` is 1-based in the cleaned text.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(l) => write!(f, "line {l}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The result of an import: the plan, the text its spans point into, and the way back.
#[derive(Debug, Clone)]
pub struct Imported {
    pub plan: PlanDocument,
    /// The decoded document before clean-up (for .docx: paragraphs and tables as text).
    pub source: String,
    /// The cleaned text; every `span` in `plan` is a char range of this text.
    pub text: String,
    /// Clean char offsets → source char offsets.
    pub offsets: OffsetMap,
    pub warnings: Vec<Warning>,
    /// What the bytes were read as: `utf-8`, `gb18030`, `utf-16`, `docx`.
    pub encoding: &'static str,
}

/// Imports a document given as bytes; `file_name` picks the format (by extension, then by
/// content) and names the file in errors.
pub fn import_bytes(bytes: &[u8], file_name: &str) -> Result<Imported, ImportError> {
    let decoded = decode::decode(bytes, file_name)?;
    let mut imported = import_source(decoded.text, file_name)?;
    imported.encoding = decoded.encoding;
    imported.warnings.splice(0..0, decoded.warnings);
    Ok(imported)
}

/// Imports text that is already decoded.
pub fn import_text(source: &str, file_name: &str) -> Result<Imported, ImportError> {
    import_source(source.to_string(), file_name)
}

fn import_source(source: String, file_name: &str) -> Result<Imported, ImportError> {
    let (clean, offsets) = clean::clean(&source);
    if clean.trim().is_empty() {
        return Err(ImportError::Empty {
            file: file_name.to_string(),
        });
    }
    let mut warnings = Vec::new();
    let doc = text::Doc::new(&clean);
    let tables = table::find_tables(&doc, &mut warnings);
    let mut plan = structure::build(&doc, &tables, &mut warnings);
    plan.indicators = tables.iter().flat_map(|t| t.indicators.clone()).collect();
    let base_year = targets::base_year(&doc, &tables);
    plan.target_statements = targets::extract(&doc, &tables, base_year);
    targets::link(&mut plan);
    plan.validate().map_err(|e| ImportError::Invalid {
        file: file_name.to_string(),
        reason: e.to_string(),
    })?;
    Ok(Imported {
        plan,
        source,
        text: clean,
        offsets,
        warnings,
        encoding: "utf-8",
    })
}
