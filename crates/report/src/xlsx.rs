//! The Excel exports: data values with their workflow status and approver, the evaluation
//! results with their explanations, and the assessment with its working. Every sheet starts
//! with a 演示数据 banner when the data are synthetic.

use crate::content::lead_of;
use crate::doc::SYNTHETIC;
use crate::input::{ReportInput, ValueKey};
use crate::ReportError;
use healthplan_core::{Property, ValueStatus};
use healthplan_eval::assess::ScoreCard;
use healthplan_eval::target::BaselineSource;
use healthplan_eval::Rollup;
use rust_xlsxwriter::{Color, Format, FormatAlign, Workbook, XlsxError};

/// Which export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Export {
    /// Every observation with its status and approver.
    Values,
    /// Every indicator × area × target, the methods, forecasts, roll-ups and tasks.
    Evaluation,
    /// Rankings of areas and departments with every line of the working.
    Assessment,
}

impl Export {
    pub const ALL: [Export; 3] = [Export::Values, Export::Evaluation, Export::Assessment];

    pub fn key(self) -> &'static str {
        match self {
            Export::Values => "values",
            Export::Evaluation => "evaluation",
            Export::Assessment => "assessment",
        }
    }
}

/// One cell of an export sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Num(f64),
    /// A share 0–1 shown as a percentage.
    Pct(f64),
    /// A score, shown with two decimals.
    Score(f64),
    Empty,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn opt_num(x: Option<f64>) -> Cell {
    x.filter(|v| v.is_finite()).map_or(Cell::Empty, Cell::Num)
}

fn opt_pct(x: Option<f64>) -> Cell {
    x.filter(|v| v.is_finite()).map_or(Cell::Empty, Cell::Pct)
}

fn opt_text(s: Option<&str>) -> Cell {
    s.map_or(Cell::Empty, |s| Cell::Text(s.to_string()))
}

fn int(n: usize) -> Cell {
    Cell::Num(n as f64)
}

struct Sheet {
    name: &'static str,
    header: Vec<(&'static str, f64)>,
    rows: Vec<Vec<Cell>>,
    /// Why the sheet has no rows, printed in it when it has none.
    empty: &'static str,
}

fn xlsx_err(e: XlsxError) -> ReportError {
    ReportError::Xlsx(e.to_string())
}

fn write(sheets: Vec<Sheet>, synthetic: bool) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_text_wrap()
        .set_align(FormatAlign::Center);
    let banner = Format::new()
        .set_bold()
        .set_font_color(Color::RGB(0xC00000));
    let pct = Format::new().set_num_format("0.0%");
    let score = Format::new().set_num_format("0.00");
    let wrap = Format::new().set_text_wrap();
    for s in sheets {
        let ws = wb.add_worksheet();
        ws.set_name(s.name).map_err(xlsx_err)?;
        let cols = s.header.len().max(1) as u16;
        let mut row: u32 = 0;
        if synthetic {
            let label = format!("{SYNTHETIC}：本表数据为合成的演示数据，不反映实际情况");
            if cols > 1 {
                ws.merge_range(0, 0, 0, cols - 1, &label, &banner)
                    .map_err(xlsx_err)?;
            } else {
                ws.write_string_with_format(0, 0, &label, &banner)
                    .map_err(xlsx_err)?;
            }
            row = 1;
        }
        for (c, (h, w)) in s.header.iter().enumerate() {
            ws.write_string_with_format(row, c as u16, *h, &head)
                .map_err(xlsx_err)?;
            ws.set_column_width(c as u16, *w).map_err(xlsx_err)?;
        }
        let header_row = row;
        ws.set_freeze_panes(header_row + 1, 0).map_err(xlsx_err)?;
        for r in &s.rows {
            row += 1;
            for (c, cell) in r.iter().enumerate() {
                let c = c as u16;
                match cell {
                    Cell::Text(t) if t.chars().count() > 40 => {
                        ws.write_string_with_format(row, c, t, &wrap)
                    }
                    Cell::Text(t) => ws.write_string(row, c, t),
                    Cell::Num(x) => ws.write_number(row, c, *x),
                    Cell::Pct(x) => ws.write_number_with_format(row, c, *x, &pct),
                    Cell::Score(x) => ws.write_number_with_format(row, c, *x, &score),
                    Cell::Empty => continue,
                }
                .map_err(xlsx_err)?;
            }
        }
        if s.rows.is_empty() {
            ws.write_string(header_row + 1, 0, format!("（本表无数据：{}）", s.empty))
                .map_err(xlsx_err)?;
        } else {
            ws.autofilter(header_row, 0, row, cols - 1)
                .map_err(xlsx_err)?;
        }
    }
    wb.save_to_buffer().map_err(xlsx_err)
}

