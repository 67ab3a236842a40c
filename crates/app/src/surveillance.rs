//! Outbreak detection as counts arrive. A watched element's day or week counts per area are
//! surveillance series; when a count is saved, the configured detectors judge that day (or
//! week) in its area and in every area above it (the aggregates are current the moment the
//! value is saved), and an alert is raised when a series turns from quiet to alarm.
//!
//! A load of history (a file import) is judged at its latest period per series only, so old
//! outbreaks in the file do not raise today's alerts.

use crate::{App, AppError, Result};
use healthplan_access::{ReadScope, RegistryAdmin};
use healthplan_analytics::{AreaId, ElementId, Engine};
use healthplan_core::{
    Alert, AlertKind, AlertLevel, AreaCode, Finding, Period, SeriesStep, WatchedSeries,
};
use healthplan_surveillance::{evaluate_at, Detector, Method, Series, Settings, Signal, Step};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

/// Subjects of outbreak findings start with this; one subject per element and area.
const SUBJECT: &str = "outbreak:";

/// What the detectors watch, with the settings they run with.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// By element code.
    pub series: BTreeMap<String, WatchedSeries>,
    /// Element names, for alert titles.
    pub names: HashMap<String, String>,
    pub settings: Settings,
    /// The settings were changed from the defaults (and stored).
    pub custom: bool,
}

impl Watch {
    fn name<'a>(&'a self, element: &'a str) -> &'a str {
        self.names.get(element).map_or(element, String::as_str)
    }

    /// Daily and weekly detectors of a watched element. A daily series is also judged by
    /// week, by the detectors made for weekly counts (Farrington), once a week is complete.
    fn detectors(&self, s: &WatchedSeries) -> (Vec<Detector>, Vec<Detector>) {
        match s.step {
            SeriesStep::Day => {
                let weekly = self
                    .settings
                    .detectors(&s.element, Step::Week)
                    .into_iter()
                    .filter(|d| d.method() == Method::Farrington)
                    .collect();
                (self.settings.detectors(&s.element, Step::Day), weekly)
            }
            SeriesStep::Week => (Vec::new(), self.settings.detectors(&s.element, Step::Week)),
        }
    }
}

/// One point of a sparkline: a week and its count (`None`: nothing reported).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WeekCount {
    pub week: String,
    pub count: Option<f64>,
}

/// One series on the board: an area's weekly counts of one watched element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardSeries {
    pub element: String,
    pub weeks: Vec<WeekCount>,
    /// The detectors' last verdict on this series is an alarm.
    pub alarm: bool,
}

/// One area's row of the board.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardRow {
    pub area: AreaCode,
    pub name: String,
    /// The area whose children the board lists (its own row comes first).
    pub is_root: bool,
    pub series: Vec<BoardSeries>,
}

/// The surveillance board: an area and its children, a sparkline per watched element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Board {
    pub root: AreaCode,
    pub until: String,
    pub elements: Vec<BoardElement>,
    pub rows: Vec<BoardRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BoardElement {
    pub code: String,
    pub name: String,
    pub step: SeriesStep,
}

/// The detectors' signals at `p` on one area's series of one element.
fn signals_at(
    eng: &Engine,
    e: ElementId,
    a: AreaId,
    p: Period,
    (daily, weekly): (&[Detector], &[Detector]),
    cells: &mut Vec<(f64, u32)>,
    vals: &mut Vec<f64>,
) -> Vec<Signal> {
    let mut out = Vec::new();
    let week = match p {
        Period::Day(..) => {
            let h = Settings::history(daily, Step::Day) as i32;
            let t = p.day_numbers().start;
            cells.clear();
            eng.day_series(e, a, t - h..t + 1, cells);
            healthplan_analytics::counts_or_nan(cells, vals);
            if let (Some(first), false) = (Period::from_day_number(t - h), vals.is_empty()) {
                if let Ok(s) = Series::new(first, vals) {
                    out.extend(evaluate_at(&s, vals.len() - 1, daily));
                }
            }
            // The week is complete on its Sunday.
            (p.weekday() == Some(7)).then(|| p.iso_week()).flatten()
        }
        Period::Week(..) => Some(p),
        _ => None,
    };
    if let (Some(w), false) = (week, weekly.is_empty()) {
        let h = Settings::history(weekly, Step::Week);
        let first = w.day_numbers().start - 7 * h as i32;
        if let Some(fw) = Period::from_day_number(first).and_then(|d| d.iso_week()) {
            cells.clear();
            eng.week_series(e, a, fw, h + 1, cells);
            healthplan_analytics::counts_or_nan(cells, vals);
            if let (Ok(s), false) = (Series::new(fw, vals), vals.is_empty()) {
                out.extend(evaluate_at(&s, vals.len() - 1, weekly));
            }
        }
    }
    out
}

