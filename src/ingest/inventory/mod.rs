//! Cloud inventory exports → [`CloudResource`]s and [`Coverage`].
//!
//! Whole-document formats are recognised from their top-level keys; newline-delimited ones
//! (GCP asset exports, the generic inventory) from their first line, and are streamed.

pub(crate) mod aws;
pub(crate) mod azure;
pub(crate) mod gcp;
pub(crate) mod generic;

use std::io::BufRead;
use std::sync::Arc;

use serde_json::Value;
use serde_json::value::RawValue;

use super::json::{FileCtx, Members, TopLevel};
use crate::catalog::Catalog;
use crate::catalog::arn::Arn;
use crate::code;
use crate::error::InputError;
use crate::model::{Cloud, CloudResource, Coverage, KeyKind, Locator, Scope, Seg, Sighting};
use crate::source::SourceId;

/// What one inventory file held.
#[derive(Debug, Default)]
pub struct Part {
    pub resources: Vec<CloudResource>,
    pub coverage: Vec<Coverage>,
    /// Things worth saying that are not errors (a truncated Resource Explorer result).
    pub notes: Vec<String>,
    /// What the file says could not be collected (a `driftlock collect` manifest's failed
    /// calls): each is exit 2, the rest of the file still counts.
    pub errors: Vec<InputError>,
}

/// Facts about an export that its content may not state: from the path
/// (`AWSLogs/ACCOUNT/Config/REGION/…`) or a `.REGION.` infix in the file name
/// (`ec2-describe-vpcs.us-west-2.json`).
#[derive(Debug, Default, Clone)]
pub struct Hints {
    pub region: Option<String>,
    pub account: Option<String>,
}

impl Hints {
    /// Reads hints from a path as shown.
    pub fn from_name(name: &str) -> Hints {
        let mut h = Hints::default();
        let parts: Vec<&str> = name.split('/').collect();
        if let Some(i) = parts.iter().position(|p| *p == "AWSLogs") {
            if let Some(acct) = parts.get(i + 1).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) {
                h.account = Some((*acct).to_owned());
            }
            // AWSLogs/[ORG/]ACCT/SERVICE/REGION/
            if let Some(j) = parts.iter().position(|p| *p == "Config" || *p == "CloudTrail") {
                if let Some(r) = parts.get(j + 1).filter(|r| is_region(r)) {
                    h.region = Some((*r).to_owned());
                }
                if h.account.is_none() {
                    if let Some(acct) = j.checked_sub(1).and_then(|k| parts.get(k)) {
                        h.account = Some((*acct).to_owned());
                    }
                }
            }
        }
        if h.region.is_none() {
            let file = parts.last().copied().unwrap_or("");
            h.region = file.split('.').find(|seg| is_region(seg)).map(str::to_owned);
        }
        h
    }
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `ap-southeast-3`.
pub fn is_region(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    (3..=4).contains(&p.len())
        && p[0].len() == 2
        && p[0].bytes().all(|b| b.is_ascii_lowercase())
        && p[p.len() - 1].bytes().all(|b| b.is_ascii_digit())
        && p[1..p.len() - 1].iter().all(|x| !x.is_empty() && x.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Context for the parsers of one file.
pub(crate) struct Ctx<'a, 'c> {
    pub(crate) file: &'a FileCtx<'a>,
    pub(crate) catalog: &'c Catalog,
    pub(crate) hints: Hints,
}

impl Ctx<'_, '_> {
    pub(crate) fn sighting(&self, format: &'static str, locator: Locator) -> Sighting {
        Sighting { source: self.file.id, locator, format }
    }

    pub(crate) fn coverage(
        &self,
        cloud: Cloud,
        cloud_type: Option<Arc<str>>,
        region: Option<String>,
        account: Option<String>,
        scope: Scope,
        format: &'static str,
    ) -> Coverage {
        Coverage { source: self.file.id, cloud, cloud_type, region, account, scope, format }
    }
}

/// The whole-document inventory formats driftlock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocFormat {
    AwsTagging,
    AwsConfigDiscovered,
    AwsConfigBatch,
    /// `configservice list-aggregate-discovered-resources`.
    AwsConfigAggregateDiscovered,
    /// `configservice batch-get-aggregate-resource-config`.
    AwsConfigAggregateBatch,
    AwsConfigHistory,
    AwsConfigSnapshot,
    AwsConfigSelect,
    AwsResourceExplorer,
    AwsEc2(aws::Ec2Kind),
    AwsIamRoles,
    AwsIamUsers,
    AwsIamPolicies,
    AwsS3Buckets,
    AwsKmsKeys,
    AwsKmsAliases,
    AwsLogGroups,
    AwsSsmParameters,
    /// `manifest.json` of `driftlock collect aws`.
    AwsCollectManifest,
}

/// Every inventory format read as one JSON object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Doc {
    /// An AWS export.
    Aws(DocFormat),
    /// `az graph query` with the 2.x extension: `{count, data, skip_token, total_records}`.
    AzureGraph,
    /// One GCP asset record as a whole document (a one-record export).
    GcpRecord,
    /// One generic inventory record as a whole document.
    GenericRecord,
}