pub fn value_status_zh(s: ValueStatus) -> &'static str {
    match s {
        ValueStatus::Draft => "草稿",
        ValueStatus::Submitted => "已报送",
        ValueStatus::Approved => "已审核",
        ValueStatus::Returned => "已退回",
    }
}

fn property_zh(p: Option<Property>) -> &'static str {
    match p {
        Some(Property::Binding) => "约束性",
        Some(Property::Expected) => "预期性",
        Some(Property::Advocacy) => "倡导性",
        None => "",
    }
}

fn baseline_source_zh(s: BaselineSource) -> &'static str {
    match s {
        BaselineSource::Plan => "规划基线",
        BaselineSource::AreaObservation => "本地区基线年监测值",
        BaselineSource::EarliestObservation => "最早监测值（规划无基线）",
    }
}

/// A method's name as the report's methods attachment gives it.
fn method_zh(key: &str) -> &str {
    match key {
        "eurostat" => "欧盟统计局（Eurostat）",
        "unsd2022" => "联合国统计司（UNSD 2022）",
        "unsd2023" => "联合国统计司（UNSD 2023）",
        "sdsn" => "可持续发展解决方案网络（SDSN）",
        "escap" => "联合国亚太经社会（UNESCAP）",
        "ols" => "线性回归",
        "linear" => "直线外推",
        other => other,
    }
}

fn values_sheet(input: &ReportInput) -> Sheet {
    let year = input.year();
    let mut rows = Vec::new();
    for r in &input.evaluation().results {
        for p in &r.observations {
            let meta = input.values.get(&ValueKey {
                indicator: r.indicator,
                area: r.area.clone(),
                year: p.year,
            });
            rows.push(vec![
                int(r.indicator + 1),
                opt_text(r.code.as_deref()),
                text(&r.name),
                opt_text(r.unit.as_deref()),
                text(input.area_name(&r.area)),
                Cell::Num(p.year as f64),
                Cell::Num(p.value),
                text(if p.year <= year { "是" } else { "否" }),
                opt_text(meta.and_then(|m| m.status).map(value_status_zh)),
                opt_text(meta.and_then(|m| m.approver.as_deref())),
                opt_text(meta.and_then(|m| m.approved_at.as_deref())),
                opt_text(meta.and_then(|m| m.comment.as_deref())),
            ]);
        }
    }
    Sheet {
        name: "数据值",
        header: vec![
            ("指标序号", 8.0),
            ("指标编码", 10.0),
            ("指标", 36.0),
            ("单位", 8.0),
            ("地区", 14.0),
            ("年份", 8.0),
            ("数值", 10.0),
            ("参与本年度评估", 10.0),
            ("审核状态", 10.0),
            ("审核人", 12.0),
            ("审核时间", 12.0),
            ("备注", 30.0),
        ],
        rows,
        empty: "本规划的指标尚无监测值",
    }
}