/// The alarm (or all-quiet) finding of one series at one period.
fn finding(
    watch: &Watch,
    s: &WatchedSeries,
    area: &AreaCode,
    area_name: &str,
    p: Period,
    signals: &[Signal],
) -> Finding {
    let alarm = !signals.is_empty();
    let name = watch.name(&s.element);
    let rare = signals.iter().any(|x| x.method == Method::FixedThreshold);
    let methods: BTreeSet<Method> = signals.iter().map(|x| x.method).collect();
    // Several detectors agreeing (多点触发) or a rare disease is critical.
    let level = if rare || methods.len() >= 2 {
        AlertLevel::Critical
    } else {
        AlertLevel::Warning
    };
    let zh: Vec<&str> = signals.iter().map(|x| x.explanation_zh.as_str()).collect();
    let en: Vec<&str> = signals.iter().map(|x| x.explanation_en.as_str()).collect();
    Finding {
        kind: AlertKind::Outbreak,
        subject: format!("{SUBJECT}{}:{area}", s.element),
        state: if alarm { "alarm" } else { "quiet" }.into(),
        alarming: alarm,
        level,
        plan_id: None,
        indicator: None,
        round_id: None,
        area: area.clone(),
        element: Some(s.element.clone()),
        period: Some(p.to_string()),
        department: s.department.clone(),
        title_zh: format!("疫情异常信号：{name}（{area_name}，{p}）"),
        title_en: format!("Outbreak signal: {name} ({area_name}, {p})"),
        message_zh: format!("{}项预警方法报警。{}", methods.len(), zh.join("；")),
        message_en: format!("{} detector(s) alarmed. {}", methods.len(), en.join("; ")),
        link: format!("/surveillance?area={area}&element={}", s.element),
    }
}

