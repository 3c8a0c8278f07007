//! Where in its input a model object came from, resolved to a span only when a finding needs it.

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    Key(&'static str),
    Index(u32),
    /// The Nth line (1-based) of a newline-delimited file; the rest of the path is inside it.
    /// Only valid as the first segment.
    Line(u32),
}

/// A JSON path into a source, plus an optional member of the object found there to point at
/// (`status` of an instance), so labels cover one line rather than a whole object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Locator {
    pub path: Vec<Seg>,
    pub focus: Option<&'static str>,
    /// Byte offset of the value in its source's text, when the parser knew it: locating it
    /// then needs no parse of the file.
    pub offset: Option<u32>,
}

impl Locator {
    pub fn new(path: Vec<Seg>) -> Self {
        Locator { path, focus: None, offset: None }
    }

    pub fn child(&self, seg: Seg) -> Self {
        let mut path = self.path.clone();
        path.push(seg);
        Locator { path, focus: None, offset: None }
    }

    pub fn focus(mut self, key: &'static str) -> Self {
        self.focus = Some(key);
        self
    }
}
