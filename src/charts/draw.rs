//! Drawing: chart data ([`super::data`]) → pixels, with plotters. Every
//! chart has the same frame: a bold title and a grey subtitle top left, a
//! legend row under them, the plot below. Sizes are chosen for a 1600 × 900
//! image pasted on a slide: no text smaller than 20 px.

use std::error::Error as StdError;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::data::{
    cases_label, goal_label, Band, Heatmap, Highlight, Response, ResponsePanel, Trend, Volume,
};
use super::{HEIGHT, WIDTH};
use crate::model::Priority;

/// One chart, borrowed, ready to draw.
#[derive(Debug, Clone, Copy)]
pub enum Chart<'a> {
    /// Attainment heatmap.
    Heatmap(&'a Heatmap),
    /// Attainment trend.
    Trend(&'a Trend),
    /// Response distribution.
    Response(&'a Response),
    /// Case volume.
    Volume(&'a Volume),
}

type DrawResult = Result<(), Box<dyn StdError>>;
type Area<DB> = DrawingArea<DB, Shift>;

const INK: RGBColor = RGBColor(0x1a, 0x1a, 0x1a);
const MUTED: RGBColor = RGBColor(0x5f, 0x63, 0x68);
const FAINT: RGBColor = RGBColor(0x9a, 0xa0, 0xa6);
const GRID: RGBColor = RGBColor(0xe3, 0xe5, 0xe8);
const GOAL: RGBColor = RGBColor(0x30, 0x30, 0x30);
/// Background of the months under review.
const SHADE: RGBColor = RGBColor(0xec, 0xef, 0xf4);

/// Okabe–Ito colours, distinguishable with the common colour-vision
/// deficiencies: P1 vermillion, P2 orange, P3 blue, P4 bluish green.
const PRIORITY_COLOURS: [RGBColor; 4] = [
    RGBColor(0xd5, 0x5e, 0x00),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0x00, 0x9e, 0x73),
];

/// Tier curves, in policy order (Elite, Online with the bundled policy).
const TIER_COLOURS: [RGBColor; 4] = [
    RGBColor(0x7b, 0x32, 0x94),
    RGBColor(0x00, 0x72, 0xb2),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xd5, 0x5e, 0x00),
];

/// Heatmap fills: light enough for dark text, and for printing.
fn band_fill(band: Band) -> RGBColor {
    match band {
        Band::AtGoal => RGBColor(0x9f, 0xd8, 0xa8),
        Band::NearGoal => RGBColor(0xff, 0xd9, 0x7a),
        Band::BelowGoal => RGBColor(0xf4, 0x9a, 0x8f),
        Band::Undecided => RGBColor(0xe0, 0xe0, 0xe0),
        Band::NoCases => RGBColor(0xf6, 0xf6, 0xf6),
    }
}

fn priority_colour(p: Priority) -> RGBColor {
    PRIORITY_COLOURS[p.index()]
}

/// Draws `chart` as an SVG document.
pub fn svg(chart: Chart<'_>) -> Result<String, Box<dyn StdError>> {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root)?;
        root.present()?;
    }
    Ok(out)
}

/// Draws `chart` into an RGB buffer of [`WIDTH`] × [`HEIGHT`].
pub fn rgb(chart: Chart<'_>) -> Result<Vec<u8>, Box<dyn StdError>> {
    let mut buf = vec![0u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, &root)?;
        root.present()?;
    }
    Ok(buf)
}

fn draw<DB: DrawingBackend>(chart: Chart<'_>, root: &Area<DB>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    match chart {
        Chart::Heatmap(h) => heatmap(root, h),
        Chart::Trend(t) => trend(root, t),
        Chart::Response(r) => response(root, r),
        Chart::Volume(v) => volume(root, v),
    }
}

fn font(size: f64, bold: bool) -> FontDesc<'static> {
    FontDesc::new(
        FontFamily::SansSerif,
        size,
        if bold {
            FontStyle::Bold
        } else {
            FontStyle::Normal
        },
    )
}

fn text<DB: DrawingBackend>(
    area: &Area<DB>,
    s: &str,
    at: (i32, i32),
    (size, bold): (f64, bool),
    colour: &RGBColor,
    (h, v): (HPos, VPos),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let style = font(size, bold).color(colour).pos(Pos::new(h, v));
    area.draw_text(s, &style, at)?;
    Ok(())
}

