//! Ingestion: turns input paths into the [`Estate`] model.
//!
//! The format of each file is decided from its content, never its name (`../formats.md` §0).
//! Directories are walked, files are parsed in parallel, and every input that cannot be read
//! becomes an [`InputError`] while the others are still audited (exit 2 at the end).

pub mod audit;
pub mod inventory;
pub mod json;
mod plan;
mod show_json;
mod state_v4;

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use json::{AllAttributes, AttributeFilter, IdentityAttributes, TypeFilter};
use json::{FileCtx, TopLevel};

use crate::catalog::Catalog;
use crate::code;
use crate::error::InputError;
use crate::model::{Estate, LockInfo, Plan, State};
use crate::source::{Source, SourceId, display_path};

/// What an input was given as. Content decides the format; the role only shapes messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    State,
    Plan,
    Inventory,
    /// An audit log (`--audit-log`): CloudTrail, GCP Cloud Audit Logs, Azure Activity Log.
    AuditLog,
}

/// A path (or `-` for standard input) from the command line or the configuration.
#[derive(Debug, Clone)]
pub struct InputArg {
    pub path: PathBuf,
    pub role: Role,
}

/// What one file turned out to be.
#[derive(Debug)]
pub enum Parsed {
    State(State),
    Plan(Box<Plan>),
    Lock(LockInfo),
    Inventory(inventory::Part),
    /// An audit log, judged as it was read.
    Audit(Box<audit::AuditPart>),
}

/// The recognised format of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    StateV4,
    ShowJson,
    Plan,
    LockInfo,
    Inventory(inventory::Doc),
}

/// Files found for the inputs: sources to parse, plus errors for inputs that yield nothing.
pub struct Expanded {
    pub sources: Vec<Source>,
    pub errors: Vec<InputError>,
}

/// Names of files a directory walk picks up.
pub(crate) fn is_state_file(name: &str) -> bool {
    name.ends_with(".tfstate") || name.ends_with(".tfstate.json") || name.ends_with(".tfstate.gz")
}

/// Names of files an inventory directory walk picks up.
pub(crate) fn is_inventory_file(name: &str) -> bool {
    let n = name.strip_suffix(".gz").unwrap_or(name);
    n.ends_with(".json") || n.ends_with(".jsonl") || n.ends_with(".ndjson")
}

const LOCK_INFO: &str = ".terraform.tfstate.lock.info";