/// The inventory formats that are a JSON array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayFormat {
    /// `gcloud asset list --format=json`.
    GcpAssetList,
    /// `gcloud asset search-all-resources --format=json`.
    GcpAssetSearch,
    /// `az graph query` with the 1.x extension: the bare array of rows.
    AzureGraphRows,
}

/// The newline-delimited inventory formats, recognised from their first record and streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    /// `gcloud asset export --content-type=resource`.
    GcpExport,
    /// The generic inventory (README, "Generic inventory").
    Generic,
}

/// A record that is not shaped as its format requires: the member to point at, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shape {
    pub(crate) key: Option<&'static str>,
    pub(crate) message: String,
}

impl Shape {
    pub(crate) fn new(key: Option<&'static str>, message: impl Into<String>) -> Shape {
        Shape { key, message: message.into() }
    }
}

/// Recognises an inventory document from its top-level keys.
pub(crate) fn detect(top: &TopLevel<'_>) -> Option<Doc> {
    let has = |k: &str| top.has(k);
    if let Some(aws) = detect_aws(top) {
        Some(Doc::Aws(aws))
    } else if has("data") && (has("total_records") || has("skip_token") || has("count")) {
        Some(Doc::AzureGraph)
    } else if gcp::is_asset(&has) {
        Some(Doc::GcpRecord)
    } else if generic::is_record(&has) {
        Some(Doc::GenericRecord)
    } else {
        None
    }
}

/// Recognises an AWS export from its top-level keys.
fn detect_aws(top: &TopLevel<'_>) -> Option<DocFormat> {
    use DocFormat::*;
    let has = |k: &str| top.has(k);
    Some(if has(crate::collect::MANIFEST_KEY) {
        AwsCollectManifest
    } else if has("ResourceTagMappingList") {
        AwsTagging
    } else if has("resourceIdentifiers") {
        AwsConfigDiscovered
    } else if has("baseConfigurationItems") || has("unprocessedResourceKeys") {
        AwsConfigBatch
    } else if has("ResourceIdentifiers") {
        AwsConfigAggregateDiscovered
    } else if has("BaseConfigurationItems") || has("UnprocessedResourceIdentifiers") {
        AwsConfigAggregateBatch
    } else if has("configurationItems") && (has("fileVersion") || has("configSnapshotId")) {
        AwsConfigSnapshot
    } else if has("configurationItems") {
        AwsConfigHistory
    } else if has("Results") && has("QueryInfo") {
        AwsConfigSelect
    } else if has("Resources") && (has("ViewArn") || has("Count")) {
        AwsResourceExplorer
    } else if let Some(k) = aws::Ec2Kind::detect(top) {
        AwsEc2(k)
    } else if has("Roles") {
        AwsIamRoles
    } else if has("Users") {
        AwsIamUsers
    } else if has("Policies") {
        AwsIamPolicies
    } else if has("Buckets") {
        AwsS3Buckets
    } else if has("Keys") {
        AwsKmsKeys
    } else if has("Aliases") {
        AwsKmsAliases
    } else if has("logGroups") {
        AwsLogGroups
    } else if has("Parameters") {
        AwsSsmParameters
    } else {
        return None;
    })
}