/// Title, subtitle; returns the y where the legend row goes.
fn header<DB: DrawingBackend>(
    root: &Area<DB>,
    title: &str,
    subtitle: &str,
) -> Result<i32, Box<dyn StdError>>
where
    DB::ErrorType: 'static,
{
    text(
        root,
        title,
        (40, 22),
        (44.0, true),
        &INK,
        (HPos::Left, VPos::Top),
    )?;
    text(
        root,
        subtitle,
        (40, 80),
        (24.0, false),
        &MUTED,
        (HPos::Left, VPos::Top),
    )?;
    Ok(130)
}

/// A legend swatch.
#[derive(Clone, Copy)]
enum Swatch {
    Box(RGBColor),
    Dashed(RGBColor),
    /// Text only.
    None,
}

/// A horizontal legend row starting at x = 40; returns the y below it.
fn legend_row<DB: DrawingBackend>(
    root: &Area<DB>,
    y: i32,
    items: &[(String, Swatch)],
) -> Result<i32, Box<dyn StdError>>
where
    DB::ErrorType: 'static,
{
    let mut x = 40;
    let style = TextStyle::from(font(22.0, false));
    for (label, swatch) in items {
        match *swatch {
            Swatch::Box(c) => {
                root.draw(&Rectangle::new([(x, y - 12), (x + 28, y + 12)], c.filled()))?;
                root.draw(&Rectangle::new(
                    [(x, y - 12), (x + 28, y + 12)],
                    FAINT.stroke_width(1),
                ))?;
            }
            Swatch::Dashed(c) => {
                root.draw(&PathElement::new(
                    vec![(x, y), (x + 8, y)],
                    c.stroke_width(3),
                ))?;
                root.draw(&PathElement::new(
                    vec![(x + 12, y), (x + 20, y)],
                    c.stroke_width(3),
                ))?;
                root.draw(&PathElement::new(
                    vec![(x + 24, y), (x + 28, y)],
                    c.stroke_width(3),
                ))?;
            }
            Swatch::None => x -= 38,
        }
        text(
            root,
            label,
            (x + 38, y),
            (22.0, false),
            &INK,
            (HPos::Left, VPos::Center),
        )?;
        let (w, _) = root.estimate_text_size(label, &style)?;
        x += 38 + w as i32 + 36;
    }
    Ok(y + 30)
}