/// `aws://live[?regions=…]`: the account collected now, in memory: each listing a source named
/// `aws://live/FILE` (the file `driftlock collect aws` would write), and the manifest.
fn live(url: &str) -> Result<Vec<Source>, InputError> {
    let bad = |m: String| {
        InputError::new(&code::UNREADABLE, url, m).with_help(
            "write aws://live or aws://live?regions=us-east-1,eu-west-1 (also profile=, role_arn=, aggregator=, aggregator_api=select|list, page_size=); credentials come from the standard AWS chain",
        )
    };
    let mut opts = crate::collect::parse_live_url(url).map_err(&bad)?;
    opts.progress = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        crate::collect::ProgressMode::Bar
    } else {
        crate::collect::ProgressMode::Never
    };
    let c = crate::collect::collect(&opts).map_err(|e| bad(format!("{url}: {e}")))?;
    let manifest = c.manifest_text();
    let mut out: Vec<Source> = c
        .files
        .into_iter()
        .map(|(name, text)| Source::memory(format!("aws://live/{name}"), text.into_bytes()))
        .collect();
    out.push(Source::memory(format!("aws://live/{}", crate::collect::MANIFEST_FILE), manifest.into_bytes()));
    // In name order, as a directory of the same files is walked: the same scan either way.
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Expands directories (walking them, skipping `.terraform/` and `.git/`) and reads standard
/// input. Order is deterministic: inputs as given, directory entries sorted by name.
pub fn expand(args: &[InputArg]) -> Expanded {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut stdin_used = false;
    // Remote inputs are fetched together (concurrently), then put back where they were given.
    let remote: Vec<(usize, String, Role)> = args
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let s = a.path.to_str()?;
            crate::remote::is_remote(s).then(|| (i, s.to_owned(), a.role))
        })
        .collect();
    let mut fetched = if remote.is_empty() {
        crate::remote::Fetched::default()
    } else {
        let urls: Vec<(String, Role)> = remote.iter().map(|(_, u, r)| (u.clone(), *r)).collect();
        crate::remote::fetch(&urls)
    };
    errors.append(&mut fetched.errors);
    let mut fetched_at: std::collections::HashMap<usize, Vec<Source>> =
        remote.iter().map(|(i, _, _)| *i).zip(fetched.sources).collect();
    for (i, arg) in args.iter().enumerate() {
        if let Some(url) = arg.path.to_str().filter(|p| p.starts_with("aws://")) {
            match live(url) {
                Ok(found) => sources.extend(found),
                Err(e) => errors.push(e),
            }
            continue;
        }
        if let Some(got) = fetched_at.remove(&i) {
            sources.extend(got);
            continue;
        }
        if arg.path.as_os_str() == "-" {
            if stdin_used {
                errors.push(
                    InputError::new(&code::UNREADABLE, "<stdin>", "standard input (`-`) can be read only once")
                        .with_help("pass the other inputs as files"),
                );
                continue;
            }
            stdin_used = true;
            match Source::stdin() {
                Ok(s) => sources.push(s),
                Err(e) => errors.push(e),
            }
            continue;
        }
        if arg.path.is_dir() {
            let before = sources.len();
            walk_dir(&arg.path, arg.role, &mut sources, &mut errors);
            let found_state = sources[before..].iter().any(|s| s.name.rsplit('/').next() != Some(LOCK_INFO));
            if !found_state && arg.role == Role::AuditLog {
                errors.push(
                    InputError::new(&code::NO_INPUTS, display_path(&arg.path), format!("{} holds no audit log file (*.json, *.jsonl, *.ndjson, optionally .gz)", display_path(&arg.path)))
                        .with_help("download the trail first (`aws s3 sync s3://BUCKET/AWSLogs/ logs/`, `gcloud logging read … --format=json`, `az monitor activity-log list`); an empty directory is never a clean trail"),
                );
            } else if !found_state && arg.role == Role::Inventory {
                errors.push(
                    InputError::new(&code::NO_INPUTS, display_path(&arg.path), format!("{} holds no inventory file (*.json, *.jsonl, *.ndjson, optionally .gz)", display_path(&arg.path)))
                        .with_help("export the account first (`aws resourcegroupstaggingapi get-resources`, describe-*, Config, …); an empty directory is never a clean account"),
                );
            } else if !found_state {
                errors.push(
                    InputError::new(
                        &code::NO_INPUTS,
                        display_path(&arg.path),
                        format!("{} holds no state file (*.tfstate, *.tfstate.json, *.tfstate.gz outside .terraform/)", display_path(&arg.path)),
                    )
                    .with_help("pull the state from its backend first (`terraform state pull > terraform.tfstate`); an empty directory is never a pass"),
                );
            }
        } else {
            sources.push(Source::file(&arg.path));
        }
    }
    collected_accounts(&mut sources);
    Expanded { sources, errors }
}

/// The files of a `driftlock collect` folder take the account its `manifest.json` names: each
/// file the manifest lists among its calls, in the same folder (a directory walked, or
/// `aws://live`). The manifest is read once per folder; one that cannot be read or names no
/// account gives no hint (its own parse reports what is wrong with it).
fn collected_accounts(sources: &mut [Source]) {
    use std::collections::{HashMap, HashSet};
    fn split(name: &str) -> (&str, &str) {
        name.rsplit_once('/').unwrap_or(("", name))
    }
    let mut folders: HashMap<String, (std::sync::Arc<str>, HashSet<String>)> = HashMap::new();
    for s in sources.iter() {
        let (dir, file) = split(&s.name);
        if file != crate::collect::MANIFEST_FILE || folders.contains_key(dir) {
            continue;
        }
        let Ok(bytes) = s.bytes() else { continue };
        let Ok(m) = serde_json::from_slice::<crate::collect::Manifest>(&bytes) else { continue };
        let Some(account) = m.account.filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        folders.insert(dir.to_owned(), (std::sync::Arc::from(account), m.calls.into_iter().map(|c| c.file).collect()));
    }
    if folders.is_empty() {
        return;
    }
    for s in sources.iter_mut() {
        let (dir, file) = split(&s.name);
        let hint = folders.get(dir).filter(|(_, files)| files.contains(file)).map(|(account, _)| account.clone());
        if hint.is_some() {
            s.collected_account = hint;
        }
    }
}

