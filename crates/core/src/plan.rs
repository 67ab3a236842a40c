use crate::error::CoreError;
use crate::indicator::Indicator;
use crate::target::{Cmp, RelativeTo, Target, TargetKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// `[start, end)` in chars of the importer's cleaned text; `[-1, -1]` when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    pub const UNKNOWN: Span = Span { start: -1, end: -1 };

    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as i64,
            end: end.max(start) as i64,
        }
    }

    pub fn is_known(&self) -> bool {
        self.start >= 0
    }
}

impl Default for Span {
    fn default() -> Self {
        Span::UNKNOWN
    }
}

impl Serialize for Span {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.start, self.end].serialize(s)
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Pair([i64; 2]),
            Unknown(i64),
        }
        match Repr::deserialize(d)? {
            Repr::Unknown(-1) | Repr::Pair([-1, -1]) => Ok(Span::UNKNOWN),
            Repr::Pair([s, e]) if 0 <= s && s <= e => Ok(Span { start: s, end: e }),
            Repr::Pair([s, e]) => Err(serde::de::Error::custom(format!(
                "span [{s}, {e}] must have 0 <= start <= end, or be -1"
            ))),
            Repr::Unknown(n) => Err(serde::de::Error::custom(format!(
                "span {n}: use [start, end] or -1"
            ))),
        }
    }
}

/// Why an extracted item may be wrong, so a person checks it first: `code` is a stable
/// snake_case identifier (listed in `docs/plan-json.md`), `detail` says in Chinese what was
/// guessed and where.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawDoubt")]
pub struct Doubt {
    pub code: String,
    pub detail: String,
}

#[derive(Deserialize)]
struct RawDoubt {
    code: String,
    #[serde(default)]
    detail: String,
}

impl TryFrom<RawDoubt> for Doubt {
    type Error = CoreError;
    fn try_from(r: RawDoubt) -> Result<Self, CoreError> {
        Doubt::new(&r.code, &r.detail)
    }
}

impl Doubt {
    /// A doubt with a snake_case `code` (`row_realigned`) and a non-empty `detail`.
    pub fn new(code: &str, detail: &str) -> Result<Doubt, CoreError> {
        let snake = !code.is_empty()
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !snake {
            return Err(CoreError::invalid(
                "doubt.code",
                format!("{code:?} is not a snake_case identifier"),
            ));
        }
        if detail.trim().is_empty() {
            return Err(CoreError::invalid(
                "doubt.detail",
                format!("doubt {code} has no explanation"),
            ));
        }
        Ok(Doubt {
            code: code.to_string(),
            detail: detail.trim().to_string(),
        })
    }
}