fn heatmap<DB: DrawingBackend>(root: &Area<DB>, h: &Heatmap) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let y = header(root, &h.title, &h.subtitle)?;
    let goal = goal_label(h.goal);
    let near = goal_label((h.goal - super::data::NEAR_GOAL).max(0.0));
    let legend = [
        (
            format!("at or above {goal}"),
            Swatch::Box(band_fill(Band::AtGoal)),
        ),
        (
            format!("{near} to below {goal}"),
            Swatch::Box(band_fill(Band::NearGoal)),
        ),
        (
            format!("below {near}"),
            Swatch::Box(band_fill(Band::BelowGoal)),
        ),
        (
            "only pending or excluded".to_string(),
            Swatch::Box(band_fill(Band::Undecided)),
        ),
        (
            "no cases".to_string(),
            Swatch::Box(band_fill(Band::NoCases)),
        ),
    ];
    let top = legend_row(root, y, &legend)? + 20;

    let n = h.panels.len().max(1) as i32;
    let (gap, bottom, label_w) = (60, HEIGHT as i32 - 30, 70);
    let rows = h.priorities.len().max(1) as i32;
    let cols = h.regions.len().max(1) as i32;
    let grid_top = top + 90;
    // Cells no wider than 300 px: a one-region account is not a banner.
    let cell_w = ((WIDTH as i32 - 80 - gap * (n - 1)) / n - label_w) / cols;
    let cell_w = cell_w.min(300);
    let cell_h = (bottom - grid_top) / rows;
    let panel_w = label_w + cell_w * cols;
    let left = (WIDTH as i32 - (panel_w * n + gap * (n - 1))) / 2;
    if h.panels.is_empty() {
        text(
            root,
            "no cases",
            (WIDTH as i32 / 2, (top + bottom) / 2),
            (32.0, false),
            &MUTED,
            (HPos::Center, VPos::Center),
        )?;
    }
    for (p, panel) in h.panels.iter().enumerate() {
        let x0 = left + p as i32 * (panel_w + gap);
        let grid_left = x0 + label_w;
        let centre = grid_left + cell_w * cols / 2;
        text(
            root,
            &panel.tier,
            (centre, top),
            (32.0, true),
            &INK,
            (HPos::Center, VPos::Top),
        )?;
        for (c, region) in h.regions.iter().enumerate() {
            let cx = grid_left + c as i32 * cell_w + cell_w / 2;
            text(
                root,
                region,
                (cx, grid_top - 12),
                (24.0, false),
                &INK,
                (HPos::Center, VPos::Bottom),
            )?;
        }
        for (r, priority) in h.priorities.iter().enumerate() {
            let cy = grid_top + r as i32 * cell_h + cell_h / 2;
            text(
                root,
                priority.as_str(),
                (x0 + label_w / 2, cy),
                (28.0, true),
                &INK,
                (HPos::Center, VPos::Center),
            )?;
        }
        for (i, cell) in panel.cells.iter().enumerate() {
            let (r, c) = (i as i32 / cols, i as i32 % cols);
            let (cx0, cy0) = (grid_left + c * cell_w, grid_top + r * cell_h);
            let rect = [(cx0 + 3, cy0 + 3), (cx0 + cell_w - 3, cy0 + cell_h - 3)];
            root.draw(&Rectangle::new(rect, band_fill(cell.band).filled()))?;
            let (mx, my) = (cx0 + cell_w / 2, cy0 + cell_h / 2);
            match cell.band {
                Band::NoCases => {
                    root.draw(&Rectangle::new(rect, GRID.stroke_width(2)))?;
                    text(
                        root,
                        &cell.label,
                        (mx, my),
                        (24.0, false),
                        &MUTED,
                        (HPos::Center, VPos::Center),
                    )?;
                }
                _ => {
                    text(
                        root,
                        &cell.label,
                        (mx, my - 16),
                        (34.0, true),
                        &INK,
                        (HPos::Center, VPos::Center),
                    )?;
                    text(
                        root,
                        &cell.detail,
                        (mx, my + 24),
                        (22.0, false),
                        &INK,
                        (HPos::Center, VPos::Center),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Every k-th label so that month labels never overlap.
fn label_step(n: usize) -> usize {
    n.div_ceil(12).max(1)
}

/// Draws the month labels under a chart's x axis.
fn month_labels<DB: DrawingBackend, Y>(
    root: &Area<DB>,
    chart: &ChartContext<'_, DB, Cartesian2d<RangedCoordf64, Y>>,
    months: &[String],
    y_value: Y::ValueType,
) -> DrawResult
where
    DB::ErrorType: 'static,
    Y: Ranged,
    Y::ValueType: Clone,
{
    let step = label_step(months.len());
    for (i, m) in months.iter().enumerate().filter(|(i, _)| i % step == 0) {
        let (x, y) = chart.backend_coord(&(i as f64, y_value.clone()));
        text(
            root,
            m,
            (x, y + 12),
            (22.0, false),
            &INK,
            (HPos::Center, VPos::Top),
        )?;
    }
    Ok(())
}

/// Shades the highlighted months of a monthly chart (named in the legend).
fn shade<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    h: Option<&Highlight>,
    (y_lo, y_hi): (f64, f64),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    if let Some(h) = h {
        let (x0, x1) = (h.first as f64 - 0.5, h.last as f64 + 0.5);
        chart.draw_series([Rectangle::new([(x0, y_lo), (x1, y_hi)], SHADE.filled())])?;
    }
    Ok(())
}

/// One row per priority (small multiples, so lines at 100 % never hide
/// each other), months along a shared x axis.
fn trend<DB: DrawingBackend>(root: &Area<DB>, t: &Trend) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let y = header(root, &t.title, &t.subtitle)?;
    let mut legend = vec![(format!("goal {}", goal_label(t.goal)), Swatch::Dashed(GOAL))];
    if let Some(h) = &t.highlight {
        legend.push((format!("{} under review", h.label), Swatch::Box(SHADE)));
    }
    legend.push((
        "n/a: only pending or excluded cases".to_string(),
        Swatch::None,
    ));
    let top = legend_row(root, y, &legend)?;
    let (_, body) = root.split_vertically(top);
    let (rows_area, _) = body.split_vertically(body.dim_in_pixel().1 as i32 - 50);
    let rows = rows_area.split_evenly((t.series.len().max(1), 1));

    let lowest = t
        .series
        .iter()
        .flat_map(|s| s.points.iter().flatten())
        .fold(t.goal, |a, &b| a.min(b));
    let y_lo = ((lowest * 100.0 / 10.0).floor() * 10.0 - 10.0).max(0.0);
    let n = t.months.len().max(1);
    let y_fmt = |v: &f64| format!("{v:.0} %");
    for (r, (area, s)) in rows.iter().zip(&t.series).enumerate() {
        let colour = priority_colour(s.priority);
        let mut chart = ChartBuilder::on(area)
            .margin_left(20)
            .margin_right(60)
            .margin_top(30)
            .margin_bottom(4)
            .y_label_area_size(150)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), y_lo..100.0)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(3)
            .y_label_formatter(&y_fmt)
            .label_style(font(20.0, false))
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .draw()?;
        shade(&mut chart, t.highlight.as_ref(), (y_lo, 100.0))?;
        let (_, mid) = chart.backend_coord(&(0.0, (y_lo + 100.0) / 2.0));
        text(
            root,
            s.priority.as_str(),
            (60, mid),
            (30.0, true),
            &colour,
            (HPos::Center, VPos::Center),
        )?;

        let goal = t.goal * 100.0;
        chart.draw_series(DashedLineSeries::new(
            [(-0.5, goal), (n as f64 - 0.5, goal)],
            14,
            8,
            GOAL.stroke_width(2),
        ))?;
        // Runs of consecutive months with a value.
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, p) in s.points.iter().enumerate() {
            match p {
                Some(v) => runs.last_mut().expect("a run").push((i as f64, v * 100.0)),
                None => runs.push(Vec::new()),
            }
        }
        for run in runs.iter().filter(|r| !r.is_empty()) {
            chart.draw_series(LineSeries::new(run.iter().copied(), colour.stroke_width(4)))?;
            chart.draw_series(run.iter().map(|&pt| Circle::new(pt, 7, colour.filled())))?;
        }
        for (i, counts) in s.counts.iter().enumerate() {
            let x = i as f64;
            match counts.attainment_label() {
                Some(label) => {
                    // Above a point at or over the goal, below one under it,
                    // so that the label never sits on the goal line.
                    let v = counts.attainment().unwrap_or(0.0) * 100.0;
                    let (px, py) = chart.backend_coord(&(x, v));
                    let (_, bottom) = chart.backend_coord(&(x, y_lo));
                    if v >= goal || bottom - py < 30 {
                        text(
                            root,
                            &label,
                            (px, py - 10),
                            (18.0, false),
                            &INK,
                            (HPos::Center, VPos::Bottom),
                        )?;
                    } else {
                        text(
                            root,
                            &label,
                            (px, py + 10),
                            (18.0, false),
                            &INK,
                            (HPos::Center, VPos::Top),
                        )?;
                    }
                }
                None => {
                    let what = if counts.cases == 0 { "no cases" } else { "n/a" };
                    let (px, py) = chart.backend_coord(&(x, (y_lo + 100.0) / 2.0));
                    text(
                        root,
                        what,
                        (px, py),
                        (18.0, false),
                        &MUTED,
                        (HPos::Center, VPos::Center),
                    )?;
                }
            }
        }
        if r + 1 == t.series.len() {
            month_labels(root, &chart, &t.months, y_lo)?;
        }
    }
    Ok(())
}