fn walk_dir(dir: &Path, role: Role, sources: &mut Vec<Source>, errors: &mut Vec<InputError>) {
    let walker = walkdir::WalkDir::new(dir).follow_links(true).sort_by_file_name().into_iter().filter_entry(|e| {
        let skipped: &[&str] = &[".terraform", ".git"];
        !(e.file_type().is_dir() && e.depth() > 0 && e.file_name().to_str().is_some_and(|n| skipped.contains(&n)))
    });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let name = e.file_name().to_string_lossy();
                let wanted = match role {
                    Role::Inventory | Role::AuditLog => is_inventory_file(&name),
                    Role::State | Role::Plan => is_state_file(&name) || name == LOCK_INFO,
                };
                if wanted {
                    sources.push(Source::file(e.path()));
                }
            }
            Ok(_) => {}
            Err(err) => {
                let path = err.path().map(display_path).unwrap_or_else(|| display_path(dir));
                errors.push(
                    InputError::new(&code::UNREADABLE, path.clone(), format!("cannot walk {path}: {err}")).with_help(
                        "make the directory readable; a directory driftlock cannot enter is never treated as empty",
                    ),
                );
            }
        }
    }
}

/// Parses `sources` into `estate`, and returns the input errors met. `progress` is called
/// once per finished file.
///
/// Every worker of the pool takes the next source from one queue and parses it, while the
/// calling thread applies the results in source order as they come: the inventory's merge of
/// records seen by several sources runs alongside the parse instead of after it, and what the
/// estate holds never depends on scheduling. The queue is in source order, except that a
/// source big enough to hold the others back (more than an eighth of a worker's share of the
/// whole) goes first, largest first: started last, it would leave the other workers idle at
/// the end.
pub fn load(
    estate: &mut Estate,
    sources: Vec<Source>,
    catalog: &Catalog,
    audit: Option<&audit::Judge<'_>>,
    progress: &(dyn Fn() + Sync),
) -> Vec<InputError> {
    let ids: Vec<SourceId> = sources.into_iter().map(|s| estate.sources.add(s)).collect();
    let queue = schedule(&ids.iter().map(|id| work_estimate(estate.sources.get(*id))).collect::<Vec<_>>());
    let mut errors = Vec::new();
    if rayon::current_thread_index().is_some() {
        // Called from a worker of the pool, which `broadcast` would wait for: one at a time.
        for id in ids {
            let r = parse_source_with(id, estate.sources.get(id), catalog, audit).map(with_account);
            progress();
            apply(estate, r, &mut errors);
        }
        return errors;
    }
    let all_sources = std::mem::take(&mut estate.sources);
    {
        let (sources, ids, queue) = (&all_sources, &ids, &queue);
        let next = std::sync::atomic::AtomicUsize::new(0);
        let (tx, rx) = std::sync::mpsc::channel::<(usize, Result<Parsed, InputError>)>();
        std::thread::scope(|scope| {
            scope.spawn(|| {
                rayon::broadcast(|_| {
                    let tx = tx.clone();
                    while let Some(&i) = queue.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) {
                        let id = ids[i];
                        let r = parse_source_with(id, sources.get(id), catalog, audit).map(with_account);
                        progress();
                        if tx.send((i, r)).is_err() {
                            break;
                        }
                    }
                });
                drop(tx);
            });
            // Results in source order: the next one is applied as soon as it is in.
            let mut pending: std::collections::BTreeMap<usize, Result<Parsed, InputError>> =
                std::collections::BTreeMap::new();
            let mut applied = 0;
            for (i, r) in rx.iter() {
                pending.insert(i, r);
                while let Some(r) = pending.remove(&applied) {
                    apply(estate, r, &mut errors);
                    applied += 1;
                }
            }
        });
    }
    estate.sources = all_sources;
    errors
}

/// The order sources are parsed in (see [`load`]): indexes into `estimates`.
fn schedule(estimates: &[u64]) -> Vec<usize> {
    let total: u64 = estimates.iter().sum();
    let threads = rayon::current_num_threads().max(1) as u64;
    let big = |i: &usize| estimates.len() > 1 && estimates[*i] > total / threads / 8;
    let mut queue: Vec<usize> = (0..estimates.len()).filter(big).collect();
    queue.sort_by(|&a, &b| estimates[b].cmp(&estimates[a]).then(a.cmp(&b)));
    queue.extend((0..estimates.len()).filter(|i| !big(i)));
    queue
}

/// A state with its account counted ([`crate::model::State::account`]), by the worker that read
/// it.
fn with_account(p: Parsed) -> Parsed {
    match p {
        Parsed::State(mut s) => {
            s.account = crate::report::account::state_account(&s);
            Parsed::State(s)
        }
        other => other,
    }
}

