//! `roamd --print-config`: the effective configuration as a TOML file that roamd reads back.
use super::Config;

/// What a secret is shown as.
const MASK: &str = "********";

/// `config` as TOML, `client_secret` masked; unset keys appear as comments so that every key
/// is listed.
pub(super) fn render(config: &Config) -> String {
    let mut shown = config.clone();
    if shown.client_secret.is_some() {
        shown.client_secret = Some(MASK.into());
    }
    shown.database_url = mask_password(&shown.database_url);
    let mut out = String::from("# roamd's effective configuration (secrets masked)\n");
    match toml::to_string(&shown) {
        Ok(body) => out.push_str(&body),
        Err(e) => out.push_str(&format!("# cannot render: {e}\n")),
    }
    let table: toml::Table = toml::from_str(&out).unwrap_or_default();
    for key in Config::keys() {
        if !table.contains_key(&key) {
            out.push_str(&format!("# {key} is unset\n"));
        }
    }
    out
}

/// A database URL with its password masked: `postgres://user:secret@host` and libpq's
/// `password=secret` alike.
fn mask_password(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((auth, host)) = rest.split_once('@')
            && let Some((user, _)) = auth.split_once(':')
        {
            return format!("{scheme}://{user}:{MASK}@{host}");
        }
        return url.to_owned();
    }
    url.split_whitespace()
        .map(|kv| match kv.split_once('=') {
            Some(("password", _)) => format!("password={MASK}"),
            _ => kv.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_password_is_masked_in_either_form() {
        assert_eq!(
            mask_password("postgres://roam:s3cret@db:5432/roam"),
            format!("postgres://roam:{MASK}@db:5432/roam")
        );
        assert_eq!(
            mask_password("postgres://roam@db/roam"),
            "postgres://roam@db/roam"
        );
        assert_eq!(
            mask_password("host=db user=roam password=s3cret dbname=roam"),
            format!("host=db user=roam password={MASK} dbname=roam")
        );
    }

    #[test]
    fn the_secret_is_masked_and_the_rest_reads_back() {
        let config = Config {
            client_id: Some("admin".into()),
            client_secret: Some("hunter2".into()),
            max_devices: 3,
            ..Config::default()
        };
        let text = render(&config);
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.contains(&format!("client_secret = \"{MASK}\"")),
            "{text}"
        );
        let back: Config = toml::from_str(&text).unwrap();
        assert_eq!(
            back,
            Config {
                client_secret: Some(MASK.into()),
                ..config
            }
        );
    }

    #[test]
    fn unset_keys_are_listed_as_comments() {
        let text = render(&Config::default());
        assert!(text.contains("# client_id is unset\n"), "{text}");
        assert!(text.contains("# client_secret is unset\n"), "{text}");
        assert!(toml::from_str::<Config>(&text).is_ok());
    }
}
