//! A setup of `loadgen cluster`: `sqlite-1`, `postgres-N` or `postgres-N+nats`.
use anyhow::{Context, bail};

/// One setup: its nodes' engine, how many, and whether they route through NATS.
#[derive(Debug, Clone)]
pub struct Setup {
    pub name: String,
    pub postgres: bool,
    pub nodes: usize,
    pub nats: bool,
}

impl Setup {
    pub fn parse(s: &str) -> anyhow::Result<Setup> {
        let (rest, nats) = match s.strip_suffix("+nats") {
            Some(r) => (r, true),
            None => (s, false),
        };
        let (engine, n) = rest
            .split_once('-')
            .with_context(|| format!("setup `{s}`: expected ENGINE-NODES[+nats]"))?;
        let nodes: usize = n.parse().with_context(|| format!("setup `{s}`: nodes"))?;
        let postgres = match engine {
            "sqlite" => false,
            "postgres" => true,
            _ => bail!("setup `{s}`: engine sqlite or postgres"),
        };
        if nodes == 0 || (!postgres && (nodes > 1 || nats)) {
            bail!("setup `{s}`: SQLite is one node without NATS; nodes >= 1");
        }
        if nodes > 1 && !nats {
            bail!("setup `{s}`: several nodes need +nats");
        }
        Ok(Setup {
            name: s.to_owned(),
            postgres,
            nodes,
            nats,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setups_are_parsed_and_impossible_ones_refused() {
        let s = Setup::parse("postgres-3+nats").unwrap();
        assert_eq!((s.postgres, s.nodes, s.nats), (true, 3, true));
        let s = Setup::parse("sqlite-1").unwrap();
        assert_eq!((s.postgres, s.nodes, s.nats), (false, 1, false));
        for bad in [
            "sqlite-2",
            "sqlite-1+nats",
            "postgres-3",
            "postgres-0",
            "mysql-1",
            "postgres",
        ] {
            assert!(Setup::parse(bad).is_err(), "{bad}");
        }
    }
}
