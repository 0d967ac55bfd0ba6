//! One comparison's result: the JSON line the bench prints, and its human form.

use serde::Serialize;
use serde_json::Value;

/// What "pass" means for a comparison: ours over theirs at least this much.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct AtLeast(pub(crate) f64);

/// One comparison of us against one peer on one backend.
#[derive(Debug, Serialize)]
pub(crate) struct Line {
    pub(crate) bench: &'static str,
    pub(crate) peer: &'static str,
    pub(crate) backend: &'static str,
    /// Our figure, in `unit`.
    pub(crate) ours: f64,
    /// The peer's figure, in `unit`.
    pub(crate) theirs: f64,
    pub(crate) unit: &'static str,
    /// Ours over theirs when more is better, theirs over ours when less is: above 1 we are ahead.
    pub(crate) ratio: f64,
    /// `">= R"`, or absent when the comparison is reported without a bar.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) bar: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) pass: Option<bool>,
    /// The raw figures behind the two: each round, spreads, the peer's query text.
    #[serde(flatten)]
    pub(crate) figures: serde_json::Map<String, Value>,
}

/// Which way a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Better {
    /// Jobs per second.
    Higher,
    /// Latencies.
    Lower,
}

impl Line {
    /// A comparison of `ours` and `theirs`, judged against `bar` when there is one.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        bench: &'static str,
        peer: &'static str,
        backend: &'static str,
        ours: f64,
        theirs: f64,
        unit: &'static str,
        better: Better,
        bar: Option<AtLeast>,
    ) -> Line {
        let ratio = match better {
            Better::Higher => ours / theirs,
            Better::Lower => theirs / ours,
        };
        let ratio = if ratio.is_finite() {
            (ratio * 1000.0).round() / 1000.0
        } else {
            0.0
        };
        Line {
            bench,
            peer,
            backend,
            ours: round3(ours),
            theirs: round3(theirs),
            unit,
            ratio,
            bar: bar.map(|AtLeast(at_least)| format!(">= {at_least}")),
            pass: bar.map(|AtLeast(at_least)| ratio >= at_least),
            figures: serde_json::Map::new(),
        }
    }

    /// Adds a raw figure.
    pub(crate) fn figure(mut self, name: &str, value: impl Into<Value>) -> Line {
        self.figures.insert(name.to_owned(), value.into());
        self
    }

    /// The line for a reader.
    pub(crate) fn human(&self) -> String {
        let verdict = match (self.pass, &self.bar) {
            (Some(true), Some(bar)) => format!("pass ({bar})"),
            (Some(false), Some(bar)) => format!("MISS ({bar})"),
            _ => "reported".to_owned(),
        };
        format!(
            "{:<32} {:<16} {:<9} ours {:>12.3} {:<7} theirs {:>12.3}  ratio {:>8.3}  {verdict}",
            self.bench, self.peer, self.backend, self.ours, self.unit, self.theirs, self.ratio
        )
    }
}

/// Three decimals are more than any of these figures can claim.
pub(crate) fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

/// The median of some rounds' figures (the mean of the middle two for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ratio_puts_us_ahead_above_one_whichever_way_is_better() {
        let rate = Line::new(
            "b",
            "p",
            "postgres",
            200.0,
            100.0,
            "jobs/s",
            Better::Higher,
            Some(AtLeast(1.0)),
        );
        assert_eq!((rate.ratio, rate.pass), (2.0, Some(true)));
        let latency = Line::new(
            "b",
            "p",
            "postgres",
            4.0,
            2.0,
            "ms",
            Better::Lower,
            Some(AtLeast(1.0)),
        );
        assert_eq!((latency.ratio, latency.pass), (0.5, Some(false)));
        let reported = Line::new("b", "p", "sqlite", 1.0, 1.0, "ms", Better::Lower, None);
        let json = serde_json::to_value(&reported).expect("a line serialises");
        assert!(json.get("bar").is_none() && json.get("pass").is_none());
    }

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}
