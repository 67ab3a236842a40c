//! The report's charts, drawn in Rust with plotters into an RGB buffer and encoded as PNG:
//! the status distribution, key-indicator trends against their targets, and the comparison
//! of areas. Text is drawn with the font [`crate::fonts`] found; without a CJK font the
//! labels are English, without any font the charts carry no text.

use crate::fmt::num;
use crate::fonts::{Script, FAMILY};
use crate::ReportError;
use healthplan_eval::target::Status;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A rendered chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Png {
    pub bytes: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Charts are drawn 1600 px wide for a 150 mm figure (about 270 dpi in print).
pub const WIDTH: u32 = 1600;
/// Text sizes in pixels: at 1600 px for 150 mm, 42 px prints at about 10 pt.
const LABEL: i32 = 42;
const SMALL: i32 = 36;

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn chart_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Chart(e.to_string())
}

pub fn status_color(s: Status) -> RGBColor {
    match s {
        Status::Achieved => RGBColor(46, 125, 50),
        Status::OnTrack => RGBColor(102, 187, 106),
        Status::Moderate => RGBColor(251, 192, 45),
        Status::Insufficient => RGBColor(239, 108, 0),
        Status::MovingAway => RGBColor(198, 40, 40),
        Status::Missed => RGBColor(136, 14, 79),
        Status::NoData => RGBColor(158, 158, 158),
        Status::NotAssessable => RGBColor(207, 216, 220),
    }
}

/// The plotters family text is drawn in. Without a font it is a family never registered,
/// so any text drawn by mistake fails the chart (and the tests) instead of going unseen.
fn family(script: Script) -> &'static str {
    match script {
        Script::None => "healthplan-no-font",
        _ => FAMILY,
    }
}

/// `zh` with a CJK font, else `en`; `None` when nothing can be written.
fn label(script: Script, zh: &str, en: &str) -> Option<String> {
    match script {
        Script::Cjk => Some(zh.to_string()),
        Script::Latin => Some(en.to_string()),
        Script::None => None,
    }
}

/// Draws `text` at `at` when the machine has a font; a chart without a font has no text.
fn text(
    area: &Area,
    script: Script,
    s: Option<&str>,
    at: (i32, i32),
    size: i32,
    pos: Pos,
    color: &RGBColor,
) -> Result<(), ReportError> {
    let Some(s) = s.filter(|_| script != Script::None) else {
        return Ok(());
    };
    let style = TextStyle::from((family(script), size).into_font())
        .color(color)
        .pos(pos);
    area.draw_text(s, &style, at).map_err(chart_err)
}

/// Width of `s` in pixels at `size` (0 without a font).
fn text_width(area: &Area, script: Script, s: &str, size: i32) -> i32 {
    if script == Script::None {
        return 0;
    }
    area.estimate_text_size(s, &TextStyle::from((family(script), size).into_font()))
        .map(|(w, _)| w as i32)
        .unwrap_or(0)
}

/// Where bars start: right of the widest row label.
fn label_column(area: &Area, script: Script, names: &[Option<String>]) -> i32 {
    names
        .iter()
        .flatten()
        .map(|n| text_width(area, script, n, LABEL))
        .max()
        .unwrap_or(0)
        + 40
}

/// Breaks `s` into lines of at most `width` characters, at most `max_lines` of them (the
/// last one ends with an ellipsis when the text is longer).
fn wrap(s: &str, width: usize, max_lines: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out: Vec<String> = chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect();
    if out.len() > max_lines {
        out.truncate(max_lines);
        if let Some(last) = out.last_mut() {
            *last = clip(&format!("{last}…"), width);
        }
    }
    out
}

/// Shortens a label to `max` characters with an ellipsis.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn encode(buf: &[u8], width: u32, height: u32) -> Result<Png, ReportError> {
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header().map_err(chart_err)?;
        w.write_image_data(buf).map_err(chart_err)?;
        w.finish().map_err(chart_err)?;
    }
    Ok(Png {
        bytes,
        width,
        height,
    })
}

