//! Resolves findings' [`Locator`]s to byte spans, lines and columns, reading each input that
//! has findings once more. This runs only for findings, never on the parsing hot path.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::value::RawValue;

use crate::error::InputError;
use crate::finding::Finding;
use crate::model::{Locator, Seg};
use crate::source::{SourceId, Sources};

/// The texts of the inputs that have findings, for rendering snippets.
pub type Texts = HashMap<SourceId, Arc<str>>;

/// Fills `file`, `line`, `column` and `span` of every finding; returns the texts read when
/// `keep_texts` (the human renderer quotes them). Sources are resolved in parallel; a locator
/// with a byte offset (recorded by the parser) is resolved without parsing its file again.
/// An input that cannot be read again (it changed under us) is an error.
pub fn resolve(findings: &mut [Finding], sources: &Sources, keep_texts: bool) -> (Texts, Vec<InputError>) {
    use rayon::prelude::*;
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
    let read: &[Finding] = findings;
    type Resolved = (Vec<(usize, Option<Position>)>, Option<Arc<str>>);
    let results: Vec<(SourceId, Result<Resolved, InputError>)> = ids
        .par_iter()
        .map(|id| {
            let resolve_in = |text: &str| resolve_source(text, &by_source[id], read);
            if !keep_texts {
                // Nothing keeps the text: read it into the worker's reusable buffer.
                let source = sources.get(*id);
                let out = crate::source::with_read_buffer(|buf| {
                    source.read_into(buf)?;
                    source.str_of(buf).map(resolve_in)
                });
                return (*id, out.map(|out| (out, None)));
            }
            match sources.text(*id) {
                Ok(text) => {
                    let out = resolve_in(&text);
                    (*id, Ok((out, Some(Arc::from(text)))))
                }
                Err(e) => (*id, Err(e)),
            }
        })
        .collect();
    for (id, r) in results {
        match r {
            Ok((out, text)) => {
                for (i, pos) in out {
                    if let Some((off, len, line, col)) = pos {
                        let f = &mut findings[i];
                        f.line = Some(line);
                        f.column = Some(col);
                        f.span = Some((off, len));
                    }
                }
                if let Some(t) = text {
                    texts.insert(id, t);
                }
            }
            Err(e) => errors.push(e),
        }
    }
    (texts, errors)
}

/// A finding's byte offset, span length, line and column.
type Position = (usize, usize, usize, usize);

/// The spans, lines and columns of the findings `of` (indices into `findings`) in one input's
/// text.
fn resolve_source(text: &str, of: &[usize], findings: &[Finding]) -> Vec<(usize, Option<Position>)> {
    let mut spans: Vec<(usize, Option<(usize, usize)>)> = Vec::with_capacity(of.len());
    let mut resolver: Option<Resolver<'_>> = None;
    for &i in of {
        let span = findings[i].locator.as_ref().and_then(|l| match l.offset {
            Some(off) => span_at(text, off as usize, l.focus),
            None => resolver.get_or_insert_with(|| Resolver::new(text)).span(l),
        });
        spans.push((i, span));
    }
    let positions = line_cols(text, &spans);
    spans
        .iter()
        .zip(positions)
        .map(|((i, span), pos)| (*i, span.zip(pos).map(|((o, l), (line, col))| (o, l, line, col))))
        .collect()
}

/// Lines and columns of many spans of one text in one pass (offsets sorted, newlines counted
/// between consecutive ones), instead of counting from the start for each.
fn line_cols(text: &str, spans: &[(usize, Option<(usize, usize)>)]) -> Vec<Option<(usize, usize)>> {
    let mut out = vec![None; spans.len()];
    let mut order: Vec<usize> = (0..spans.len()).filter(|k| spans[*k].1.is_some()).collect();
    order.sort_by_key(|k| spans[*k].1.map_or(0, |s| s.0));
    let bytes = text.as_bytes();
    let (mut pos, mut line, mut line_start) = (0usize, 1usize, 0usize);
    for k in order {
        let off = spans[k].1.map_or(0, |s| s.0).min(bytes.len());
        let seg = &bytes[pos..off];
        line += memchr::memchr_iter(b'\n', seg).count();
        if let Some(j) = memchr::memrchr(b'\n', seg) {
            line_start = pos + j + 1;
        }
        pos = off;
        let col = text.get(line_start..off).map_or(off - line_start, |s| s.chars().count()) + 1;
        out[k] = Some((line, col));
    }
    out
}

/// The span of the value that starts at byte `off` (parsing that value only).
fn span_at(text: &str, off: usize, focus: Option<&str>) -> Option<(usize, usize)> {
    let rest = text.get(off..)?;
    let mut de = serde_json::Deserializer::from_str(rest);
    let v = <&RawValue as serde::Deserialize>::deserialize(&mut de).ok()?;
    Some(span_of(text, v, focus))
}

/// The focus member (`"key": value`) of a value when it has one, else its first line.
fn span_of(text: &str, v: &RawValue, focus: Option<&str>) -> (usize, usize) {
    let base = text.as_ptr() as usize;
    let offset = |raw: &RawValue| (raw.get().as_ptr() as usize).saturating_sub(base);
    let start = offset(v);
    if let Some(key) = focus {
        if let Ok(m) = serde_json::from_str::<crate::ingest::json::Members<'_>>(v.get()) {
            if let Some((_, fv)) = m.0.iter().find(|(k, _)| k == key) {
                let vstart = offset(fv);
                let quoted = format!("\"{key}\"");
                let kstart = text[start..vstart].rfind(&quoted).map_or(vstart, |i| start + i);
                let end = vstart + fv.get().len();
                let line_end = text[kstart..end].find('\n').map_or(end, |i| kstart + i);
                return (kstart, line_end - kstart);
            }
        }
    }
    let raw = v.get();
    (start, raw.find('\n').unwrap_or(raw.len()).max(1))
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
        Some(span_of(self.text, v, loc.focus))
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
    use crate::source::line_col;

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
    fn offsets_resolve_like_paths() {
        let loc = Locator::new(vec![Seg::Key("resources"), Seg::Index(0), Seg::Key("instances"), Seg::Index(0)])
            .focus("status");
        let by_path = Resolver::new(TEXT).span(&loc).unwrap();
        let off = TEXT.find("{\n          \"status\"").unwrap();
        assert_eq!(span_at(TEXT, off, Some("status")), Some(by_path));
        let spans = [(0, Some(by_path)), (1, Some((0, 1))), (2, None)];
        assert_eq!(line_cols(TEXT, &spans), vec![Some(line_col(TEXT, by_path.0)), Some((1, 1)), None]);
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
