//! Cluster mode's wiring: joins the NATS cluster when `nats_url` is set, and reports NATS to
//! `/ready` and `/health`.
use std::sync::Arc;

use anyhow::Context;
use roam_cluster::{Cluster, Status};
use roam_gateway::Hub;
use roam_rest::DependencyCheck;

use crate::config::Config;

/// The cluster this node joins, or None for a single node (`nats_url` unset or empty). Fails
/// when NATS does not answer: a node that believes it is alone would count devices wrongly.
pub(crate) async fn join(config: &Config, hub: Arc<Hub>) -> anyhow::Result<Option<Arc<Cluster>>> {
    let Some(url) = config.nats_url.as_deref().filter(|u| !u.trim().is_empty()) else {
        return Ok(None);
    };
    let cluster = Cluster::connect(url, &subject_prefix(&config.app_key), config.node_id, hub)
        .await
        .context("cluster mode (nats_url)")?;
    Ok(Some(cluster))
}

/// `roam.<org>.<app>`: the apps of several clusters may share one NATS. Characters that mean
/// something in a subject (`.`, `*`, `>`, blanks) become `_`.
fn subject_prefix(app_key: &str) -> String {
    let token = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let (org, app) = app_key.split_once('#').unwrap_or((app_key, ""));
    format!("roam.{}.{}", token(org), token(app))
}

/// The dependency checks for the probes: NATS, in cluster mode.
pub(crate) fn checks(cluster: Option<&Arc<Cluster>>) -> Vec<Arc<dyn DependencyCheck>> {
    cluster
        .map(|c| Arc::new(Nats(c.clone())) as Arc<dyn DependencyCheck>)
        .into_iter()
        .collect()
}

struct Nats(Arc<Cluster>);

impl DependencyCheck for Nats {
    fn name(&self) -> &'static str {
        "nats"
    }

    fn up(&self) -> bool {
        self.0.status() == Status::Connected
    }
}

#[cfg(test)]
mod tests {
    use super::subject_prefix;

    #[test]
    fn the_subject_prefix_is_made_of_safe_tokens() {
        assert_eq!(subject_prefix("acme#chat"), "roam.acme.chat");
        assert_eq!(subject_prefix("a.b#c *>"), "roam.a_b.c___");
    }
}