fn response<DB: DrawingBackend>(root: &Area<DB>, r: &Response) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let y = header(root, &r.title, &r.subtitle)?;
    let (_, body) = root.split_vertically(y - 10);
    let panels = body.split_evenly((2, 2));
    for (area, panel) in panels.iter().zip(&r.panels) {
        response_panel(area, panel)?;
    }
    Ok(())
}

fn minutes_label(m: i64) -> String {
    if m >= 120 && m % 60 == 0 {
        format!("{m} min ({} h)", m / 60)
    } else {
        format!("{m} min")
    }
}

fn response_panel<DB: DrawingBackend>(area: &Area<DB>, p: &ResponsePanel) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x_max = if p.x_max > 0.0 { p.x_max } else { 60.0 };
    let mut chart = ChartBuilder::on(area)
        .margin_left(20)
        .margin_right(40)
        .margin_top(8)
        .margin_bottom(8)
        .caption(p.priority.as_str(), font(28.0, true))
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(0f64..x_max, 0f64..100.0)?;
    let x_fmt = |v: &f64| format!("{v:.0}");
    let y_fmt = |v: &f64| format!("{v:.0} %");
    chart
        .configure_mesh()
        .x_labels(6)
        .y_labels(5)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .x_desc("business minutes to first response")
        .label_style(font(20.0, false))
        .axis_desc_style(font(20.0, false))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()?;
    if p.curves.is_empty() {
        let (x, y) = chart.backend_coord(&(x_max / 2.0, 50.0));
        text(
            area,
            "no cases",
            (x, y),
            (28.0, false),
            &MUTED,
            (HPos::Center, VPos::Center),
        )?;
        return Ok(());
    }
    for (i, curve) in p.curves.iter().enumerate() {
        let colour = TIER_COLOURS[i % TIER_COLOURS.len()];
        for &t in &curve.targets {
            let t = t as f64;
            chart.draw_series(DashedLineSeries::new(
                [(t, 0.0), (t, 100.0)],
                10,
                6,
                colour.stroke_width(2),
            ))?;
        }
        // The step function, cut at the right edge of the axis.
        let mut pts = Vec::with_capacity(curve.steps.len() * 2 + 1);
        let mut last = 0.0;
        for &(x, share) in &curve.steps {
            if x > x_max {
                break;
            }
            pts.push((x, last * 100.0));
            pts.push((x, share * 100.0));
            last = share;
        }
        pts.push((x_max, last * 100.0));
        let targets = match curve.targets.as_slice() {
            [one] => format!("target {}", minutes_label(*one)),
            [first, .., last] => format!("targets {}–{} min", first, last),
            [] => String::new(),
        };
        let met = super::data::Counts {
            cases: curve.decided,
            met: curve.met,
            breached: curve.decided - curve.met,
            ..Default::default()
        };
        let label = format!(
            "{}: {}, {}, {} met",
            curve.tier,
            cases_label(curve.decided),
            targets,
            met.attainment_label().unwrap_or_default()
        );
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(4)))?
            .label(label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(4))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .margin(12)
        .label_font(font(20.0, false))
        .background_style(WHITE.mix(0.9))
        .border_style(FAINT)
        .draw()?;
    Ok(())
}

