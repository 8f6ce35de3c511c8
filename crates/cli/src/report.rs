//! How `roam` reports an error: one line on stderr, the context first and then each cause,
//! separated by `: `, without saying anything twice (a cause whose text the line already
//! holds, as when an error repeats its source's message, is left out).

/// The error and its causes as one line.
pub(crate) fn error_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string().replace(['\n', '\r'], " ");
        let text = text.trim();
        if text.is_empty() || line.contains(text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(text);
    }
    line
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    #[test]
    fn causes_are_chained_once_on_one_line() {
        #[derive(Debug)]
        struct Repeats(std::io::Error);
        impl std::fmt::Display for Repeats {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "invalid argument: {}", self.0)
            }
        }
        impl std::error::Error for Repeats {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let inner = std::io::Error::other("marks are 0 to 19, got 25");
        let e = Err::<(), _>(Repeats(inner))
            .context("marking bob")
            .unwrap_err();
        assert_eq!(
            error_line(&e),
            "marking bob: invalid argument: marks are 0 to 19, got 25"
        );
        let e = anyhow::anyhow!("two\nlines").context("doing it");
        assert_eq!(error_line(&e), "doing it: two lines");
    }
}
