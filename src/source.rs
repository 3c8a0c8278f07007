//! Inputs as driftlock reads them: a name to show (a path, `<stdin>`, later a URL), where the
//! bytes come from, and the decoded text.
//!
//! Texts are not kept after parsing: a scan over hundreds of megabytes of state must not hold
//! them all. When a finding needs a line number or a snippet, the text is loaded again
//! ([`Sources::text`]), which for files means reading (and decompressing) them once more.

use std::io::{BufRead, BufReader, Read, Seek};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{InputError, codes};

/// Index of a [`Source`] in [`Sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(pub u32);

/// Where an input's bytes come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A file on disk, read again whenever its text is needed.
    Path(PathBuf),
    /// Bytes already in memory (standard input, or a fetched object): kept, since they
    /// cannot be read twice.
    Memory(Arc<[u8]>),
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Source {
    /// The name findings and diagnostics show: the path as given, `<stdin>`, or a URL.
    pub name: String,
    pub origin: Origin,
    /// The account a `driftlock collect` manifest of the same folder names, when it lists this
    /// file among its calls: a hint for the file's records and coverage (a record's own
    /// account wins). Set when the inputs are expanded.
    pub collected_account: Option<Arc<str>>,
}

/// Every input of a run, addressed by [`SourceId`].
#[derive(Debug, Default, Clone)]
pub struct Sources {
    files: Vec<Source>,
}

impl Sources {
    pub fn add(&mut self, source: Source) -> SourceId {
        let id = SourceId(u32::try_from(self.files.len()).unwrap_or(u32::MAX));
        self.files.push(source);
        id
    }

    pub fn get(&self, id: SourceId) -> &Source {
        &self.files[id.0 as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &Source)> {
        self.files.iter().enumerate().map(|(i, s)| (SourceId(i as u32), s))
    }

    /// The decoded text of an input (read again for files).
    pub fn text(&self, id: SourceId) -> Result<String, InputError> {
        self.get(id).text()
    }
}

impl Source {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Source { name: display_path(&path), origin: Origin::Path(path), collected_account: None }
    }

    pub fn memory(name: impl Into<String>, bytes: impl Into<Arc<[u8]>>) -> Self {
        Source { name: name.into(), origin: Origin::Memory(bytes.into()), collected_account: None }
    }

