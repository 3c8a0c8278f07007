//! Remote state: inputs named by URL (`s3://`, `gs://`, `azblob://`, `http(s)://`) and backend
//! blocks (`--backend DIR`), fetched concurrently and handed to the parser as in-memory
//! sources named by their URL, so findings and diagnostics point into the fetched bytes.
//!
//! The endpoint and credential plumbing ([`s3`], [`secrets`]) is kept apart from fetching, for
//! the other parts that talk to the same clouds. Credentials never reach an output: every
//! message that leaves this module goes through [`secrets::redact`].

pub mod backend;
pub mod gcs;
pub mod glob;
pub mod http;
pub mod object;
pub mod s3;
pub mod secrets;
pub mod url;

use std::sync::Arc;

use futures::StreamExt;
use object_store::ObjectStoreExt;

use crate::code;
use crate::error::InputError;
use crate::ingest::Role;
use crate::source::Source;

pub use url::{RemoteUrl, is_remote};

/// How many objects are downloaded at once (`DRIFTLOCK_REMOTE_CONCURRENCY` overrides it).
pub const DEFAULT_CONCURRENCY: usize = 32;

/// One object to download, after listing.
#[derive(Clone)]
pub(crate) enum Fetch {
    Object { name: String, store: Arc<dyn object_store::ObjectStore>, path: object_store::path::Path },
    Gcs { name: String, bucket: Arc<gcs::Bucket>, key: String },
    Http(http::Request),
}

impl Fetch {
    fn name(&self) -> &str {
        match self {
            Fetch::Object { name, .. } | Fetch::Gcs { name, .. } => name,
            Fetch::Http(r) => &r.name,
        }
    }
}

/// Sources fetched (in the order the URLs were given; a glob's matches in key order) and the
/// URLs that could not be read.
#[derive(Default)]
pub struct Fetched {
    pub sources: Vec<Vec<Source>>,
    pub errors: Vec<InputError>,
}

/// A remote input: a URL, or a backend configuration already resolved into targets.
#[derive(Debug, Clone)]
pub enum Target {
    Url(String),
    Backend(backend::Resolved),
}

/// The states of every workspace of the root modules' backends (`--backend DIR`, with the
/// `--backend-config FILE`s): local backends as files, the others fetched.
pub fn load_backends(
    dirs: &[std::path::PathBuf],
    config_files: &[std::path::PathBuf],
) -> (Vec<Source>, Vec<InputError>) {
    let mut sources = Vec::new();
    let mut errors = Vec::new();
    let mut targets = Vec::new();
    for dir in dirs {
        match backend::resolve(dir, config_files) {
            Ok(r) => match r.local_paths() {
                Some(paths) if paths.is_empty() => errors.push(
                    InputError::new(
                        &code::REMOTE_NO_MATCH,
                        &r.name,
                        format!("{}: no workspace has a state file", r.name),
                    )
                    .with_help("run terraform there first, or point --backend at the root module that holds the state"),
                ),
                Some(paths) => sources.extend(paths.into_iter().map(Source::file)),
                None => targets.push((Target::Backend(r), Role::State)),
            },
            Err(e) => errors.push(e),
        }
    }
    let mut fetched = fetch_targets(&targets);
    sources.extend(fetched.sources.into_iter().flatten());
    errors.append(&mut fetched.errors);
    (sources, errors)
}

/// Fetches every URL: lists prefixes and globs, downloads the objects concurrently (bounded),
/// and returns one list of sources per URL (same order). Nothing here is ever "empty": a URL
/// that lists nothing or cannot be read is an error naming the URL and the cloud's own words.
pub fn fetch(urls: &[(String, Role)]) -> Fetched {
    let targets: Vec<(Target, Role)> = urls.iter().map(|(u, r)| (Target::Url(u.clone()), *r)).collect();
    fetch_targets(&targets)
}