/// Recognises an inventory array from its first element.
pub(crate) fn detect_array(first: &RawValue) -> Option<ArrayFormat> {
    let top: TopLevel<'_> = serde_json::from_str(first.get()).ok()?;
    let has = |k: &str| top.has(k);
    if gcp::is_asset(&has) {
        return Some(if gcp::is_search(&has) { ArrayFormat::GcpAssetSearch } else { ArrayFormat::GcpAssetList });
    }
    let v: Value = serde_json::from_str(first.get()).ok()?;
    azure::is_row(&v).then_some(ArrayFormat::AzureGraphRows)
}

/// First lines longer than this are not looked at for newline-delimited records: a one-line
/// state or plan (`show -json` prints one line) is then parsed once, not scanned twice.
pub(crate) const SNIFF_LIMIT: usize = 16 << 20;

/// Recognises a newline-delimited inventory from its first non-blank line.
pub(crate) fn sniff_line(line: &[u8]) -> Option<LineFormat> {
    if line.len() > SNIFF_LIMIT {
        return None;
    }
    let finder = |needle: &str| memchr::memmem::find(line, needle.as_bytes()).is_some();
    if !(finder("\"asset_type\"") || finder("\"assetType\"") || finder("\"provider\"")) {
        return None;
    }
    let text = std::str::from_utf8(line).ok()?;
    let top: TopLevel<'_> = serde_json::from_str(text.trim()).ok()?;
    let has = |k: &str| top.has(k);
    if gcp::is_asset(&has) {
        Some(LineFormat::GcpExport)
    } else if generic::is_record(&has) && !has("version") && !has("format_version") {
        Some(LineFormat::Generic)
    } else {
        None
    }
}

/// One sink for the records of a newline-delimited file.
enum Lines<'c> {
    Gcp(gcp::Collector<'c>),
    Generic(generic::Collector<'c>),
}

impl Lines<'_> {
    fn add(&mut self, rec: &Value, loc: Locator) -> Result<(), Shape> {
        match self {
            Lines::Gcp(c) => c.add(rec, loc),
            Lines::Generic(c) => c.add(rec, loc),
        }
    }

    fn finish(self) -> Part {
        match self {
            Lines::Gcp(c) => c.finish(),
            Lines::Generic(c) => c.finish(),
        }
    }
}

/// Parses a newline-delimited inventory as it is read, one line at a time: memory holds one
/// line and the resources, never the file. Blank lines are allowed; any other line that is not
/// a record is an error pointing at its line and column.
pub(crate) fn parse_lines<R: BufRead>(
    fmt: LineFormat,
    id: SourceId,
    name: &str,
    mut reader: R,
    catalog: &Catalog,
    read_error: &dyn Fn(&std::io::Error) -> InputError,
) -> Result<Part, InputError> {
    let mut sink = match fmt {
        LineFormat::GcpExport => Lines::Gcp(gcp::Collector::new(id, name, gcp::EXPORT, catalog)),
        LineFormat::Generic => Lines::Generic(generic::Collector::new(id, catalog)),
    };
    let focus = match fmt {
        LineFormat::GcpExport => "name",
        LineFormat::Generic => "id",
    };
    // The current line and the one before it (shown as context in a diagnostic): memory holds
    // two lines, never the file.
    let mut buf = Vec::new();
    let mut prev = Vec::new();
    let mut n: u32 = 0;
    loop {
        std::mem::swap(&mut buf, &mut prev);
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(|e| read_error(&e))? == 0 {
            break;
        }
        n = n.saturating_add(1);
        let at = Place { name, n, prev: trim_eol(&prev) };
        let line = trim_eol(&buf);
        let text = std::str::from_utf8(line).map_err(|e| at.encoding_error(line, &e))?;
        if text.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(text).map_err(|e| at.json_error(text, &e))?;
        sink.add(&v, Locator::new(vec![Seg::Line(n)]).focus(focus)).map_err(|s| at.shape_error(text, &s))?;
    }
    Ok(sink.finish())
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Where a line of a newline-delimited file is, for its diagnostics.
struct Place<'a> {
    name: &'a str,
    /// 1-based line number.
    n: u32,
    /// The line before, for context.
    prev: &'a [u8],
}

