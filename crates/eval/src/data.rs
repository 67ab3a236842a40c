//! Observations, reference series and task statuses read from CSV *text* (the binary reads the
//! files). Bad rows are reported one by one, never dropped silently.

use crate::EvalError;
use healthplan_core::{PlanDocument, TargetKind, TaskStatus};
use serde::Serialize;
use std::collections::BTreeMap;

/// One refused row: 1-based line of the file, the column, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub field: String,
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column `{}`: {}",
            self.line, self.field, self.reason
        )
    }
}

/// (year, value) points, sorted by year, one per year.
pub type Series = Vec<(i32, f64)>;

/// Observed values per (indicator index, area label).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observations {
    pub series: BTreeMap<(usize, String), Series>,
}

impl Observations {
    /// Builds from loose points; later duplicates of a (indicator, area, year) are refused.
    pub fn from_points(
        points: impl IntoIterator<Item = (usize, String, i32, f64)>,
    ) -> Result<Observations, EvalError> {
        let mut o = Observations::default();
        for (i, a, y, v) in points {
            if !v.is_finite() {
                return Err(EvalError::Input(format!(
                    "value for indicator {i}, {a}, {y} is not finite"
                )));
            }
            let s = o.series.entry((i, a.clone())).or_default();
            if s.iter().any(|p| p.0 == y) {
                return Err(EvalError::Input(format!(
                    "indicator {i}, area {a}, year {y} given twice"
                )));
            }
            s.push((y, v));
        }
        for s in o.series.values_mut() {
            s.sort_by_key(|p| p.0);
        }
        Ok(o)
    }

    pub fn areas(&self) -> Vec<String> {
        let mut a: Vec<String> = self.series.keys().map(|k| k.1.clone()).collect();
        a.sort();
        a.dedup();
        a
    }