fn results_sheet(input: &ReportInput) -> Sheet {
    let plan = input.plan();
    let mut rows = Vec::new();
    for r in &input.evaluation().results {
        let lead = lead_of(plan, r.indicator);
        let common = |rows: &mut Vec<Vec<Cell>>, t: Option<&healthplan_eval::TargetAssessment>| {
            let headline = t.is_none_or(|t| Some(t.year) == r.headline_year);
            rows.push(vec![
                text(input.area_name(&r.area)),
                int(r.indicator + 1),
                opt_text(r.code.as_deref()),
                text(&r.name),
                opt_text(r.domain.as_deref()),
                opt_text(r.unit.as_deref()),
                text(property_zh(r.property)),
                opt_text(lead.as_deref()),
                t.map_or(Cell::Empty, |t| Cell::Num(t.year as f64)),
                opt_text(t.map(|t| t.text.as_str())),
                opt_num(t.and_then(|t| t.goal)),
                opt_num(t.and_then(|t| t.baseline.map(|b| b.value))),
                t.and_then(|t| t.baseline)
                    .map_or(Cell::Empty, |b| Cell::Num(b.year as f64)),
                opt_text(t.and_then(|t| t.baseline.map(|b| baseline_source_zh(b.source)))),
                opt_num(t.and_then(|t| t.latest.map(|p| p.value))),
                t.and_then(|t| t.latest)
                    .map_or(Cell::Empty, |p| Cell::Num(p.year as f64)),
                opt_pct(t.and_then(|t| t.p)),
                opt_pct(t.and_then(|t| t.s)),
                t.and_then(|t| t.r)
                    .filter(|r| r.is_finite())
                    .map_or(Cell::Empty, Cell::Score),
                text(t.map_or(r.status_zh, |t| t.status_zh)),
                text(if headline { "是" } else { "否" }),
                text(t.map_or(r.explanation_zh.as_str(), |t| t.explanation_zh.as_str())),
                opt_text(t.and_then(|t| t.reason_zh.as_deref())),
                opt_text(t.and_then(|t| t.resolution_zh.as_deref())),
            ]);
        };
        if r.targets.is_empty() {
            common(&mut rows, None);
        }
        for t in &r.targets {
            common(&mut rows, Some(t));
        }
    }
    Sheet {
        name: "评估结果",
        header: vec![
            ("地区", 12.0),
            ("指标序号", 8.0),
            ("指标编码", 10.0),
            ("指标", 30.0),
            ("领域", 12.0),
            ("单位", 8.0),
            ("属性", 8.0),
            ("牵头单位", 14.0),
            ("目标年", 8.0),
            ("目标", 14.0),
            ("目标值V", 9.0),
            ("基线值", 9.0),
            ("基线年", 8.0),
            ("基线来源", 14.0),
            ("最新值", 9.0),
            ("最新值年份", 9.0),
            ("完成进程p", 10.0),
            ("时间进度s", 10.0),
            ("进度比r", 9.0),
            ("状态", 10.0),
            ("总体状态", 8.0),
            ("说明", 60.0),
            ("无法评估原因", 30.0),
            ("目标换算", 30.0),
        ],
        rows,
        empty: "本规划没有可评估的指标",
    }
}

fn methods_sheet(input: &ReportInput) -> Sheet {
    let mut rows = Vec::new();
    for r in &input.evaluation().results {
        for t in &r.targets {
            for m in &t.methods {
                rows.push(vec![
                    text(input.area_name(&r.area)),
                    text(&r.name),
                    Cell::Num(t.year as f64),
                    text(method_zh(m.method)),
                    text(m.label_zh),
                    m.ratio
                        .filter(|r| r.is_finite())
                        .map_or(Cell::Empty, Cell::Score),
                    text(if m.fallback_linear { "是" } else { "否" }),
                    text(&m.explanation_zh),
                ]);
            }
        }
    }
    Sheet {
        name: "方法对照",
        header: vec![
            ("地区", 12.0),
            ("指标", 30.0),
            ("目标年", 8.0),
            ("方法", 10.0),
            ("结论", 14.0),
            ("比值或指数", 12.0),
            ("改用线性", 8.0),
            ("说明", 70.0),
        ],
        rows,
        empty: "没有可用国际方法计算的指标（缺少基线、目标或最新值，或为定性、里程碑目标）",
    }
}

fn forecasts_sheet(input: &ReportInput) -> Sheet {
    let mut rows = Vec::new();
    for r in &input.evaluation().results {
        for t in &r.targets {
            if let Some(f) = &t.forecast {
                rows.push(vec![
                    text(input.area_name(&r.area)),
                    text(&r.name),
                    Cell::Num(f.year as f64),
                    text(method_zh(f.method)),
                    int(f.points),
                    Cell::Num(f.value),
                    opt_num(f.lower),
                    opt_num(f.upper),
                    f.confidence.map_or(Cell::Empty, Cell::Pct),
                    f.probability.map_or(Cell::Empty, Cell::Pct),
                    text(&f.explanation_zh),
                ]);
            }
        }
    }
    Sheet {
        name: "趋势预测",
        header: vec![
            ("地区", 12.0),
            ("指标", 30.0),
            ("目标年", 8.0),
            ("方法", 8.0),
            ("数据点", 8.0),
            ("预测值", 10.0),
            ("区间下限", 10.0),
            ("区间上限", 10.0),
            ("置信水平", 9.0),
            ("达标概率", 9.0),
            ("说明", 70.0),
        ],
        rows,
        empty: "没有可预测的指标：目标年份已到，或数据点少于2个，或为里程碑目标",
    }
}

