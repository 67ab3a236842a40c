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
pub mod layout;
mod lexicon;
mod num;
pub mod promote;
pub mod structure;
pub mod table;
pub mod targets;
pub mod text;
pub mod units;

pub use clean::OffsetMap;
use healthplan_core::{Doubt, PlanDocument};

/// Largest input accepted; a plan is a few hundred kilobytes.
pub const MAX_INPUT_BYTES: usize = 64 * 1024 * 1024;

/// What one plan may hold. A published plan has a few hundred kilobytes of text, a few hundred
/// tasks and statements and at most a few hundred indicators; far more means a wrong or
/// crafted file, which is refused with the limit named rather than cut short.
pub mod limits {
    /// Text extracted from the document (UTF-8 bytes), for every format.
    pub const MAX_TEXT_BYTES: usize = 16 * 1024 * 1024;
    /// A .docx's `word/document.xml` unpacked.
    pub const MAX_DOCX_XML_BYTES: u64 = 96 * 1024 * 1024;
    pub const MAX_TASKS: usize = 5_000;
    pub const MAX_INDICATORS: usize = 2_000;
    pub const MAX_TARGET_STATEMENTS: usize = 5_000;
}

/// What a plan was found to hold too much of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    TextBytes,
    Tasks,
    Indicators,
    TargetStatements,
}

impl Counted {
    fn en(self) -> &'static str {
        match self {
            Counted::TextBytes => "bytes of text",
            Counted::Tasks => "tasks",
            Counted::Indicators => "indicators",
            Counted::TargetStatements => "target statements",
        }
    }

    fn zh(self) -> &'static str {
        match self {
            Counted::TextBytes => "字节文字",
            Counted::Tasks => "项任务",
            Counted::Indicators => "个指标",
            Counted::TargetStatements => "条目标表述",
        }
    }

    pub fn max(self) -> usize {
        match self {
            Counted::TextBytes => limits::MAX_TEXT_BYTES,
            Counted::Tasks => limits::MAX_TASKS,
            Counted::Indicators => limits::MAX_INDICATORS,
            Counted::TargetStatements => limits::MAX_TARGET_STATEMENTS,
        }
    }
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.en())
    }
}

/// Why a document could not be imported. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: the file is empty / 文件为空")]
    Empty { file: String },
    #[error("{file}: {size} bytes is more than the {max} bytes accepted / 文件过大")]
    TooLarge {
        file: String,
        size: usize,
        max: usize,
    },
    #[error("{file}: not a text document ({reason}) / 无法识别的文件")]
    NotText { file: String, reason: String },
    #[error("{file}: cannot read the .docx ({reason}) / 无法读取 docx")]
    Docx { file: String, reason: String },
    #[error("{file}: refused as a zip bomb: {en} / 疑似压缩炸弹，已拒绝：{zh}")]
    Bomb {
        file: String,
        zh: String,
        en: String,
    },
    #[error("{file}: more than {max} {what} in one plan, the most one plan may hold; is this the right file? / 超过每个计划的上限 {max} {zh}，请核对文件", zh = what.zh(), max = what.max())]
    TooMuch { file: String, what: Counted },
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
    /// What the bytes were read as: `utf-8`, `gb18030`, `utf-16`, `docx`, `pdf`.
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

/// Imports the text of a PDF in page layout (`pdftotext -layout`, best `-fixed`, see
/// [`layout`]): columns are recovered from where the text sits and go through the same table
/// reader as .txt and .docx.
pub fn import_layout_text(text: &str, file_name: &str) -> Result<Imported, ImportError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            file: file_name.to_string(),
            size: text.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let mut imported = import_source(layout::to_cell_layout(text), file_name)?;
    imported.encoding = "pdf";
    Ok(imported)
}

/// Imports text that is already decoded.
pub fn import_text(source: &str, file_name: &str) -> Result<Imported, ImportError> {
    import_source(source.to_string(), file_name)
}