    pub fn get(&self, indicator: usize, area: &str) -> &[(i32, f64)] {
        self.series
            .get(&(indicator, area.to_string()))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Reference series (national/province averages …) per (series name, indicator index).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct References {
    pub series: BTreeMap<(String, usize), Series>,
}

impl References {
    pub fn get(&self, series: &str, indicator: usize) -> &[(i32, f64)] {
        self.series
            .get(&(series.to_string(), indicator))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Task statuses per (task id, area label).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskStatuses {
    pub status: BTreeMap<(String, String), TaskStatus>,
}

pub use healthplan_core::normalise_name;

/// Finds an indicator of the plan by code, then by normalised name.
pub fn find_indicator(plan: &PlanDocument, key: &str) -> Result<usize, String> {
    let key = key.trim();
    if key.is_empty() {
        return Err("empty indicator".into());
    }
    if let Some(i) = plan
        .indicators
        .iter()
        .position(|i| i.code.as_deref() == Some(key))
    {
        return Ok(i);
    }
    let n = normalise_name(key);
    let hits: Vec<usize> = plan
        .indicators
        .iter()
        .enumerate()
        .filter(|(_, i)| normalise_name(&i.name) == n)
        .map(|(k, _)| k)
        .collect();
    match hits.as_slice() {
        [k] => Ok(*k),
        [] => Err(format!(
            "unknown indicator {key:?}: no code or name in the plan matches"
        )),
        _ => Err(format!(
            "indicator name {key:?} matches {} indicators of the plan; use its code",
            hits.len()
        )),
    }
}

/// Whether the indicator is measured as yes / partly / no.
pub fn is_milestone(plan: &PlanDocument, i: usize) -> bool {
    plan.indicators[i]
        .targets
        .iter()
        .any(|t| t.kind == TargetKind::Milestone)
}

/// 实现 / 基本实现 / 未实现 (or yes / partly / no, 1 / 0.5 / 0) as 1, 0.5, 0.
pub fn parse_milestone(s: &str) -> Option<f64> {
    match s.trim().to_lowercase().as_str() {
        "实现" | "已实现" | "是" | "yes" | "y" | "true" | "1" | "1.0" => Some(1.0),
        "基本实现" | "部分实现" | "partly" | "partial" | "0.5" => Some(0.5),
        "未实现" | "否" | "no" | "n" | "false" | "0" | "0.0" => Some(0.0),
        _ => None,
    }
}

/// A number as written in a cell; a trailing `%` is allowed (the unit is the indicator's).
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s
        .trim()
        .trim_end_matches(['%', '％'])
        .trim()
        .replace(',', "");
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The years the plan covers: from its first baseline (or period start) to its last target.
pub fn plan_years(plan: &PlanDocument) -> Option<(i32, i32)> {
    let mut lo: Vec<i32> = plan
        .indicators
        .iter()
        .filter_map(|i| i.baseline.as_ref().and_then(|b| b.year))
        .collect();
    let mut hi: Vec<i32> = plan
        .indicators
        .iter()
        .flat_map(|i| i.targets.iter().map(|t| t.year))
        .chain(plan.target_years.iter().copied())
        .collect();
    if let Some([a, b]) = plan.period {
        lo.push(a);
        hi.push(b);
    }
    let hi = hi.into_iter().max()?;
    let lo = lo.into_iter().min().unwrap_or_else(|| {
        // No baseline year anywhere: allow the decade before the first target.
        plan.indicators
            .iter()
            .flat_map(|i| i.targets.iter().map(|t| t.year))
            .min()
            .unwrap_or(hi)
            - 10
    });
    Some((lo.min(hi), hi))
}

struct Table {
    header: Vec<String>,
    rows: Vec<(u64, Vec<String>)>,
}

fn read_table(text: &str, what: &str) -> Result<Table, EvalError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| EvalError::Input(format!("{what}: header: {e}")))?
        .iter()
        .map(|h| h.to_lowercase())
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| EvalError::Input(format!("{what}: {e}")))?;
        let line = rec.position().map_or(0, |p| p.line());
        if rec.iter().all(|c| c.is_empty()) {
            continue;
        }
        rows.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok(Table { header, rows })
}

fn column(t: &Table, names: &[&str], what: &str) -> Result<usize, EvalError> {
    t.header
        .iter()
        .position(|h| names.contains(&h.as_str()))
        .ok_or_else(|| {
            EvalError::Input(format!(
                "{what}: no column `{}` in the header {:?}",
                names[0], t.header
            ))
        })
}

fn cell(row: &[String], k: usize) -> &str {
    row.get(k).map(String::as_str).unwrap_or("")
}

/// Area labels that name the same area (a code → its name), so one area written two ways is
/// one area. Labels not in the map are kept as written.
pub type AreaNames = BTreeMap<String, String>;

fn canonical_area(areas: &AreaNames, label: &str) -> String {
    areas
        .get(label)
        .cloned()
        .unwrap_or_else(|| label.to_string())
}

/// Reads `indicator,area,year,value` rows (extra columns ignored; Chinese headers
/// 指标/地区/年份/数值 accepted). Returns the good rows and one error per bad row.
pub fn parse_values(
    plan: &PlanDocument,
    text: &str,
) -> Result<(Observations, Vec<RowError>), EvalError> {
    parse_values_in(plan, text, &AreaNames::new())
}

/// [`parse_values`] with area codes mapped to names.
pub fn parse_values_in(
    plan: &PlanDocument,
    text: &str,
    areas: &AreaNames,
) -> Result<(Observations, Vec<RowError>), EvalError> {
    let t = read_table(text, "values")?;
    let ci = column(&t, &["indicator", "指标", "indicator_code"], "values")?;
    let ca = column(&t, &["area", "地区", "区域"], "values")?;
    let cy = column(&t, &["year", "年份", "年度"], "values")?;
    let cv = column(&t, &["value", "数值", "值"], "values")?;
    let span = plan_years(plan);
    let mut errors = Vec::new();
    let mut seen: BTreeMap<(usize, String, i32), u64> = BTreeMap::new();
    let mut obs = Observations::default();
    for (line, row) in &t.rows {
        let err = |field: &str, reason: String| RowError {
            line: *line,
            field: field.into(),
            reason,
        };
        let ind = match find_indicator(plan, cell(row, ci)) {
            Ok(i) => i,
            Err(e) => {
                errors.push(err("indicator", e));
                continue;
            }
        };
        let area = canonical_area(areas, cell(row, ca));
        if area.is_empty() {
            errors.push(err("area", "empty area".into()));
            continue;
        }
        let year = match cell(row, cy).parse::<i32>() {
            Ok(y) => y,
            Err(_) => {
                errors.push(err("year", format!("{:?} is not a year", cell(row, cy))));
                continue;
            }
        };
        if let Some((lo, hi)) = span {
            if year < lo || year > hi {
                errors.push(err(
                    "year",
                    format!("{year} is outside the plan's years {lo}–{hi}"),
                ));
                continue;
            }
        }
        let raw = cell(row, cv);
        let value = if is_milestone(plan, ind) {
            parse_milestone(raw).ok_or_else(|| {
                format!("{raw:?} is not a milestone value (实现/基本实现/未实现 or 1/0.5/0)")
            })
        } else {
            parse_number(raw).ok_or_else(|| format!("{raw:?} is not a number"))
        };
        let value = match value {
            Ok(v) => v,
            Err(e) => {
                errors.push(err("value", e));
                continue;
            }
        };
        if let Some(first) = seen.insert((ind, area.clone(), year), *line) {
            errors.push(err(
                "year",
                format!(
                    "duplicate row: {} / {area} / {year} already given on line {first}",
                    plan.indicators[ind].name
                ),
            ));
            continue;
        }
        obs.series
            .entry((ind, area))
            .or_default()
            .push((year, value));
    }
    for s in obs.series.values_mut() {
        s.sort_by_key(|p| p.0);
    }
    Ok((obs, errors))
}

/// Reads `series,indicator,year,value` rows of reference series (e.g. `national_average`).
pub fn parse_references(
    plan: &PlanDocument,
    text: &str,
) -> Result<(References, Vec<RowError>), EvalError> {
    let t = read_table(text, "reference")?;
    let cs = column(&t, &["series", "序列"], "reference")?;
    let ci = column(&t, &["indicator", "指标"], "reference")?;
    let cy = column(&t, &["year", "年份"], "reference")?;
    let cv = column(&t, &["value", "数值"], "reference")?;
    let mut errors = Vec::new();
    let mut refs = References::default();
    for (line, row) in &t.rows {
        let err = |field: &str, reason: String| RowError {
            line: *line,
            field: field.into(),
            reason,
        };
        let series = cell(row, cs).to_string();
        if series.is_empty() {
            errors.push(err("series", "empty series name".into()));
            continue;
        }
        let ind = match find_indicator(plan, cell(row, ci)) {
            Ok(i) => i,
            Err(e) => {
                errors.push(err("indicator", e));
                continue;
            }
        };
        let Ok(year) = cell(row, cy).parse::<i32>() else {
            errors.push(err("year", format!("{:?} is not a year", cell(row, cy))));
            continue;
        };
        let Some(value) = parse_number(cell(row, cv)) else {
            errors.push(err("value", format!("{:?} is not a number", cell(row, cv))));
            continue;
        };
        let s = refs.series.entry((series.clone(), ind)).or_default();
        if s.iter().any(|p| p.0 == year) {
            errors.push(err(
                "year",
                format!(
                    "duplicate row: {series} / {} / {year}",
                    plan.indicators[ind].name
                ),
            ));
            continue;
        }
        s.push((year, value));
    }
    for s in refs.series.values_mut() {
        s.sort_by_key(|p| p.0);
    }
    Ok((refs, errors))
}

pub fn parse_task_status(s: &str) -> Option<TaskStatus> {
    Some(match s.trim().to_lowercase().as_str() {
        "not_started" | "未开始" | "未启动" => TaskStatus::NotStarted,
        "in_progress" | "进行中" | "推进中" => TaskStatus::InProgress,
        "completed" | "已完成" | "完成" => TaskStatus::Completed,
        "delayed" | "滞后" | "延期" | "逾期" => TaskStatus::Delayed,
        _ => return None,
    })
}

/// Reads `task,area,status` rows; `task` is a task id of the plan, an empty area means the
/// plan's own area.
pub fn parse_tasks(
    plan: &PlanDocument,
    text: &str,
) -> Result<(TaskStatuses, Vec<RowError>), EvalError> {
    parse_tasks_in(plan, text, &AreaNames::new())
}

/// [`parse_tasks`] with area codes mapped to names.
pub fn parse_tasks_in(
    plan: &PlanDocument,
    text: &str,
    areas: &AreaNames,
) -> Result<(TaskStatuses, Vec<RowError>), EvalError> {
    let t = read_table(text, "tasks")?;
    let ct = column(&t, &["task", "任务"], "tasks")?;
    let ca = column(&t, &["area", "地区"], "tasks")?;
    let cs = column(&t, &["status", "状态"], "tasks")?;
    let mut errors = Vec::new();
    let mut out = TaskStatuses::default();
    for (line, row) in &t.rows {
        let err = |field: &str, reason: String| RowError {
            line: *line,
            field: field.into(),
            reason,
        };
        let id = cell(row, ct);
        if !plan.tasks.iter().any(|t| t.id == id) {
            errors.push(err("task", format!("unknown task id {id:?}")));
            continue;
        }
        let area = match cell(row, ca) {
            "" => plan.area.clone(),
            a => canonical_area(areas, a),
        };
        let Some(st) = parse_task_status(cell(row, cs)) else {
            errors.push(err(
                "status",
                format!(
                    "{:?} is not one of not_started, in_progress, completed, delayed",
                    cell(row, cs)
                ),
            ));
            continue;
        };
        let key = (id.to_string(), area.clone());
        if out.status.contains_key(&key) {
            errors.push(err(
                "task",
                format!("duplicate row for task {id} in {area}"),
            ));
            continue;
        }
        out.status.insert(key, st);
    }
    Ok((out, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAOPING: &str = include_str!("../../cli/tests/eval_fixtures/raoping_style.json");

    fn plan() -> PlanDocument {
        PlanDocument::from_json(RAOPING).unwrap()
    }

    #[test]
    fn reads_values_by_code_or_name_and_milestones() {
        let text = "\u{feff}indicator,area,year,value\nLIT,饶平县,2021,25.4\n居民健康素养水平,饶平县,2019,20%\n婴儿 死亡率,钱东镇,2020,3.1\nMS,饶平县,2022,基本实现\n";
        let (o, e) = parse_values(&plan(), text).unwrap();
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(o.get(0, "饶平县"), &[(2019, 20.0), (2021, 25.4)]);
        assert_eq!(o.get(1, "钱东镇"), &[(2020, 3.1)]);
        assert_eq!(o.get(7, "饶平县"), &[(2022, 0.5)]);
        assert_eq!(o.areas(), vec!["钱东镇".to_string(), "饶平县".to_string()]);
    }

    #[test]
    fn reports_every_bad_row() {
        let text = "indicator,area,year,value\n\
            LIT,饶平县,2021,25.4\n\
            不存在的指标,饶平县,2021,1\n\
            LIT,饶平县,2021,26\n\
            LIT,饶平县,2022,abc\n\
            LIT,饶平县,2040,30\n\
            LIT,饶平县,20x1,30\n\
            MS,饶平县,2022,也许\n\
            LIT,,2022,30\n";
        let (o, e) = parse_values(&plan(), text).unwrap();
        let got: Vec<(u64, &str)> = e.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "indicator"),
                (4, "year"),
                (5, "value"),
                (6, "year"),
                (7, "year"),
                (8, "value"),
                (9, "area")
            ]
        );
        assert!(
            e[1].reason.contains("duplicate") && e[1].reason.contains("line 2"),
            "{}",
            e[1]
        );
        assert!(e[3].reason.contains("2017–2030"), "{}", e[3]);
        assert_eq!(o.get(0, "饶平县"), &[(2021, 25.4)]);
    }