fn rollup_row(area: &str, scope: &str, r: &Rollup) -> Vec<Cell> {
    let mut row = vec![text(area), text(scope), int(r.total)];
    for s in healthplan_eval::Status::ALL {
        row.push(int(r.counts.get(s.key()).copied().unwrap_or(0)));
    }
    row.extend([
        int(r.assessed),
        r.share_achieved_or_on_track.map_or(Cell::Empty, Cell::Pct),
        r.progress_index.map_or(Cell::Empty, Cell::Score),
        text(&r.explanation_zh),
    ]);
    row
}

fn rollups_sheet(input: &ReportInput) -> Sheet {
    let ev = input.evaluation();
    let mut rows = vec![rollup_row("全部", "全部地区", &ev.rollups.plan)];
    for a in &ev.rollups.areas {
        let name = input.area_name(&a.area);
        rows.push(rollup_row(name, "合计", &a.total));
        for d in &a.domains {
            rows.push(rollup_row(name, &d.scope, d));
        }
    }
    let mut header = vec![("地区", 12.0), ("范围", 14.0), ("指标数", 8.0)];
    header.extend(healthplan_eval::Status::ALL.map(|s| (s.zh(), 8.0)));
    header.extend([
        ("可评估", 8.0),
        ("达标或进度正常占比", 12.0),
        ("进展指数", 9.0),
        ("说明", 70.0),
    ]);
    Sheet {
        name: "汇总",
        header,
        rows,
        empty: "本规划没有可汇总的指标",
    }
}

fn tasks_sheet(input: &ReportInput) -> Sheet {
    let rows = input
        .evaluation()
        .task_completion
        .iter()
        .flatten()
        .map(|t| {
            vec![
                text(input.area_name(&t.area)),
                text(&t.lead),
                int(t.total),
                int(t.completed),
                int(t.in_progress),
                int(t.delayed),
                int(t.not_started),
                int(t.no_report),
                Cell::Pct(t.completion_rate),
            ]
        })
        .collect();
    Sheet {
        name: "任务完成",
        header: vec![
            ("地区", 12.0),
            ("牵头单位", 24.0),
            ("任务数", 8.0),
            ("已完成", 8.0),
            ("按期推进", 8.0),
            ("滞后", 8.0),
            ("未开始", 8.0),
            ("未报送", 8.0),
            ("完成率", 9.0),
        ],
        rows,
        empty: "本次没有提供任务进展数据",
    }
}

fn ranking_sheet(
    input: &ReportInput,
    name: &'static str,
    who: &'static str,
    cards: &[ScoreCard],
    area: bool,
) -> Sheet {
    let rows = cards
        .iter()
        .map(|c| {
            let notes: Vec<&str> = [&c.indicator_part.note_zh, &c.task_part.note_zh]
                .into_iter()
                .flatten()
                .map(String::as_str)
                .collect();
            let part = |p: &healthplan_eval::assess::Part| {
                if p.scored {
                    (Cell::Score(p.points), Cell::Score(p.max))
                } else {
                    (text("不计分"), Cell::Empty)
                }
            };
            let (ip, im) = part(&c.indicator_part);
            let (tp, tm) = part(&c.task_part);
            vec![
                text(&c.rank_zh),
                text(if area {
                    input.area_name(&c.name)
                } else {
                    &c.name
                }),
                Cell::Score(c.total),
                Cell::Score(c.max),
                c.percent.map_or(Cell::Empty, |p| Cell::Pct(p / 100.0)),
                ip,
                im,
                tp,
                tm,
                text(&c.explanation_zh),
                text(notes.join("；")),
            ]
        })
        .collect();
    Sheet {
        name,
        header: vec![
            ("名次", 6.0),
            (who, 20.0),
            ("得分", 9.0),
            ("满分", 8.0),
            ("得分率", 9.0),
            ("指标部分得分", 10.0),
            ("指标部分满分", 10.0),
            ("任务部分得分", 10.0),
            ("任务部分满分", 10.0),
            ("说明", 44.0),
            ("备注", 40.0),
        ],
        rows,
        empty: "没有可排名的考核对象",
    }
}

