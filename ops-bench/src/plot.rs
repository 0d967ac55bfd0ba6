//! A curve's figure as an SVG document: every backend's series on one chart, drawn with plotters' SVG
//! backend (text is left to the viewer's fonts, so nothing is loaded to draw it).

use plotters::element::DashedPathElement;
use plotters::prelude::*;

use crate::{BenchError, Curve, Scale, Series};

/// The figure's size in pixels.
const SIZE: (u32, u32) = (820, 500);

/// Each backend's colour, the same in every figure.
fn colour(backend: &str) -> RGBColor {
    match backend {
        "sqlite" => RGBColor(31, 119, 180),
        "mariadb" => RGBColor(214, 98, 0),
        "postgres" => RGBColor(44, 140, 44),
        _ => RGBColor(90, 90, 90),
    }
}

/// An axis value as drawn: a log axis is drawn linear in log10 of the value, labelled at whole powers.
fn place(scale: Scale, value: f64) -> f64 {
    match scale {
        Scale::Linear => value,
        Scale::Log => value.max(f64::MIN_POSITIVE).log10(),
    }
}

/// A tick's label: a log axis's whole powers as plain numbers (10, 100, 1k, ...), nothing between them.
fn label(scale: Scale, at: f64) -> String {
    match scale {
        Scale::Linear => {
            if at.abs() >= 1000.0 {
                format!("{}k", at / 1000.0)
            } else {
                format!("{at}")
            }
        }
        Scale::Log if (at - at.round()).abs() < 1e-9 => {
            let value = 10f64.powf(at.round());
            match value {
                v if v >= 1e6 => format!("{}M", v / 1e6),
                v if v >= 1e3 => format!("{}k", v / 1e3),
                v => format!("{v}"),
            }
        }
        Scale::Log => String::new(),
    }
}

/// The drawn range of an axis holding `values`: a little room around them; a linear range starts at 0.
fn range(scale: Scale, values: impl Iterator<Item = f64>) -> std::ops::Range<f64> {
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), v| {
        (low.min(v), high.max(v))
    });
    if !low.is_finite() {
        return 0.0..1.0;
    }
    match scale {
        Scale::Linear => 0.0..(high * 1.1).max(f64::MIN_POSITIVE),
        Scale::Log => {
            let (low, high) = (place(scale, low).floor(), place(scale, high).ceil());
            low..high.max(low + 1.0)
        }
    }
}

/// The figure of `curve` with `series` (any backends, any labels) as an SVG document.
pub fn svg(curve: Curve, series: &[Series]) -> Result<String, BenchError> {
    let failed = |error: &dyn std::fmt::Display| BenchError::Plot(error.to_string());
    let ((x_label, x_scale), (y_label, y_scale)) = (curve.x_axis(), curve.y_axis());
    let x_range = range(
        x_scale,
        series.iter().flat_map(|s| s.points.iter().map(|p| p.0)),
    );
    let y_range = range(
        y_scale,
        series.iter().flat_map(|s| s.points.iter().map(|p| p.1)),
    );
    let ticks = |scale: Scale, range: &std::ops::Range<f64>| match scale {
        Scale::Log => (range.end - range.start) as usize + 1,
        Scale::Linear => 10,
    };
    let (x_ticks, y_ticks) = (ticks(x_scale, &x_range), ticks(y_scale, &y_range));
    let mut document = String::new();
    {
        let root = SVGBackend::with_string(&mut document, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| failed(&e))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(curve.title(), ("sans-serif", 24))
            .margin(16)
            .x_label_area_size(56)
            .y_label_area_size(80)
            .build_cartesian_2d(x_range, y_range)
            .map_err(|e| failed(&e))?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc(y_label)
            .x_labels(x_ticks)
            .y_labels(y_ticks)
            .x_label_formatter(&|at| label(x_scale, *at))
            .y_label_formatter(&|at| label(y_scale, *at))
            .label_style(("sans-serif", 15))
            .axis_desc_style(("sans-serif", 16))
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| failed(&e))?;
        let labels: Vec<&str> = series.iter().map(|s| s.label).collect();
        for line in series {
            let style = colour(line.backend).stroke_width(2);
            let points: Vec<(f64, f64)> = line
                .points
                .iter()
                .map(|(x, y)| (place(x_scale, *x), place(y_scale, *y)))
                .collect();
            // A figure's second kind of line (the loop beside filter_pending) is dashed.
            let first_kind = labels.first() == Some(&line.label);
            let legend = format!("{}, {}", line.label, line.backend);
            if first_kind {
                chart
                    .draw_series(LineSeries::new(points.iter().copied(), style))
                    .map_err(|e| failed(&e))?
                    .label(legend)
                    .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            } else {
                chart
                    .draw_series(DashedLineSeries::new(points.iter().copied(), 8, 5, style))
                    .map_err(|e| failed(&e))?
                    .label(legend)
                    .legend(move |(x, y)| {
                        DashedPathElement::new([(x, y), (x + 20, y)], 6, 3, style)
                    });
            }
            chart
                .draw_series(
                    points
                        .iter()
                        .map(|point| Circle::new(*point, 3, colour(line.backend).filled())),
                )
                .map_err(|e| failed(&e))?;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(("sans-serif", 15))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| failed(&e))?;
        root.present().map_err(|e| failed(&e))?;
    }
    Ok(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_are_labelled_at_whole_powers_only() {
        assert_eq!(label(Scale::Log, 1.0), "10");
        assert_eq!(label(Scale::Log, 4.0), "10k");
        assert_eq!(label(Scale::Log, 6.0), "1M");
        assert_eq!(label(Scale::Log, 2.5), "");
        assert_eq!(label(Scale::Linear, 2500.0), "2.5k");
        assert_eq!(range(Scale::Log, [10.0, 100_000.0].into_iter()), 1.0..5.0);
        assert_eq!(range(Scale::Log, [0.3, 40.0].into_iter()), -1.0..2.0);
        assert_eq!(range(Scale::Linear, [2.0, 10.0].into_iter()), 0.0..11.0);
    }

    #[test]
    fn a_figure_has_every_series_in_its_legend() {
        let series = [
            Series {
                label: "filter_pending",
                backend: "sqlite",
                points: vec![(10.0, 0.2), (10_000.0, 9.0)],
            },
            Series {
                label: "has_pending per object",
                backend: "sqlite",
                points: vec![(10.0, 0.5), (10_000.0, 400.0)],
            },
            Series {
                label: "filter_pending",
                backend: "postgres",
                points: vec![(10.0, 0.3), (10_000.0, 12.0)],
            },
        ];
        let svg = svg(Curve::FilterPendingVsObjects, &series).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        for legend in [
            "filter_pending, sqlite",
            "has_pending per object, sqlite",
            "filter_pending, postgres",
        ] {
            assert!(svg.contains(legend), "no {legend}");
        }
        assert!(svg.contains(Curve::FilterPendingVsObjects.title()));
        assert!(svg.contains("10k\n</text>"), "the x axis reaches 10k");
    }
}
