//! Cluster mode's figures, read at scrape time from the node's [`Cluster`].
use std::sync::{Arc, atomic::Ordering};

use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet},
    metrics::{MetricType, gauge::ConstGauge},
};
use roam_cluster::{Cluster, Status};

/// The collector: NATS's state, the nodes known, and the signals in and out.
pub struct ClusterFigures(pub Arc<Cluster>);

impl std::fmt::Debug for ClusterFigures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterFigures")
    }
}

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    n: u64,
) -> Result<(), std::fmt::Error> {
    encoder
        .encode_descriptor(name, help, None, MetricType::Counter)?
        .encode_counter::<NoLabelSet, _, u64>(&n, None)
}

impl Collector for ClusterFigures {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let up = ConstGauge::new(i64::from(self.0.status() == Status::Connected));
        up.encode(encoder.encode_descriptor(
            "roam_cluster_nats_up",
            "1 while this node is connected to NATS",
            None,
            up.metric_type(),
        )?)?;
        let peers = ConstGauge::new(i64::try_from(self.0.peers()).unwrap_or(i64::MAX));
        peers.encode(encoder.encode_descriptor(
            "roam_cluster_peers",
            "other nodes heard from within the presence expiry",
            None,
            peers.metric_type(),
        )?)?;
        let stats = self.0.stats();
        counter(
            &mut encoder,
            "roam_cluster_messages_published",
            "signals and presence messages this node published to NATS",
            stats.published.load(Ordering::Relaxed),
        )?;
        counter(
            &mut encoder,
            "roam_cluster_messages_dropped",
            "messages dropped because the publisher's queue was full (NATS slow or away)",
            stats.dropped.load(Ordering::Relaxed),
        )?;
        counter(
            &mut encoder,
            "roam_cluster_messages_received",
            "messages from other nodes this node applied",
            stats.received.load(Ordering::Relaxed),
        )
    }
}
