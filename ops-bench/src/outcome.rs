//! What a bench reports: its ratio against its bar, and the raw figures behind it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// A performance bar: the ratio must stay at or under, or reach at least, a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Bar {
    /// `ratio <= value` (a slowdown allowed at most).
    AtMost(f64),
    /// `ratio >= value` (a speed-up required at least).
    AtLeast(f64),
}

impl Bar {
    /// Whether `ratio` meets the bar.
    pub fn passes(self, ratio: f64) -> bool {
        match self {
            Bar::AtMost(limit) => ratio <= limit,
            Bar::AtLeast(floor) => ratio >= floor,
        }
    }
}

impl std::fmt::Display for Bar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bar::AtMost(limit) => write!(f, "<= {limit}"),
            Bar::AtLeast(floor) => write!(f, ">= {floor}"),
        }
    }
}

impl Serialize for Bar {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// One bench on one backend: `{"bench", "backend", "ratio", "bar", "pass", ...figures}` as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The bench's name.
    pub bench: &'static str,
    /// `sqlite`, `mariadb` or `postgres`.
    pub backend: &'static str,
    /// The measured ratio, for a bench that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    /// The bar the ratio is held to, for a bench that has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bar: Option<Bar>,
    /// Whether the ratio meets the bar: only for a bench with a bar, run at the bar's sizes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<bool>,
    /// The raw figures: sizes, medians, percentiles, rates, each named with its unit.
    #[serde(flatten)]
    pub figures: BTreeMap<String, Value>,
}

impl Outcome {
    /// A bench's outcome with no ratio yet.
    pub(crate) fn new(bench: &'static str, backend: &'static str) -> Outcome {
        Outcome {
            bench,
            backend,
            ratio: None,
            bar: None,
            pass: None,
            figures: BTreeMap::new(),
        }
    }

    /// Sets the ratio and its bar; `judged` says whether the run was at the bar's sizes (otherwise no
    /// `pass` is reported: a tiny run passing or failing means nothing).
    pub(crate) fn ratio(mut self, ratio: f64, bar: Bar, judged: bool) -> Outcome {
        let ratio = (ratio * 1000.0).round() / 1000.0;
        self.ratio = Some(ratio);
        self.bar = Some(bar);
        self.pass = judged.then(|| bar.passes(ratio));
        self
    }

    /// Adds a raw figure.
    pub(crate) fn figure(mut self, name: &str, value: impl Into<Value>) -> Outcome {
        let value = match value.into() {
            Value::Number(n) => match n.as_f64() {
                Some(f) if n.is_f64() => Value::from((f * 1000.0).round() / 1000.0),
                _ => Value::Number(n),
            },
            other => other,
        };
        self.figures.insert(name.to_owned(), value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_is_one_flat_json_object() {
        let outcome = Outcome::new("enqueue_vs_raw", "sqlite")
            .ratio(1.04567, Bar::AtMost(1.15), true)
            .figure("ours_median_us", 123.45678)
            .figure("ops", 1000);
        assert_eq!(
            serde_json::to_value(&outcome).unwrap(),
            serde_json::json!({"bench": "enqueue_vs_raw", "backend": "sqlite", "ratio": 1.046, "bar": "<= 1.15",
                               "pass": true, "ours_median_us": 123.457, "ops": 1000})
        );
        let unjudged = Outcome::new("x", "sqlite").ratio(30.0, Bar::AtLeast(20.0), false);
        assert_eq!(
            serde_json::to_value(&unjudged).unwrap()["pass"],
            Value::Null
        );
        assert!(!Bar::AtLeast(20.0).passes(19.9));
        assert!(Bar::AtMost(1.5).passes(1.5));
    }
}