/// Runs `draw` on a white canvas and returns the PNG.
fn render(
    width: u32,
    height: u32,
    script: Script,
    draw: impl FnOnce(&Area, Script) -> Result<(), ReportError>,
) -> Result<Png, ReportError> {
    let mut buf = vec![255u8; width as usize * height as usize * 3];
    // plotters does integer arithmetic on coordinates; a panic inside it for data no test
    // foresaw becomes this chart's error, not the caller's crash.
    let drawn = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let root = BitMapBackend::with_buffer(&mut buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(chart_err)?;
        draw(&root, script)?;
        root.present().map_err(chart_err)
    }));
    match drawn {
        Ok(r) => r?,
        Err(_) => return Err(ReportError::Chart("plotters panicked".into())),
    }
    encode(&buf, width, height)
}

/// One horizontal bar per status with its count.
pub fn status_distribution(counts: &[(Status, usize)], script: Script) -> Result<Png, ReportError> {
    let rows: Vec<(Status, usize)> = counts.to_vec();
    let row_h = 72;
    let height = (rows.len() as u32 * row_h as u32 + 60).max(200);
    render(WIDTH, height, script, |area, script| {
        let max = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1);
        let names: Vec<Option<String>> = rows
            .iter()
            .map(|(s, _)| label(script, s.zh(), s.en()))
            .collect();
        let left = label_column(area, script, &names);
        let right = 120;
        let span = (WIDTH as i32 - left - right).max(100);
        let axis = RGBColor(120, 120, 120);
        for (k, ((s, n), name)) in rows.iter().zip(&names).enumerate() {
            let y = 30 + k as i32 * row_h;
            let mid = y + row_h / 2;
            text(
                area,
                script,
                name.as_deref(),
                (left - 20, mid),
                LABEL,
                Pos::new(HPos::Right, VPos::Center),
                &BLACK,
            )?;
            let w = (*n as f64 / max as f64 * span as f64).round() as i32;
            if w > 0 {
                area.draw(&Rectangle::new(
                    [(left, y + 10), (left + w, y + row_h - 10)],
                    status_color(*s).filled(),
                ))
                .map_err(chart_err)?;
            }
            text(
                area,
                script,
                Some(&n.to_string()),
                (left + w + 14, mid),
                LABEL,
                Pos::new(HPos::Left, VPos::Center),
                &BLACK,
            )?;
        }
        let bottom = 30 + rows.len() as i32 * row_h;
        area.draw(&PathElement::new(
            vec![(left, 20), (left, bottom + 6)],
            axis.stroke_width(2),
        ))
        .map_err(chart_err)?;
        Ok(())
    })
}

/// One indicator's trend panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Trend {
    pub name: String,
    /// Short English label used when no CJK font is installed (e.g. the code).
    pub name_en: String,
    pub unit: Option<String>,
    pub observations: Vec<(i32, f64)>,
    pub baseline: Option<(i32, f64)>,
    /// (target year, the value V the target resolves to, the target as printed).
    pub target: Option<(i32, f64, String)>,
    /// (year, value, lower, upper).
    pub forecast: Option<(i32, f64, Option<f64>, Option<f64>)>,
}

const OBSERVED: RGBColor = RGBColor(21, 101, 192);
const TARGET: RGBColor = RGBColor(198, 40, 40);
const PATH: RGBColor = RGBColor(130, 130, 130);
const FORECAST: RGBColor = RGBColor(239, 108, 0);

fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let (lo, hi) = if (hi - lo).abs() < 1e-9 {
        (lo - 1.0, hi + 1.0)
    } else {
        (lo, hi)
    };
    let pad = (hi - lo) * 0.12;
    (lo - pad, hi + pad)
}

