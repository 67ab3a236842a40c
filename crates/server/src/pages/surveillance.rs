//! The surveillance board: an area and its children with a sparkline of weekly counts per
//! watched element and the series in alarm marked; administrators also choose what is
//! watched and edit the detector settings here.

use super::{render, Page, PageResult};
use crate::api::surveillance::{board_of, registry_admin, BoardQuery};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::page_result;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use healthplan_app::surveillance::BoardSeries;
use healthplan_core::{Aggregation, SeriesStep, WatchedSeries};
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/surveillance", get(board))
        .route("/surveillance/series", post(add_series))
        .route("/surveillance/series/{element}/delete", post(remove_series))
        .route("/surveillance/settings", post(save_settings))
        .route("/surveillance/settings/form", post(save_settings_form))
}

/// Width and height of a sparkline's drawing box.
const SPARK_W: f64 = 120.0;
const SPARK_H: f64 = 28.0;

/// Polyline points of a sparkline; weeks with nothing reported break nothing (they are
/// left out and the line joins their neighbours).
fn spark_points(s: &BoardSeries) -> String {
    let max = s
        .weeks
        .iter()
        .filter_map(|w| w.count)
        .fold(0.0f64, f64::max)
        .max(1.0);
    let step = SPARK_W / (s.weeks.len().max(2) - 1) as f64;
    s.weeks
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            w.count.map(|c| {
                let y = SPARK_H - 2.0 - (c / max) * (SPARK_H - 4.0);
                format!("{:.1},{:.1}", i as f64 * step, y)
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

async fn board_page(
    state: &AppState,
    auth: &Auth,
    q: BoardQuery,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let caps = auth.signed_in()?;
    let board = board_of(state, auth, &q).await?;
    let scope = caps.reader();
    let parent = state
        .app
        .policy()
        .areas()
        .ancestors(&board.root)
        .into_iter()
        .next()
        .filter(|p| scope.area(p));
    let rows: Vec<_> = board
        .rows
        .iter()
        .map(|r| {
            let series: Vec<_> = r
                .series
                .iter()
                .map(|s| {
                    let last = s.weeks.iter().rev().find_map(|w| w.count);
                    let total: f64 = s.weeks.iter().filter_map(|w| w.count).sum();
                    json!({
                        "element": s.element,
                        "alarm": s.alarm,
                        "points": spark_points(s),
                        "last": last.map(super::num),
                        "total": super::num(total),
                        "weeks": s.weeks,
                    })
                })
                .collect();
            json!({"area": r.area, "name": r.name, "is_root": r.is_root, "series": series})
        })
        .collect();
    let admin = caps.registry_admin().is_some();
    let watch = state.app.watch();
    let (candidates, settings) = if admin {
        let elements = state.app.store().list_data_elements().await?;
        let candidates: Vec<_> = elements
            .into_iter()
            .filter(|e| e.aggregation == Aggregation::Sum && !watch.series.contains_key(&e.code))
            .map(|e| json!({"code": e.code, "name": e.name}))
            .collect();
        (candidates, watch.settings.to_toml().unwrap_or_default())
    } else {
        (Vec::new(), String::new())
    };
    let settings_form = if admin {
        let mut groups = Vec::new();
        settings_groups(
            &serde_json::to_value(&watch.settings).unwrap_or_default(),
            "",
            &mut groups,
        );
        groups
    } else {
        Vec::new()
    };
    let watched: Vec<_> = watch
        .series
        .values()
        .map(|s| {
            json!({"element": s.element, "name": watch.names.get(&s.element), "step": s.step, "department": s.department})
        })
        .collect();
    Ok(render(
        state,
        auth,
        "/surveillance",
        Page::new(
            "surveillance.html",
            json!({
                "board": board,
                "rows": rows,
                "parent": parent,
                "root_name": state.app.policy().areas().name(&board.root),
                "weeks": q.weeks.unwrap_or(12).clamp(1, 156),
                "until_date": until_date(&board.until),
                "can_configure": admin,
                "watched": watched,
                "candidates": candidates,
                "settings_toml": settings,
                "settings_form": settings_form,
                "custom": watch.custom,
                "notice": notice,
                "error": error,
            }),
        ),
    ))
}

/// `20241130` as `2024-11-30` for a date input.
fn until_date(p: &str) -> String {
    if p.len() == 8 && p.is_ascii() {
        format!("{}-{}-{}", &p[..4], &p[4..6], &p[6..])
    } else {
        p.to_string()
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct BoardForm {
    area: Option<String>,
    /// From a date input: `2024-11-30`.
    until: Option<String>,
    weeks: Option<String>,
}

impl BoardForm {
    fn query(self) -> BoardQuery {
        BoardQuery {
            area: self.area.filter(|a| !a.trim().is_empty()),
            until: self
                .until
                .map(|u| u.replace('-', ""))
                .filter(|u| !u.trim().is_empty()),
            weeks: self.weeks.and_then(|w| w.trim().parse().ok()),
        }
    }
}

async fn board(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<BoardForm>,
) -> Response {
    page_result!(
        state,
        auth,
        "/surveillance",
        board_page(&state, &auth, q.query(), None, None).await
    )
}

/// Runs a configuration change and shows the board with its outcome.
async fn outcome(state: &AppState, auth: &Auth, r: Result<&'static str, ApiError>) -> Response {
    let page = match r {
        Ok(key) => {
            let msg = crate::i18n::t(auth.lang, key);
            board_page(state, auth, BoardQuery::default(), Some(msg), None).await
        }
        Err(e) if matches!(e.status.as_u16(), 401 | 403) => Err(e.into()),
        Err(e) => {
            let msg = e.message(auth.lang).to_string();
            board_page(state, auth, BoardQuery::default(), None, Some(msg)).await
        }
    };
    page_result!(state, auth, "/surveillance", page)
}

#[derive(Debug, Deserialize)]
pub struct SeriesForm {
    element: String,
    step: String,
    #[serde(default)]
    department: String,
}

async fn add_series(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<SeriesForm>,
) -> Response {
    let r = async {
        let by = registry_admin(&auth)?;
        let step = SeriesStep::parse(&f.step).map_err(healthplan_app::AppError::from)?;
        let s = WatchedSeries::new(&f.element, step, Some(&f.department))
            .map_err(healthplan_app::AppError::from)?;
        state.app.watch_series(&by, &s).await?;
        Ok("surveillance.saved")
    }
    .await;
    outcome(&state, &auth, r).await
}

async fn remove_series(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Path(element): Path<String>,
) -> Response {
    let r = async {
        let by = registry_admin(&auth)?;
        state.app.unwatch_series(&by, &element).await?;
        Ok("surveillance.removed")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    toml: String,
}

async fn save_settings(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(f): Form<SettingsForm>,
) -> Response {
    let r = async {
        let by = registry_admin(&auth)?;
        state.app.set_surveillance_settings(&by, &f.toml).await?;
        Ok("surveillance.settings_saved")
    }
    .await;
    outcome(&state, &auth, r).await
}

/// The detector settings as form groups, one per detector (or disease), each number or switch
/// a field named `s.<path>` (`s.daily.0.threshold`).
fn settings_groups(v: &serde_json::Value, path: &str, out: &mut Vec<serde_json::Value>) {
    use serde_json::Value as J;
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        J::Object(m) => {
            let fields: Vec<serde_json::Value> = m
                .iter()
                .filter_map(|(k, x)| {
                    let kind = match x {
                        J::Number(n) if n.is_f64() => "decimal",
                        J::Number(_) => "integer",
                        J::Bool(_) => "switch",
                        _ => return None,
                    };
                    Some(json!({"name": k, "path": join(k), "value": x, "kind": kind}))
                })
                .collect();
            if !fields.is_empty() {
                out.push(json!({
                    "path": path,
                    "section": path.split('.').next().unwrap_or(""),
                    "method": m.get("method").and_then(J::as_str),
                    "fields": fields,
                }));
            }
            for (k, x) in m {
                if matches!(x, J::Object(_) | J::Array(_)) {
                    settings_groups(x, &join(k), out);
                }
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                settings_groups(x, &join(&i.to_string()), out);
            }
        }
        _ => {}
    }
}

/// The current settings with every field of the form applied; a field that is not a number
/// of its kind is refused, naming it.
fn apply_settings_form(
    v: &serde_json::Value,
    path: &str,
    form: &HashMap<String, String>,
    errors: &mut Vec<(String, String)>,
) -> serde_json::Value {
    use serde_json::Value as J;
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        J::Object(m) => J::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), apply_settings_form(x, &join(k), form, errors)))
                .collect(),
        ),
        J::Array(a) => J::Array(
            a.iter()
                .enumerate()
                .map(|(i, x)| apply_settings_form(x, &join(&i.to_string()), form, errors))
                .collect(),
        ),
        J::Bool(_) => J::Bool(form.get(path).is_some_and(|x| x == "true" || x == "on")),
        J::Number(n) => {
            let Some(raw) = form.get(path).map(|x| x.trim()) else {
                return v.clone();
            };
            let parsed = if n.is_f64() {
                raw.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(J::Number)
            } else {
                raw.parse::<u64>().ok().map(|x| J::Number(x.into()))
            };
            parsed.unwrap_or_else(|| {
                errors.push((path.to_string(), raw.to_string()));
                v.clone()
            })
        }
        other => other.clone(),
    }
}