    /// Reads standard input whole.
    pub fn stdin() -> Result<Self, InputError> {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut bytes)
            .map_err(|e| InputError::new(&codes::UNREADABLE, "<stdin>", format!("cannot read standard input: {e}")))?;
        Ok(Source::memory("<stdin>", bytes))
    }

    /// The raw bytes, decompressed when gzip.
    /// The size of the input in bytes as stored (compressed when it is), for scheduling:
    /// 0 when it cannot be known without reading it.
    pub fn size_hint(&self) -> u64 {
        match &self.origin {
            Origin::Path(p) => std::fs::metadata(p).map_or(0, |m| m.len()),
            Origin::Memory(b) => b.len() as u64,
        }
    }

    pub fn bytes(&self) -> Result<Vec<u8>, InputError> {
        let mut out = Vec::new();
        self.read_into(&mut out)?;
        Ok(out)
    }

    /// A buffered reader over the (decompressed) bytes, for inputs parsed as they are read:
    /// newline-delimited inventories of any size are never held whole.
    pub fn reader(&self) -> Result<SourceReader, InputError> {
        const CAPACITY: usize = 256 * 1024;
        let mut raw: Box<dyn BufRead + Send> = match &self.origin {
            Origin::Path(p) => {
                let f = std::fs::File::open(p).map_err(|e| self.unreadable(&e))?;
                Box::new(BufReader::with_capacity(CAPACITY, f))
            }
            Origin::Memory(b) => Box::new(std::io::Cursor::new(b.clone())),
        };
        let gzip = is_gzip(raw.fill_buf().map_err(|e| self.unreadable(&e))?);
        let inner: Box<dyn BufRead + Send> = if gzip {
            Box::new(BufReader::with_capacity(CAPACITY, flate2::bufread::MultiGzDecoder::new(raw)))
        } else {
            raw
        };
        Ok(SourceReader { inner, failure: ReadFailure { name: self.name.clone(), gzip } })
    }

    fn unreadable(&self, e: &std::io::Error) -> InputError {
        unreadable(&self.name, e)
    }

    /// The decoded UTF-8 text.
    pub fn text(&self) -> Result<String, InputError> {
        self.text_of(self.bytes()?)
    }

    /// How many bytes this input holds once decompressed, as far as it can be told cheaply:
    /// a file's length, or for a gzip file the size its last member's trailer records
    /// (ISIZE, modulo 4 GiB) when that is plausible. Used to read a file into one buffer of the
    /// right size: growing a buffer by doubling touches (and the kernel zeroes) about twice the
    /// memory, and copying it again costs as much once more.
    pub fn decompressed_size_hint(&self) -> usize {
        let file = match &self.origin {
            Origin::Memory(b) => return b.len(),
            Origin::Path(p) => std::fs::File::open(p),
        };
        let Ok(mut file) = file else { return 0 };
        let len = file.metadata().map_or(0, |m| m.len());
        let mut magic = [0u8; 2];
        if len < 18 || file.read_exact(&mut magic).is_err() || !is_gzip(&magic) {
            return usize::try_from(len).unwrap_or(0);
        }
        let mut trailer = [0u8; 4];
        let isize = file
            .seek(std::io::SeekFrom::End(-4))
            .and_then(|_| file.read_exact(&mut trailer))
            .map_or(0, |()| u64::from(u32::from_le_bytes(trailer)));
        // A multi-member file records only its last member, and sizes wrap at 4 GiB: below the
        // compressed size the trailer cannot be the whole story, so guess (JSON compresses 3–30×;
        // the buffer grows if short, and capacity never touched costs no memory).
        usize::try_from(if isize >= len { isize } else { len.saturating_mul(4) }).unwrap_or(0)
    }

    /// `bytes` (this input's decompressed content) as UTF-8 text, without copying it.
    pub fn text_of(&self, bytes: Vec<u8>) -> Result<String, InputError> {
        String::from_utf8(bytes).map_err(|e| self.bad_encoding(e.as_bytes(), e.utf8_error()))
    }

    /// `bytes` (this input's decompressed content) as UTF-8 text, borrowed.
    pub fn str_of<'a>(&self, bytes: &'a [u8]) -> Result<&'a str, InputError> {
        std::str::from_utf8(bytes).map_err(|e| self.bad_encoding(bytes, e))
    }

    /// Reads this input, decompressed, into `buf` (cleared first), sized in one allocation.
    /// Read errors are those of [`Source::reader`], which the parse reads through too.
    pub fn read_into(&self, buf: &mut Vec<u8>) -> Result<(), InputError> {
        buf.clear();
        match &self.origin {
            Origin::Memory(b) if !is_gzip(b) => {
                buf.extend_from_slice(b);
                Ok(())
            }
            _ => {
                buf.reserve(self.decompressed_size_hint() + 1);
                let mut reader = self.reader()?;
                let failure = reader.failure();
                reader.read_to_end(buf).map(|_| ()).map_err(|e| failure.error(&e))
            }
        }
    }

    fn bad_encoding(&self, bytes: &[u8], e: std::str::Utf8Error) -> InputError {
        let at = e.valid_up_to();
        let text = String::from_utf8_lossy(bytes).into_owned();
        InputError::new(
            &codes::BAD_ENCODING,
            &self.name,
            format!("{} is not UTF-8 text (invalid byte at offset {at})", self.name),
        )
        .with_help("driftlock reads JSON as written by terraform, tofu and the cloud CLIs, which is UTF-8")
        .with_source_text(text)
        .with_span(at, 1, "not UTF-8")
    }
}

/// A buffered reader over one input's bytes, decompressing gzip on the fly
/// ([`Source::reader`]). Read errors become the same diagnostics whole-file reads give.
pub struct SourceReader {
    inner: Box<dyn BufRead + Send>,
    failure: ReadFailure,
}

/// What a read error means for one input: a broken gzip stream, or an I/O error. Kept apart
/// from the reader so the reader can be moved into a parser.
#[derive(Debug, Clone)]
pub struct ReadFailure {
    name: String,
    gzip: bool,
}

impl ReadFailure {
    pub fn error(&self, e: &std::io::Error) -> InputError {
        if self.gzip { broken_gzip(&self.name, e) } else { unreadable(&self.name, e) }
    }
}

impl SourceReader {
    /// Whether the input is gzip-compressed.
    pub fn gzip(&self) -> bool {
        self.failure.gzip
    }

    /// The diagnostic for an error met while reading.
    pub fn error(&self, e: &std::io::Error) -> InputError {
        self.failure.error(e)
    }

    pub fn failure(&self) -> ReadFailure {
        self.failure.clone()
    }
}

impl Read for SourceReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf)
    }

    /// The inner reader's own: a plain file is then read straight into the buffer's spare
    /// room (the default would zero that room first, two gigabytes on a large scan).
    fn read_to_end(&mut self, buf: &mut Vec<u8>) -> std::io::Result<usize> {
        self.inner.read_to_end(buf)
    }
}

impl BufRead for SourceReader {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.inner.consume(amt);
    }
}

fn unreadable(name: &str, e: &std::io::Error) -> InputError {
    InputError::new(&codes::UNREADABLE, name, format!("cannot read {name}: {}", io_reason(e))).with_help(
        match e.kind() {
            std::io::ErrorKind::NotFound => "check the path; driftlock never treats a missing input as empty",
            std::io::ErrorKind::PermissionDenied => "give the user running driftlock read access to the file",
            _ => "make the file readable and run again",
        },
    )
}

