//! `healthplan evaluate | assess | align`: read the files, call healthplan-eval, print.

use crate::Globals;
use anyhow::{anyhow, bail, Context};
use healthplan_core::PlanDocument;
use healthplan_eval::{
    self as eval, data, evaluate::EvaluationInput, AlignmentReport, Assessment, PlanEvaluation,
    RowError, Settings,
};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Default,
    Eurostat,
    Unsd2022,
    Unsd2023,
    Sdsn,
    Escap,
}

impl Method {
    fn key(self) -> &'static str {
        match self {
            Method::Default => "default",
            Method::Eurostat => "eurostat",
            Method::Unsd2022 => "unsd2022",
            Method::Unsd2023 => "unsd2023",
            Method::Sdsn => "sdsn",
            Method::Escap => "escap",
        }
    }
}

/// The plan and data files every judging command reads (evaluate, assess, report, export).
#[derive(clap::Args, Debug)]
pub struct Inputs {
    /// A stored plan's id, or a plan interchange JSON file.
    #[arg(long)]
    pub plan: String,
    /// Observations: CSV with columns indicator,area,year,value (indicator by code or name).
    /// Without it a stored plan is evaluated on the approved values stored for its linked
    /// data elements, in its area and every area below.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Reference series (national/province averages): CSV series,indicator,year,value.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Task statuses: CSV task,area,status (not_started|in_progress|completed|delayed).
    #[arg(long)]
    pub tasks: Option<PathBuf>,
    /// Settings (status thresholds, method cuts, assessment scheme) as TOML.
    #[arg(long)]
    pub scheme: Option<PathBuf>,
    /// Evaluate the good rows even when some rows are refused (they are still reported).
    #[arg(long)]
    pub allow_partial: bool,
}

/// Inputs shared by `evaluate` and `assess`.
#[derive(clap::Args, Debug)]
pub struct DataArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Evaluate with the observations up to this year.
    #[arg(long)]
    pub as_of: i32,
    /// Print JSON (see docs/evaluation-output.md) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// The method whose verdict the table shows; JSON always carries every method.
    #[arg(long, value_enum, default_value = "default")]
    pub method: Method,
}

