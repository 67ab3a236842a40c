//! Aggregates from the analytics engine: elements (or ratio indicators, or a plan's
//! indicators) × areas × periods, current to the last committed write.

use super::{area_param, period_param, CommonErrors, Json, Query};
use crate::auth::Auth;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use healthplan_app::analytics::{AreaSel, Item, PeriodSel, Query as EngineQuery};
use healthplan_core::{AreaCode, Period};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new().routes(routes!(analytics))
}

/// Most cells one query may ask for.
const MAX_CELLS: usize = 200_000;

#[derive(Debug, Deserialize, IntoParams)]
pub struct AnalyticsQuery {
    /// Comma-separated data element codes.
    pub element: Option<String>,
    /// Comma-separated ratio indicators of the engine (Σnumerator / Σdenominator).
    pub ratio: Option<String>,
    /// Comma-separated plan indicators as `PLAN_ID.INDEX`; each is read through its linked
    /// element.
    pub indicator: Option<String>,
    /// Comma-separated area codes…
    pub areas: Option<String>,
    /// …or every area at this tree level (province = 1) under `under`.
    pub level: Option<u8>,
    pub under: Option<String>,
    /// Comma-separated periods…
    pub periods: Option<String>,
    /// …or each `year`, `quarter` or `month` of the years `from`–`to`.
    pub each: Option<String>,
    pub from: Option<i32>,
    pub to: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Cell {
    /// `element:CODE`, `ratio:CODE` or `indicator:PLAN.INDEX`.
    pub item: String,
    pub area: AreaCode,
    pub period: Period,
    /// Absent when there is no data.
    pub value: Option<f64>,
    /// Raw values that went into it.
    pub count: u64,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
}

fn list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect()
}

/// Aggregated values, as fresh as the last write.
#[utoipa::path(get, path = "/api/v1/analytics", tag = "evaluation",
    params(AnalyticsQuery),
    responses((status = 200, body = Vec<Cell>), CommonErrors))]
async fn analytics(
    State(state): State<Arc<AppState>>,
    auth: Auth,
    Query(q): Query<AnalyticsQuery>,
) -> Result<Json<Vec<Cell>>, ApiError> {
    let scope = auth.signed_in()?.reader();
    // (label, engine item)
    let mut items: Vec<(String, Item)> = Vec::new();
    for e in list(&q.element) {
        items.push((format!("element:{e}"), Item::Element(e)));
    }
    for r in list(&q.ratio) {
        items.push((format!("ratio:{r}"), Item::Indicator(r)));
    }
    for i in list(&q.indicator) {
        let bad = || {
            ApiError::invalid(
                "indicator",
                format!("{i:?} 应写作 规划编号.指标序号"),
                format!("{i:?} must be PLAN_ID.INDEX"),
            )
        };
        let (p, k) = i.split_once('.').ok_or_else(bad)?;
        let (p, k): (i64, usize) = (p.parse().map_err(|_| bad())?, k.parse().map_err(|_| bad())?);
        let doc = state.app.store().plan(&scope, p).await?;
        let element = doc
            .indicators
            .get(k)
            .and_then(|ind| ind.element.clone())
            .ok_or_else(|| {
                ApiError::not_found(
                    &format!("指标 {i} 的数据元"),
                    &format!("the element of indicator {i}"),
                )
            })?;
        items.push((format!("indicator:{i}"), Item::Element(element)));
    }
    if items.is_empty() {
        return Err(ApiError::invalid(
            "element",
            "请指定数据元或指标",
            "name an element or indicator",
        ));
    }
    let areas = match (list(&q.areas), q.level, &q.under) {
        (a, None, None) if !a.is_empty() => {
            let codes = a
                .iter()
                .map(|c| area_param("areas", c))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(c) = codes.iter().find(|c| !scope.area(c)) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("无权查看 {c} 的数据"),
                    format!("you may not read the data of {c}"),
                ));
            }
            AreaSel::List(codes)
        }
        (a, Some(level), Some(under)) if a.is_empty() => {
            let under = area_param("under", under)?;
            if !scope.area(&under) {
                return Err(ApiError::new(
                    axum::http::StatusCode::FORBIDDEN,
                    "forbidden",
                    format!("无权查看 {under} 的数据"),
                    format!("you may not read the data of {under}"),
                ));
            }
            AreaSel::LevelUnder { level, under }
        }
        _ => {
            return Err(ApiError::invalid(
                "areas",
                "请给出 areas，或同时给出 level 和 under",
                "give areas, or both level and under",
            ))
        }
    };
    let periods = match (list(&q.periods), q.each.as_deref(), q.from, q.to) {
        (p, None, None, None) if !p.is_empty() => PeriodSel::List(
            p.iter()
                .map(|x| period_param("periods", x))
                .collect::<Result<_, _>>()?,
        ),
        (p, Some(each), Some(from), Some(to)) if p.is_empty() => {
            if !healthplan_core::Period::plausible_year(from)
                || !healthplan_core::Period::plausible_year(to)
                || to < from
            {
                return Err(ApiError::invalid("from", "年份范围无效", "bad year range"));
            }
            match each {
                "year" => PeriodSel::EachYear { from, to },
                "quarter" => PeriodSel::EachQuarter { from, to },
                "month" => PeriodSel::EachMonth { from, to },
                _ => {
                    return Err(ApiError::invalid(
                        "each",
                        "each 应为 year、quarter 或 month",
                        "each is year, quarter or month",
                    ))
                }
            }
        }
        _ => {
            return Err(ApiError::invalid(
                "periods",
                "请给出 periods，或同时给出 each、from 和 to",
                "give periods, or each with from and to",
            ))
        }
    };
    let mut out = Vec::new();
    for (label, item) in items {
        let query = EngineQuery {
            items: vec![item],
            areas: areas.clone(),
            periods: periods.clone(),
        };
        // The engine counts cells before computing them.
        let n_periods = periods.periods()?.len();
        let n_areas = state.app.engine().areas(&query.areas)?.len();
        if n_periods.saturating_mul(n_areas).saturating_add(out.len()) > MAX_CELLS {
            return Err(ApiError::invalid(
                "periods",
                format!("一次最多查询 {MAX_CELLS} 个单元格"),
                format!("at most {MAX_CELLS} cells per query"),
            ));
        }
        for row in state.app.query(&query)? {
            out.push(Cell {
                item: label.clone(),
                area: row.area,
                period: row.period,
                value: row.value,
                count: row.count,
                numerator: row.numerator,
                denominator: row.denominator,
            });
        }
    }
    Ok(Json(out))
}