/// Puts one parsed source into the estate (sources are applied in their order).
fn apply(estate: &mut Estate, r: Result<Parsed, InputError>, errors: &mut Vec<InputError>) {
    match r {
        Ok(Parsed::State(s)) => estate.states.push(s),
        Ok(Parsed::Plan(p)) => estate.plans.push(*p),
        Ok(Parsed::Lock(l)) => estate.locks.push(l),
        Ok(Parsed::Inventory(part)) => {
            estate.inventory.reserve(part.resources.len());
            for r in part.resources {
                estate.inventory.add(r);
            }
            estate.inventory.coverage.extend(part.coverage);
            estate.notes.extend(part.notes);
            errors.extend(part.errors);
        }
        Ok(Parsed::Audit(part)) => {
            let part = *part;
            estate.audit.merge(part.trail);
            estate.audit_files.extend(part.file);
            estate.audit_digests.extend(part.digest);
        }
        Err(e) => errors.push(e),
    }
}

/// How much parsing a source is likely to take, to schedule the largest first: its size, a
/// gzipped file's about five times its size (what it inflates to, plus inflating it).
fn work_estimate(source: &Source) -> u64 {
    let size = source.size_hint();
    if source.name.ends_with(".gz") { size.saturating_mul(5) } else { size }
}

/// Reads, recognises and parses one source.
///
/// The first non-blank line is read first: when it is a record of a newline-delimited
/// inventory (a GCP asset export, the generic inventory), the rest is parsed as it is read,
/// line by line, whatever the file's size. Anything else is read whole and parsed as a document.
pub fn parse_source(id: SourceId, source: &Source, catalog: &Catalog) -> Result<Parsed, InputError> {
    parse_source_with(id, source, catalog, None)
}

/// [`parse_source`], judging audit logs with `audit` (without it, an audit log is refused with
/// a hint to pass it with `--audit-log`). Audit logs are recognised from their first bytes and
/// streamed, whatever their size.
pub fn parse_source_with(
    id: SourceId,
    source: &Source,
    catalog: &Catalog,
    audit: Option<&audit::Judge<'_>>,
) -> Result<Parsed, InputError> {
    let reader = source.reader()?;
    let failure = reader.failure();
    let mut peek = Vec::new();
    let mut reader = {
        let mut limited = reader.take(audit::HEAD);
        limited.read_to_end(&mut peek).map_err(|e| failure.error(&e))?;
        std::io::Cursor::new(peek).chain(limited.into_inner())
    };
    if let Some(fmt) = audit::sniff(reader.get_ref().0.get_ref()) {
        return match audit {
            Some(judge) => audit::parse(fmt, id, source, reader, &failure, judge).map(|p| Parsed::Audit(Box::new(p))),
            None => Err(InputError::new(
                &code::UNKNOWN_FORMAT,
                &source.name,
                format!("{} is an audit log ({}), not a state, plan or inventory", source.name, fmt.as_str()),
            )
            .with_help("pass audit logs with --audit-log PATH|DIR")),
        };
    }
    // The file is read into this thread's reusable buffer (see `with_read_buffer`).
    crate::source::with_read_buffer(|head| {
        let zip = reader.fill_buf().map_err(|e| failure.error(&e))?.starts_with(b"PK\x03\x04");
        if !zip {
            // Blank lines before the first record are kept in `head` and parsed again (as blank).
            loop {
                let start = head.len();
                if reader.read_until(b'\n', head).map_err(|e| failure.error(&e))? == 0 {
                    break;
                }
                let line = &head[start..];
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                if let Some(fmt) = inventory::sniff_line(line) {
                    let rest = std::io::Cursor::new(std::mem::take(head)).chain(reader);
                    return inventory::parse_lines(fmt, id, &source.name, rest, catalog, &|e| failure.error(e))
                        .map(Parsed::Inventory);
                }
                break;
            }
        }
        // One buffer of the final size: no doubling, no copy on the way to text.
        head.reserve(source.decompressed_size_hint().saturating_sub(head.len()) + 1);
        reader.read_to_end(head).map_err(|e| failure.error(&e))?;
        if head.starts_with(b"PK\x03\x04") {
            return Err(InputError::new(
                &code::BINARY_PLAN,
                &source.name,
                format!("{} is a binary plan file (a zip archive), not plan JSON", source.name),
            )
            .with_help(format!(
                "render it first: `terraform show -json {} > plan.json`, then audit plan.json",
                source.name
            )));
        }
        let text = source.str_of(head)?;
        parse_text_hinted(id, &source.name, text, catalog, source.collected_account.as_deref())
    })
}

/// Recognises and parses a decoded text.
pub fn parse_text(id: SourceId, name: &str, text: &str, catalog: &Catalog) -> Result<Parsed, InputError> {
    parse_text_hinted(id, name, text, catalog, None)
}