#[derive(clap::Args, Debug)]
pub struct AssessArgs {
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(clap::Args, Debug)]
pub struct AlignArgs {
    /// The child plan: a stored plan's id or an interchange JSON file.
    #[arg(long)]
    pub child: String,
    /// The parent plan (id or file). Without it only the child's reference columns are used.
    #[arg(long)]
    pub parent: Option<String>,
    /// Settings TOML; its [alignment] synonyms list is used to match indicator names.
    #[arg(long)]
    pub scheme: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// A text file as a person saves it: UTF-8 (BOM or not) or GB18030 (Chinese Excel's CSV).
pub fn read_text(path: &Path) -> anyhow::Result<String> {
    let name = path.display().to_string();
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {name}"))?;
    Ok(healthplan_app::text::decode_text(&name, &bytes)?)
}

/// Area code → name from the store's area registry, when a store is configured or exists;
/// so values.csv may name an area by code or by name.
async fn area_names(g: &Globals) -> data::AreaNames {
    let config = healthplan_store::StoreConfig::new(&g.data_dir, g.database_url.clone());
    if config.database_url.is_none() && !config.sqlite_path().exists() {
        return data::AreaNames::new();
    }
    let areas = match crate::store::open(g).await {
        Ok(store) => store.list_areas().await,
        Err(e) => {
            eprintln!("warning: area codes are not mapped to names: {e:#}");
            return data::AreaNames::new();
        }
    };
    match areas {
        Ok(list) => list
            .into_iter()
            .map(|a| (a.code.as_str().to_string(), a.name))
            .collect(),
        Err(e) => {
            eprintln!("warning: area codes are not mapped to names: {e:#}");
            data::AreaNames::new()
        }
    }
}

/// A plan from a JSON file, or from the store when the argument is an id.
async fn load_plan(spec: &str, g: &Globals) -> anyhow::Result<PlanDocument> {
    let path = Path::new(spec);
    if path.is_file() {
        let text = read_text(path)?;
        let doc = PlanDocument::from_json(&text).map_err(|e| anyhow!("{spec}: {e}"))?;
        if doc.indicators.is_empty() && doc.tasks.is_empty() {
            bail!("{spec}: no indicators and no tasks; is this a plan interchange JSON?");
        }
        return Ok(doc);
    }
    match spec.parse::<i64>() {
        Ok(id) => {
            let store = crate::store::open(g).await?;
            let local = crate::store::Local::of(&store).await?;
            let doc = store
                .plan(&local.reader(), id)
                .await
                .with_context(|| format!("cannot read plan {id} from the store"))?;
            Ok(doc)
        }
        Err(_) => bail!("{spec}: no such file, and not a plan id"),
    }
}

fn load_settings(scheme: Option<&Path>) -> anyhow::Result<Settings> {
    match scheme {
        None => Ok(Settings::default()),
        Some(p) => Settings::from_toml(&read_text(p)?).map_err(|e| anyhow!("{}: {e}", p.display())),
    }
}

/// Every refused row on stderr; an error unless `--allow-partial`.
fn check_rows(file: &Path, errors: &[RowError], allow_partial: bool) -> anyhow::Result<()> {
    if errors.is_empty() {
        return Ok(());
    }
    for e in errors {
        eprintln!("{}: {e}", file.display());
    }
    if !allow_partial {
        bail!(
            "{}: {} bad row(s); nothing was evaluated (fix them, or pass --allow-partial to evaluate the good rows)",
            file.display(),
            errors.len()
        );
    }
    eprintln!(
        "warning: {}: {} row(s) left out (--allow-partial)",
        file.display(),
        errors.len()
    );
    Ok(())
}

/// Everything a judging command works from, gathered in one place.
pub struct Loaded {
    pub plan: PlanDocument,
    pub settings: Settings,
    pub evaluation: PlanEvaluation,
    pub tasks: Option<eval::TaskStatuses>,
    pub rejected: Vec<(String, RowError)>,
    /// The observations file as read, for columns beyond the evaluation's (status, approver).
    pub data_text: String,
    /// Area code → name from the store's registry (empty without a store).
    pub area_names: data::AreaNames,
}

/// Reads the plan, settings and data files and evaluates the plan as of `as_of`; the one
/// loader behind evaluate, assess, report and export.
pub async fn load_and_evaluate(a: &Inputs, as_of: i32, g: &Globals) -> anyhow::Result<Loaded> {
    if !(1900..=2100).contains(&as_of) {
        bail!("{as_of}: not a plausible year (--as-of / --year)");
    }
    let settings = load_settings(a.scheme.as_deref())?;
    let Some(data) = &a.data else {
        return evaluate_stored(a, as_of, g, settings).await;
    };
    let plan = load_plan(&a.plan, g).await?;
    let mut rejected = Vec::new();
    let mut all_errors = Vec::new();
    let areas = area_names(g).await;
    let data_text = read_text(data)?;
    let (obs, errs) = data::parse_values_in(&plan, &data_text, &areas)
        .map_err(|e| anyhow!("{}: {e}", data.display()))?;
    all_errors.push((data.clone(), errs));
    let refs = match &a.reference {
        None => eval::References::default(),
        Some(p) => {
            let (r, errs) = data::parse_references(&plan, &read_text(p)?)
                .map_err(|e| anyhow!("{}: {e}", p.display()))?;
            all_errors.push((p.clone(), errs));
            r
        }
    };
    let tasks = match &a.tasks {
        None => None,
        Some(p) => {
            let (t, errs) = data::parse_tasks_in(&plan, &read_text(p)?, &areas)
                .map_err(|e| anyhow!("{}: {e}", p.display()))?;
            all_errors.push((p.clone(), errs));
            Some(t)
        }
    };
    // Report every file's rows before refusing.
    let mut failure = None;
    for (file, errs) in &all_errors {
        if let Err(e) = check_rows(file, errs, a.allow_partial) {
            failure.get_or_insert(e);
        }
        rejected.extend(errs.iter().map(|e| (file.display().to_string(), e.clone())));
    }
    if let Some(e) = failure {
        return Err(e);
    }
    let evaluation = eval::evaluate(&EvaluationInput {
        plan: &plan,
        tree: &Default::default(),
        observations: &obs,
        references: &refs,
        tasks: tasks.as_ref(),
        as_of,
        settings: &settings,
    });
    Ok(Loaded {
        plan,
        settings,
        evaluation,
        tasks,
        rejected,
        data_text,
        area_names: areas,
    })
}

/// A stored plan on the stored, approved values (no files).
async fn evaluate_stored(
    a: &Inputs,
    as_of: i32,
    g: &Globals,
    settings: Settings,
) -> anyhow::Result<Loaded> {
    if a.reference.is_some() || a.tasks.is_some() {
        bail!("--reference and --tasks go with --data; stored evaluation reads the stored task reports");
    }
    let Ok(id) = a.plan.parse::<i64>() else {
        bail!(
            "{}: without --data the plan must be a stored plan's id (see `healthplan plan list`)",
            a.plan
        );
    };
    let store = crate::store::open(g).await?;
    let app = healthplan_app::App::open(store).await?;
    let caps = app.local_caps(&crate::store::actor());
    let run = app
        .evaluate_plan(&caps.reader(), id, as_of, &settings)
        .await
        .with_context(|| format!("cannot evaluate plan {id}"))?;
    if run.values_used == 0 {
        eprintln!(
            "warning: plan {id} has no approved yearly values up to {as_of} for its indicators"
        );
    }
    let tasks = (!run.tasks.status.is_empty()).then_some(run.tasks);
    Ok(Loaded {
        plan: run.plan,
        settings,
        evaluation: run.evaluation,
        tasks,
        rejected: Vec::new(),
        data_text: String::new(),
        area_names: run
            .scope
            .areas
            .iter()
            .map(|(name, code)| (code.to_string(), name.clone()))
            .collect(),
    })
}

/// Output is gathered and written once, so a closed pipe (`| head`) ends quietly.
macro_rules! outln {
    ($o:expr, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = writeln!($o, $($t)*);
    }};
}
macro_rules! outp {
    ($o:expr, $($t:tt)*) => {{
        use std::fmt::Write as _;
        let _ = write!($o, $($t)*);
    }};
}

