//! `driftlock.toml`: the configuration. Unknown keys are refused; every error points at the
//! line and column in the file.
//!
//! ```toml
//! # severity overrides, by code or kind: error | warning | note
//! [severity]
//! DL0201 = "warning"
//! deposed = "error"
//!
//! # resources accepted on purpose; every exception says why, and may expire
//! [[exception]]
//! reason = "landing-zone bootstrap bucket, imported in K.1.3"
//! expires = "2027-01-31"
//! provider = "aws"                       # aws | gcp | azure | other
//! type = "AWS::S3::Bucket"               # cloud type or Terraform type
//! id = "^arn:aws:s3:::lz-bootstrap-"     # regex on the canonical cloud id or the address
//! tags = { owner = "platform" }          # every listed tag must match
//! kinds = ["unmanaged"]                  # finding kinds it accepts (default: all)
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_spanned::Spanned;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::code::{self, CodeInfo, Severity};
use crate::error::InputError;
use crate::finding::Finding;
use crate::model::Cloud;
use crate::source::{Source, display_path};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    exception: Vec<Spanned<RawException>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawException {
    reason: Spanned<String>,
    #[serde(default)]
    expires: Option<Spanned<String>>,
    #[serde(default)]
    provider: Option<Spanned<String>>,
    #[serde(default, rename = "type")]
    type_: Option<String>,
    #[serde(default)]
    id: Option<Spanned<String>>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    kinds: Vec<Spanned<String>>,
}

/// An accepted resource (or class of resources), with the reason.
#[derive(Debug)]
pub struct Exception {
    pub reason: String,
    pub expires: Option<jiff::civil::Date>,
    pub cloud: Option<Cloud>,
    pub type_: Option<String>,
    pub id: Option<regex::Regex>,
    pub tags: BTreeMap<String, String>,
    pub kinds: Vec<&'static str>,
    /// Byte span of the `[[exception]]` table in the configuration file.
    pub span: (usize, usize),
    /// How many findings it accepted this run.
    pub hits: AtomicUsize,
}

/// What a finding is about, for exception matching.
#[derive(Debug, Default, Clone, Copy)]
pub struct Subject<'a> {
    pub kind: &'static str,
    pub cloud: Option<Cloud>,
    pub cloud_type: Option<&'a str>,
    pub terraform_type: Option<&'a str>,
    pub cloud_id: Option<&'a str>,
    pub address: Option<&'a str>,
    pub tags: Option<&'a BTreeMap<String, String>>,
}

impl Exception {
    pub fn expired(&self, today: jiff::civil::Date) -> bool {
        self.expires.is_some_and(|d| d < today)
    }

    /// True when this exception accepts the subject (never once expired).
    pub fn accepts(&self, s: &Subject<'_>, today: jiff::civil::Date) -> bool {
        if self.expired(today) {
            return false;
        }
        if !self.kinds.is_empty() && !self.kinds.contains(&s.kind) {
            return false;
        }
        if let Some(c) = self.cloud {
            if s.cloud != Some(c) {
                return false;
            }
        }
        if let Some(t) = &self.type_ {
            let same = |x: Option<&str>| x.is_some_and(|x| x.eq_ignore_ascii_case(t));
            if !same(s.cloud_type) && !same(s.terraform_type) {
                return false;
            }
        }
        if let Some(re) = &self.id {
            if !s.cloud_id.is_some_and(|i| re.is_match(i)) && !s.address.is_some_and(|a| re.is_match(a)) {
                return false;
            }
        }
        if !self.tags.is_empty() {
            let Some(have) = s.tags else { return false };
            if !self.tags.iter().all(|(k, v)| have.get(k) == Some(v)) {
                return false;
            }
        }
        self.hits.fetch_add(1, Ordering::Relaxed);
        true
    }
}