/// [`parse_text`] of a file a `driftlock collect` manifest vouches was collected in `account`.
fn parse_text_hinted(
    id: SourceId,
    name: &str,
    text: &str,
    catalog: &Catalog,
    account: Option<&str>,
) -> Result<Parsed, InputError> {
    let filter: &dyn AttributeFilter = catalog;
    let ctx = FileCtx { id, name, text };
    if text.trim().is_empty() {
        return Err(InputError::new(&code::EMPTY_INPUT, name, format!("{name} is empty"))
            .with_help("an empty file is what a failed `terraform state pull > file` leaves; produce it again and check the command succeeded"));
    }
    let top: TopLevel<'_> = match json::read_top(&ctx, filter) {
        Ok(t) => t,
        Err(e) => {
            if let Some(parsed) = parse_inventory_text(&ctx, &e, catalog) {
                return parsed.map(Parsed::Inventory);
            }
            return Err(not_an_object(&ctx, &e));
        }
    };
    let file_name = name.rsplit('/').next().unwrap_or(name);
    if file_name == LOCK_INFO {
        return parse_lock(&ctx, &top).map(Parsed::Lock);
    }
    match detect(&ctx, &top)? {
        Format::StateV4 => {
            let mut s = state_v4::parse(&ctx, &top, filter)?;
            s.errored_file = file_name.starts_with("errored.tfstate");
            Ok(Parsed::State(s))
        }
        Format::ShowJson => show_json::parse_state(&ctx, &top, filter).map(Parsed::State),
        Format::Plan => {
            let fv = format_version(&ctx, &top)?;
            plan::parse(&ctx, &top, fv, filter).map(|p| Parsed::Plan(Box::new(p)))
        }
        Format::LockInfo => parse_lock(&ctx, &top).map(Parsed::Lock),
        Format::Inventory(fmt) => inventory::parse(fmt, &ctx, &top, catalog, account).map(Parsed::Inventory),
    }
}

/// A text that is not one JSON object may be an inventory array (`gcloud asset list`, Resource
/// Graph 1.x) or a newline-delimited inventory given whole (standard input, a test).
fn parse_inventory_text(
    ctx: &FileCtx<'_>,
    e: &serde_json::Error,
    catalog: &Catalog,
) -> Option<Result<inventory::Part, InputError>> {
    let body = ctx.text.trim_start();
    if body.starts_with('[') {
        let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(ctx.text).ok()?;
        let fmt = inventory::detect_array(items.first()?)?;
        return Some(inventory::parse_array(fmt, ctx, &items, catalog));
    }
    if e.classify() == serde_json::error::Category::Syntax && e.to_string().starts_with("trailing characters") {
        let first = body.lines().next().unwrap_or("");
        let fmt = inventory::sniff_line(first.as_bytes())?;
        let name = ctx.name;
        return Some(inventory::parse_lines(fmt, ctx.id, ctx.name, ctx.text.as_bytes(), catalog, &|e| {
            InputError::new(&code::UNREADABLE, name, format!("cannot read {name}: {e}"))
        }));
    }
    None
}

/// The top level did not parse as an object: say what it is instead.
fn not_an_object(ctx: &FileCtx<'_>, e: &serde_json::Error) -> InputError {
    // Newline-delimited JSON fails with "trailing characters" after a complete first object.
    if e.classify() == serde_json::error::Category::Syntax && e.to_string().starts_with("trailing characters") {
        let first = ctx.text.trim_start().lines().next().unwrap_or("");
        if let Ok(obj) = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(first) {
            if obj.contains_key("@level") && obj.contains_key("@message") {
                return InputError::new(&code::NOT_A_STATE, ctx.name, format!("{} is the machine-readable UI stream of `terraform plan -json`, which carries no attribute values", ctx.name))
                    .with_help("write the plan to a file and render it: `terraform plan -out=tfplan && terraform show -json tfplan > plan.json`");
            }
            return InputError::new(
                &code::UNKNOWN_FORMAT,
                ctx.name,
                format!("{} holds one JSON object per line, which is not a state, plan or inventory format driftlock reads", ctx.name),
            )
            .with_help("states come from `terraform state pull`, plans from `terraform show -json PLANFILE`; newline-delimited inventories are `gcloud asset export --content-type=resource` output (records with `name` and `asset_type`) or the generic inventory (records with `provider`, `type` and `id`, see the README)");
        }
    }
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(ctx.text) {
        let what = match v {
            serde_json::Value::Array(_) => "an array",
            serde_json::Value::String(_) => "a string",
            serde_json::Value::Number(_) => "a number",
            serde_json::Value::Bool(_) => "a boolean",
            serde_json::Value::Null => "null",
            serde_json::Value::Object(_) => "an object",
        };
        let start = ctx.text.len() - ctx.text.trim_start().len();
        return InputError::new(
            &code::UNKNOWN_FORMAT,
            ctx.name,
            format!("{} is {what}, not a JSON object as states and plans are", ctx.name),
        )
        .with_help("states come from `terraform state pull`, plans from `terraform show -json PLANFILE`")
        .with_source_text(ctx.text)
        .with_span(start, 1, format!("expected `{{`, found {what}"));
    }
    InputError::from_json(ctx.name, ctx.text, 0, ctx.text, e)
}