fn emit(o: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(o.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("cannot write to stdout"),
    }
}

fn rejected_json(rejected: &[(String, RowError)]) -> Value {
    Value::Array(
        rejected
            .iter()
            .map(|(f, e)| json!({"file": f, "line": e.line, "field": e.field, "reason": e.reason}))
            .collect(),
    )
}

/// Display width: CJK and full-width characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn table(rows: &[Vec<String>]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|k| {
            rows.iter()
                .map(|r| r.get(k).map_or(0, |c| width(c)))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let last = r.len().saturating_sub(1);
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(k, c)| {
                if k == last {
                    c.clone()
                } else {
                    pad(c, widths[k])
                }
            })
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map(f).unwrap_or_else(|| "—".into())
}

pub async fn evaluate(a: EvaluateArgs, g: &Globals) -> anyhow::Result<()> {
    let mut o = String::new();
    let l = load_and_evaluate(&a.data.inputs, a.data.as_of, g).await?;
    let ev = &l.evaluation;
    if a.data.json {
        let mut v = serde_json::to_value(ev)?;
        v["method"] = json!(a.method.key());
        v["rejected_rows"] = rejected_json(&l.rejected);
        outln!(o, "{}", serde_json::to_string_pretty(&v)?);
        return emit(&o);
    }
    outln!(
        o,
        "{} — {}年评估（方法：{}）",
        if ev.plan.is_empty() { "plan" } else { &ev.plan },
        ev.as_of,
        a.method.key()
    );
    for area in &ev.areas {
        outln!(o, "\n【{area}】");
        let mut rows = vec![vec![
            "指标".to_string(),
            "目标".into(),
            "最新值".into(),
            "p".into(),
            "s".into(),
            "r".into(),
            "状态".into(),
            "说明".into(),
        ]];
        for r in ev.results.iter().filter(|r| &r.area == area) {
            let Some(h) = r.headline() else {
                rows.push(vec![
                    r.name.clone(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    "—".into(),
                    r.status_zh.into(),
                    r.explanation_zh.clone(),
                ]);
                continue;
            };
            let unit = r.unit.clone().unwrap_or_default();
            let (label, text) = match a.method {
                Method::Default => (
                    r.status_zh.to_string(),
                    format!("{}。{}", r.summary_zh, h.explanation_zh),
                ),
                m => match h.methods.iter().find(|x| x.method == m.key()) {
                    Some(x) => (x.label_zh.to_string(), x.explanation_zh.clone()),
                    None => (r.status_zh.to_string(), h.explanation_zh.clone()),
                },
            };
            rows.push(vec![
                format!("{}{}", if r.binding { "★" } else { "" }, r.name),
                format!(
                    "{} {}",
                    h.year,
                    h.condition
                        .map_or_else(|| h.text.clone(), |c| c.describe(Some(&unit)))
                ),
                h.latest.map_or("—".into(), |p| {
                    if h.condition == Some(eval::Condition::Milestone) {
                        format!("{} ({})", eval::target::milestone_label(p.value), p.year)
                    } else {
                        format!("{} ({})", p.value, p.year)
                    }
                }),
                opt(h.p, |x| format!("{x:.4}")),
                opt(h.s, |x| format!("{x:.4}")),
                opt(h.r, |x| format!("{x:.2}")),
                label,
                text,
            ]);
        }
        outp!(o, "{}", table(&rows));
        if let Some(ar) = ev.rollups.areas.iter().find(|x| &x.area == area) {
            let t = &ar.total;
            outln!(o, "{}", t.explanation_zh);
            for d in ar
                .domains
                .iter()
                .filter(|d| ar.domains.len() > 1 || d.scope != t.scope)
            {
                outln!(o, "  {}", d.explanation_zh);
            }
            if !t.binding.is_empty() {
                let b: Vec<String> = t
                    .binding
                    .iter()
                    .map(|b| format!("{} {}", b.indicator, b.status_zh))
                    .collect();
                outln!(o, "约束性指标（★）：{}", b.join("；"));
            }
        }
    }
    if let Some(tc) = &ev.task_completion {
        outln!(o, "\n任务完成情况（按牵头单位）");
        let mut rows = vec![vec![
            "地区".to_string(),
            "牵头单位".into(),
            "任务".into(),
            "已完成".into(),
            "进行中".into(),
            "滞后".into(),
            "未开始".into(),
            "未报送".into(),
        ]];
        for c in tc {
            rows.push(vec![
                c.area.clone(),
                c.lead.clone(),
                c.total.to_string(),
                c.completed.to_string(),
                c.in_progress.to_string(),
                c.delayed.to_string(),
                c.not_started.to_string(),
                c.no_report.to_string(),
            ]);
        }
        outp!(o, "{}", table(&rows));
    }
    emit(&o)
}

fn print_cards(o: &mut String, title: &str, cards: &[eval::ScoreCard]) {
    outln!(o, "\n{title}");
    if cards.is_empty() {
        outln!(o, "（无）");
        return;
    }
    let mut rows = vec![vec![
        "名次".to_string(),
        "名称".into(),
        "得分".into(),
        "满分".into(),
        "得分率".into(),
        "指标部分".into(),
        "任务部分".into(),
    ]];
    let part = |p: &eval::assess::Part| {
        if p.scored {
            format!("{:.2}/{}", p.points, p.max)
        } else {
            "不计分".into()
        }
    };
    for c in cards {
        rows.push(vec![
            c.rank.to_string(),
            c.name.clone(),
            format!("{:.2}", c.total),
            format!("{}", c.max),
            opt(c.percent, |x| format!("{x:.1}%")),
            part(&c.indicator_part),
            part(&c.task_part),
        ]);
    }
    outp!(o, "{}", table(&rows));
    for c in cards {
        outln!(o, "\n  {}. {}。计分过程：", c.rank, c.explanation_zh);
        for note in [&c.indicator_part.note_zh, &c.task_part.note_zh]
            .into_iter()
            .flatten()
        {
            outln!(o, "    · {note}");
        }
        for w in &c.working {
            outln!(o, "    · {}", w.text_zh);
        }
    }
}

pub async fn assess(a: AssessArgs, g: &Globals) -> anyhow::Result<()> {
    let mut o = String::new();
    let l = load_and_evaluate(&a.data.inputs, a.data.as_of, g).await?;
    let result: Assessment = eval::assess(&l.plan, &l.evaluation, l.tasks.as_ref(), &l.settings);
    if a.data.json {
        let mut v = serde_json::to_value(&result)?;
        v["rejected_rows"] = rejected_json(&l.rejected);
        outln!(o, "{}", serde_json::to_string_pretty(&v)?);
        return emit(&o);
    }
    outln!(
        o,
        "{} — {}年考核（指标{}分 + 任务{}分）",
        if result.plan.is_empty() {
            "plan"
        } else {
            &result.plan
        },
        result.as_of,
        result.scheme.indicator_points,
        result.scheme.task_points
    );
    print_cards(&mut o, "各地区排名", &result.areas);
    print_cards(&mut o, "各牵头单位排名", &result.departments);
    emit(&o)
}

fn print_alignment(o: &mut String, title: &str, r: &AlignmentReport) {
    outln!(o, "\n{title}");
    let mut rows = vec![vec![
        "指标".to_string(),
        "年份".into(),
        "对照".into(),
        "下级目标".into(),
        "对照目标".into(),
        "结论".into(),
        "理由".into(),
    ]];
    for l in &r.lines {
        rows.push(vec![
            l.indicator.clone(),
            l.year.to_string(),
            match l.parent_year {
                Some(y) => format!("{} {y}", l.against),
                None => l.against.clone(),
            },
            l.child_resolved
                .clone()
                .unwrap_or_else(|| l.child_target.clone()),
            l.parent_resolved
                .clone()
                .or_else(|| l.parent_target.clone())
                .unwrap_or_else(|| "—".into()),
            l.result_zh.to_string(),
            l.reason_zh.clone(),
        ]);
    }
    outp!(o, "{}", table(&rows));
    let c = &r.counts;
    outln!(
        o,
        "更严格 {}，一致 {}，较宽松 {}，不可比 {}",
        c["stricter"],
        c["equal"],
        c["weaker"],
        c["not_comparable"]
    );
    if !r.unmatched.is_empty() {
        outln!(o, "上级无对应指标：{}", r.unmatched.join("、"));
    }
}

pub async fn align(a: AlignArgs, g: &Globals) -> anyhow::Result<()> {
    let mut o = String::new();
    let settings = load_settings(a.scheme.as_deref())?;
    let child = load_plan(&a.child, g).await?;
    let parent = match &a.parent {
        Some(p) => Some(load_plan(p, g).await?),
        None => None,
    };
    let with_parent = parent.as_ref().map(|p| eval::align(&child, p, &settings));
    let with_refs = eval::align_references(&child, &settings);
    if a.json {
        let v = json!({"parent": with_parent, "references": with_refs});
        outln!(o, "{}", serde_json::to_string_pretty(&v)?);
        return emit(&o);
    }
    if let Some(r) = &with_parent {
        print_alignment(
            &mut o,
            &format!(
                "{} 对照上级规划 {}",
                r.child,
                r.parent.clone().unwrap_or_default()
            ),
            r,
        );
    }
    if with_refs.lines.is_empty() {
        if with_parent.is_none() {
            outln!(
                o,
                "{}：指标表没有上级对照列（references），且未给出 --parent",
                child.title
            );
        }
    } else {
        print_alignment(
            &mut o,
            &format!("{} 对照表内上级目标列", with_refs.child),
            &with_refs,
        );
    }
    emit(&o)
}
