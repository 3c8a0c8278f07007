//! Resolves findings' [`Locator`]s to byte spans, lines and columns, reading each input that
//! has findings once more. This runs only for findings, never on the parsing hot path.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::value::RawValue;

use crate::error::InputError;
use crate::finding::Finding;
use crate::model::{Locator, Seg};
use crate::source::{SourceId, Sources, line_col};

/// The texts of the inputs that have findings, for rendering snippets.
pub type Texts = HashMap<SourceId, Arc<str>>;

/// Fills `file`, `line`, `column` and `span` of every finding; returns the texts read.
/// An input that cannot be read again (it changed under us) is an error.
pub fn resolve(findings: &mut [Finding], sources: &Sources) -> (Texts, Vec<InputError>) {
    let mut texts = Texts::new();
    let mut errors = Vec::new();
    let mut by_source: HashMap<SourceId, Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter_mut().enumerate() {
        if let Some(s) = f.source {
            f.file = Some(sources.get(s).name.clone());
            by_source.entry(s).or_default().push(i);
        }
    }
    let mut ids: Vec<_> = by_source.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        let text: Arc<str> = match sources.text(id) {
            Ok(t) => t.into(),
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let mut resolver = Resolver::new(&text);
        for &i in &by_source[&id] {
            let f = &mut findings[i];
            let span = f.locator.as_ref().and_then(|l| resolver.span(l));
            if let Some((off, len)) = span {
                let (line, col) = line_col(&text, off);
                f.line = Some(line);
                f.column = Some(col);
                f.span = Some((off, len));
            }
        }
        texts.insert(id, text);
    }
    (texts, errors)
}

enum Container<'a> {
    Object(Vec<(String, &'a RawValue)>),
    Array(Vec<&'a RawValue>),
}

/// Walks JSON paths in one text, caching the containers it parsed.
pub struct Resolver<'a> {
    text: &'a str,
    root: Option<&'a RawValue>,
    cache: HashMap<Vec<Seg>, Option<Container<'a>>>,
}

impl<'a> Resolver<'a> {
    pub fn new(text: &'a str) -> Self {
        Resolver { text, root: serde_json::from_str(text).ok(), cache: HashMap::new() }
    }

    fn offset(&self, raw: &RawValue) -> usize {
        (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize)
    }

    fn value_at(&mut self, path: &[Seg]) -> Option<&'a RawValue> {
        let (mut cur, first): (&'a RawValue, usize) = match path.first() {
            Some(Seg::Line(n)) => (self.line(*n)?, 1),
            _ => (self.root?, 0),
        };
        for depth in first..path.len() {
            let prefix = path[..depth].to_vec();
            let want_array = matches!(path[depth], Seg::Index(_));
            let container = self.cache.entry(prefix).or_insert_with(|| {
                if want_array {
                    serde_json::from_str::<Vec<&'a RawValue>>(cur.get()).ok().map(Container::Array)
                } else {
                    serde_json::from_str::<crate::ingest::json::Members<'a>>(cur.get())
                        .ok()
                        .map(|m| Container::Object(m.0))
                }
            });
            cur = match (&path[depth], container.as_ref()?) {
                (Seg::Index(i), Container::Array(a)) => a.get(*i as usize).copied()?,
                (Seg::Key(k), Container::Object(o)) => o.iter().find(|(name, _)| name == k).map(|(_, v)| *v)?,
                _ => return None,
            };
        }
        Some(cur)
    }

    /// The JSON value on line `n` (1-based) of a newline-delimited text.
    fn line(&self, n: u32) -> Option<&'a RawValue> {
        let text = self.text;
        let mut start = 0;
        for _ in 1..n {
            start += memchr::memchr(b'\n', &text.as_bytes()[start..])? + 1;
        }
        let end = memchr::memchr(b'\n', &text.as_bytes()[start..]).map_or(text.len(), |i| start + i);
        let line = &text[start..end];
        let trimmed = line.trim_start();
        let lead = line.len() - trimmed.len();
        serde_json::from_str::<&'a RawValue>(text[start + lead..end].trim_end()).ok()
    }

    /// The span a locator points at: the focus member (`"key": value`) when it has one and the
    /// object holds it, else the first line of the value.
    pub fn span(&mut self, loc: &Locator) -> Option<(usize, usize)> {
        let v = self.value_at(&loc.path)?;
        let start = self.offset(v);
        if let Some(key) = loc.focus {
            if let Ok(m) = serde_json::from_str::<crate::ingest::json::Members<'a>>(v.get()) {
                if let Some((_, fv)) = m.0.iter().find(|(k, _)| k == key) {
                    let vstart = self.offset(fv);
                    let quoted = format!("\"{key}\"");
                    let kstart = self.text[start..vstart].rfind(&quoted).map_or(vstart, |i| start + i);
                    let end = vstart + fv.get().len();
                    let line_end = self.text[kstart..end].find('\n').map_or(end, |i| kstart + i);
                    return Some((kstart, line_end - kstart));
                }
            }
        }
        let raw = v.get();
        let len = raw.find('\n').unwrap_or(raw.len()).max(1);
        Some((start, len))
    }
}

/// Replaces every occurrence of the given JSON-encoded secrets in `text` with asterisks of
/// the same byte length (quotes kept), so spans stay valid and no secret reaches a snippet.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.len() < 3 || !out.contains(s.as_str()) {
            continue;
        }
        let replacement = if s.starts_with('"') && s.ends_with('"') {
            format!("\"{}\"", "*".repeat(s.len() - 2))
        } else {
            "*".repeat(s.len())
        };
        out = out.replace(s.as_str(), &replacement);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "{\n  \"resources\": [\n    {\n      \"name\": \"a\",\n      \"instances\": [\n        {\n          \"status\": \"tainted\",\n          \"attributes\": {}\n        }\n      ]\n    }\n  ]\n}";

    #[test]
    fn resolves_focus_member() {
        let mut r = Resolver::new(TEXT);
        let loc = Locator::new(vec![Seg::Key("resources"), Seg::Index(0), Seg::Key("instances"), Seg::Index(0)])
            .focus("status");
        let (off, len) = r.span(&loc).unwrap();
        assert_eq!(&TEXT[off..off + len], "\"status\": \"tainted\"");
        assert_eq!(line_col(TEXT, off), (7, 11));
    }

    #[test]
    fn falls_back_to_the_first_line() {
        let mut r = Resolver::new(TEXT);
        let loc = Locator::new(vec![Seg::Key("resources"), Seg::Index(0)]).focus("nope");
        let (off, len) = r.span(&loc).unwrap();
        assert_eq!(&TEXT[off..off + len], "{");
        assert!(r.span(&Locator::new(vec![Seg::Key("resources"), Seg::Index(5)])).is_none());
    }

    #[test]
    fn resolves_lines_of_ndjson() {
        let t = "{\"a\":1}\n  {\"b\": {\"c\": 2}}\n";
        let mut r = Resolver::new(t);
        let (off, len) = r.span(&Locator::new(vec![Seg::Line(2)]).focus("b")).unwrap();
        assert_eq!(&t[off..off + len], "\"b\": {\"c\": 2}");
        assert_eq!(line_col(t, off), (2, 4));
    }

    #[test]
    fn mask_keeps_length() {
        let t = r#"{"value": "s3cr3t", "other": "ok"}"#;
        let m = mask(t, &["\"s3cr3t\"".to_owned()]);
        assert_eq!(m.len(), t.len());
        assert!(!m.contains("s3cr3t"));
        assert!(m.contains("\"******\""));
    }
}
