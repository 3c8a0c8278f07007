//! Inputs that could not be audited: exit status 2, never a pass.
//!
//! An [`InputError`] is a miette diagnostic with a stable code from [`crate::code`], a help
//! line, and, when the problem is inside a file, a labelled span into that file. The same data
//! goes into the JSON report's `errors` array.

use std::fmt;
use std::sync::Arc;

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use serde::Serialize;

pub use crate::code as codes;
use crate::code::CodeInfo;
use crate::source::{line_col, offset_of};

/// An input that could not be audited.
#[derive(Debug, Clone)]
pub struct InputError {
    pub code: &'static CodeInfo,
    /// The input's display name (path, `<stdin>`, URL), or empty when not about one input.
    pub file: String,
    /// One sentence, lower-case start, no trailing period.
    pub message: String,
    pub help: Option<String>,
    /// Byte offset and length of the offending span, with its label.
    pub span: Option<(usize, usize, String)>,
    /// The text the span points into (kept only for errors, to render the snippet).
    pub text: Option<Arc<str>>,
}

/// The JSON form of an [`InputError`].
#[derive(Debug, Clone, Serialize)]
pub struct ErrorRecord {
    pub code: &'static str,
    pub kind: &'static str,
    pub message: String,
    pub help: Option<String>,
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl InputError {
    pub fn new(code: &'static CodeInfo, file: impl Into<String>, message: impl Into<String>) -> Self {
        debug_assert!(code.input_error);
        InputError { code, file: file.into(), message: message.into(), help: None, span: None, text: None }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_source_text(mut self, text: impl Into<Arc<str>>) -> Self {
        self.text = Some(text.into());
        self
    }

    pub fn with_span(mut self, offset: usize, len: usize, label: impl Into<String>) -> Self {
        self.span = Some((offset, len, label.into()));
        self
    }

    /// Line and column of the span, when there is one.
    pub fn location(&self) -> Option<(usize, usize)> {
        match (&self.span, &self.text) {
            (Some((off, _, _)), Some(text)) => Some(line_col(text, *off)),
            _ => None,
        }
    }

    pub fn record(&self) -> ErrorRecord {
        let loc = self.location();
        ErrorRecord {
            code: self.code.code,
            kind: self.code.name,
            message: self.message.clone(),
            help: self.help.clone(),
            file: (!self.file.is_empty()).then(|| self.file.clone()),
            line: loc.map(|l| l.0),
            column: loc.map(|l| l.1),
        }
    }

    /// Builds the error for a serde_json failure while parsing `text` (or a part of it that
    /// starts at byte `base` of the file's text).
    pub fn from_json(file: &str, text: &str, base: usize, part: &str, err: &serde_json::Error) -> Self {
        use serde_json::error::Category;
        let reason = mask_unexpected_strings(&strip_location(&err.to_string()));
        let local = offset_of(part, err.line(), err.column());
        let offset = (base + local).min(text.len());
        let (code, message, help, label) = match err.classify() {
            Category::Eof => (
                &codes::INVALID_JSON,
                format!("{file} ends in the middle of its JSON: the file looks truncated"),
                "produce the file again and make sure the write completed (disk full, interrupted copy, size limit)",
                "input ends here".to_owned(),
            ),
            Category::Syntax => (
                &codes::INVALID_JSON,
                format!("{file} is not valid JSON: {reason}"),
                "produce the file again with the tool that writes it; hand-edited state is not audited",
                reason.clone(),
            ),
            Category::Data => (
                &codes::UNEXPECTED_SHAPE,
                format!("{file} is not shaped as expected: {reason}"),
                "pass the file exactly as terraform, tofu or the cloud CLI wrote it",
                reason.clone(),
            ),
            Category::Io => (
                &codes::UNREADABLE,
                format!("cannot read {file}: {reason}"),
                "make the input readable and run again",
                reason.clone(),
            ),
        };
        // Point at one character: serde reports the position just after the offending token.
        let start = offset.saturating_sub(usize::from(offset > 0 && err.classify() != Category::Eof));
        InputError::new(code, file, message).with_help(help).with_source_text(text).with_span(
            start,
            usize::from(start < text.len()),
            label,
        )
    }
}

/// serde_json appends " at line L column C" to its messages; the span says that already.
fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for InputError {}

impl Diagnostic for InputError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("{} {}", self.code.code, self.code.name)))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Error)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        None
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        None
    }
}