impl App {
    /// What the detectors watch now.
    pub fn watch(&self) -> Arc<Watch> {
        self.watch.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reloads the watched elements and the detector settings from the store.
    pub async fn refresh_watch(&self) -> Result<()> {
        let w = load_watch(&self.store).await?;
        *self.watch.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(w);
        self.announce_reload().await;
        Ok(())
    }

    /// Starts (or changes) watching an element; its counts must be summed up the area tree,
    /// so a declared element that is not is refused.
    pub async fn watch_series(&self, by: &RegistryAdmin, s: &WatchedSeries) -> Result<()> {
        let elements = self.store.list_data_elements().await?;
        let Some(el) = elements.iter().find(|e| e.code == s.element) else {
            return Err(AppError::Input(format!(
                "{}：未登记的数据元素 / not a declared data element",
                s.element
            )));
        };
        if el.aggregation != healthplan_core::Aggregation::Sum {
            return Err(AppError::Input(format!(
                "{}：监测计数须按求和汇总（当前为 {:?}）/ surveillance counts must aggregate by sum (now {:?})",
                s.element, el.aggregation, el.aggregation
            )));
        }
        self.store.put_watched(by, s).await?;
        self.refresh_watch().await?;
        self.refresh_policy().await
    }

    pub async fn unwatch_series(&self, by: &RegistryAdmin, element: &str) -> Result<()> {
        self.store.delete_watched(by, element).await?;
        self.refresh_watch().await?;
        self.refresh_policy().await
    }

    /// Checks and stores new detector settings (TOML); errors name the field.
    pub async fn set_surveillance_settings(&self, by: &RegistryAdmin, toml: &str) -> Result<()> {
        Settings::from_toml(toml).map_err(|e| AppError::Input(e.to_string()))?;
        self.store.put_surveillance_settings(by, toml).await?;
        self.refresh_watch().await
    }

    /// Runs the detectors on what just arrived and records what they find; returns the
    /// alerts raised. Values of unwatched elements or of other periods are ignored.
    pub async fn check_arrivals(
        &self,
        arrived: &[(String, AreaCode, Period)],
    ) -> Result<Vec<Alert>> {
        let watch = self.watch();
        // The latest period per series: a file of history is judged where it ends.
        let mut latest: HashMap<(&str, &AreaCode), Period> = HashMap::new();
        for (element, area, p) in arrived {
            let Some(s) = watch.series.get(element) else {
                continue;
            };
            if !s.step.fits(*p) {
                continue;
            }
            let slot = latest.entry((element.as_str(), area)).or_insert(*p);
            if p.day_numbers().start > slot.day_numbers().start {
                *slot = *p;
            }
        }
        if latest.is_empty() {
            return Ok(Vec::new());
        }
        let policy = self.policy();
        let findings = {
            let eng = self.engine();
            let tree = eng.tree();
            // Every area above an arrival is judged too, once per element and period.
            let mut points: BTreeSet<(&str, AreaId, Period)> = BTreeSet::new();
            for (&(element, area), &p) in &latest {
                let Ok(mut a) = tree.id(area) else {
                    continue;
                };
                loop {
                    points.insert((element, a, p));
                    match tree.parent(a) {
                        Some(up) => a = up,
                        None => break,
                    }
                }
            }
            let (mut cells, mut vals) = (Vec::new(), Vec::new());
            let mut findings = Vec::with_capacity(points.len());
            let mut detectors: HashMap<&str, (Vec<Detector>, Vec<Detector>)> = HashMap::new();
            for (element, a, p) in points {
                let (Some(s), Ok(e)) = (watch.series.get(element), eng.element(element)) else {
                    continue;
                };
                let (daily, weekly) = detectors
                    .entry(element)
                    .or_insert_with(|| watch.detectors(s));
                let signals = signals_at(&eng, e, a, p, (daily, weekly), &mut cells, &mut vals);
                let code = tree.code(a);
                let name = policy.areas().name(code).unwrap_or(code.as_str());
                findings.push(finding(&watch, s, code, name, p, &signals));
            }
            findings
        };
        // Only changes go to the store: most series stay quiet day after day.
        let mut states = self.outbreak_states.lock().await;
        if states.is_none() {
            *states = Some(self.store.alert_states(SUBJECT).await?);
        }
        let known = states.get_or_insert_with(HashMap::new);
        let changed: Vec<Finding> = findings
            .into_iter()
            .filter(|f| match known.get(&f.subject) {
                Some(s) => *s != f.state,
                None => f.alarming,
            })
            .collect();
        let raised = self.store.record_findings(&changed).await?;
        for f in changed {
            known.insert(f.subject, f.state);
        }
        self.notify_alerts(&raised).await;
        Ok(raised)
    }

    /// Runs [`App::check_arrivals`] after a write; a failed check is logged, not returned, as
    /// the values are already saved.
    pub(crate) async fn after_arrival(&self, arrived: Vec<(String, AreaCode, Period)>) {
        if let Err(e) = self.check_arrivals(&arrived).await {
            tracing::warn!(error = %e, "outbreak check after new counts failed");
        }
    }

    /// The board of `root` (its own row, then its children; the caller's first area, or the
    /// top of the tree, when absent) as of day `until`: `weeks` weekly counts per watched
    /// element, and whether each series is in alarm.
    pub async fn surveillance_board(
        &self,
        scope: &ReadScope,
        root: Option<&AreaCode>,
        until: Period,
        weeks: usize,
    ) -> Result<Board> {
        let root = match (root, scope.roots()) {
            (Some(r), _) => r.clone(),
            (None, Some(roots)) => roots
                .first()
                .cloned()
                .ok_or_else(|| AppError::Input("没有可查看的地区 / no area to show".into()))?,
            (None, None) => {
                let eng = self.engine();
                let tree = eng.tree();
                let top = tree.all().find(|&a| tree.parent(a).is_none());
                match top {
                    Some(a) => tree.code(a).clone(),
                    None => return Err(AppError::Input("没有地区 / no areas yet".into())),
                }
            }
        };
        let root = &root;
        if !scope.area(root) {
            return Err(healthplan_store::StoreError::NotFound {
                entity: "area",
                key: root.to_string(),
            }
            .into());
        }
        let weeks = weeks.clamp(1, 156);
        let watch = self.watch();
        let states = self.store.alert_states(SUBJECT).await?;
        let policy = self.policy();
        let last_week = until.iso_week().unwrap_or(until);
        let first_day = last_week.day_numbers().start - 7 * (weeks as i32 - 1);
        let first_week = Period::from_day_number(first_day).and_then(|d| d.iso_week());
        let eng = self.engine();
        let tree = eng.tree();
        let r = tree.id(root)?;
        let mut areas = vec![r];
        areas.extend(tree.subtree(r).filter(|&a| tree.parent(a) == Some(r)));
        let mut cells = Vec::new();
        let mut rows = Vec::new();
        for a in areas {
            let code = tree.code(a);
            if !scope.area(code) {
                continue;
            }
            let mut series = Vec::new();
            for s in watch.series.values() {
                let mut points = Vec::with_capacity(weeks);
                cells.clear();
                if let (Ok(e), Some(fw)) = (eng.element(&s.element), first_week) {
                    eng.week_series(e, a, fw, weeks, &mut cells);
                }
                let mut day = first_day;
                for &(sum, n) in &cells {
                    let week = Period::from_day_number(day).and_then(|d| d.iso_week());
                    points.push(WeekCount {
                        week: week.map(|w| w.to_string()).unwrap_or_default(),
                        count: (n > 0).then_some(sum),
                    });
                    day += 7;
                }
                let subject = format!("{SUBJECT}{}:{code}", s.element);
                series.push(BoardSeries {
                    element: s.element.clone(),
                    weeks: points,
                    alarm: states.get(&subject).is_some_and(|st| st == "alarm"),
                });
            }
            rows.push(BoardRow {
                area: code.clone(),
                name: policy
                    .areas()
                    .name(code)
                    .unwrap_or(code.as_str())
                    .to_string(),
                is_root: a == r,
                series,
            });
        }
        Ok(Board {
            root: root.clone(),
            until: until.to_string(),
            elements: watch
                .series
                .values()
                .map(|s| BoardElement {
                    code: s.element.clone(),
                    name: watch.name(&s.element).to_string(),
                    step: s.step,
                })
                .collect(),
            rows,
        })
    }
}

/// The watched elements, their names and the settings (stored or default).
pub(crate) async fn load_watch(store: &healthplan_store::Store) -> Result<Watch> {
    let series = store
        .list_watched()
        .await?
        .into_iter()
        .map(|s| (s.element.clone(), s))
        .collect::<BTreeMap<_, _>>();
    let names = store
        .list_data_elements()
        .await?
        .into_iter()
        .filter(|e| series.contains_key(&e.code))
        .map(|e| (e.code, e.name))
        .collect();
    let (settings, custom) = match store.surveillance_settings().await? {
        Some(t) => (
            Settings::from_toml(&t)
                .map_err(|e| AppError::Input(format!("stored surveillance settings: {e}")))?,
            true,
        ),
        None => (Settings::default(), false),
    };
    Ok(Watch {
        series,
        names,
        settings,
        custom,
    })
}
