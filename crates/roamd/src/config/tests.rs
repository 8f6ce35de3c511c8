use std::collections::BTreeSet;

use clap::Parser;

use super::*;

#[test]
fn flags_beat_env_beat_file_beat_defaults() {
    figment::Jail::expect_with(|jail| {
        jail.create_file(
            "roam.toml",
            "listen = \"0.0.0.0:1\"\napp_key = \"f#f\"\nmax_devices = 3\n",
        )?;
        jail.set_env("ROAM_APP_KEY", "e#e");
        jail.set_env("ROAM_DATA_DIR", "/env");
        let cli = Cli::parse_from(["roamd", "--config", "roam.toml", "--data-dir", "/flag"]);
        let c = Config::load(&cli).map_err(|e| e.to_string())?;
        assert_eq!(c.listen, "0.0.0.0:1"); // file
        assert_eq!(c.app_key, "e#e"); // env over file
        assert_eq!(c.data_dir, PathBuf::from("/flag")); // flag over env
        assert_eq!(c.max_devices, 3);
        assert_eq!(c.token_ttl_secs, Config::default().token_ttl_secs); // default
        Ok(())
    });
}

#[test]
fn bad_values_are_refused() {
    figment::Jail::expect_with(|jail| {
        jail.set_env("ROAM_APP_KEY", "noapp");
        assert!(matches!(
            Config::load(&Cli::parse_from(["roamd"])),
            Err(ConfigError::AppKey(_))
        ));
        jail.set_env("ROAM_APP_KEY", "a#b");
        jail.set_env("ROAM_CLIENT_ID", "x");
        assert!(matches!(
            Config::load(&Cli::parse_from(["roamd"])),
            Err(ConfigError::HalfCredential)
        ));
        Ok(())
    });
}

#[test]
fn other_tools_variables_do_not_stop_the_server() {
    figment::Jail::expect_with(|jail| {
        for (name, value) in [
            ("ROAM_USER", "alice"),
            ("ROAM_PASSWORD", "pw"),
            ("ROAM_SERVER", "http://127.0.0.1:5280"),
            ("ROAM_TOKEN", "t"),
            ("ROAM_SOMETHING_ELSE", "1"),
        ] {
            jail.set_env(name, value);
        }
        jail.set_env("ROAM_LOG_FORMAT", "json");
        let c = Config::load(&Cli::parse_from(["roamd"])).map_err(|e| e.to_string())?;
        assert_eq!(c.log_format, LogFormat::Json);
        Ok(())
    });
}

#[test]
fn an_unknown_key_in_the_file_is_refused_by_name() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("roam.toml", "listen = \"127.0.0.1:1\"\nmax_device = 3\n")?;
        let cli = Cli::parse_from(["roamd", "--config", "roam.toml"]);
        let err = Config::load(&cli).expect_err("an unknown key");
        let text = err.to_string();
        assert!(text.contains("max_device"), "{text}");
        assert!(text.contains("roam.toml"), "{text}");
        Ok(())
    });
}

/// The keys of a TOML example, commented-out ones (`# key = …`) included.
fn example_keys(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim_start_matches('#').trim();
            let (key, _) = line.split_once('=')?;
            let key = key.trim();
            let is_key = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            is_key.then(|| key.to_owned())
        })
        .collect()
}

#[test]
fn the_example_file_lists_every_key_and_loads() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/roamd.example.toml");
    let text = std::fs::read_to_string(path).expect("docs/roamd.example.toml");
    let keys: BTreeSet<String> = Config::keys().into_iter().collect();
    let listed = example_keys(&text);
    let missing: Vec<_> = keys.difference(&listed).collect();
    let extra: Vec<_> = listed.difference(&keys).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/roamd.example.toml is out of date: missing {missing:?}, not keys {extra:?}"
    );
    figment::Jail::expect_with(|jail| {
        jail.create_file("example.toml", &text)?;
        Config::load(&Cli::parse_from(["roamd", "--config", "example.toml"]))
            .map_err(|e| e.to_string())?;
        Ok(())
    });
}

#[test]
fn the_readme_names_every_key() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let missing: Vec<String> = Config::keys()
        .into_iter()
        .map(|k| format!("ROAM_{}", k.to_ascii_uppercase()))
        .filter(|var| !readme.contains(&format!("`{var}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "README's config table misses {missing:?}"
    );
}

#[test]
fn web_dir_is_a_flag_an_env_var_and_a_file_key() {
    figment::Jail::expect_with(|jail| {
        jail.create_file("roam.toml", "web_dir = \"/file\"\n")?;
        let file = Cli::parse_from(["roamd", "--config", "roam.toml"]);
        assert_eq!(
            Config::load(&file).map_err(|e| e.to_string())?.web_dir,
            PathBuf::from("/file")
        );
        jail.set_env("ROAM_WEB_DIR", "/env");
        assert_eq!(
            Config::load(&file).map_err(|e| e.to_string())?.web_dir,
            PathBuf::from("/env")
        );
        let flag = Cli::parse_from(["roamd", "--config", "roam.toml", "--web-dir", "/flag"]);
        assert_eq!(
            Config::load(&flag).map_err(|e| e.to_string())?.web_dir,
            PathBuf::from("/flag")
        );
        Ok(())
    });
}

#[test]
fn nats_url_is_a_flag_an_env_var_and_a_file_key() {
    figment::Jail::expect_with(|jail| {
        let none = Config::load(&Cli::parse_from(["roamd"])).map_err(|e| e.to_string())?;
        assert_eq!(none.nats_url, None, "a single node by default");
        jail.create_file("roam.toml", "nats_url = \"nats://file:4222\"\n")?;
        let file = Cli::parse_from(["roamd", "--config", "roam.toml"]);
        let url = |c: &Cli| {
            Config::load(c)
                .map(|c| c.nats_url)
                .map_err(|e| e.to_string())
        };
        assert_eq!(url(&file)?.as_deref(), Some("nats://file:4222"));
        jail.set_env("ROAM_NATS_URL", "nats://env:4222");
        assert_eq!(url(&file)?.as_deref(), Some("nats://env:4222"));
        let flag = Cli::parse_from([
            "roamd",
            "--config",
            "roam.toml",
            "--nats-url",
            "nats://flag:4222",
        ]);
        assert_eq!(url(&flag)?.as_deref(), Some("nats://flag:4222"));
        Ok(())
    });
}
