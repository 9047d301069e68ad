//! Report charts: one PNG a moderator can read at a glance, attached by `/report` and written by
//! `beacon report --chart FILE`.
//!
//! The image has the title on top, then the questions and tickets per bucket (bars side by side,
//! a legend, a y axis), then the median time to first human response in minutes (a line with a
//! dot per bucket, broken where no ticket of the bucket was answered).
//!
//! Pure: no I/O, no Discord types, no clock. plotters draws the shapes into an RGB buffer,
//! [`Canvas`] draws the text, the `png` crate encodes. The font (DejaVu Sans, `assets/fonts/`,
//! with its licence) is embedded, because the servers Beacon runs on often have no fonts at all,
//! and a chart without its numbers says nothing.

use std::ops::Range;

use ab_glyph::FontRef;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The image's size in pixels: wide enough for two weeks of days or a day of hours with every
/// label.
pub const WIDTH: u32 = 1000;
pub const HEIGHT: u32 = 600;

/// One bucket of time (an hour or a day).
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// Short label under the bar, e.g. "11-20" or "14:00".
    pub label: String,
    pub questions: u64,
    pub tickets: u64,
    /// Median time to first human response of the tickets opened in the bucket.
    pub first_response_median_ms: Option<i64>,
}

/// Why no chart could be made. None of these comes from the data: every series, empty or huge,
/// has a picture, so these are the operator's to read, never the moderator's.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The embedded font did not parse: the build shipped a broken `assets/fonts/DejaVuSans.ttf`.
    #[error("the embedded chart font is not a valid TrueType font")]
    Font(#[from] ab_glyph::InvalidFont),
    /// plotters failed to draw into the in-memory buffer.
    #[error("drawing the chart failed")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("encoding the chart as PNG failed")]
    Encode(#[from] png::EncodingError),
}

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// The family plotters' text styles name; [`Canvas`] draws every family with the embedded font.
const FAMILY: &str = "sans-serif";

const QUESTIONS: RGBColor = RGBColor(76, 114, 176);
const TICKETS: RGBColor = RGBColor(221, 132, 82);
const RESPONSE: RGBColor = RGBColor(129, 84, 178);
const INK: RGBColor = RGBColor(40, 40, 40);
const MUTED: RGBColor = RGBColor(120, 120, 120);
const GRID: RGBColor = RGBColor(225, 225, 225);

/// Sizes are line heights in pixels. Discord shows the image at about half its width until it
/// is clicked, so the text is larger than a printed chart's.
const TITLE_SIZE: f64 = 26.0;
const CAPTION_SIZE: f64 = 19.0;
const LABEL_SIZE: f64 = 16.0;

/// Space around and inside each panel, in pixels.
const MARGIN_LEFT: u32 = 12;
const MARGIN_RIGHT: u32 = 24;
const Y_LABEL_AREA: u32 = 60;
const X_LABEL_AREA: u32 = 26;
const HEADER: u32 = 28;
const PANEL_GAP: u32 = 12;
/// The least free space between two x labels.
const LABEL_GAP: u32 = 14;
/// The widest a pair of bars gets, so one bucket is not one huge block.
const MAX_GROUP_PX: f64 = 120.0;

/// Draws the report chart: a PNG of [`WIDTH`]×[`HEIGHT`] pixels.
///
/// On top, questions and tickets per bucket (bars side by side, with a legend and a y axis);
/// below, the median first response in minutes per bucket (line with points, gaps where `None`).
/// The title is drawn on top. No points give empty axes that say "no data"; labels are thinned
/// out evenly when they would not all fit.
///
/// # Errors
///
/// Only when the build is broken (the embedded font) or plotters or the encoder fails: every
/// series, empty or huge, has a picture.
pub fn render(title: &str, points: &[Point]) -> Result<Vec<u8>, ChartError> {
    let font = FontRef::try_from_slice(FONT)?;
    let mut rgb = vec![0_u8; WIDTH as usize * HEIGHT as usize * 3];
    {
        let bitmap = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT));
        let root = Canvas { bitmap, font }.into_drawing_area();
        draw(&root, title, points).map_err(|e| ChartError::Draw(Box::new(e)))?;
        root.present().map_err(|e| ChartError::Draw(Box::new(e)))?;
    }
    encode_png(&rgb)
}

fn encode_png(rgb: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Balanced);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

mod canvas;

