//! Charts: the pictures of `slt report` and of a service-review pack, each
//! written as SVG and PNG.
//!
//! Four charts: the attainment heatmap (priority × region per tier, one
//! period, cells coloured against the policy's `attainment_goal`), the
//! attainment trend by month with the goal line, the response distribution
//! (per priority, the cumulative share of cases answered by x business
//! minutes, target marked) and the case volume per month by priority.
//!
//! The data behind each chart is computed by the pure functions of [`data`]
//! from plain [`CaseRow`]s; [`draw`] only turns it into pixels. Text is drawn
//! with the DejaVu Sans font bundled in `assets/fonts/` through plotters'
//! `ab_glyph` backend: no system font, no fontconfig, so a PNG renders the
//! same on a machine with no fonts installed. The SVGs name the generic
//! `sans-serif` family and leave the glyphs to the viewer.

pub mod data;
pub mod draw;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use data::{CaseRow, Counts};
use data::{Heatmap, Response, Trend, Volume};

use crate::policy::Policy;
use crate::{Error, Result};

/// Width of every chart, pixels (SVG user units and PNG pixels).
pub const WIDTH: u32 = 1600;
/// Height of every chart.
pub const HEIGHT: u32 = 900;

/// The charts' file stems, in the order they are written.
pub const CHART_NAMES: [&str; 4] = [
    "attainment_heatmap",
    "attainment_trend",
    "response_distribution",
    "case_volume",
];

/// Every chart file `slt report` writes (each chart as SVG and PNG).
pub const CHART_FILES: [&str; 8] = [
    "attainment_heatmap.svg",
    "attainment_heatmap.png",
    "attainment_trend.svg",
    "attainment_trend.png",
    "response_distribution.svg",
    "response_distribution.png",
    "case_volume.svg",
    "case_volume.png",
];

/// The bundled fonts (see `assets/fonts/README.md`).
const FONT_REGULAR: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const FONT_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// Registers the bundled font as plotters' `sans-serif`, once.
fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        use plotters::style::{register_font, FontStyle};
        register_font("sans-serif", FontStyle::Normal, FONT_REGULAR).is_ok()
            && register_font("sans-serif", FontStyle::Bold, FONT_BOLD).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::Internal(
            "the bundled chart font cannot be loaded".into(),
        ))
    }
}

/// The four charts of one scope (the whole export, or one account).
#[derive(Debug, Clone, PartialEq)]
pub struct Charts {
    /// Attainment heatmap.
    pub heatmap: Heatmap,
    /// Attainment trend.
    pub trend: Trend,
    /// Response distribution.
    pub response: Response,
    /// Case volume.
    pub volume: Volume,
}

impl Charts {
    /// The charts with their file stems, in [`CHART_NAMES`] order.
    pub fn named(&self) -> [(&'static str, draw::Chart<'_>); 4] {
        [
            (CHART_NAMES[0], draw::Chart::Heatmap(&self.heatmap)),
            (CHART_NAMES[1], draw::Chart::Trend(&self.trend)),
            (CHART_NAMES[2], draw::Chart::Response(&self.response)),
            (CHART_NAMES[3], draw::Chart::Volume(&self.volume)),
        ]
    }
}

/// The charts of `slt report`: the heatmap of the latest quarter, and the
/// trend, response distribution and volume over every month of the export.
pub fn report_charts(cases: &[CaseRow], policy: &Policy) -> Charts {
    let scope = "all accounts";
    let tally = data::Tally::of(cases);
    let period = tally.latest_period().unwrap_or_else(|| "no period".into());
    let months = tally
        .month_span()
        .map(|(a, b)| data::month_range(&a, &b))
        .unwrap_or_default();
    let regions: Vec<String> = policy.regions.iter().map(|r| r.name.clone()).collect();
    let span = match (months.first(), months.last()) {
        (Some(a), Some(b)) => format!("{scope}, {a} to {b}"),
        _ => scope.to_string(),
    };
    Charts {
        heatmap: data::heatmap(
            &tally,
            &period,
            &policy.tiers,
            &regions,
            policy.attainment_goal,
            scope,
        ),
        trend: data::trend(&tally, &months, policy.attainment_goal, scope),
        response: data::response(&tally, &policy.tiers, &span),
        volume: data::volume(&tally, &months, scope),
    }
}

/// Renders `charts` as SVG and PNG, each file at `file(name)`.
pub fn write_charts(charts: &Charts, file: impl Fn(&str) -> PathBuf) -> Result<()> {
    for (name, chart) in charts.named() {
        let svg = render_svg(chart)?;
        write_file(&file(&format!("{name}.svg")), svg.as_bytes())?;
        write_file(&file(&format!("{name}.png")), &render_png(chart)?)?;
    }
    Ok(())
}

/// Writes the charts of `slt report` for the measured cases.
pub fn write_report_charts(
    cases: &[CaseRow],
    policy: &Policy,
    file: impl Fn(&str) -> PathBuf,
) -> Result<()> {
    write_charts(&report_charts(cases, policy), file)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).map_err(|e| Error::Write {
        path: path.into(),
        reason: e.to_string(),
    })
}

/// One chart as an SVG document.
pub fn render_svg(chart: draw::Chart<'_>) -> Result<String> {
    register_fonts()?;
    draw::svg(chart).map_err(|e| Error::Internal(format!("cannot draw a chart: {e}")))
}

/// One chart as a PNG image of [`WIDTH`] × [`HEIGHT`] pixels.
pub fn render_png(chart: draw::Chart<'_>) -> Result<Vec<u8>> {
    register_fonts()?;
    let rgb = draw::rgb(chart).map_err(|e| Error::Internal(format!("cannot draw a chart: {e}")))?;
    encode_png(&rgb, WIDTH, HEIGHT)
}

fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let err = |e: png::EncodingError| Error::Internal(format!("cannot encode a PNG: {e}"));
    let mut writer = encoder.write_header().map_err(err)?;
    writer.write_image_data(rgb).map_err(err)?;
    writer.finish().map_err(err)?;
    Ok(out)
}