    #[test]
    fn area_codes_become_names() {
        let areas = AreaNames::from([("445122".to_string(), "饶平县".to_string())]);
        let text = "indicator,area,year,value\nLIT,445122,2021,25.4\nLIT,饶平县,2021,25.4\nLIT,饶平县,2019,20\n";
        let (o, e) = parse_values_in(&plan(), text, &areas).unwrap();
        assert_eq!(o.areas(), vec!["饶平县".to_string()]);
        assert_eq!(e.len(), 1);
        assert!(e[0].reason.contains("duplicate") && e[0].line == 3, "{e:?}");
        let (t, _) =
            parse_tasks_in(&plan(), "task,area,status\nt1,445122,completed\n", &areas).unwrap();
        assert!(t
            .status
            .contains_key(&("t1".to_string(), "饶平县".to_string())));
    }

    #[test]
    fn missing_column_is_an_error() {
        let e = parse_values(&plan(), "indicator,area,value\nLIT,a,1\n").unwrap_err();
        assert!(e.to_string().contains("`year`"), "{e}");
    }

    #[test]
    fn references_and_tasks() {
        let (r, e) = parse_references(&plan(), "series,indicator,year,value\nnational_average,PA,2022,37.2\nnational_average,PA,2022,1\nx,PA,y,1\n").unwrap();
        assert_eq!(r.get("national_average", 6), &[(2022, 37.2)]);
        assert_eq!(e.len(), 2);
        let (t, e) = parse_tasks(&plan(), "task,area,status\nt1,,completed\nt2,钱东镇,进行中\nt9,,completed\nt1,饶平县,delayed\nt3,,done\n").unwrap();
        assert_eq!(
            t.status[&("t1".into(), "饶平县".into())],
            TaskStatus::Completed
        );
        assert_eq!(
            t.status[&("t2".into(), "钱东镇".into())],
            TaskStatus::InProgress
        );
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["task", "task", "status"]);
    }
}