use canvas::Canvas;

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    points: &[Point],
) -> DrawResult<DB> {
    root.fill(&WHITE)?;

    let title_style = text(TITLE_SIZE, INK).pos(Pos::new(HPos::Center, VPos::Center));
    let title = fit_text(root, title, &title_style, WIDTH - 2 * MARGIN_RIGHT)?;
    root.draw_text(&title, &title_style, (px(WIDTH / 2), 22))?;
    let body = root.margin(44, 0, 0, 0);

    let (bars, line) = body.split_vertically(body.dim_in_pixel().1 * 57 / 100);
    let line = line.margin(PANEL_GAP, 0, 0, 0);

    let label_style = text(LABEL_SIZE, INK);
    let widest_label = points
        .iter()
        .map(|p| {
            root.estimate_text_size(&p.label, &label_style)
                .map(|(w, _)| w)
        })
        .try_fold(0, |widest, w| w.map(|w| widest.max(w)))?;
    let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT - Y_LABEL_AREA;
    let axis = XAxis::new(points, widest_label, plot_width);

    draw_counts(&bars, points, &axis)?;
    draw_response(&line, points, &axis)?;
    Ok(())
}

/// The x axis both panels share, a plotters coordinate of its own: bucket `i` spans `i..i + 1`
/// and its label, if drawn, sits under `i + 0.5`.
#[derive(Clone)]
struct XAxis<'a> {
    labels: Vec<&'a str>,
    /// The buckets whose label is drawn.
    shown: Vec<usize>,
    /// How much of a bucket's width its pair of bars takes.
    group: f64,
    /// The width of a bucket in pixels.
    bucket_px: f64,
}

impl<'a> XAxis<'a> {
    fn new(points: &'a [Point], widest_label: u32, plot_width: u32) -> Self {
        let step = label_step(points.len(), widest_label, plot_width);
        let bucket_px = f64::from(plot_width) / as_f64(points.len().max(1));
        XAxis {
            labels: points.iter().map(|p| p.label.as_str()).collect(),
            shown: (0..points.len()).step_by(step).collect(),
            group: (MAX_GROUP_PX / bucket_px).min(0.8),
            bucket_px,
        }
    }

    /// Dots and line narrow when buckets do, so a dense series stays a line, not a smear.
    fn stroke(&self) -> (u32, u32) {
        if self.bucket_px >= 16.0 {
            (4, 3)
        } else {
            (2, 2)
        }
    }

    /// With no buckets the axis still spans one, so the empty chart has its frame.
    fn end(&self) -> f64 {
        as_f64(self.labels.len().max(1))
    }
}

impl Ranged for XAxis<'_> {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, (left, right): (i32, i32)) -> i32 {
        let offset = value / self.end() * f64::from(right - left);
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a pixel offset inside the image"
        )]
        let offset = offset.round() as i32;
        left + offset
    }

    /// Only the shown labels, and no light grid lines between them.
    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.shown.iter().map(|&i| as_f64(i) + 0.5).collect()
        }
    }

    fn range(&self) -> Range<f64> {
        0.0..self.end()
    }
}

impl ValueFormatter<f64> for XAxis<'_> {
    fn format_ext(&self, x: &f64) -> String {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "x is a key point, the middle of a bucket: small and positive"
        )]
        let i = x.floor() as usize;
        self.labels
            .get(i)
            .map_or_else(String::new, |label| (*label).to_owned())
    }
}

/// Draw every `step`-th label, so the widest label plus a gap fits in each label's slot.
fn label_step(buckets: usize, widest_label: u32, plot_width: u32) -> usize {
    let slot = (widest_label + LABEL_GAP) as usize;
    let fit = (plot_width as usize / slot).max(1);
    buckets.div_ceil(fit).max(1)
}

