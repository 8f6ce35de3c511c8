//! A scenario's result: one JSON object, written to stdout (and to `--out`).
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// One scenario's figures. `metrics` hold plain numbers (rates, CPU per operation, bytes);
/// `latency` named percentile sets; `ceilings` the same-run ceilings a metric is compared
/// with, and `of_ceiling` the metric as a percentage of its ceiling.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub scenario: String,
    /// The parameters the scenario ran with.
    pub params: BTreeMap<String, Value>,
    pub metrics: BTreeMap<String, f64>,
    pub latency: BTreeMap<String, crate::measure::Percentiles>,
    pub ceilings: BTreeMap<String, f64>,
    pub of_ceiling: BTreeMap<String, f64>,
    /// Checks a scenario makes of correctness (e.g. `lost`, `duplicated`): a smoke run fails
    /// when one is non-zero.
    pub faults: BTreeMap<String, u64>,
    /// Sweeps: a named list of points (e.g. one per offered rate, or per connection count),
    /// each a set of named numbers; the plots are drawn from these.
    pub series: BTreeMap<String, Vec<BTreeMap<String, f64>>>,
    /// Free-form notes (what was measured how).
    pub notes: Vec<String>,
}

impl Report {
    pub fn new(scenario: &str) -> Report {
        Report {
            scenario: scenario.to_owned(),
            ..Report::default()
        }
    }

    pub fn param(&mut self, name: &str, v: impl Into<Value>) -> &mut Self {
        self.params.insert(name.to_owned(), v.into());
        self
    }

    pub fn metric(&mut self, name: &str, v: f64) -> &mut Self {
        self.metrics.insert(name.to_owned(), v);
        self
    }

    /// Records `metric` as a percentage of `ceiling` (which is recorded too).
    pub fn against(&mut self, metric: &str, ceiling_name: &str, ceiling: f64) -> &mut Self {
        self.ceilings.insert(ceiling_name.to_owned(), ceiling);
        if let Some(v) = self.metrics.get(metric) {
            self.of_ceiling
                .insert(format!("{metric}/{ceiling_name}"), 100.0 * v / ceiling);
        }
        self
    }

    pub fn fault(&mut self, name: &str, n: u64) -> &mut Self {
        self.faults.insert(name.to_owned(), n);
        self
    }

    /// Appends a point to the sweep `name`.
    pub fn point(&mut self, name: &str, point: &[(&str, f64)]) -> &mut Self {
        let p = point.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        self.series.entry(name.to_owned()).or_default().push(p);
        self
    }

    /// Whether every correctness check came out zero.
    pub fn sound(&self) -> bool {
        self.faults.values().all(|n| *n == 0)
    }
}
