//! `driftlock.toml`: the configuration. Unknown keys are refused; every error points at the
//! line and column in the file.
//!
//! ```toml
//! # severity overrides, by code or kind: error | warning | note
//! [severity]
//! DL0201 = "warning"
//! deposed = "error"
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_spanned::Spanned;

use crate::code::{self, CodeInfo, Severity};
use crate::error::InputError;
use crate::finding::Finding;
use crate::source::{Source, display_path};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// A validated configuration.
#[derive(Debug, Default, Clone)]
pub struct Config {
    pub severity: Vec<(&'static CodeInfo, Severity)>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Self, InputError> {
        let name = display_path(path);
        let text = Source::file(path).text().map_err(|mut e| {
            e.code = &code::INVALID_CONFIG;
            e
        })?;
        Self::parse(&name, &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<Self, InputError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (off, len) = e.span().map_or((0, 0), |r| (r.start, r.end - r.start));
            InputError::new(&code::INVALID_CONFIG, name, format!("{name}: {}", e.message()))
                .with_help("see `driftlock init` for a commented starter configuration")
                .with_source_text(text)
                .with_span(off, len.max(1), e.message().to_owned())
        })?;
        let bad = |span: std::ops::Range<usize>, msg: String, help: &str| {
            InputError::new(&code::INVALID_CONFIG, name, format!("{name}: {msg}"))
                .with_help(help.to_owned())
                .with_source_text(text)
                .with_span(span.start, (span.end - span.start).max(1), msg)
        };
        let mut severity = Vec::new();
        for (k, v) in &raw.severity {
            let info = code::lookup(k.get_ref()).filter(|c| !c.input_error).ok_or_else(|| {
                bad(
                    k.span(),
                    format!("unknown finding code or kind `{}`", k.get_ref()),
                    "`driftlock explain` lists every code and kind",
                )
            })?;
            let sev = Severity::parse(v.get_ref()).ok_or_else(|| {
                bad(v.span(), format!("`{}` is not a severity", v.get_ref()), "use error, warning or note")
            })?;
            severity.push((info, sev));
        }
        Ok(Config { severity })
    }

    /// Applies severity overrides.
    pub fn apply(&self, findings: &mut [Finding]) {
        for f in findings {
            if let Some((_, s)) = self.severity.iter().find(|(c, _)| c.code == f.code) {
                f.severity = *s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_overrides() {
        let c = Config::parse("d.toml", "[severity]\nDL0201 = \"warning\"\ndeposed = \"note\"\n").unwrap();
        assert_eq!(c.severity.len(), 2);
    }

    #[test]
    fn errors_point_into_the_toml() {
        let e = Config::parse("d.toml", "[severity]\nDL0201 = \"ignore\"\n").unwrap_err();
        assert_eq!(e.code.code, "DL0012");
        assert_eq!(e.location(), Some((2, 10)));
        let e = Config::parse("d.toml", "[severty]\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(1));
        let e = Config::parse("d.toml", "[severity]\nDL9999 = \"error\"\n").unwrap_err();
        assert_eq!(e.location(), Some((2, 1)));
    }
}