fn draw_counts<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[Point],
    axis: &XAxis,
) -> DrawResult<DB> {
    let (header, plot) = area.split_vertically(HEADER);
    caption(&header, "Questions and tickets")?;
    legend(&header, &[("Questions", QUESTIONS), ("Tickets", TICKETS)])?;

    let highest = points
        .iter()
        .map(|p| p.questions.max(p.tickets))
        .max()
        .unwrap_or(0);
    let top = highest.saturating_add((highest / 10).max(1));

    let mut chart = ChartBuilder::on(&plot)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(6)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(axis.clone(), 0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(text(LABEL_SIZE, INK))
        .y_labels(6)
        // An empty panel gets no numbers: they would claim a scale. (`y_labels(0)` hangs plotters.)
        .y_label_formatter(&|y| {
            if points.is_empty() {
                String::new()
            } else {
                axis_number(count_f64(*y))
            }
        })
        .draw()?;

    let half = axis.group / 2.0;
    let bars = points.iter().enumerate().flat_map(|(i, p)| {
        let middle = as_f64(i) + 0.5;
        [
            (middle - half, middle, p.questions, QUESTIONS),
            (middle, middle + half, p.tickets, TICKETS),
        ]
    });
    chart.draw_series(bars.filter(|&(_, _, value, _)| value > 0).map(
        |(left, right, value, color)| Rectangle::new([(left, value), (right, 0)], color.filled()),
    ))?;

    if points.is_empty() {
        no_data(&chart.plotting_area().strip_coord_spec(), "no data")?;
    }
    Ok(())
}

fn draw_response<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    points: &[Point],
    axis: &XAxis,
) -> DrawResult<DB> {
    let (header, plot) = area.split_vertically(HEADER);
    caption(&header, "Median time to first response (minutes)")?;

    let minutes: Vec<Option<f64>> = points
        .iter()
        .map(|p| {
            p.first_response_median_ms
                .map(|ms| as_f64_ms(ms.max(0)) / 60_000.0)
        })
        .collect();
    let highest = minutes.iter().flatten().copied().fold(0.0, f64::max);
    let top = if highest > 0.0 { highest * 1.15 } else { 1.0 };

    let mut chart = ChartBuilder::on(&plot)
        .margin_left(MARGIN_LEFT)
        .margin_right(MARGIN_RIGHT)
        .margin_top(6)
        .margin_bottom(4)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(axis.clone(), 0.0..top)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(MUTED)
        .label_style(text(LABEL_SIZE, INK))
        .y_labels(5)
        .y_label_formatter(&|y| {
            if highest > 0.0 {
                axis_number(*y)
            } else {
                String::new()
            }
        })
        .draw()?;

    let (radius, width) = axis.stroke();
    for run in runs(&minutes) {
        chart.draw_series(LineSeries::new(
            run.iter().copied(),
            RESPONSE.stroke_width(width),
        ))?;
        chart.draw_series(
            run.iter()
                .map(|&xy| Circle::new(xy, radius, RESPONSE.filled())),
        )?;
    }

    if points.is_empty() {
        no_data(&chart.plotting_area().strip_coord_spec(), "no data")?;
    } else if minutes.iter().all(Option::is_none) {
        no_data(
            &chart.plotting_area().strip_coord_spec(),
            "no ticket answered",
        )?;
    }
    Ok(())
}

/// The stretches of consecutive buckets that have a value, as (x, y) points: the line is drawn
/// through each and broken between them.
fn runs(values: &[Option<f64>]) -> Vec<Vec<(f64, f64)>> {
    let mut runs = Vec::new();
    let mut current = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(y) => current.push((as_f64(i) + 0.5, *y)),
            None if current.is_empty() => {}
            None => runs.push(std::mem::take(&mut current)),
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}

fn caption<DB: DrawingBackend>(header: &DrawingArea<DB, Shift>, caption: &str) -> DrawResult<DB> {
    let style = text(CAPTION_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Center));
    header.draw_text(caption, &style, (px(MARGIN_LEFT), px(HEADER / 2)))
}

/// A swatch and a name per series, right-aligned in the panel's header, where no bar can hide it.
fn legend<DB: DrawingBackend>(
    header: &DrawingArea<DB, Shift>,
    entries: &[(&str, RGBColor)],
) -> DrawResult<DB> {
    const SWATCH: i32 = 14;
    let style = text(LABEL_SIZE, INK).pos(Pos::new(HPos::Left, VPos::Center));
    let middle = px(HEADER / 2);
    let mut right = px(WIDTH - MARGIN_RIGHT);
    for (name, color) in entries.iter().rev() {
        let (width, _) = header.estimate_text_size(name, &style)?;
        let text_left = right - px(width);
        let swatch_left = text_left - 6 - SWATCH;
        header.draw(&Rectangle::new(
            [
                (swatch_left, middle - SWATCH / 2),
                (swatch_left + SWATCH, middle + SWATCH / 2),
            ],
            color.filled(),
        ))?;
        header.draw_text(name, &style, (text_left, middle))?;
        right = swatch_left - 18;
    }
    Ok(())
}

