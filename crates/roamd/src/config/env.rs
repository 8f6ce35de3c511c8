//! Which `ROAM_*` environment variables roamd reads. Only those that name one of its keys:
//! a shell that exported the CLI's `ROAM_USER` or `ROAM_SERVER` must still start the server.
use figment::providers::Env;

use super::Config;

/// `ROAM_*` variables that belong to other Roam tools (the `roam` CLI); roamd ignores them
/// without a word.
const OTHER_TOOLS: &[&str] = &["server", "user", "password", "token"];

/// The `ROAM_` prefix, stripped from variable names before they are matched to keys.
const PREFIX: &str = "ROAM_";

/// The environment as a figment provider: `ROAM_<KEY>` for each key of [`Config`], nothing else.
pub(super) fn provider() -> Env {
    let keys = Config::keys();
    Env::prefixed(PREFIX).filter(move |name| keys.iter().any(|k| name == k.as_str()))
}

/// The names of `ROAM_*` variables in `vars` that neither roamd nor another Roam tool reads
/// (a typo, most likely), for one warning at start-up.
pub fn unknown_env_vars(vars: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
    let keys = Config::keys();
    let mut unknown: Vec<String> = vars
        .into_iter()
        .filter_map(|(name, _)| {
            let key = name.strip_prefix(PREFIX)?.to_ascii_lowercase();
            let known = keys.contains(&key) || OTHER_TOOLS.contains(&key.as_str());
            (!known).then_some(name)
        })
        .collect();
    unknown.sort();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(names: &[&str]) -> Vec<(String, String)> {
        names.iter().map(|n| (n.to_string(), "x".into())).collect()
    }

    #[test]
    fn only_names_no_roam_tool_reads_are_unknown() {
        let got = unknown_env_vars(vars(&[
            "ROAM_USER",
            "ROAM_PASSWORD",
            "ROAM_SERVER",
            "ROAM_TOKEN",
            "ROAM_APP_KEY",
            "ROAM_LISTEN",
            "ROAM_LISTN",
            "ROAMD_BIN",
            "PATH",
            "ROAM_MAX_DEVICE",
        ]));
        assert_eq!(got, ["ROAM_LISTN", "ROAM_MAX_DEVICE"]);
    }
}