/// Decides the format from the top-level keys (`../formats.md` §0).
fn detect(ctx: &FileCtx<'_>, top: &TopLevel<'_>) -> Result<Format, InputError> {
    if let Some(raw) = top.get("encryption_version") {
        let what = if top.has("lineage") { "state" } else { "plan" };
        return Err(InputError::new(&code::ENCRYPTED_STATE, ctx.name, format!("{} is an OpenTofu encrypted {what}: its resources are inside the ciphertext", ctx.name))
            .with_help("decrypt it with the workspace's key and audit the plain copy: `tofu state pull > plain.tfstate` (or `tofu show -json`) with the `encryption` block and key configured; keep the plain copy out of version control")
            .with_source_text(ctx.text)
            .with_span(ctx.offset(raw), raw.get().len(), "OpenTofu state encryption envelope"));
    }
    if top.has("backend") && !top.has("resources") && !top.has("modules") {
        // Never quote this file: `backend.config` may hold credentials.
        return Err(InputError::new(
            &code::NOT_A_STATE,
            ctx.name,
            format!(
                "{} is Terraform's backend configuration cache (.terraform/terraform.tfstate), not a state",
                ctx.name
            ),
        )
        .with_help("pull the state from the backend it names: `terraform state pull > terraform.tfstate`"));
    }
    if let (Some(v), true) = (top.get("version"), top.has("lineage")) {
        let version: u64 = ctx.parse(v)?;
        return match version {
            4 => Ok(Format::StateV4),
            _ => Err(state_v4::version_error(ctx, v, version)),
        };
    }
    if let (Some(v), true) = (top.get("version"), top.has("modules")) {
        let version: u64 = ctx.parse(v).unwrap_or(3);
        return Err(state_v4::version_error(ctx, v, version));
    }
    if top.has("format_version") {
        let plan_keys = ["planned_values", "resource_changes", "resource_drift", "prior_state", "configuration"];
        if plan_keys.iter().any(|k| top.has(k)) {
            format_version(ctx, top)?;
            return Ok(Format::Plan);
        }
        format_version(ctx, top)?;
        return Ok(Format::ShowJson);
    }
    if top.has("ID") && top.has("Operation") && top.has("Who") {
        return Ok(Format::LockInfo);
    }
    if let Some(fmt) = inventory::detect(top) {
        return Ok(Format::Inventory(fmt));
    }
    let start = ctx.text.len() - ctx.text.trim_start().len();
    Err(InputError::new(&code::UNKNOWN_FORMAT, ctx.name, format!("{} is JSON but not a format driftlock reads (no `version`+`lineage` of a state, no `format_version` of a plan or show -json output)", ctx.name))
        .with_help("states come from `terraform state pull`, plans from `terraform show -json PLANFILE`")
        .with_source_text(ctx.text)
        .with_span(start, 1, "unrecognised object"))
}

/// `format_version` must have major version 0 or 1.
fn format_version(ctx: &FileCtx<'_>, top: &TopLevel<'_>) -> Result<String, InputError> {
    let raw = top.require(ctx, "format_version", "a terraform JSON output")?;
    let fv: String = ctx.parse_owned(raw)?;
    let major = fv.split('.').next().and_then(|m| m.parse::<u64>().ok());
    match major {
        Some(0 | 1) => Ok(fv),
        _ => Err(InputError::new(
            &code::UNSUPPORTED_FORMAT_VERSION,
            ctx.name,
            format!("{} has format_version {fv:?}; driftlock reads major versions 0 and 1", ctx.name),
        )
        .with_help("render the plan with Terraform or OpenTofu 1.x, or upgrade driftlock")
        .with_source_text(ctx.text)
        .with_span(ctx.offset(raw), raw.get().len(), "unknown major version")),
    }
}