impl std::fmt::Display for Doubt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResponsibilityMode {
    /// The first unit leads (牵头), the others assist.
    #[default]
    LeadFirst,
    /// 分别负责: each unit answers for its own part.
    EachResponsible,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Responsibility {
    pub raw: String,
    pub units: Vec<String>,
    pub lead: Option<String>,
    #[serde(default)]
    pub mode: ResponsibilityMode,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: String,
    pub text: String,
    #[serde(default)]
    pub span: Span,
    #[serde(default)]
    pub responsible: Option<Responsibility>,
    /// Indexes into the plan's `target_statements`.
    #[serde(default)]
    pub targets: Vec<usize>,
    /// Reasons to check this item; empty when the importer was sure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doubts: Vec<Doubt>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub label: String,
    pub title: String,
    #[serde(default)]
    pub span: Span,
    #[serde(default)]
    pub children: Vec<Section>,
    /// Task ids.
    #[serde(default)]
    pub tasks: Vec<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A quantitative target written in the prose.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetStatement {
    pub sentence: String,
    #[serde(default)]
    pub span: Span,
    pub year: i32,
    pub subject: String,
    pub kind: TargetKind,
    #[serde(default)]
    pub cmp: Option<Cmp>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub value_hi: Option<f64>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub relative_to: Option<RelativeTo>,
    /// Index into the plan's `indicators` when the statement names one.
    #[serde(default)]
    pub indicator: Option<usize>,
    /// Reasons to check this item; empty when the importer was sure.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doubts: Vec<Doubt>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

impl TargetStatement {
    /// The target in a few characters (`≥25%`, `1—2家`), for tables; the sentence when the
    /// kind has no short form.
    pub fn short_text(&self) -> String {
        let num = |x: f64| {
            let s = format!("{x:.2}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        // `9` in `1/10万` reads 9/10万, not 91/10万.
        let unit = self.unit.as_deref().unwrap_or("");
        let unit = unit
            .strip_prefix('1')
            .filter(|u| u.starts_with('/'))
            .unwrap_or(unit);
        match (self.kind, self.cmp, self.value, self.value_hi) {
            (TargetKind::Range, _, Some(lo), Some(hi)) => format!("{}—{}{unit}", num(lo), num(hi)),
            (TargetKind::RelativeChange, _, Some(v), _) => {
                let from = match &self.relative_to {
                    Some(RelativeTo::Year(y)) => format!("比{y}年"),
                    Some(RelativeTo::Baseline) => "比基线".to_string(),
                    _ => String::new(),
                };
                let verb = if v < 0.0 { "下降" } else { "提高" };
                format!("{from}{verb}{}{unit}", num(v.abs()))
            }
            (TargetKind::Threshold, Some(c), Some(v), _) => {
                let sign = match c {
                    Cmp::Ge => "≥",
                    Cmp::Gt => ">",
                    Cmp::Le => "≤",
                    Cmp::Lt => "<",
                    Cmp::Eq => "",
                };
                format!("{sign}{}{unit}", num(v))
            }
            _ => self.sentence.chars().take(40).collect(),
        }
    }

    /// The statement as a plain target (validated).
    pub fn target(&self) -> Result<Target, CoreError> {
        Target::new(Target {
            year: self.year,
            kind: self.kind,
            cmp: self.cmp,
            value: self.value,
            value_hi: self.value_hi,
            unit: self.unit.clone(),
            relative_to: self.relative_to.clone(),
            text: self.sentence.clone(),
        })
    }
}

/// A plan as in the interchange JSON (`spec/plan-json.md`). Build it with
/// [`PlanDocument::from_json`] or check a hand-built one with [`PlanDocument::validate`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PlanDocument {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub area: String,
    #[serde(default)]
    pub sections: Vec<Section>,
    #[serde(default)]
    pub tasks: Vec<Task>,
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub target_statements: Vec<TargetStatement>,
    /// Plan metadata beyond the interchange minimum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<[i32; 2]>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_years: Vec<i32>,
    /// Title or id of the parent-level plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Indicators proposed from the prose targets, waiting for a planner's decision.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proposals: Vec<Proposal>,
    /// Document-level doubts: no indicator table, no responsible units, no targets found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub doubts: Vec<Doubt>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// What a planner decided about a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Became an indicator as proposed.
    Accepted,
    /// Became an indicator after the planner changed it.
    Edited,
    /// Its statements and targets went to an indicator the plan already had.
    Merged,
    Rejected,
}

/// An indicator proposed from target statements that name no indicator, one per subject;
/// it is monitored only once a planner accepts it (or merges it into an indicator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    pub indicator: Indicator,
    /// Indexes into `target_statements`, in text order.
    pub statements: Vec<usize>,
    /// `null` while undecided.
    #[serde(default)]
    pub decision: Option<Decision>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, Value>,
}

/// A JSON document that could not be read, with its location.
#[derive(Debug, thiserror::Error)]
pub enum PlanJsonError {
    #[error("line {line}, column {column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    #[error(transparent)]
    Invalid(#[from] CoreError),
}

impl PlanDocument {
    pub fn from_json(text: &str) -> Result<PlanDocument, PlanJsonError> {
        let doc: PlanDocument = serde_json::from_str(text).map_err(|e| PlanJsonError::Syntax {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        doc.validate()?;
        Ok(doc)
    }

    /// Cross-reference checks that serde cannot do: ids, indexes and the lead unit.
    pub fn validate(&self) -> Result<(), CoreError> {
        let mut ids = HashSet::new();
        for (i, t) in self.tasks.iter().enumerate() {
            let at = format!("tasks[{i}]");
            if t.id.trim().is_empty() || !ids.insert(t.id.as_str()) {
                return Err(CoreError::invalid(
                    format!("{at}.id"),
                    format!("task id {:?} is empty or repeated", t.id),
                ));
            }
            for &k in &t.targets {
                if k >= self.target_statements.len() {
                    return Err(CoreError::invalid(
                        format!("{at}.targets"),
                        format!(
                            "index {k} is past the {} target statements",
                            self.target_statements.len()
                        ),
                    ));
                }
            }
            if let Some(r) = &t.responsible {
                if r.units.iter().any(|u| u.trim().is_empty()) {
                    return Err(CoreError::invalid(
                        format!("{at}.responsible.units"),
                        "empty unit name",
                    ));
                }
                if r.lead.as_ref() != r.units.first() {
                    return Err(CoreError::invalid(
                        format!("{at}.responsible.lead"),
                        format!(
                            "lead {:?} must be the first unit {:?}",
                            r.lead,
                            r.units.first()
                        ),
                    ));
                }
            }
        }
        fn walk(sections: &[Section], ids: &HashSet<&str>, path: &str) -> Result<(), CoreError> {
            for (i, s) in sections.iter().enumerate() {
                let at = format!("{path}[{i}]");
                if let Some(t) = s.tasks.iter().find(|t| !ids.contains(t.as_str())) {
                    return Err(CoreError::invalid(
                        format!("{at}.tasks"),
                        format!("unknown task id {t:?}"),
                    ));
                }
                walk(&s.children, ids, &format!("{at}.children"))?;
            }
            Ok(())
        }
        walk(&self.sections, &ids, "sections")?;
        for (i, ind) in self.indicators.iter().enumerate() {
            ind.validate(&format!("indicators[{i}]"))?;
        }
        for (i, s) in self.target_statements.iter().enumerate() {
            let at = format!("target_statements[{i}]");
            s.target()
                .map_err(|e| CoreError::invalid(&at, e.to_string()))?;
            if let Some(k) = s.indicator {
                if k >= self.indicators.len() {
                    return Err(CoreError::invalid(
                        format!("{at}.indicator"),
                        format!("index {k} is past the {} indicators", self.indicators.len()),
                    ));
                }
            }
        }
        for (i, p) in self.proposals.iter().enumerate() {
            let at = format!("proposals[{i}]");
            p.indicator.validate(&format!("{at}.indicator"))?;
            if let Some(&k) = p
                .statements
                .iter()
                .find(|&&k| k >= self.target_statements.len())
            {
                return Err(CoreError::invalid(
                    format!("{at}.statements"),
                    format!(
                        "index {k} is past the {} target statements",
                        self.target_statements.len()
                    ),
                ));
            }
        }
        Ok(())
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan document always serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{
      "title": "健康云浮行动2030规划", "area": "云浮市",
      "sections": [{"label": "（一）", "title": "实施健康知识普及行动", "span": [10, 20], "children": [], "tasks": ["t1"]}],
      "tasks": [{"id": "t1", "text": "建立完善健康科普“两库、一机制”。", "span": [21, 40],
                 "responsible": {"raw": "（市卫生健康局、市委宣传部负责）", "units": ["市卫生健康局", "市委宣传部"], "lead": "市卫生健康局", "mode": "lead_first"},
                 "targets": [0]}],
      "indicators": [{"name": "婴儿死亡率", "unit": "‰", "direction": "lower", "property": "expected", "domain": null,
                      "baseline": {"value": 2.32, "year": 2020, "text": "2.32"},
                      "targets": [{"year": 2030, "kind": "threshold", "cmp": "<=", "value": 4, "value_hi": null, "unit": "‰", "relative_to": null, "text": "4"}],
                      "references": {}, "span": -1, "source_row": 2}],
      "target_statements": [{"sentence": "到2022年，全市居民健康素养水平不低于25%。", "span": [50, 70], "year": 2022,
          "subject": "全市居民健康素养水平", "kind": "threshold", "cmp": ">=", "value": 25, "value_hi": null,
          "unit": "%", "relative_to": null, "indicator": 0}]
    }"#;

    #[test]
    fn round_trips_and_keeps_unknown_fields() {
        let doc = PlanDocument::from_json(SAMPLE).unwrap();
        assert_eq!(doc.indicators[0].extra["source_row"], 2);
        let again = PlanDocument::from_json(&doc.to_json_pretty()).unwrap();
        assert_eq!(doc, again);
    }

    #[test]
    fn refuses_dangling_references_with_path() {
        let bad = SAMPLE.replace(r#""targets": [0]"#, r#""targets": [7]"#);
        let e = PlanDocument::from_json(&bad).unwrap_err().to_string();
        assert!(e.contains("tasks[0].targets"), "{e}");
        let bad = SAMPLE.replace(r#""lead": "市卫生健康局""#, r#""lead": "市委宣传部""#);
        assert!(PlanDocument::from_json(&bad)
            .unwrap_err()
            .to_string()
            .contains("lead"));
        let e = PlanDocument::from_json("{\n\"title\": 3}")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2"), "{e}");
    }

    #[test]
    fn export_without_doubts_or_lead_is_byte_identical() {
        let doc = PlanDocument::from_json(SAMPLE).unwrap();
        let once = doc.to_json_pretty();
        assert!(!once.contains("doubts") && !once.contains("\"lead\": null"));
        let twice = PlanDocument::from_json(&once).unwrap().to_json_pretty();
        assert_eq!(once, twice);
    }

    #[test]
    fn doubts_and_indicator_lead_round_trip() {
        let with = SAMPLE
            .replace(
                r#""source_row": 2}"#,
                r#""source_row": 2, "lead": "市卫生健康局", "doubts": [{"code": "row_realigned", "detail": "第3行少一个单元格"}]}"#,
            )
            .replace(
                r#""targets": [0]}"#,
                r#""targets": [0], "doubts": [{"code": "units_split_guess", "detail": "按逗号拆分"}]}"#,
            );
        let with = format!(
            "{}, \"doubts\": [{{\"code\": \"no_indicator_table\", \"detail\": \"未找到指标表\"}}]}}",
            with.trim_end().trim_end_matches('}')
        );
        let doc = PlanDocument::from_json(&with).unwrap();
        assert_eq!(doc.indicators[0].lead.as_deref(), Some("市卫生健康局"));
        assert_eq!(doc.indicators[0].doubts[0].code, "row_realigned");
        assert_eq!(doc.tasks[0].doubts[0].code, "units_split_guess");
        assert_eq!(doc.doubts[0].code, "no_indicator_table");
        let out = doc.to_json_pretty();
        assert_eq!(PlanDocument::from_json(&out).unwrap(), doc);
        assert_eq!(PlanDocument::from_json(&out).unwrap().to_json_pretty(), out);
    }

    #[test]
    fn doubts_are_checked() {
        assert!(Doubt::new("row_realigned", "第3行").is_ok());
        assert!(Doubt::new("Row Realigned", "x").is_err());
        assert!(Doubt::new("row_realigned", " ").is_err());
        let bad = SAMPLE.replace(
            r#""targets": [0]}"#,
            r#""targets": [0], "doubts": [{"code": "Bad-Code", "detail": "x"}]}"#,
        );
        let e = PlanDocument::from_json(&bad).unwrap_err().to_string();
        assert!(e.contains("Bad-Code"), "{e}");
    }
}