impl Place<'_> {
    /// A text holding the previous line and this one at their real line numbers (preceded by
    /// empty lines), so a diagnostic gets the right line and column without the file; and the
    /// offset of this line in it.
    fn text(&self, line: &str) -> (String, usize) {
        let before = self.n.saturating_sub(2) as usize;
        let prev = if self.n > 1 { String::from_utf8_lossy(self.prev) } else { "".into() };
        let mut text = String::with_capacity(before + prev.len() + 1 + line.len());
        text.extend(std::iter::repeat_n('\n', before));
        if self.n > 1 {
            text.push_str(&prev);
            text.push('\n');
        }
        let base = text.len();
        text.push_str(line);
        (text, base)
    }

    fn json_error(&self, line: &str, e: &serde_json::Error) -> InputError {
        let (text, base) = self.text(line);
        let (name, n) = (self.name, self.n);
        let mut err = InputError::from_json(name, &text, base, line, e);
        if let Some(rest) = err.message.strip_prefix(name) {
            err.message = format!("{name} line {n}{rest}");
        }
        err
    }

    fn encoding_error(&self, line: &[u8], e: &std::str::Utf8Error) -> InputError {
        let lossy = String::from_utf8_lossy(&line[..e.valid_up_to()]).into_owned();
        let at = lossy.len();
        let (text, base) = self.text(&format!("{lossy}\u{fffd}"));
        let (name, n) = (self.name, self.n);
        InputError::new(
            &code::BAD_ENCODING,
            name,
            format!("{name} line {n} is not UTF-8 text (invalid byte at column {})", lossy.chars().count() + 1),
        )
        .with_help("driftlock reads JSON as written by terraform, tofu and the cloud CLIs, which is UTF-8")
        .with_source_text(text)
        .with_span(base + at, 1, "not UTF-8")
    }

    fn shape_error(&self, line: &str, s: &Shape) -> InputError {
        let (text, base) = self.text(line);
        let (off, len) = member_span(line, s.key);
        InputError::new(&code::UNEXPECTED_SHAPE, self.name, format!("{} line {}: {}", self.name, self.n, s.message))
            .with_help("pass the file exactly as the cloud CLI wrote it; for the generic inventory see the README section \"Generic inventory\"")
            .with_source_text(text)
            .with_span(base + off, len, s.message.clone())
    }
}

/// Byte offset and length of a member's value in an object's text, or the whole text.
fn member_span(text: &str, key: Option<&str>) -> (usize, usize) {
    let whole = (0, text.len().min(80));
    let Some(key) = key else { return whole };
    let Ok(m) = serde_json::from_str::<Members<'_>>(text) else { return whole };
    m.0.iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| {
            let off = (v.get().as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
            (off, v.get().len().clamp(1, 80))
        })
        .unwrap_or(whole)
}

/// Parses an inventory array (`gcloud asset list`/`search-all-resources`, Resource Graph 1.x).
pub(crate) fn parse_array(
    fmt: ArrayFormat,
    file: &FileCtx<'_>,
    items: &[&RawValue],
    catalog: &Catalog,
) -> Result<Part, InputError> {
    let loc = |i: usize, focus: &'static str| Locator::new(vec![Seg::Index(i as u32)]).focus(focus);
    match fmt {
        ArrayFormat::GcpAssetList | ArrayFormat::GcpAssetSearch => {
            let format = if fmt == ArrayFormat::GcpAssetList { gcp::LIST } else { gcp::SEARCH };
            let mut c = gcp::Collector::new(file.id, file.name, format, catalog);
            for (i, raw) in items.iter().enumerate() {
                let v: Value = file.parse_owned(raw)?;
                c.add(&v, loc(i, "name")).map_err(|s| shape_at(file, raw, i, &s))?;
            }
            Ok(c.finish())
        }
        ArrayFormat::AzureGraphRows => {
            let mut c = azure::Collector::new(file.id, file.name, catalog);
            for (i, raw) in items.iter().enumerate() {
                let v: Value = file.parse_owned(raw)?;
                c.add(&v, loc(i, "id")).map_err(|s| shape_at(file, raw, i, &s))?;
            }
            Ok(c.finish(azure::array_incomplete(items.len())))
        }
    }
}