/// A working line's item: a task by its text, an indicator by its name.
fn item_text<'a>(input: &'a ReportInput, w: &'a healthplan_eval::assess::WorkingLine) -> &'a str {
    if w.part == "task" {
        if let Some(t) = input.plan().tasks.iter().find(|t| t.id == w.item) {
            return t.text.trim();
        }
    }
    &w.item
}

fn working_sheet(input: &ReportInput) -> Sheet {
    let a = input.assessment();
    let mut rows = Vec::new();
    for (kind, cards, area) in [
        ("地区", &a.areas, true),
        ("牵头单位", &a.departments, false),
    ] {
        for c in cards {
            for w in &c.working {
                rows.push(vec![
                    text(kind),
                    text(if area {
                        input.area_name(&c.name)
                    } else {
                        &c.name
                    }),
                    text(if w.part == "indicator" {
                        "约束性指标"
                    } else {
                        "重点任务"
                    }),
                    text(item_text(input, w)),
                    text(&w.status_zh),
                    Cell::Num(w.weight),
                    Cell::Score(w.available),
                    Cell::Num(w.multiplier),
                    Cell::Score(w.points),
                    text(&w.text_zh),
                ]);
            }
        }
    }
    Sheet {
        name: "计分明细",
        header: vec![
            ("考核对象", 10.0),
            ("名称", 18.0),
            ("部分", 10.0),
            ("项目", 30.0),
            ("状态", 12.0),
            ("权重", 7.0),
            ("分值", 8.0),
            ("系数", 7.0),
            ("得分", 8.0),
            ("计算过程", 50.0),
        ],
        rows,
        empty: "没有可计分的考核对象",
    }
}

fn scheme_sheet(input: &ReportInput) -> Sheet {
    let s = &input.assessment().scheme;
    let im = &s.indicator_multipliers;
    let tm = &s.task_multipliers;
    let mut rows: Vec<Vec<Cell>> = [
        ("约束性指标部分分值", s.indicator_points),
        ("重点任务部分分值", s.task_points),
        ("系数：已达标", im.achieved),
        ("系数：进度正常", im.on_track),
        ("系数：进度滞后", im.moderate),
        ("系数：严重滞后", im.insufficient),
        ("系数：逆向变化", im.moving_away),
        ("系数：无数据", im.no_data),
        ("系数：任务已完成", tm.completed),
        ("系数：任务按期推进", tm.in_progress),
        ("系数：任务滞后", tm.delayed),
        ("系数：任务未开始或未报送", tm.not_started),
    ]
    .iter()
    .map(|(k, v)| vec![text(*k), Cell::Num(*v)])
    .collect();
    for (k, w) in &s.weights {
        rows.push(vec![text(format!("权重：{k}")), Cell::Num(*w)]);
    }
    Sheet {
        name: "计分方案",
        header: vec![("项目", 30.0), ("数值", 10.0)],
        rows,
        empty: "未设置计分方案",
    }
}

/// The XLSX file of one export.
pub fn to_xlsx(input: &ReportInput, what: Export) -> Result<Vec<u8>, ReportError> {
    let a = input.assessment();
    let sheets = match what {
        Export::Values => vec![values_sheet(input)],
        Export::Evaluation => vec![
            results_sheet(input),
            methods_sheet(input),
            forecasts_sheet(input),
            rollups_sheet(input),
            tasks_sheet(input),
        ],
        Export::Assessment => vec![
            ranking_sheet(input, "地区排名", "地区", &a.areas, true),
            ranking_sheet(input, "牵头单位排名", "牵头单位", &a.departments, false),
            working_sheet(input),
            scheme_sheet(input),
        ],
    };
    write(sheets, input.synthetic)
}