/// [`fetch`] over URLs and resolved backends.
pub fn fetch_targets(targets: &[(Target, Role)]) -> Fetched {
    if targets.is_empty() {
        return Fetched::default();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            let mut out = Fetched::default();
            for (t, _) in targets {
                out.sources.push(Vec::new());
                out.errors.push(InputError::new(
                    &code::REMOTE_UNREADABLE,
                    target_name(t),
                    format!("cannot start the network runtime: {e}"),
                ));
            }
            return out;
        }
    };
    runtime.block_on(fetch_async(targets))
}

fn target_name(t: &Target) -> String {
    match t {
        Target::Url(u) => url::display(u),
        Target::Backend(b) => b.name.clone(),
    }
}

fn concurrency() -> usize {
    std::env::var("DRIFTLOCK_REMOTE_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_CONCURRENCY)
}

async fn fetch_async(targets: &[(Target, Role)]) -> Fetched {
    let mut stores = object::Stores::default();
    // Resolve every target into objects: build clients, list prefixes, match globs.
    let mut listed: Vec<Result<Vec<Fetch>, Vec<InputError>>> = Vec::with_capacity(targets.len());
    let mut pending = Vec::new();
    for (t, role) in targets {
        match t {
            Target::Url(u) => match RemoteUrl::parse(u) {
                Ok(parsed) => match stores.plan(&parsed, *role, None) {
                    Ok(plan) => {
                        listed.push(Ok(Vec::new()));
                        pending.push((listed.len() - 1, plan));
                    }
                    Err(e) => listed.push(Err(vec![e])),
                },
                Err(e) => listed.push(Err(vec![e])),
            },
            Target::Backend(b) => match backend::plan(b, &mut stores) {
                Ok(plans) => {
                    listed.push(Ok(Vec::new()));
                    for p in plans {
                        pending.push((listed.len() - 1, p));
                    }
                }
                Err(e) => listed.push(Err(vec![e])),
            },
        }
    }
    let n = concurrency();
    let resolved: Vec<(usize, Result<Vec<Fetch>, InputError>)> =
        futures::stream::iter(pending.into_iter().map(|(i, plan)| async move { (i, plan.resolve().await) }))
            .buffered(n.min(8))
            .collect()
            .await;
    for (i, r) in resolved {
        match (&mut listed[i], r) {
            (Ok(v), Ok(mut more)) => v.append(&mut more),
            (Ok(_), Err(e)) => listed[i] = Err(vec![e]),
            (Err(errs), Err(e)) => errs.push(e),
            (Err(_), Ok(_)) => {}
        }
    }
    // Download every object, bounded, keeping the order.
    let mut order = Vec::new();
    let mut fetches = Vec::new();
    for (i, l) in listed.iter().enumerate() {
        if let Ok(v) = l {
            for f in v {
                order.push(i);
                fetches.push(f.clone());
            }
        }
    }
    let downloaded: Vec<Result<Source, InputError>> =
        futures::stream::iter(fetches.into_iter().map(download)).buffered(n).collect().await;
    let mut out = Fetched { sources: vec![Vec::new(); targets.len()], errors: Vec::new() };
    for l in listed.iter_mut() {
        if let Err(errs) = l {
            out.errors.append(errs);
        }
    }
    for (i, d) in order.into_iter().zip(downloaded) {
        match d {
            Ok(s) => out.sources[i].push(s),
            Err(e) => out.errors.push(e),
        }
    }
    out
}

async fn download(f: Fetch) -> Result<Source, InputError> {
    match f {
        Fetch::Object { name, store, path } => {
            let got = store.get(&path).await.map_err(|e| object::error(&name, &e))?;
            let bytes = got.bytes().await.map_err(|e| object::error(&name, &e))?;
            Ok(Source::memory(name, Arc::<[u8]>::from(&bytes[..])))
        }
        Fetch::Gcs { name, bucket, key } => {
            let bytes = bucket.get(&key).await.map_err(|e| object::gcs_error(&name, "read", &e))?;
            Ok(Source::memory(name, Arc::<[u8]>::from(bytes)))
        }
        Fetch::Http(req) => {
            let name = req.name.clone();
            let bytes = http::get(&req).await?;
            Ok(Source::memory(name, Arc::<[u8]>::from(bytes)))
        }
    }
}

impl std::fmt::Debug for Fetch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