/// A shape error about record `i` of an array, pointing at the member when there is one.
fn shape_at(file: &FileCtx<'_>, raw: &RawValue, i: usize, s: &Shape) -> InputError {
    let target = s
        .key
        .and_then(|k| {
            serde_json::from_str::<Members<'_>>(raw.get()).ok().and_then(|m| m.0.into_iter().find(|(n, _)| n == k))
        })
        .map_or(raw, |(_, v)| v);
    file.shape(target, &s.message, format!("{}: record {i}: {}", file.name, s.message))
}

/// `az graph query` 2.x: the rows of `data`, and whether the page is the whole result.
fn azure_graph(file: &FileCtx<'_>, top: &TopLevel<'_>, catalog: &Catalog) -> Result<Part, InputError> {
    let raw = top.require(file, "data", "an az graph query result")?;
    let items: Vec<&RawValue> = serde_json::from_str(raw.get())
        .map_err(|_| file.shape(raw, "expected an array", format!("{}: `data` is not an array of rows", file.name)))?;
    let mut c = azure::Collector::new(file.id, file.name, catalog);
    for (i, row) in items.iter().enumerate() {
        let v: Value = file.parse_owned(row)?;
        let loc = Locator::new(vec![Seg::Key("data"), Seg::Index(i as u32)]).focus("id");
        c.add(&v, loc).map_err(|s| shape_at(file, row, i, &s))?;
    }
    let total = top.get("total_records").and_then(|r| serde_json::from_str::<u64>(r.get()).ok());
    let skip: Option<Value> = top.get("skip_token").and_then(|r| serde_json::from_str(r.get()).ok());
    Ok(c.finish(azure::page_incomplete(skip.as_ref(), total, items.len())))
}

/// One record given as a whole document (a one-line export, or one pretty-printed record).
fn single_record(fmt: LineFormat, file: &FileCtx<'_>, catalog: &Catalog) -> Result<Part, InputError> {
    let trimmed = file.text.trim();
    if !trimmed.contains('\n') {
        return parse_lines(fmt, file.id, file.name, file.text.as_bytes(), catalog, &|e| {
            InputError::new(&code::UNREADABLE, file.name, format!("cannot read {}: {e}", file.name))
        });
    }
    let v: Value =
        serde_json::from_str(file.text).map_err(|e| InputError::from_json(file.name, file.text, 0, file.text, &e))?;
    let loc = Locator::new(Vec::new()).focus(match fmt {
        LineFormat::GcpExport => "name",
        LineFormat::Generic => "id",
    });
    let start = file.text.len() - file.text.trim_start().len();
    let located = |s: Shape| {
        InputError::new(&code::UNEXPECTED_SHAPE, file.name, format!("{}: {}", file.name, s.message))
            .with_help("pass the file exactly as the cloud CLI wrote it")
            .with_source_text(file.text)
            .with_span(start, 1, s.message)
    };
    match fmt {
        LineFormat::GcpExport => {
            let mut c = gcp::Collector::new(file.id, file.name, gcp::EXPORT, catalog);
            c.add(&v, loc).map_err(located)?;
            Ok(c.finish())
        }
        LineFormat::Generic => {
            let mut c = generic::Collector::new(file.id, catalog);
            c.add(&v, loc).map_err(located)?;
            Ok(c.finish())
        }
    }
}

/// Parses an inventory document. `account`: the account a `driftlock collect` manifest says
/// the file was collected in (a hint, as an `AWSLogs/ACCOUNT/` path is).
pub(crate) fn parse<'t>(
    fmt: Doc,
    file: &FileCtx<'t>,
    top: &TopLevel<'t>,
    catalog: &Catalog,
    account: Option<&str>,
) -> Result<Part, InputError> {
    match fmt {
        Doc::Aws(fmt) => {
            let mut hints = Hints::from_name(file.name);
            if hints.account.is_none() {
                hints.account = account.map(str::to_owned);
            }
            let ctx = Ctx { file, catalog, hints };
            let mut part = aws::parse(fmt, &ctx, top, file.text)?;
            account_from_records(&mut part);
            Ok(part)
        }
        Doc::AzureGraph => azure_graph(file, top, catalog),
        Doc::GcpRecord => single_record(LineFormat::GcpExport, file, catalog),
        Doc::GenericRecord => single_record(LineFormat::Generic, file, catalog),
    }
}