fn broken_gzip(name: &str, e: &std::io::Error) -> InputError {
    InputError::new(&codes::BAD_ENCODING, name, format!("{name} is gzip-compressed but cannot be decompressed: {e}"))
        .with_help("the file is truncated or corrupt; fetch it again")
}

pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// Paths are shown as given, with `/` separators so reports are the same on every platform.
pub fn display_path(path: &Path) -> String {
    let s = path.to_string_lossy();
    let s = s.strip_prefix("./").unwrap_or(&s);
    if std::path::MAIN_SEPARATOR == '\\' { s.replace('\\', "/") } else { s.to_owned() }
}

/// Line and column (both 1-based, column in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = memchr::memchr_iter(b'\n', before).count() + 1;
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let col = text.get(line_start..offset).map_or(offset - line_start, |s| s.chars().count()) + 1;
    (line, col)
}

/// Byte offset of a 1-based line and column (serde_json counts columns in bytes).
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut start = 0;
    for _ in 1..line {
        match memchr::memchr(b'\n', &text.as_bytes()[start..]) {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    (start + column.saturating_sub(1)).min(text.len())
}

/// This thread's reusable read buffer, taken for one input and given back when dropped.
/// Inputs are read one after another on each worker: reusing one buffer per thread spares the
/// allocator a fresh block per file, and the kernel zeroing those pages again for every file
/// (about a third of a scan's system time before). Whole-file reads ([`with_read_buffer`]) and
/// the audit reader's chunked window share it. It comes as the last user left it (length
/// included); a buffer whose capacity grew past `keep_at_most` is not given back.
pub struct ReadBuffer {
    buf: Vec<u8>,
    keep_at_most: usize,
}

thread_local! {
    static SPARE_READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl ReadBuffer {
    pub fn take(keep_at_most: usize) -> Self {
        ReadBuffer { buf: SPARE_READ_BUFFER.with(|s| std::mem::take(&mut *s.borrow_mut())), keep_at_most }
    }
}

impl std::ops::Deref for ReadBuffer {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.buf
    }
}

impl std::ops::DerefMut for ReadBuffer {
    fn deref_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }
}

impl Drop for ReadBuffer {
    fn drop(&mut self) {
        if self.buf.capacity() <= self.keep_at_most {
            let buf = std::mem::take(&mut self.buf);
            SPARE_READ_BUFFER.with(|s| *s.borrow_mut() = buf);
        }
    }
}

/// Runs `f` with this thread's [`ReadBuffer`], empty on entry; one that grew past 64 MiB is not
/// kept.
pub fn with_read_buffer<R>(f: impl FnOnce(&mut Vec<u8>) -> R) -> R {
    let mut buf = ReadBuffer::take(64 << 20);
    buf.clear();
    f(&mut buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let t = "ab\ncd\né f";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 4), (2, 2));
        assert_eq!(line_col(t, 9), (3, 3));
    }

    #[test]
    fn offset_of_inverts_serde_locations() {
        let t = "{\n  \"a\": x\n}";
        assert_eq!(&t[offset_of(t, 2, 8)..offset_of(t, 2, 9)], "x");
        assert_eq!(offset_of(t, 9, 1), t.len());
    }

    #[test]
    fn gzip_is_decoded() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"a\":1}").unwrap();
        let src = Source::memory("x.gz", enc.finish().unwrap());
        assert_eq!(src.text().unwrap(), "{\"a\":1}");
    }

    #[test]
    fn reader_streams_plain_and_gzip() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
        for src in [Source::memory("x.gz", enc.finish().unwrap()), Source::memory("x", &b"{\"a\":1}\n{\"b\":2}\n"[..])]
        {
            let r = src.reader().unwrap();
            let lines: Vec<String> = r.lines().map(Result::unwrap).collect();
            assert_eq!(lines, ["{\"a\":1}", "{\"b\":2}"]);
        }
        let mut r = Source::memory("x.gz", vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3]).reader().unwrap();
        let e = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(r.error(&e).code.code, "DL0013");
        let e = Source::file("/nonexistent/driftlock/x.ndjson").reader().err().unwrap();
        assert_eq!(e.code.code, "DL0001");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[b'x'; 4096]).unwrap();
        let mut bytes = enc.finish().unwrap();
        bytes.truncate(bytes.len() / 2);
        let err = Source::memory("x.gz", bytes).text().unwrap_err();
        assert_eq!(err.code.code, "DL0013");
    }

    #[test]
    fn missing_file_is_unreadable() {
        let err = Source::file("/nonexistent/driftlock/x.tfstate").text().unwrap_err();
        assert_eq!(err.code.code, "DL0001");
        assert!(err.message.contains("no such file"), "{}", err.message);
    }
}