fn trend_panel(area: &Area, script: Script, t: &Trend) -> Result<(), ReportError> {
    let mut years: Vec<i32> = t.observations.iter().map(|p| p.0).collect();
    let mut values: Vec<f64> = t.observations.iter().map(|p| p.1).collect();
    if let Some((y, v)) = t.baseline {
        years.push(y);
        values.push(v);
    }
    if let Some((y, v, _)) = &t.target {
        years.push(*y);
        values.push(*v);
    }
    if let Some((y, v, lo, hi)) = t.forecast {
        years.push(y);
        values.push(v);
        values.extend(lo);
        values.extend(hi);
    }
    let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    let (Some(&x0), Some(&x1)) = (years.iter().min(), years.iter().max()) else {
        return Ok(());
    };
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return Ok(());
    }
    let (ylo, yhi) = padded(lo, hi);
    let title = match &t.unit {
        Some(u) if !u.is_empty() => format!("{} ({u})", t.name),
        _ => t.name.clone(),
    };
    let title = label(script, &title, &t.name_en);
    let has_text = script != Script::None;
    // The indicator's name on up to two lines above the plot.
    let (w, _) = area.dim_in_pixel();
    let per_line = ((w as i32 - 60) / LABEL).max(4) as usize;
    let lines = title
        .as_deref()
        .map(|t| wrap(t, per_line, 2))
        .unwrap_or_default();
    let title_h = lines.len() as i32 * (LABEL + 10) + 10;
    for (k, l) in lines.iter().enumerate() {
        text(
            area,
            script,
            Some(l),
            (w as i32 / 2, 10 + k as i32 * (LABEL + 10)),
            LABEL,
            Pos::new(HPos::Center, VPos::Top),
            &BLACK,
        )?;
    }
    let (_, plot) = area.split_vertically(title_h);
    let mut b = ChartBuilder::on(&plot);
    b.margin(18)
        .margin_right(36)
        .x_label_area_size(if has_text { 50 } else { 0 })
        .y_label_area_size(if has_text { 100 } else { 0 });
    // Whole years on the x axis, one year of room on each side.
    let (xa, xb) = (x0 - 1, x1 + 1);
    let mut chart = b.build_cartesian_2d(xa..xb, ylo..yhi).map_err(chart_err)?;
    let span = (xb - xa).max(1);
    let x_label = |x: &i32| x.to_string();
    let y_label = |y: &f64| num(*y);
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(220, 220, 220))
        .axis_style(RGBColor(120, 120, 120));
    if has_text {
        mesh.x_labels((span as usize).min(5))
            .x_label_formatter(&x_label)
            .y_labels(5)
            .y_label_formatter(&y_label)
            .label_style((family(script), SMALL));
    }
    // Without text the label areas are empty (size 0), so plotters draws no labels.
    mesh.draw().map_err(chart_err)?;

    // The straight path from the baseline to the target (序时进度), then the target itself.
    if let (Some((by, bv)), Some((ty, tv, _))) = (t.baseline, &t.target) {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(by, bv), (*ty, *tv)],
                10,
                8,
                PATH.stroke_width(2),
            ))
            .map_err(chart_err)?;
    }
    if let Some((ty, tv, printed)) = &t.target {
        chart
            .draw_series(DashedLineSeries::new(
                vec![(xa, *tv), (xb, *tv)],
                16,
                8,
                TARGET.stroke_width(3),
            ))
            .map_err(chart_err)?;
        chart
            .draw_series(std::iter::once(TriangleMarker::new(
                (*ty, *tv),
                14,
                TARGET.filled(),
            )))
            .map_err(chart_err)?;
        // Backend coordinates are the whole image's; text is placed within this panel.
        let at = chart.backend_coord(&(xa, *tv));
        let base = area.get_base_pixel();
        let at = (at.0 - base.0, at.1 - base.1);
        let note = label(
            script,
            &format!("{ty}年目标{printed}"),
            &format!("{ty} target {printed}"),
        );
        text(
            area,
            script,
            note.as_deref(),
            (at.0 + 8, at.1 - 6),
            SMALL,
            Pos::new(HPos::Left, VPos::Bottom),
            &TARGET,
        )?;
    }
    if let Some((by, bv)) = t.baseline {
        chart
            .draw_series(std::iter::once(Circle::new((by, bv), 8, PATH.filled())))
            .map_err(chart_err)?;
    }
    if let Some((fy, fv, lo, hi)) = t.forecast {
        if let Some(&(ly, lv)) = t.observations.last() {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(ly, lv), (fy, fv)],
                    6,
                    6,
                    FORECAST.stroke_width(2),
                ))
                .map_err(chart_err)?;
        }
        if let (Some(lo), Some(hi)) = (lo, hi) {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(fy, lo), (fy, hi)],
                    FORECAST.stroke_width(3),
                )))
                .map_err(chart_err)?;
        }
        chart
            .draw_series(std::iter::once(Circle::new((fy, fv), 9, FORECAST.filled())))
            .map_err(chart_err)?;
    }
    let obs: Vec<(i32, f64)> = t.observations.clone();
    chart
        .draw_series(LineSeries::new(obs.clone(), OBSERVED.stroke_width(4)))
        .map_err(chart_err)?;
    chart
        .draw_series(
            obs.iter()
                .map(|&p| Circle::new(p, 8, OBSERVED.filled()).into_dyn()),
        )
        .map_err(chart_err)?;
    Ok(())
}