/// A listing that does not say its account vouches only for the account its records show,
/// when they all show the same one: `aws iam list-roles` of one account is not a listing of
/// another's roles. A listing whose records show no account (or none at all) still vouches
/// whatever the account: nothing in it says which it is.
fn account_from_records(part: &mut Part) {
    if part.coverage.iter().all(|c| c.account.is_some()) {
        return;
    }
    let mut accounts = part.resources.iter().map(|r| r.account.as_deref());
    let Some(Some(first)) = accounts.next() else { return };
    if !accounts.all(|a| a == Some(first)) {
        return;
    }
    let first = first.to_owned();
    for c in part.coverage.iter_mut().filter(|c| c.account.is_none()) {
        c.account = Some(first.clone());
    }
}

/// Tags from the AWS `[{"Key": k, "Value": v}]` shape (also lower-case `key`/`value`), or an
/// object; `aws:`-prefixed system tags are dropped (Terraform never manages them).
pub(crate) fn aws_tags(v: Option<&Value>) -> Option<std::collections::BTreeMap<String, String>> {
    let v = v?;
    let mut out = std::collections::BTreeMap::new();
    match v {
        Value::Array(items) => {
            for t in items {
                let k = t.get("Key").or_else(|| t.get("key")).and_then(Value::as_str);
                let val = t
                    .get("Value")
                    .or_else(|| t.get("value"))
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_owned));
                if let (Some(k), Some(val)) = (k, val) {
                    out.insert(k.to_owned(), val);
                }
            }
        }
        Value::Object(o) => {
            for (k, x) in o {
                out.insert(k.clone(), x.as_str().map_or_else(|| x.to_string(), str::to_owned));
            }
        }
        Value::Null => {}
        _ => return None,
    }
    out.retain(|k, _| !k.starts_with("aws:"));
    Some(out)
}

/// Builds an AWS resource from an ARN: its type from the catalog (or `aws:SERVICE:TYPE` when
/// the catalog does not know it), region, account, and every key the ARN template yields.
pub(crate) fn from_arn(ctx: &Ctx<'_, '_>, arn_text: &str) -> Option<CloudResource> {
    let arn = Arn::parse(arn_text)?;
    let cloud_type: Arc<str> = match ctx.catalog.cloud_type_of_arn(&arn) {
        Some(t) => t.clone(),
        None => {
            let kind = arn.resource.split(['/', ':']).next().filter(|k| *k != arn.resource).unwrap_or("resource");
            Arc::from(format!("aws:{}:{}", arn.service, kind))
        }
    };
    let mut r =
        CloudResource::new(Cloud::Aws, cloud_type.clone(), arn_text.strip_suffix(":*").unwrap_or(arn_text).to_owned())
            .key(KeyKind::Arn, arn_text);
    r.region = arn.region().map(str::to_owned);
    r.account = arn.account().map(str::to_owned);
    for e in ctx.catalog.for_cloud_type(&cloud_type) {
        if let Some(t) = &e.arn {
            for (kind, value) in crate::catalog::keys_from_arn(e, t, arn_text) {
                r = r.key(kind, &value);
            }
        }
    }
    Some(r)
}

/// The path of a record in a top-level array: `[KEY, i]`.
pub(crate) fn at(key: &'static str, i: usize) -> Locator {
    Locator::new(vec![Seg::Key(key), Seg::Index(i as u32)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_from_paths() {
        let h = Hints::from_name("x/AWSLogs/123456789012/Config/eu-west-1/2026/11/24/ConfigSnapshot/a.json.gz");
        assert_eq!((h.region.as_deref(), h.account.as_deref()), (Some("eu-west-1"), Some("123456789012")));
        let h = Hints::from_name("inv/ec2-describe-vpcs.us-west-2.json");
        assert_eq!(h.region.as_deref(), Some("us-west-2"));
        assert_eq!(Hints::from_name("inv/ec2-describe-vpcs.json").region, None);
        assert!(is_region("us-gov-west-1"));
        assert!(!is_region("describe-vpcs"));
    }
}
