//! Figures read at scrape time from what the gateway and the storage engine keep anyway.
use std::sync::Arc;

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet},
    metrics::{MetricType, gauge::ConstGauge},
};
use roam_gateway::Gateway;
use roam_storage_sqlite::{WriterStats, writer_stats::Histogram};

/// The collector: holds the gateway and the SQLite writer's stats (none on PostgreSQL, which
/// has its own monitoring), encodes them on each scrape.
pub struct Live {
    pub(super) gateway: Arc<Gateway>,
    pub(super) writer: Option<Arc<WriterStats>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("writer", &self.writer)
            .finish()
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: usize,
) -> Result<(), std::fmt::Error> {
    let g = ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX));
    g.encode(encoder.encode_descriptor(name, help, None, g.metric_type())?)
}

fn counter_by_kind(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    counts: impl Iterator<Item = (&'static str, u64)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
    for (kind, n) in counts {
        family
            .encode_family(&[("kind", kind)])?
            .encode_counter::<NoLabelSet, _, u64>(&n, None)?;
    }
    Ok(())
}

fn histogram(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    h: &Histogram,
) -> Result<(), std::fmt::Error> {
    encoder
        .encode_descriptor(name, help, None, MetricType::Histogram)?
        .encode_histogram::<NoLabelSet>(h.sum, h.count, &h.buckets, None)
}

impl Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        gauge(
            &mut encoder,
            "roam_websocket_connections",
            "msync WebSocket connections open (logged in or not)",
            self.gateway.open_connections(),
        )?;
        gauge(
            &mut encoder,
            "roam_devices_online",
            "devices logged in over msync (a user's devices count each)",
            self.gateway.devices_online(),
        )?;
        let traffic = self.gateway.traffic();
        counter_by_kind(
            &mut encoder,
            "roam_messages_received",
            "messages devices sent over msync and the server stored, by kind",
            traffic.received(),
        )?;
        counter_by_kind(
            &mut encoder,
            "roam_messages_delivered",
            "messages the server sent to devices in pull batches, by kind",
            traffic.delivered(),
        )?;
        let Some(writer) = &self.writer else {
            return Ok(());
        };
        histogram(
            &mut encoder,
            "roam_sqlite_writer_batch_size",
            "jobs per SQLite writer transaction (group commit)",
            &writer.batch_size(),
        )?;
        histogram(
            &mut encoder,
            "roam_sqlite_writer_commit_seconds",
            "time spent in each SQLite writer COMMIT (the fsync)",
            &writer.commit_seconds(),
        )
    }
}
