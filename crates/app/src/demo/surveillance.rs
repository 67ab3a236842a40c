//! Demo surveillance: three watched count series (dengue and hand-foot-mouth disease a day,
//! influenza-like illness a week) for every lowest area, three years up to yesterday, with
//! seasons, fewer reports at weekends, and one dengue outbreak in 光明街道 over the last eight
//! days so the board and the alerts page have something to show.

use crate::{App, Result};
use healthplan_access::Caps;
use healthplan_core::{
    Aggregation, AreaCode, DataElement, DataValue, Period, SeriesStep, Value, ValueStatus,
    ValueType, WatchedSeries,
};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A demo disease: element, name, step, and its expected count per area and step.
struct Disease {
    code: &'static str,
    name: &'static str,
    step: SeriesStep,
    level: f64,
    /// Day of year of the seasonal peak, and how much higher the peak is than the trough.
    peak: f64,
    amplitude: f64,
}

const DISEASES: [Disease; 3] = [
    Disease {
        code: "dengue_cases",
        name: "登革热报告病例数",
        step: SeriesStep::Day,
        level: 0.6,
        peak: 275.0,
        amplitude: 0.9,
    },
    Disease {
        code: "hfmd_cases",
        name: "手足口病报告病例数",
        step: SeriesStep::Day,
        level: 3.0,
        peak: 140.0,
        amplitude: 0.6,
    },
    Disease {
        code: "ili_cases",
        name: "流感样病例数",
        step: SeriesStep::Week,
        level: 40.0,
        peak: 20.0,
        amplitude: 0.5,
    },
];

/// The department that answers for the demo's outbreak alarms.
pub const DEPARTMENT: &str = "卫生健康局";
/// Where the demo outbreak is.
pub const OUTBREAK_AREA: &str = "440311001";
const OUTBREAK_DAYS: i32 = 8;
/// Days of history (three years and the moving percentile's adjacent weeks).
const DAYS: i32 = 3 * 364 + 35;

/// Knuth's Poisson sampler; fine for the small means here.
fn poisson(rng: &mut StdRng, mean: f64) -> f64 {
    let limit = (-mean).exp();
    let (mut k, mut p) = (0u32, 1.0f64);
    loop {
        p *= rng.random_range(0.0..1.0);
        if p <= limit || k > 10_000 {
            return f64::from(k);
        }
        k += 1;
    }
}

fn seasonal(d: &Disease, day_of_year: f64) -> f64 {
    let phase = 2.0 * std::f64::consts::PI * (day_of_year - d.peak) / 365.25;
    d.level * (1.0 + d.amplitude * phase.cos())
}

/// Counts of the watched demo series for `leaves`, from `today − DAYS` to yesterday.
pub fn counts(leaves: &[AreaCode], today: i32, seed: u64) -> Vec<DataValue> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    let push = |out: &mut Vec<DataValue>, code: &str, area: &AreaCode, p: Period, x: f64| {
        if let Ok(mut v) = DataValue::new(code, area.clone(), p, Value::Number { value: x }) {
            v.status = ValueStatus::Approved;
            v.synthetic = true;
            out.push(v);
        }
    };
    // From a Monday, so every week of the weekly series is whole.
    let first = today - DAYS;
    let first = first
        - Period::from_day_number(first)
            .and_then(|d| d.weekday())
            .map_or(0, |w| i32::from(w) - 1);
    for d in &DISEASES {
        for area in leaves {
            let size = rng.random_range(0.6..1.6);
            let mut week_sum = 0.0;
            for n in first..today {
                let Some(day) = Period::from_day_number(n) else {
                    continue;
                };
                let doy = f64::from(day.day_of_year().unwrap_or(1));
                // Weekend reports are lower: clinics see fewer patients.
                let weekday = match day.weekday() {
                    Some(6) => 0.7,
                    Some(7) => 0.6,
                    _ => 1.0,
                };
                let mut mean = seasonal(d, doy) * size * weekday;
                if d.code == "dengue_cases" && area.as_str() == OUTBREAK_AREA {
                    let into = n - (today - OUTBREAK_DAYS);
                    if into >= 0 {
                        mean += 3.0 + f64::from(into) * 1.5;
                    }
                }
                let x = poisson(
                    &mut rng,
                    mean / if d.step == SeriesStep::Week { 7.0 } else { 1.0 },
                );
                match d.step {
                    SeriesStep::Day => push(&mut out, d.code, area, day, x),
                    SeriesStep::Week => {
                        week_sum += x;
                        if day.weekday() == Some(7) {
                            if let Some(w) = day.iso_week() {
                                push(&mut out, d.code, area, w, week_sum);
                            }
                            week_sum = 0.0;
                        }
                    }
                }
            }
        }
    }
    out
}

/// Declares and watches the demo series and loads their counts, unless already there.
/// Returns a line for the set-up report.
pub async fn setup(app: &App, caps: &Caps, today: i32, seed: u64) -> Result<Option<String>> {
    let admin = super::right(caps.registry_admin())?;
    let store = app.store();
    if store
        .list_watched()
        .await?
        .iter()
        .any(|w| w.element == DISEASES[0].code)
    {
        return Ok(None);
    }
    let elements: Vec<DataElement> = DISEASES
        .iter()
        .map(|d| {
            let mut e = DataElement::new(d.code, d.name, ValueType::Number, Aggregation::Sum)?;
            e.unit = Some("例".into());
            Ok(e)
        })
        .collect::<Result<_>>()?;
    store.put_data_elements(&admin, &elements).await?;
    app.reload().await?;
    for d in &DISEASES {
        let s = WatchedSeries::new(d.code, d.step, Some(DEPARTMENT))?;
        app.watch_series(&admin, &s).await?;
    }
    let areas = store.list_areas().await?;
    let leaves: Vec<AreaCode> = areas
        .iter()
        .filter(|a| !areas.iter().any(|b| b.parent.as_ref() == Some(&a.code)))
        .map(|a| a.code.clone())
        .collect();
    let values = counts(&leaves, today, seed);
    let n = values.len();
    app.import_data_values(&super::right(caps.bulk_writer())?, &values)
        .await?;
    Ok(Some(format!(
        "surveillance: {} watched series, {n} synthetic counts (演示数据) for {} areas up to yesterday",
        DISEASES.len(),
        leaves.len()
    )))
}