fn import_source(source: String, file_name: &str) -> Result<Imported, ImportError> {
    let too_much = |what| ImportError::TooMuch {
        file: file_name.to_string(),
        what,
    };
    if source.len() > limits::MAX_TEXT_BYTES {
        return Err(too_much(Counted::TextBytes));
    }
    let (clean, offsets) = clean::clean(&source);
    if clean.trim().is_empty() {
        return Err(ImportError::Empty {
            file: file_name.to_string(),
        });
    }
    let mut warnings = Vec::new();
    let doc = text::Doc::new(&clean);
    let tables = table::find_tables(&doc, &mut warnings).map_err(too_much)?;
    let mut plan = structure::build(&doc, &tables, &mut warnings).map_err(too_much)?;
    plan.indicators = tables.iter().flat_map(|t| t.indicators.clone()).collect();
    let base_year = targets::base_year(&doc, &tables);
    plan.target_statements = targets::extract(&doc, &tables, base_year).map_err(too_much)?;
    targets::link(&mut plan);
    plan.proposals = promote::propose(&plan, &clean, base_year);
    plan.doubts = document_doubts(&plan);
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

/// What the whole document lacks: an indicator table, responsible units, targets.
fn document_doubts(plan: &PlanDocument) -> Vec<Doubt> {
    let mut out = Vec::new();
    let mut add = |code: &str, detail: &str| out.extend(Doubt::new(code, detail).ok());
    if plan.indicators.is_empty() {
        let proposed = match plan.proposals.len() {
            0 => "请核对指标是否需手工录入".to_string(),
            n => format!("已由正文目标表述提出{n}项拟议指标，请逐项决定"),
        };
        add(
            "no_indicator_table",
            &format!("未找到指标表：文中没有带“序号/指标名称”及目标年份表头的表格，{proposed}"),
        );
    }
    if !plan.tasks.iter().any(|t| t.responsible.is_some()) {
        add(
            "no_responsible_units",
            "未找到责任单位：没有任务段落以“（××局负责）”或“责任单位：”列出单位",
        );
    }
    let table_targets = plan.indicators.iter().any(|i| !i.targets.is_empty());
    if plan.target_statements.is_empty() && !table_targets {
        add(
            "no_targets",
            "未找到目标：既没有指标表中的目标值，也没有正文中“到20××年……达到……”的目标",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Pieces of real plans, so random documents reach deep into every extractor.
    const PIECES: &[&str] = &[
        "\t",
        "\n",
        "\n\n",
        "\t序号",
        "\t指标名称",
        "\t2025年",
        "\t2020年基期",
        "\t目标值",
        "\t属性",
        "\t领域",
        "\t预期性",
        "\t约束性",
        "\t1",
        "\t2",
        "（%）",
        "（‰）",
        "（1/10 万）",
        "≥",
        "≤",
        "<",
        "＞",
        "—",
        "100，70",
        "实现",
        "保持省内先进水平",
        "27.97（2021年）",
        "到",
        "2022年",
        "和",
        "2030年",
        "，",
        "。",
        "；",
        "分别",
        "不低于",
        "达到",
        "下降到",
        "提高",
        "10%",
        "5-8个",
        "1∶50",
        "以上",
        "及以下",
        "岁",
        "每2万人口左右有一家",
        "婴儿死亡率",
        "居民健康素养水平",
        "（",
        "）",
        "(",
        ")",
        "〔",
        "〕",
        "【",
        "】",
        "[",
        "]",
        "市卫生健康局",
        "、",
        "负责",
        "分别负责",
        "责任单位:",
        "等单位",
        "(含",
        "下同",
        "第一章",
        "第一节",
        "一、",
        "（一）",
        "1.",
        "（1）",
        "①",
        "专栏1",
        "附件",
        "[bookmark: _Toc1]",
        "在2019年基础上",
        "比2015年",
        "个百分点",
        "全国平均水平高",
        "五级",
        "\u{3000}",
        " ",
        "\r\n",
        "《",
        "》",
        "“",
        "”",
        "底",
        "m2",
        "/10万",
        "余",
        "年",
        "1",
        "0.5",
        "20",
        "\t领域",
        "\t单位",
        "\t基线值",
        "\t2020年",
        "\t牵头单位",
        "\t备注",
        "\t持续提高",
        "\t≥80",
        "\t78.3（2021年）",
        "\t区卫生健康局",
        "\t%",
        "\t—",
        "\t",
        "一、健康水平",
        "牵头",
        "配合",
        "各乡镇（街道）",
        "\u{c}",
        "— 1 —",
    ];

    fn doc_strategy() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PIECES), 0..200).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4000)) {
            let _ = import_bytes(&bytes, "random.txt");
            let _ = import_bytes(&bytes, "random.docx");
        }

        #[test]
        fn page_layout_text_never_panics_and_validates(
            parts in prop::collection::vec(
                (prop::sample::select(PIECES), 0usize..40, prop::bool::ANY), 0..200)
        ) {
            // Pieces of plans placed at columns, as a PDF's page layout prints them.
            let mut text = String::new();
            for (piece, pad, newline) in parts {
                text.push_str(&" ".repeat(pad));
                text.push_str(piece);
                if newline {
                    text.push('\n');
                }
            }
            if let Ok(imp) = import_layout_text(&text, "gen.pdf") {
                prop_assert!(imp.plan.validate().is_ok());
                let n = imp.text.chars().count() as i64;
                prop_assert!(imp.plan.indicators.iter().all(|i| i.span.end <= n));
                prop_assert!(imp.plan.tasks.iter().all(|t| t.span.end <= n));
            }
        }

        #[test]
        fn plan_like_text_never_panics_and_validates(text in doc_strategy()) {
            if let Ok(imp) = import_bytes(text.as_bytes(), "gen.txt") {
                // Spans stay inside the cleaned text.
                let n = imp.text.chars().count() as i64;
                for t in &imp.plan.tasks {
                    prop_assert!(t.span.end <= n);
                }
                for s in &imp.plan.target_statements {
                    prop_assert!(s.span.end <= n);
                }
                for i in &imp.plan.indicators {
                    prop_assert!(i.span.end <= n);
                }
            }
        }
    }
}