/// The legend under the trend panels.
fn trend_legend(area: &Area, script: Script, y: i32) -> Result<(), ReportError> {
    let items: [(&str, &str, RGBColor, bool); 5] = [
        ("实际值", "observed", OBSERVED, false),
        ("基线", "baseline", PATH, false),
        ("序时进度", "straight path", PATH, true),
        ("目标", "target", TARGET, true),
        ("趋势预测 (区间)", "forecast (interval)", FORECAST, false),
    ];
    let mut x = 60;
    for (zh, en, color, dashed) in items {
        if dashed {
            for k in 0..3 {
                area.draw(&PathElement::new(
                    vec![(x + k * 16, y), (x + k * 16 + 10, y)],
                    color.stroke_width(3),
                ))
                .map_err(chart_err)?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 42, y)],
                color.stroke_width(4),
            ))
            .map_err(chart_err)?;
            area.draw(&Circle::new((x + 21, y), 8, color.filled()))
                .map_err(chart_err)?;
        }
        let l = label(script, zh, en);
        text(
            area,
            script,
            l.as_deref(),
            (x + 54, y),
            SMALL,
            Pos::new(HPos::Left, VPos::Center),
            &BLACK,
        )?;
        x += 54 + l.map_or(60, |l| text_width(area, script, &l, SMALL)) + 40;
    }
    Ok(())
}

/// Up to four indicators in a 2 × 2 grid (one row when there are two or fewer).
pub fn trends(panels: &[Trend], script: Script) -> Result<Png, ReportError> {
    let panels = &panels[..panels.len().min(4)];
    let rows = panels.len().div_ceil(2).max(1) as u32;
    let panel_h = 640;
    let legend_h = 80;
    let height = rows * panel_h + legend_h;
    render(WIDTH, height, script, |root, script| {
        let (grid, legend) = root.split_vertically((rows * panel_h) as i32);
        let cells = grid.split_evenly((rows as usize, 2));
        for (cell, t) in cells.iter().zip(panels) {
            trend_panel(cell, script, t)?;
        }
        trend_legend(&legend, script, legend_h as i32 / 2)
    })
}

/// One area's statuses for the comparison chart.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaBar {
    pub name: String,
    pub name_en: String,
    pub counts: Vec<(Status, usize)>,
}