fn no_data<DB: DrawingBackend>(plot: &DrawingArea<DB, Shift>, message: &str) -> DrawResult<DB> {
    let (width, height) = plot.dim_in_pixel();
    let style = text(CAPTION_SIZE, MUTED).pos(Pos::new(HPos::Center, VPos::Center));
    plot.draw_text(message, &style, (px(width / 2), px(height / 2)))
}

/// The text cut with an ellipsis to fit `max_width` pixels, so a long title stays readable.
fn fit_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    full: &str,
    style: &TextStyle,
    max_width: u32,
) -> Result<String, DrawingAreaErrorKind<DB::ErrorType>> {
    // Far more characters than fit in the image at any legible size: a runaway title is cut
    // without measuring all of it.
    const MOST: usize = 300;
    let mut chars: Vec<char> = full.chars().take(MOST + 1).collect();
    let mut candidate: String = chars.iter().collect();
    if chars.len() > MOST {
        chars.truncate(MOST);
        candidate = chars.iter().collect::<String>() + "…";
    }
    while !chars.is_empty() && area.estimate_text_size(&candidate, style)?.0 > max_width {
        chars.pop();
        candidate = chars.iter().collect::<String>().trim_end().to_owned() + "…";
    }
    Ok(candidate)
}

fn text(size: f64, color: RGBColor) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&color)
}

/// An axis value, short: "40", "2.5", "20k", "1.2M".
fn axis_number(value: f64) -> String {
    let (scaled, suffix) = if value.abs() >= 1_000_000.0 {
        (value / 1_000_000.0, "M")
    } else if value.abs() >= 10_000.0 {
        (value / 1_000.0, "k")
    } else {
        (value, "")
    };
    let digits = format!("{scaled:.2}");
    let digits = digits.trim_end_matches('0').trim_end_matches('.');
    format!("{digits}{suffix}")
}

#[expect(
    clippy::cast_precision_loss,
    reason = "bucket indices are far below 2^52"
)]
fn as_f64(n: usize) -> f64 {
    n as f64
}

#[expect(
    clippy::cast_precision_loss,
    reason = "an axis label needs no more than 52 bits"
)]
fn count_f64(n: u64) -> f64 {
    n as f64
}

#[expect(
    clippy::cast_precision_loss,
    reason = "milliseconds below 2^52 are 142 millennia"
)]
fn as_f64_ms(ms: i64) -> f64 {
    ms as f64
}