/// A validated configuration.
#[derive(Debug, Default)]
pub struct Config {
    /// The file it was read from (for findings about it) and its text.
    pub file: String,
    pub text: String,
    pub severity: Vec<(&'static CodeInfo, Severity)>,
    pub exceptions: Vec<Exception>,
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
        let mut exceptions = Vec::new();
        for e in raw.exception {
            let span = e.span();
            let e = e.into_inner();
            if e.reason.get_ref().trim().is_empty() {
                return Err(bad(
                    e.reason.span(),
                    "an exception needs a reason".into(),
                    "say why this resource is accepted: who decided, until when",
                ));
            }
            let expires = match &e.expires {
                Some(d) => Some(d.get_ref().parse::<jiff::civil::Date>().map_err(|err| {
                    bad(d.span(), format!("`{}` is not a date: {err}", d.get_ref()), "write dates as YYYY-MM-DD")
                })?),
                None => None,
            };
            let cloud = match &e.provider {
                Some(p) => Some(match p.get_ref().as_str() {
                    "aws" => Cloud::Aws,
                    "gcp" | "google" => Cloud::Gcp,
                    "azure" | "azurerm" => Cloud::Azure,
                    "other" => Cloud::Other,
                    other => {
                        return Err(bad(
                            p.span(),
                            format!("unknown provider `{other}`"),
                            "use aws, gcp, azure or other",
                        ));
                    }
                }),
                None => None,
            };
            let id = match &e.id {
                Some(r) => Some(regex::Regex::new(r.get_ref()).map_err(|err| {
                    bad(r.span(), format!("invalid regex: {err}"), "write a Rust regex (https://docs.rs/regex)")
                })?),
                None => None,
            };
            let mut kinds = Vec::new();
            for k in &e.kinds {
                let info = code::lookup(k.get_ref()).filter(|c| !c.input_error).ok_or_else(|| {
                    bad(
                        k.span(),
                        format!("unknown finding kind `{}`", k.get_ref()),
                        "`driftlock explain` lists every kind",
                    )
                })?;
                kinds.push(info.name);
            }
            exceptions.push(Exception {
                reason: e.reason.into_inner(),
                expires,
                cloud,
                type_: e.type_,
                id,
                tags: e.tags,
                kinds,
                span: (span.start, span.end - span.start),
                hits: AtomicUsize::new(0),
            });
        }
        Ok(Config { file: name.to_owned(), text: text.to_owned(), severity, exceptions })
    }

    /// The first exception that accepts the subject, if any.
    pub fn exception_for(&self, s: &Subject<'_>, today: jiff::civil::Date) -> Option<&Exception> {
        self.exceptions.iter().find(|e| e.accepts(s, today))
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
    fn exceptions_match_and_expire() {
        let c = Config::parse(
            "d.toml",
            "[[exception]]\nreason = \"bootstrap\"\nid = \"^arn:aws:s3:::lz-\"\nkinds = [\"unmanaged\"]\n\n[[exception]]\nreason = \"old\"\nexpires = \"2020-01-01\"\nid = \".*\"\n",
        )
        .unwrap();
        let today = jiff::civil::date(2026, 11, 24);
        let s = Subject { kind: "unmanaged", cloud_id: Some("arn:aws:s3:::lz-1"), ..Subject::default() };
        assert!(c.exception_for(&s, today).is_some());
        let other = Subject { kind: "unmanaged", cloud_id: Some("arn:aws:s3:::x"), ..Subject::default() };
        assert!(c.exception_for(&other, today).is_none(), "the expired catch-all must not match");
        assert!(c.exceptions[1].expired(today));
        assert_eq!(c.exceptions[0].hits.load(Ordering::Relaxed), 1);
        let e = Config::parse("d.toml", "[[exception]]\nid = \"x\"\n").unwrap_err();
        assert!(e.message.contains("reason"), "{}", e.message);
        let e = Config::parse("d.toml", "[[exception]]\nreason = \"r\"\nid = \"(\"\n").unwrap_err();
        assert_eq!(e.location().map(|l| l.0), Some(3));
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