/// An [`InputError`] with its source attached, for rendering with a snippet.
pub struct RenderedError<'a> {
    pub error: &'a InputError,
    pub source: Option<NamedSource<Arc<str>>>,
}

impl<'a> RenderedError<'a> {
    /// The error with a snippet of its input, string values near the span masked (see
    /// [`mask_values_near`]).
    pub fn new(error: &'a InputError) -> Self {
        let source = match (&error.text, &error.span) {
            (Some(t), Some((off, len, _))) if crate::report::human::printable(t, *off, *len) => {
                let masked: Arc<str> = mask_values_near(t, *off, SNIPPET_LINES).into();
                Some(NamedSource::new(error.file.clone(), masked).with_language("json"))
            }
            _ => None,
        };
        RenderedError { error, source }
    }
}

/// serde's `invalid type: string "VALUE", expected …` quotes the value it met: which may be a
/// secret of a state that could not be parsed. The value is replaced by `***`.
fn mask_unexpected_strings(reason: &str) -> String {
    const AT: &str = "string \"";
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(i) = rest.find(AT) {
        out.push_str(&rest[..i + AT.len()]);
        let after = &rest[i + AT.len()..];
        let bytes = after.as_bytes();
        let mut j = 0;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        out.push_str("***");
        rest = after.get(j.min(after.len())..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Lines either side of an error's span that [`mask_values_near`] masks (the snippet shows one).
const SNIPPET_LINES: usize = 3;

/// Keys whose string values say how a document is built, never what it holds: shown in error
/// snippets as they are.
const STRUCTURAL_KEYS: &[&str] = &[
    "version",
    "format_version",
    "terraform_version",
    "serial",
    "lineage",
    "mode",
    "type",
    "name",
    "provider",
    "provider_name",
    "module",
    "address",
    "status",
    "schema_version",
    "index_key",
    "deposed",
    "each",
    "schema",
    "command",
    "resourceType",
    "ResourceType",
    "eventVersion",
    "eventName",
    "eventSource",
];

/// `text` with the string values on the lines around byte `at` replaced by `*` of the same
/// byte length (so spans, lines and columns still point where they did), except the values of
/// [`STRUCTURAL_KEYS`]. An input that cannot be parsed cannot say which of its values are
/// sensitive (a state's `sensitive_attributes` is only known once it parses), so a diagnostic
/// never prints a value it might be quoting from a password attribute.
pub fn mask_values_near(text: &str, at: usize, lines: usize) -> String {
    let bytes = text.as_bytes();
    let at = at.min(bytes.len());
    let mut start = at;
    for _ in 0..=lines {
        match memchr::memrchr(b'\n', &bytes[..start]) {
            Some(i) => start = i,
            None => {
                start = 0;
                break;
            }
        }
    }
    let mut end = at;
    for _ in 0..=lines {
        match memchr::memchr(b'\n', &bytes[end.min(bytes.len())..]) {
            Some(i) => end = end + i + 1,
            None => {
                end = bytes.len();
                break;
            }
        }
    }
    let end = end.min(bytes.len());
    let mut out = bytes.to_vec();
    // Strings in the window: a string followed by `:` is a key, any other is a value.
    let mut i = start;
    let mut key: Option<(usize, usize)> = None;
    while i < end {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        let open = i;
        i += 1;
        while i < bytes.len() && bytes[i] != b'"' {
            i += if bytes[i] == b'\\' { 2 } else { 1 };
        }
        let close = i.min(bytes.len());
        i = close + 1;
        let next = bytes[i.min(bytes.len())..].iter().find(|b| !b.is_ascii_whitespace());
        if next == Some(&b':') {
            key = Some((open + 1, close));
            continue;
        }
        let structural = key.is_some_and(|(a, b)| STRUCTURAL_KEYS.iter().any(|k| k.as_bytes() == &bytes[a..b]));
        if !structural {
            out[open + 1..close].fill(b'*');
        }
        key = None;
    }
    // Only ASCII bytes replaced whole UTF-8 sequences inside string contents.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl fmt::Debug for RenderedError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.error, f)
    }
}

impl fmt::Display for RenderedError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.error, f)?;
        match (&self.source, self.error.location()) {
            (None, Some((line, col))) => write!(f, "\n    at {}:{line}:{col}", self.error.file),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for RenderedError<'_> {}

impl Diagnostic for RenderedError<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.error.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.error.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.error.help()
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (off, len, label) = self.error.span.as_ref()?;
        self.source.as_ref()?;
        Some(Box::new(std::iter::once(LabeledSpan::new(Some(label.clone()), *off, *len))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mask_values_near_the_error_but_not_structure() {
        let text = "{\n  \"password\": \"hunter2\",\n  \"status\": \"tainted\",\n  \"note\": \"caf\u{e9} \\\"q\\\"\",\n  \"n\": 1 x\n}";
        let at = text.find(" x").unwrap();
        let m = mask_values_near(text, at, 3);
        assert_eq!(m.len(), text.len(), "byte offsets are kept");
        assert!(!m.contains("hunter2"), "{m}");
        assert!(m.contains("\"password\": \"*******\""), "{m}");
        assert!(m.contains("\"status\": \"tainted\""), "structural values stay: {m}");
        assert!(m.contains("\"note\": \"***********\""), "escapes and UTF-8 (11 bytes) are masked whole: {m}");
        assert_eq!(m.lines().count(), text.lines().count());
        // Far from the error, nothing is touched (the snippet never shows it).
        let long = format!("{{\"a\": \"far\",{}\n\"b\": \"near\" x}}", "\n".repeat(20));
        let m = mask_values_near(&long, long.find(" x").unwrap(), 3);
        assert!(m.contains("\"far\"") && m.contains("\"****\""), "{m}");
    }

    #[test]
    fn shape_errors_do_not_quote_string_values() {
        let err = serde_json::from_str::<u64>("\"hunter2 \\\" x\"").unwrap_err();
        let e = InputError::from_json("s.tfstate", "\"hunter2 \\\" x\"", 0, "\"hunter2 \\\" x\"", &err);
        assert!(!e.message.contains("hunter2"), "{}", e.message);
        assert!(e.message.contains("invalid type: string \"***\", expected u64"), "{}", e.message);
    }

    #[test]
    fn truncated_json_points_at_the_end() {
        let text = "{\n  \"version\": 4,\n  \"resources\": [";
        let err = serde_json::from_str::<serde_json::Value>(text).unwrap_err();
        let e = InputError::from_json("s.tfstate", text, 0, text, &err);
        assert_eq!(e.code.code, "DL0003");
        assert!(e.message.contains("truncated"), "{}", e.message);
        assert_eq!(e.location().unwrap().0, 3);
    }

    #[test]
    fn wrong_type_is_a_shape_error_with_location() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct S {
            serial: u64,
        }
        let text = "{\n  \"serial\": \"12\"\n}";
        let err = serde_json::from_str::<S>(text).unwrap_err();
        let e = InputError::from_json("s.tfstate", text, 0, text, &err);
        assert_eq!(e.code.code, "DL0004");
        assert_eq!(e.location().map(|l| l.0), Some(2));
        assert!(!e.message.contains(" at line "), "{}", e.message);
    }
}