/// A pixel offset inside the image, which is far smaller than `i32::MAX`.
fn px(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The chart of a report's timeline, labelled in the server's time zone: hours as "14:00",
/// days as "11-20".
pub fn of_report(report: &crate::desk::report::Report) -> Result<Vec<u8>, ChartError> {
    let zone = &report.time_zone;
    let local = |ms: i64, format: &str| {
        jiff::Timestamp::from_millisecond(ms)
            .map(|t| t.to_zoned(zone.clone()).strftime(format).to_string())
            .unwrap_or_default()
    };
    let label = if report.period.hourly() {
        "%H:%M"
    } else {
        "%m-%d"
    };
    let points: Vec<Point> = report
        .timeline
        .iter()
        .map(|b| Point {
            label: local(b.start_ms, label),
            questions: b.questions,
            tickets: b.tickets,
            first_response_median_ms: b.first_response_median_ms,
        })
        .collect();
    let title = format!(
        "Questions, tickets and first response, {} to {} ({})",
        local(report.period.from_ms, "%Y-%m-%d"),
        local(report.period.to_ms, "%Y-%m-%d"),
        local(report.period.to_ms, "%Z")
    );
    render(&title, &points)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(
        label: &str,
        questions: u64,
        tickets: u64,
        first_response_minutes: Option<i64>,
    ) -> Point {
        Point {
            label: label.to_owned(),
            questions,
            tickets,
            first_response_median_ms: first_response_minutes.map(|m| m * 60_000),
        }
    }

    /// Width and height from the IHDR chunk, which a PNG must start with.
    fn png_size(png: &[u8]) -> (u32, u32) {
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "the PNG signature");
        assert_eq!(&png[12..16], b"IHDR", "the first chunk is IHDR");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
        (width, height)
    }

    /// The RGB pixels, row by row.
    fn decode(png: &[u8]) -> Vec<u8> {
        let mut reader = png::Decoder::new(std::io::Cursor::new(png))
            .read_info()
            .unwrap();
        let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut pixels).unwrap();
        assert_eq!(info.color_type, png::ColorType::Rgb);
        pixels.truncate(info.buffer_size());
        pixels
    }

    fn count_pixels(pixels: &[u8], color: RGBColor) -> usize {
        pixels
            .chunks_exact(3)
            .filter(|p| *p == [color.0, color.1, color.2])
            .count()
    }

    fn two_weeks() -> Vec<Point> {
        (1..=14)
            .map(|day| {
                let crisis = (6..=8).contains(&day);
                point(
                    &format!("11-{day:02}"),
                    if crisis { 180 } else { 40 },
                    if crisis { 60 } else { 8 },
                    Some(if crisis { 95 } else { 12 }),
                )
            })
            .collect()
    }

    #[test]
    fn a_chart_is_a_png_of_the_documented_size() {
        let png = render("Last 14 days", &two_weeks()).unwrap();

        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
        assert_eq!((WIDTH, HEIGHT), (1000, 600));
    }

    #[test]
    fn no_points_still_give_a_chart() {
        let png = render("Nothing yet", &[]).unwrap();

        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
        let pixels = decode(&png);
        let legend_only = decode(&render("Nothing yet", &[point("11-20", 0, 0, None)]).unwrap());
        assert_eq!(
            count_pixels(&pixels, QUESTIONS),
            count_pixels(&legend_only, QUESTIONS),
            "the legend's swatch, no bar"
        );
        assert_eq!(count_pixels(&pixels, RESPONSE), 0, "no line without points");
        assert!(
            count_pixels(&pixels, INK) > 500,
            "the title and captions are drawn"
        );
    }

    #[test]
    fn the_bars_are_drawn_in_their_series_colours() {
        let empty = decode(&render("Today", &[point("14:00", 0, 0, None)]).unwrap());
        let busy = decode(&render("Today", &[point("14:00", 50, 20, Some(5))]).unwrap());

        assert!(count_pixels(&busy, QUESTIONS) > count_pixels(&empty, QUESTIONS) + 1_000);
        assert!(count_pixels(&busy, TICKETS) > count_pixels(&empty, TICKETS) + 400);
        assert!(
            count_pixels(&busy, QUESTIONS) - count_pixels(&empty, QUESTIONS)
                > count_pixels(&busy, TICKETS) - count_pixels(&empty, TICKETS),
            "50 questions stand taller than 20 tickets"
        );
        assert!(
            count_pixels(&busy, RESPONSE) > count_pixels(&empty, RESPONSE),
            "the response dot"
        );
    }

    #[test]
    fn a_taller_bar_is_drawn_where_the_data_says() {
        let points = vec![point("a", 0, 0, None), point("b", 100, 0, None)];
        let pixels = decode(&render("", &points).unwrap());

        let column = |x: u32| -> usize {
            (0..HEIGHT)
                .filter(|&y| {
                    let at = ((y * WIDTH + x) * 3) as usize;
                    pixels[at..at + 3] == [QUESTIONS.0, QUESTIONS.1, QUESTIONS.2]
                })
                .count()
        };
        let plot_left = MARGIN_LEFT + Y_LABEL_AREA;
        let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT - Y_LABEL_AREA;
        // The questions bar sits just left of each bucket's middle.
        let first = plot_left + plot_width / 4 - 10;
        let second = plot_left + plot_width * 3 / 4 - 10;
        assert_eq!(column(first), 0, "no bar for zero questions");
        assert!(
            column(second) > 150,
            "a tall bar for 100 questions, got {}",
            column(second)
        );
    }

    #[test]
    fn different_data_gives_a_different_image() {
        let calm = render("Last 14 days", &two_weeks()).unwrap();
        let mut points = two_weeks();
        points[3].tickets += 30;
        let busier = render("Last 14 days", &points).unwrap();

        assert_ne!(calm, busier);
    }

    #[test]
    fn the_same_data_gives_the_same_image() {
        assert_eq!(
            render("Last 14 days", &two_weeks()).unwrap(),
            render("Last 14 days", &two_weeks()).unwrap()
        );
    }

    #[test]
    fn one_point_renders() {
        let png = render("Today", &[point("14:00", 3, 1, Some(4))]).unwrap();

        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
    }

    #[test]
    fn two_hundred_points_render_with_thinned_labels() {
        let points: Vec<Point> = (0..200)
            .map(|i| {
                point(
                    &format!("{:02}:00", i % 24),
                    i,
                    i / 3,
                    Some(i64::from(i % 7 != 0) * 10),
                )
            })
            .collect();
        let widest = text_width("00:00");
        let plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT - Y_LABEL_AREA;

        let png = render("Long range", &points).unwrap();
        let axis = XAxis::new(&points, widest, plot_width);

        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
        assert!(axis.shown.len() > 5, "still labelled: {:?}", axis.shown);
        assert!(axis.shown.len() < 200, "thinned");
        let slot = f64::from(plot_width) / 200.0 * as_f64(axis.shown[1] - axis.shown[0]);
        assert!(
            slot >= f64::from(widest + LABEL_GAP),
            "labels {slot} px apart, {widest} px wide"
        );
    }

    /// The width of a label as the chart draws it.
    fn text_width(label: &str) -> u32 {
        let mut rgb = vec![0; 3];
        let bitmap = BitMapBackend::with_buffer(&mut rgb, (1, 1));
        let font = FontRef::try_from_slice(FONT).unwrap();
        let area = Canvas { bitmap, font }.into_drawing_area();
        area.estimate_text_size(label, &text(LABEL_SIZE, INK))
            .unwrap()
            .0
    }

    #[test]
    fn fourteen_days_show_every_label() {
        let points = two_weeks();

        let axis = XAxis::new(
            &points,
            text_width("11-14"),
            WIDTH - MARGIN_LEFT - MARGIN_RIGHT - Y_LABEL_AREA,
        );

        assert_eq!(axis.shown, (0..14).collect::<Vec<_>>());
    }

    #[test]
    fn labels_are_all_drawn_when_they_fit() {
        assert_eq!(label_step(14, 40, 900), 1);
        assert_eq!(label_step(0, 40, 900), 1);
        assert_eq!(
            label_step(1, 2_000, 900),
            1,
            "a lone label is drawn even when too wide"
        );
    }

    #[test]
    fn huge_values_render() {
        let points = vec![
            point("11-19", 100_000, 99_999, Some(100_000)),
            point("11-20", 5, 100_000, Some(1)),
        ];
        let extreme = vec![
            point("a", u64::MAX, 0, Some(i64::MAX / 60_000)),
            point("b", 0, u64::MAX - 1, Some(-5)),
        ];

        let png = render("Flood", &points).unwrap();
        let extreme = render("Overflow", &extreme).unwrap();

        assert_eq!(png_size(&png), (WIDTH, HEIGHT));
        assert_eq!(png_size(&extreme), (WIDTH, HEIGHT));
        assert!(
            count_pixels(&decode(&png), QUESTIONS) > 10_000,
            "a tall bar, not a sliver"
        );
    }

    #[test]
    fn no_answered_ticket_leaves_the_response_panel_empty() {
        let points = vec![point("11-19", 4, 2, None), point("11-20", 5, 1, None)];

        let pixels = decode(&render("Quiet", &points).unwrap());

        assert_eq!(count_pixels(&pixels, RESPONSE), 0);
        assert!(count_pixels(&pixels, QUESTIONS) > 1_000);
    }

    #[test]
    fn the_line_breaks_where_a_bucket_has_no_response() {
        let values = [Some(1.0), Some(2.0), None, None, Some(3.0)];

        let runs = runs(&values);

        assert_eq!(runs, vec![vec![(0.5, 1.0), (1.5, 2.0)], vec![(4.5, 3.0)]]);
    }

    #[test]
    fn axis_numbers_are_short() {
        assert_eq!(axis_number(0.0), "0");
        assert_eq!(axis_number(40.0), "40");
        assert_eq!(axis_number(2.5), "2.5");
        assert_eq!(axis_number(9_000.0), "9000");
        assert_eq!(axis_number(20_000.0), "20k");
        assert_eq!(axis_number(1_200_000.0), "1.2M");
    }

    #[test]
    fn a_long_title_is_cut_with_an_ellipsis() {
        let mut rgb = vec![0; WIDTH as usize * HEIGHT as usize * 3];
        let bitmap = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT));
        let font = FontRef::try_from_slice(FONT).unwrap();
        let area = Canvas { bitmap, font }.into_drawing_area();
        let style = text(TITLE_SIZE, INK);
        let long = "A very long report title ".repeat(20);

        let cut = fit_text(&area, &long, &style, 900).unwrap();
        let short = fit_text(&area, "Last 14 days", &style, 900).unwrap();

        assert!(cut.ends_with('…') && cut.len() < long.len(), "{cut}");
        assert!(area.estimate_text_size(&cut, &style).unwrap().0 <= 900);
        assert_eq!(short, "Last 14 days");
    }
}
