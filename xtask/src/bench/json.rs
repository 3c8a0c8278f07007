//! A streaming pretty-printer for JSON, byte-compatible with what the tools write: terraform
//! (Go `json.MarshalIndent`, 2 spaces) and the aws CLI (Python `json.dumps(indent=4)`):
//! `"key": value`, one member per line, `[]` and `{}` for empty containers.
//!
//! It writes into a `Vec<u8>` (the caller writes the finished document out in one go, through
//! a `BufWriter` or a gzip encoder); numbers go through `itoa`.

const SPACES: &[u8] = &[b' '; 256];

pub(crate) struct Json {
    pub(crate) out: Vec<u8>,
    unit: usize,
    depth: usize,
    /// The innermost open container has no member yet.
    fresh: bool,
    /// A key was written; the next value is its value (no separator).
    after_key: bool,
}

impl Json {
    pub(crate) fn new(indent: usize, capacity: usize) -> Json {
        Json { out: Vec::with_capacity(capacity), unit: indent, depth: 0, fresh: false, after_key: false }
    }

    /// Ends the document with a newline (both tools do) and hands the bytes over.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        debug_assert_eq!(self.depth, 0, "unbalanced JSON document");
        self.out.push(b'\n');
        self.out
    }

    fn indent(&mut self) {
        let mut n = self.depth * self.unit;
        while n > 0 {
            let k = n.min(SPACES.len());
            self.out.extend_from_slice(&SPACES[..k]);
            n -= k;
        }
    }

    /// Separator before a member (a key in an object, a value in an array).
    fn sep(&mut self) {
        if self.after_key {
            self.after_key = false;
            return;
        }
        if self.depth > 0 {
            if self.fresh {
                self.out.push(b'\n');
            } else {
                self.out.extend_from_slice(b",\n");
            }
            self.indent();
        }
        self.fresh = false;
    }

    fn open(&mut self, c: u8) {
        self.sep();
        self.out.push(c);
        self.depth += 1;
        self.fresh = true;
    }

    fn close(&mut self, c: u8) {
        self.depth -= 1;
        if !self.fresh {
            self.out.push(b'\n');
            self.indent();
        }
        self.out.push(c);
        self.fresh = false;
    }

    pub(crate) fn obj(&mut self) -> &mut Self {
        self.open(b'{');
        self
    }

    pub(crate) fn end(&mut self) -> &mut Self {
        self.close(b'}');
        self
    }

    pub(crate) fn arr(&mut self) -> &mut Self {
        self.open(b'[');
        self
    }

    pub(crate) fn end_arr(&mut self) -> &mut Self {
        self.close(b']');
        self
    }

    pub(crate) fn key(&mut self, k: &str) -> &mut Self {
        self.sep();
        escape(&mut self.out, k);
        self.out.extend_from_slice(b": ");
        self.after_key = true;
        self
    }

    pub(crate) fn s(&mut self, v: &str) -> &mut Self {
        self.sep();
        escape(&mut self.out, v);
        self
    }

    pub(crate) fn n<I: itoa::Integer>(&mut self, v: I) -> &mut Self {
        self.sep();
        let mut b = itoa::Buffer::new();
        self.out.extend_from_slice(b.format(v).as_bytes());
        self
    }

    pub(crate) fn b(&mut self, v: bool) -> &mut Self {
        self.raw(if v { "true" } else { "false" })
    }

    pub(crate) fn null(&mut self) -> &mut Self {
        self.raw("null")
    }

    /// A value written as is (a number with a fraction, `null`…).
    pub(crate) fn raw(&mut self, v: &str) -> &mut Self {
        self.sep();
        self.out.extend_from_slice(v.as_bytes());
        self
    }

    // Members, for brevity at the call sites.

    pub(crate) fn ks(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k).s(v)
    }

    pub(crate) fn kn<I: itoa::Integer>(&mut self, k: &str, v: I) -> &mut Self {
        self.key(k).n(v)
    }

    pub(crate) fn kb(&mut self, k: &str, v: bool) -> &mut Self {
        self.key(k).b(v)
    }

    pub(crate) fn knull(&mut self, k: &str) -> &mut Self {
        self.key(k).null()
    }

    /// `"k": []`
    pub(crate) fn kempty(&mut self, k: &str) -> &mut Self {
        self.key(k).arr().end_arr()
    }

    /// `"k": ["a", "b"]`
    pub(crate) fn kstrs<S: AsRef<str>>(&mut self, k: &str, items: &[S]) -> &mut Self {
        self.key(k).arr();
        for i in items {
            self.s(i.as_ref());
        }
        self.end_arr()
    }

    /// `"k": {"a": "1", …}` from pairs in the order given.
    pub(crate) fn kmap(&mut self, k: &str, pairs: &[(String, String)]) -> &mut Self {
        self.key(k).obj();
        for (a, b) in pairs {
            self.ks(a, b);
        }
        self.end()
    }

    /// `"k": [{"Key": a, "Value": b}, …]` (the AWS tag list shape).
    pub(crate) fn ktags(&mut self, k: &str, pairs: &[(String, String)]) -> &mut Self {
        self.key(k).arr();
        for (a, b) in pairs {
            self.obj().ks("Key", a).ks("Value", b).end();
        }
        self.end_arr()
    }
}

/// Writes `s` as a JSON string. Go escapes `<`, `>` and `&` as `\u003c`…; the generated
/// values never contain them, nor anything above ASCII.
fn escape(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\t' => b"\\t",
            b'\r' => b"\\r",
            0..=0x1f => {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(format!("\\u{c:04x}").as_bytes());
                start = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_serde_json_pretty() {
        let mut j = Json::new(2, 0);
        j.obj().ks("a", "x\"y").kempty("e").key("o").obj().end().key("l").arr().n(1).obj().kb("t", true).end();
        j.end_arr().knull("z").end();
        let text = String::from_utf8(j.finish()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut want = serde_json::to_string_pretty(&v).unwrap();
        want.push('\n');
        // serde_json (without preserve_order) sorts keys: compare after parsing, then shape.
        assert_eq!(v, serde_json::from_str::<serde_json::Value>(&want).unwrap());
        assert_eq!(
            text,
            "{\n  \"a\": \"x\\\"y\",\n  \"e\": [],\n  \"o\": {},\n  \"l\": [\n    1,\n    {\n      \"t\": true\n    }\n  ],\n  \"z\": null\n}\n"
        );
    }
}