/// One stacked bar per area: the share of its indicators in each status.
pub fn area_comparison(bars: &[AreaBar], script: Script) -> Result<Png, ReportError> {
    let row_h = 70;
    let legend_h = 90;
    let height = (bars.len() as u32 * row_h as u32 + legend_h + 40).max(240);
    render(WIDTH, height, script, |area, script| {
        let names: Vec<Option<String>> = bars
            .iter()
            .map(|b| label(script, &clip(&b.name, 12), &clip(&b.name_en, 16)))
            .collect();
        let left = label_column(area, script, &names);
        let right = 60;
        let span = (WIDTH as i32 - left - right).max(100);
        for (k, (b, name)) in bars.iter().zip(&names).enumerate() {
            let y = 20 + k as i32 * row_h;
            text(
                area,
                script,
                name.as_deref(),
                (left - 20, y + row_h / 2),
                LABEL,
                Pos::new(HPos::Right, VPos::Center),
                &BLACK,
            )?;
            let total: usize = b.counts.iter().map(|c| c.1).sum();
            if total == 0 {
                continue;
            }
            let mut x = left;
            let mut acc = 0usize;
            for (s, n) in &b.counts {
                acc += n;
                let end = left + (acc as f64 / total as f64 * span as f64).round() as i32;
                if end > x {
                    area.draw(&Rectangle::new(
                        [(x, y + 8), (end, y + row_h - 8)],
                        status_color(*s).filled(),
                    ))
                    .map_err(chart_err)?;
                    let count = n.to_string();
                    if end - x > text_width(area, script, &count, SMALL) + 8 {
                        let ink = if matches!(
                            s,
                            Status::Achieved | Status::Insufficient | Status::MovingAway
                        ) {
                            WHITE
                        } else {
                            BLACK
                        };
                        text(
                            area,
                            script,
                            Some(&count),
                            ((x + end) / 2, y + row_h / 2),
                            SMALL,
                            Pos::new(HPos::Center, VPos::Center),
                            &ink,
                        )?;
                    }
                }
                x = end;
            }
        }
        // Legend: every status, in order, wrapping to a second line when needed.
        let mut x = left;
        let mut y = 20 + bars.len() as i32 * row_h + 36;
        for s in Status::ALL {
            let l = label(script, s.zh(), s.en());
            let w = 34 + l.as_ref().map_or(0, |l| text_width(area, script, l, SMALL)) + 36;
            if x + w > WIDTH as i32 - 20 {
                x = left;
                y += 52;
            }
            area.draw(&Rectangle::new(
                [(x, y - 12), (x + 24, y + 12)],
                status_color(s).filled(),
            ))
            .map_err(chart_err)?;
            text(
                area,
                script,
                l.as_deref(),
                (x + 34, y),
                SMALL,
                Pos::new(HPos::Left, VPos::Center),
                &BLACK,
            )?;
            x += w;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_png(p: &Png) -> bool {
        p.bytes.starts_with(b"\x89PNG") && p.width == WIDTH && p.height > 0
    }

    /// Every chart with every script: Chinese, English (no CJK font) and no text at all
    /// (no font; a stray text call would fail on the unregistered family).
    #[test]
    fn charts_render_whatever_the_data_and_fonts() {
        let found = crate::fonts::script();
        let scripts: Vec<Script> = [Script::Cjk, Script::Latin, Script::None]
            .into_iter()
            .filter(|s| *s == Script::None || found != Script::None)
            .collect();
        let counts: Vec<(Status, usize)> = Status::ALL.iter().map(|s| (*s, 3)).collect();
        let t = Trend {
            name: "居民健康素养水平".into(),
            name_en: "LIT".into(),
            unit: Some("%".into()),
            observations: vec![(2019, 20.0), (2020, 22.5), (2021, 25.4)],
            baseline: Some((2017, 14.18)),
            target: Some((2030, 30.0, "≥30".into())),
            forecast: Some((2030, 41.0, Some(35.0), Some(47.0))),
        };
        let flat = Trend {
            observations: vec![(2021, 5.0)],
            baseline: None,
            target: None,
            forecast: None,
            ..t.clone()
        };
        let empty = Trend {
            observations: vec![],
            ..flat.clone()
        };
        let bars = vec![
            AreaBar {
                name: "饶平县".into(),
                name_en: "A1".into(),
                counts: counts.clone(),
            },
            AreaBar {
                name: "钱东镇".into(),
                name_en: "A2".into(),
                counts: vec![(Status::NoData, 0)],
            },
        ];
        for script in scripts {
            assert!(is_png(&status_distribution(&counts, script).unwrap()));
            assert!(is_png(&status_distribution(&[], script).unwrap()));
            let panels = [t.clone(), flat.clone(), empty.clone(), t.clone(), t.clone()];
            assert!(is_png(&trends(&panels, script).unwrap()), "{script:?}");
            assert!(is_png(&trends(&[], script).unwrap()));
            assert!(is_png(&area_comparison(&bars, script).unwrap()));
        }
    }

    #[test]
    fn extreme_values_draw() {
        for (lo, hi) in [(0.0, 0.0), (-1e12, 1e12), (1e-9, 2e-9), (5.0, 5.0 + 1e-12)] {
            let t = Trend {
                name: "x".into(),
                name_en: "x".into(),
                unit: None,
                observations: vec![(2020, lo), (2021, hi)],
                baseline: Some((1990, hi)),
                target: Some((2100, lo, "x".into())),
                forecast: Some((2100, hi, Some(lo), Some(hi))),
            };
            assert!(trends(&[t], crate::fonts::script()).is_ok(), "{lo} {hi}");
        }
    }

    #[test]
    fn long_labels_are_clipped_and_wrapped() {
        assert_eq!(clip("一二三四五", 3), "一二…");
        assert_eq!(clip("一二", 3), "一二");
        assert_eq!(wrap("一二三四五", 2, 2), ["一二", "三…"]);
        assert_eq!(wrap("一二三四", 2, 2), ["一二", "三四"]);
        assert!(wrap("", 2, 2).is_empty());
    }
}
