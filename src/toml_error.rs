//! TOML errors (policy and mapping files) as one line naming the line and
//! column at fault, never the echoed source.

/// A TOML error as one line: `line L, column C: message`, or the bare
/// message when it concerns the whole file (a missing section).
pub(crate) fn one_line(text: &str, e: &toml::de::Error) -> String {
    match e.span() {
        Some(span) if span.end > 0 => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            let message = e.message().trim().replace('\n', " ");
            format!("line {line}, column {column}: {message}")
        }
        _ => e.message().trim().replace('\n', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_errors_are_one_line_naming_line_and_column() {
        let text = "[rules]\npriority_change = 3\n";
        let e = toml::from_str::<toml::Table>("a = \n").unwrap_err();
        assert!(!one_line("a = \n", &e).contains('\n'));
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Rules {
            rules: std::collections::BTreeMap<String, String>,
            entitlements: toml::Table,
        }
        let e = toml::from_str::<Rules>(text).unwrap_err();
        assert!(
            one_line(text, &e).starts_with("line 2, column 19: "),
            "{}",
            one_line(text, &e)
        );
        let e = toml::from_str::<Rules>("[rules]\n").unwrap_err();
        assert_eq!(one_line("[rules]\n", &e), "missing field `entitlements`");
    }
}