async fn save_settings_form(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let r = async {
        let by = registry_admin(&auth)?;
        let form: HashMap<String, String> = fields
            .into_iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("s.")?.to_string(), v)))
            .collect();
        let current = serde_json::to_value(&state.app.watch().settings).unwrap_or_default();
        let mut errors = Vec::new();
        let next = apply_settings_form(&current, "", &form, &mut errors);
        if !errors.is_empty() {
            let list = |sep: &str| {
                errors
                    .iter()
                    .map(|(p, v)| format!("{p}“{v}”"))
                    .collect::<Vec<_>>()
                    .join(sep)
            };
            return Err(ApiError::invalid(
                &errors[0].0,
                format!("以下参数不是有效的数字：{}", list("、")),
                format!("not a valid number: {}", list(", ")),
            ));
        }
        let text = toml::to_string(&next).map_err(|e| {
            let m = e.to_string();
            ApiError::invalid("settings", m.clone(), m)
        })?;
        state.app.set_surveillance_settings(&by, &text).await?;
        Ok("surveillance.settings_saved")
    }
    .await;
    outcome(&state, &auth, r).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_form_round_trips_and_names_a_bad_field() {
        let v = json!({"daily": [{"method": "ears_c1", "threshold": 3.0, "baseline": 7}],
                       "diseases": {"X": {"rare": false, "percentile": null}}});
        let mut groups = Vec::new();
        settings_groups(&v, "", &mut groups);
        let paths: Vec<&str> = groups
            .iter()
            .flat_map(|g| g["fields"].as_array().unwrap())
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            ["daily.0.baseline", "daily.0.threshold", "diseases.X.rare"]
        );
        let form = HashMap::from([
            ("daily.0.threshold".to_string(), "2.5".to_string()),
            ("daily.0.baseline".to_string(), "9".to_string()),
            ("diseases.X.rare".to_string(), "true".to_string()),
        ]);
        let mut errors = Vec::new();
        let next = apply_settings_form(&v, "", &form, &mut errors);
        assert!(errors.is_empty());
        assert_eq!(next["daily"][0]["threshold"], 2.5);
        assert_eq!(next["daily"][0]["baseline"], 9);
        assert_eq!(next["daily"][0]["method"], "ears_c1");
        assert_eq!(next["diseases"]["X"]["rare"], true);
        assert!(next["diseases"]["X"].get("percentile").is_none());
        let bad = HashMap::from([("daily.0.baseline".to_string(), "7.5".to_string())]);
        apply_settings_form(&v, "", &bad, &mut errors);
        assert_eq!(
            errors,
            [("daily.0.baseline".to_string(), "7.5".to_string())]
        );
    }
}