fn volume<DB: DrawingBackend>(root: &Area<DB>, v: &Volume) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let y = header(root, &v.title, &v.subtitle)?;
    // Most urgent at the bottom of each bar, and first in the legend.
    let mut legend: Vec<(String, Swatch)> = Priority::ALL
        .iter()
        .map(|&p| (p.to_string(), Swatch::Box(priority_colour(p))))
        .collect();
    if let Some(h) = &v.highlight {
        legend.push((format!("{} under review", h.label), Swatch::Box(SHADE)));
    }
    let top = legend_row(root, y, &legend)?;
    let (_, body) = root.split_vertically(top);
    let max_total = v
        .counts
        .iter()
        .map(|c| c.iter().sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1);
    let y_max = (max_total as f64 * 1.12).ceil();
    let n = v.months.len().max(1);
    let mut chart = ChartBuilder::on(&body)
        .margin_left(30)
        .margin_right(60)
        .margin_top(10)
        .margin_bottom(20)
        .x_label_area_size(50)
        .y_label_area_size(110)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..y_max)?;
    let y_fmt = |v: &f64| format!("{v:.0}");
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&y_fmt)
        .y_desc("cases created")
        .label_style(font(22.0, false))
        .axis_desc_style(font(24.0, false))
        .light_line_style(WHITE)
        .bold_line_style(GRID)
        .draw()?;
    shade(&mut chart, v.highlight.as_ref(), (0.0, y_max))?;
    month_labels(root, &chart, &v.months, 0.0)?;
    let half = 0.36;
    for (i, counts) in v.counts.iter().enumerate() {
        let x = i as f64;
        let total: u64 = counts.iter().sum();
        if total == 0 {
            let (px, py) = chart.backend_coord(&(x, 0.0));
            text(
                root,
                "no cases",
                (px, py - 8),
                (20.0, false),
                &MUTED,
                (HPos::Center, VPos::Bottom),
            )?;
            continue;
        }
        let mut base = 0.0;
        for p in Priority::ALL {
            let n = counts[p.index()] as f64;
            if n > 0.0 {
                let rect = [(x - half, base), (x + half, base + n)];
                chart.draw_series([Rectangle::new(rect, priority_colour(p).filled())])?;
                chart.draw_series([Rectangle::new(rect, WHITE.stroke_width(1))])?;
                // The count inside the segment, when it fits.
                let (top, bottom) = (
                    chart.backend_coord(&(x, base + n)).1,
                    chart.backend_coord(&(x, base)).1,
                );
                if bottom - top >= 26 {
                    let (px, py) = chart.backend_coord(&(x, base + n / 2.0));
                    let label = counts[p.index()].to_string();
                    // Dark text on the light orange of P2, white elsewhere.
                    let ink = if p == Priority::P2 { INK } else { WHITE };
                    text(
                        root,
                        &label,
                        (px, py),
                        (18.0, true),
                        &ink,
                        (HPos::Center, VPos::Center),
                    )?;
                }
            }
            base += n;
        }
        let (px, py) = chart.backend_coord(&(x, base));
        text(
            root,
            &total.to_string(),
            (px, py - 6),
            (22.0, true),
            &INK,
            (HPos::Center, VPos::Bottom),
        )?;
    }
    Ok(())
}