fn parse_lock(ctx: &FileCtx<'_>, top: &TopLevel<'_>) -> Result<LockInfo, InputError> {
    #[derive(Deserialize)]
    struct L {
        #[serde(rename = "ID", default)]
        id: Option<String>,
        #[serde(rename = "Operation", default)]
        operation: Option<String>,
        #[serde(rename = "Who", default)]
        who: Option<String>,
        #[serde(rename = "Created", default)]
        created: Option<String>,
        #[serde(rename = "Version", default)]
        version: Option<String>,
    }
    let _ = top;
    let l: L =
        serde_json::from_str(ctx.text).map_err(|e| InputError::from_json(ctx.name, ctx.text, 0, ctx.text, &e))?;
    Ok(LockInfo {
        source: ctx.id,
        id: l.id,
        operation: l.operation,
        who: l.who,
        created: l.created,
        version: l.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_parsed_in_order_but_a_big_one_first() {
        let threads = rayon::current_num_threads() as u64;
        // Even sizes: source order.
        assert_eq!(schedule(&[10, 10, 10, 10]), [0, 1, 2, 3]);
        // One source holds most of the work: it starts first, the rest keep their order.
        let huge = 1_000 * threads * 16;
        assert_eq!(schedule(&[10, 20, huge, 10]), [2, 0, 1, 3]);
        assert_eq!(schedule(&[huge]), [0]);
        assert!(schedule(&[]).is_empty());
    }

    fn parse(text: &str) -> Result<Parsed, InputError> {
        parse_text(SourceId(0), "t.json", text, Catalog::builtin())
    }

    /// The inventory a source holds, parsed as a scan parses it.
    fn inventory_of(source: &Source) -> inventory::Part {
        match parse_source(SourceId(0), source, Catalog::builtin()) {
            Ok(Parsed::Inventory(p)) => p,
            other => panic!("{}: {other:?}", source.name),
        }
    }

    #[test]
    fn a_collect_manifest_gives_its_account_to_the_files_it_lists_in_its_folder() {
        let manifest = r#"{"driftlock_collect": 1, "tool": "driftlock", "account": "123456789012", "partition": "aws",
            "endpoint": null, "regions": ["us-east-1"], "started": "", "finished": "", "errors": [], "retries": 0,
            "calls": [{"call": "iam:ListUsers", "region": "us-east-1", "file": "iam-list-users.us-east-1.json",
                       "pages": 1, "records": 0, "started": "", "millis": 1}]}"#;
        let users = r#"{"Users": []}"#;
        let mut sources = vec![
            Source::memory("inv/iam-list-users.us-east-1.json", users.as_bytes()),
            Source::memory("inv/manifest.json", manifest.as_bytes()),
            // Not a call of the manifest, or not in its folder: no hint.
            Source::memory("inv/users.json", users.as_bytes()),
            Source::memory("other/iam-list-users.us-east-1.json", users.as_bytes()),
            Source::memory("inv/sub/iam-list-users.us-east-1.json", users.as_bytes()),
        ];
        collected_accounts(&mut sources);
        let hinted: Vec<Option<&str>> = sources.iter().map(|s| s.collected_account.as_deref()).collect();
        assert_eq!(hinted, [Some("123456789012"), None, None, None, None]);
        // The empty listing vouches for users of that account only; without the manifest, for
        // any (nothing in it says which).
        let account = |s: &Source| inventory_of(s).coverage.iter().map(|c| c.account.clone()).collect::<Vec<_>>();
        assert_eq!(account(&sources[0]), [Some("123456789012".to_owned())]);
        assert_eq!(account(&sources[2]), [None]);
    }

    fn err_code(text: &str) -> &'static str {
        parse(text).err().map_or("ok", |e| e.code.code)
    }

    #[test]
    fn recognises_formats() {
        assert!(matches!(parse(r#"{"version":4,"serial":1,"lineage":"x","resources":[]}"#), Ok(Parsed::State(_))));
        assert!(matches!(parse(r#"{"format_version":"1.0"}"#), Ok(Parsed::State(_))));
        assert!(matches!(parse(r#"{"format_version":"1.2","resource_changes":[]}"#), Ok(Parsed::Plan(_))));
    }

    #[test]
    fn refuses_what_is_not_auditable() {
        assert_eq!(err_code(""), "DL0002");
        assert_eq!(err_code("  \n"), "DL0002");
        assert_eq!(err_code("{\"version\":4,"), "DL0003");
        assert_eq!(err_code(r#"{"version":3,"serial":1,"lineage":"x","modules":[]}"#), "DL0006");
        assert_eq!(err_code(r#"{"version":5,"serial":1,"lineage":"x","resources":[]}"#), "DL0006");
        assert_eq!(err_code(r#"{"serial":1,"lineage":"x","encrypted_data":"..","encryption_version":"v0"}"#), "DL0007");
        assert_eq!(err_code(r#"{"format_version":"2.0","resource_changes":[]}"#), "DL0008");
        assert_eq!(err_code(r#"{"version":3,"backend":{"type":"s3","config":{"secret_key":"x"}}}"#), "DL0010");
        assert_eq!(
            err_code(
                "{\"@level\":\"info\",\"@message\":\"m\",\"type\":\"version\"}\n{\"@level\":\"info\",\"@message\":\"m\"}\n"
            ),
            "DL0010"
        );
        assert_eq!(err_code("[1,2]"), "DL0005");
        assert_eq!(err_code(r#"{"name":"x"}"#), "DL0005");
        assert_eq!(err_code(r#"{"version":4,"serial":"1","lineage":"x","resources":[]}"#), "DL0004");
    }

    fn inventory(p: Result<Parsed, InputError>) -> inventory::Part {
        match p {
            Ok(Parsed::Inventory(part)) => part,
            Ok(other) => panic!("not an inventory: {other:?}"),
            Err(e) => panic!("{}: {}", e.code.code, e.message),
        }
    }

    #[test]
    fn recognises_inventory_arrays_and_lines() {
        let gcp =
            r#"{"name":"//pubsub.googleapis.com/projects/p/topics/t","asset_type":"pubsub.googleapis.com/Topic"}"#;
        // Whole texts: NDJSON (given whole, as from a test or a caller), one record, arrays.
        assert_eq!(inventory(parse(&format!("{gcp}\n\n{gcp}\n"))).resources.len(), 2);
        assert_eq!(inventory(parse(gcp)).resources.len(), 1);
        let list = r#"[{"name":"//pubsub.googleapis.com/projects/p/topics/t","assetType":"pubsub.googleapis.com/Topic","ancestors":["projects/1"]}]"#;
        assert_eq!(inventory(parse(list)).resources[0].sightings[0].format, "gcp-asset-list");
        let rows = r#"[{"id":"/subscriptions/s/resourceGroups/rg","type":"microsoft.resources/subscriptions/resourcegroups"}]"#;
        assert_eq!(inventory(parse(rows)).resources[0].cloud_id, "/subscriptions/s/resourcegroups/rg");
        let graph = format!(r#"{{"count":1,"data":{rows},"skip_token":null,"total_records":1}}"#);
        assert_eq!(inventory(parse(&graph)).resources.len(), 1);
        let generic = r#"{"provider":"x","type":"t","id":"i"}"#;
        assert_eq!(inventory(parse(&format!("{generic}\n{generic}"))).resources.len(), 2);
        // Still unknown: an empty array, an array of other objects, lines of other objects.
        assert_eq!(err_code("[]"), "DL0005");
        assert_eq!(err_code(r#"[{"id":"x"}]"#), "DL0005");
        assert_eq!(err_code("{\"a\":1}\n{\"b\":2}\n"), "DL0005");
        assert_eq!(err_code(&format!("{gcp}\n{{\"name\":\"//x\"}}\n")), "DL0004");
    }

    #[test]
    fn streams_newline_delimited_sources() {
        use std::io::Write;
        let line = r#"{"provider":"x","type":"t","id":"ID"}"#;
        let text: String = (0..1000).map(|i| line.replace("ID", &i.to_string()) + "\n").collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(format!("\n\n{text}").as_bytes()).unwrap();
        // Blank lines before the first record count: the gzip copy has two.
        for (src, last_line) in [
            (Source::memory("a.ndjson", text.clone().into_bytes()), 1000),
            (Source::memory("a.ndjson.gz", enc.finish().unwrap()), 1002),
        ] {
            let part = inventory(parse_source(SourceId(0), &src, Catalog::builtin()));
            assert_eq!(part.resources.len(), 1000);
            assert_eq!(part.resources[999].sightings[0].locator.path, [crate::model::Seg::Line(last_line)]);
        }
        // A state is still read whole, and a binary plan still refused.
        let state = Source::memory("s", &br#"{"version":4,"serial":1,"lineage":"x","resources":[]}"#[..]);
        assert!(matches!(parse_source(SourceId(0), &state, Catalog::builtin()), Ok(Parsed::State(_))));
        let zip = Source::memory("p", &b"PK\x03\x04rest"[..]);
        assert_eq!(parse_source(SourceId(0), &zip, Catalog::builtin()).unwrap_err().code.code, "DL0009");
    }

    #[test]
    fn backend_cache_error_never_quotes_credentials() {
        let e = parse(r#"{"version":3,"backend":{"type":"s3","config":{"secret_key":"AKIASECRET"}}}"#).unwrap_err();
        assert!(e.text.is_none());
        assert!(!e.message.contains("AKIASECRET"));
    }
}
