//! Object stores (S3, GCS, Azure Blob) behind one interface: build a client per bucket once,
//! list prefixes, select keys, and turn the cloud's errors into diagnostics.

use std::collections::HashMap;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::ObjectStore;
use object_store::path::Path as ObjPath;
use tokio::sync::OnceCell;

use super::http;
use super::s3::S3Settings;
use super::url::RemoteUrl;
use super::{Fetch, glob, secrets};
use crate::code;
use crate::error::InputError;
use crate::ingest::Role;

/// Settings for a GCS bucket (from a `backend "gcs"` block, or the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct GcsSettings {
    /// A service account key file, or its JSON (`credentials` in the block).
    pub credentials: Option<String>,
    /// A bearer token (`access_token` in the block).
    pub access_token: Option<String>,
    /// `storage_custom_endpoint` in the block.
    pub endpoint: Option<String>,
}

/// Settings for an Azure storage account (from a `backend "azurerm"` block, or the environment).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AzureSettings {
    pub access_key: Option<String>,
    pub sas_token: Option<String>,
}

/// How to reach one bucket or container.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StoreSpec {
    S3 { bucket: String, settings: S3Settings },
    Gcs { bucket: String, settings: GcsSettings },
    Azure { account: String, container: String, settings: AzureSettings },
}

/// A bucket's client: what downloads, and what lists.
#[derive(Clone)]
pub(crate) enum Client {
    Store(Arc<dyn ObjectStore>),
    /// GCS goes through its JSON API (see [`super::gcs`]).
    Gcs(Arc<super::gcs::Bucket>),
}

type Cell = Arc<OnceCell<Result<Client, String>>>;

/// One client per bucket, built on first use.
#[derive(Default)]
pub struct Stores {
    cells: HashMap<StoreSpec, Cell>,
}

/// Which keys a remote input names.
#[derive(Debug, Clone)]
pub enum Select {
    /// One key, fetched directly: a missing object is the cloud's own "not found".
    Exact(String),
    /// The keys under these prefixes that match; none at all is an error.
    Match {
        prefixes: Vec<String>,
        pattern: regex::Regex,
        /// Keep only names a directory walk of this role would pick (`*.tfstate`, …).
        names_of: Option<Role>,
        /// What was looked for, for the "nothing matched" message.
        what: String,
    },
}

/// A remote input ready to be listed and fetched.
pub struct Plan {
    kind: PlanKind,
}

enum PlanKind {
    Http(http::Request),
    Objects { spec: StoreSpec, cell: Cell, base: String, name: String, select: Select },
}

impl Stores {
    fn cell(&mut self, spec: &StoreSpec) -> Cell {
        self.cells.entry(spec.clone()).or_default().clone()
    }

    /// Plans a URL: which store, which keys. `s3` overrides the environment's S3 settings
    /// (a backend block's).
    pub fn plan(&mut self, url: &RemoteUrl, role: Role, s3: Option<&S3Settings>) -> Result<Plan, InputError> {
        let spec = match url {
            RemoteUrl::Http { url } => return Ok(Plan { kind: PlanKind::Http(http::Request::from_url(url)) }),
            RemoteUrl::S3 { bucket, .. } => {
                StoreSpec::S3 { bucket: bucket.clone(), settings: s3.cloned().unwrap_or_default() }
            }
            RemoteUrl::Gcs { bucket, .. } => {
                StoreSpec::Gcs { bucket: bucket.clone(), settings: GcsSettings::default() }
            }
            RemoteUrl::Azure { account, container, .. } => StoreSpec::Azure {
                account: account.clone(),
                container: container.clone(),
                settings: AzureSettings::default(),
            },
        };
        let key = url.key();
        let base = url.base();
        let name = format!("{base}{key}");
        let select = if key.is_empty() || key.ends_with('/') {
            let prefix = key.trim_end_matches('/').to_owned();
            Select::Match {
                pattern: regex::Regex::new(&format!("^{}", regex::escape(key))).map_err(|e| bad_pattern(&name, &e))?,
                prefixes: vec![prefix],
                names_of: Some(role),
                what: match role {
                    Role::Inventory | Role::AuditLog => {
                        "no inventory object (*.json, *.jsonl, *.ndjson, optionally .gz)"
                    }
                    Role::State | Role::Plan => "no state object (*.tfstate, *.tfstate.json, *.tfstate.gz)",
                }
                .to_owned(),
            }
        } else if glob::is_glob(key) {
            Select::Match {
                prefixes: vec![glob::list_prefix(key).to_owned()],
                pattern: glob::compile(key).map_err(|e| bad_pattern(&name, &e))?,
                names_of: None,
                what: "no object matches the pattern".to_owned(),
            }
        } else {
            Select::Exact(key.to_owned())
        };
        Ok(self.plan_objects(spec, base, name, select))
    }

    /// Plans a selection in a store directly (backends).
    pub fn plan_objects(&mut self, spec: StoreSpec, base: String, name: String, select: Select) -> Plan {
        let cell = self.cell(&spec);
        Plan { kind: PlanKind::Objects { spec, cell, base, name, select } }
    }
}

fn bad_pattern(name: &str, e: &regex::Error) -> InputError {
    InputError::new(&code::BAD_REMOTE_URL, name, format!("{name} holds a pattern driftlock cannot use: {e}"))
        .with_help("globs use *, ? and [..] within a segment and ** across segments")
}

fn obj_path(key: &str) -> ObjPath {
    ObjPath::parse(key).unwrap_or_else(|_| ObjPath::from(key))
}

impl StoreSpec {
    async fn build(&self) -> Result<Client, String> {
        let store = match self {
            StoreSpec::S3 { bucket, settings } => super::s3::store(bucket, settings).await,
            StoreSpec::Gcs { bucket, settings } => {
                return Ok(Client::Gcs(Arc::new(super::gcs::bucket(bucket, settings)?)));
            }
            StoreSpec::Azure { account, container, settings } => {
                let mut b = object_store::azure::MicrosoftAzureBuilder::from_env()
                    .with_account(account)
                    .with_container_name(container)
                    .with_client_options(super::s3::client_options(None));
                for s in [&settings.access_key, &settings.sas_token].into_iter().flatten() {
                    secrets::register(s);
                }
                if let Some(k) = super::s3::process_env("AZURE_STORAGE_ACCESS_KEY")
                    .or_else(|| super::s3::process_env("AZURE_STORAGE_ACCOUNT_KEY"))
                    .or_else(|| super::s3::process_env("ARM_ACCESS_KEY"))
                {
                    secrets::register(&k);
                    b = b.with_access_key(k);
                }
                if let Some(k) = &settings.access_key {
                    b = b.with_access_key(k);
                }
                if let Some(sas) = &settings.sas_token {
                    b = b.with_config(object_store::azure::AzureConfigKey::SasKey, sas.trim_start_matches('?'));
                }
                if let Some(endpoint) = super::s3::process_env("AZURE_STORAGE_BLOB_ENDPOINT") {
                    let endpoint = endpoint.trim_end_matches('/').to_owned();
                    b = b
                        .with_endpoint(endpoint.clone())
                        .with_client_options(super::s3::client_options(Some(&endpoint)));
                }
                b.build().map(|s| Arc::new(s) as Arc<dyn ObjectStore>).map_err(|e| secrets::redact(&e.to_string()))
            }
        }?;
        Ok(Client::Store(store))
    }
}

impl Plan {
    /// One GET of Terraform's http backend.
    pub fn http(req: http::Request) -> Plan {
        Plan { kind: PlanKind::Http(req) }
    }

    /// Lists and selects: the objects to download.
    pub(crate) async fn resolve(self) -> Result<Vec<Fetch>, InputError> {
        let (spec, cell, base, name, select) = match self.kind {
            PlanKind::Http(r) => return Ok(vec![Fetch::Http(r)]),
            PlanKind::Objects { spec, cell, base, name, select } => (spec, cell, base, name, select),
        };
        let client = match cell.get_or_init(|| spec.build()).await {
            Ok(c) => c.clone(),
            Err(e) => {
                return Err(InputError::new(
                    &code::REMOTE_UNREADABLE,
                    &name,
                    format!("cannot read {name}: no client for it: {e}"),
                )
                .with_help(credentials_help(&spec)));
            }
        };
        let fetch = |name: String, key: &str| match &client {
            Client::Store(store) => Fetch::Object { name, store: store.clone(), path: obj_path(key) },
            Client::Gcs(bucket) => Fetch::Gcs { name, bucket: bucket.clone(), key: key.to_owned() },
        };
        match select {
            Select::Exact(key) => Ok(vec![fetch(name, &key)]),
            Select::Match { prefixes, pattern, names_of, what } => {
                let mut keys = Vec::new();
                for prefix in &prefixes {
                    let listed: Vec<String> = match &client {
                        Client::Gcs(g) => g.list(prefix).await.map_err(|e| gcs_error(&name, "list", &e))?,
                        Client::Store(store) => {
                            let p = (!prefix.is_empty()).then(|| obj_path(prefix));
                            let metas: Vec<object_store::ObjectMeta> =
                                store.list(p.as_ref()).try_collect().await.map_err(|e| error(&name, &e))?;
                            metas.into_iter().map(|m| m.location.to_string()).collect()
                        }
                    };
                    for key in listed {
                        let base_name = key.rsplit('/').next().unwrap_or(&key);
                        let wanted_name = match names_of {
                            None => true,
                            Some(Role::Inventory | Role::AuditLog) => crate::ingest::is_inventory_file(base_name),
                            Some(Role::State | Role::Plan) => crate::ingest::is_state_file(base_name),
                        };
                        if wanted_name && pattern.is_match(&key) {
                            keys.push(key);
                        }
                    }
                }
                keys.sort();
                keys.dedup();
                if keys.is_empty() {
                    return Err(InputError::new(&code::REMOTE_NO_MATCH, &name, format!("{name}: {what}"))
                        .with_help("check the bucket, prefix and pattern (and the workspaces' layout); a listing that finds nothing is never a pass"));
                }
                Ok(keys.into_iter().map(|k| fetch(format!("{base}{k}"), &k)).collect())
            }
        }
    }
}

fn credentials_help(spec: &StoreSpec) -> &'static str {
    match spec {
        StoreSpec::S3 { .. } => {
            "give AWS credentials (environment, AWS_PROFILE, web identity or instance role) and, for a private endpoint, AWS_ENDPOINT_URL_S3"
        }
        StoreSpec::Gcs { .. } => {
            "give GCS credentials (GOOGLE_APPLICATION_CREDENTIALS, or the backend block's credentials)"
        }
        StoreSpec::Azure { .. } => {
            "give Azure credentials (AZURE_STORAGE_ACCESS_KEY / ARM_ACCESS_KEY, a SAS token, or a managed identity)"
        }
    }
}

/// The diagnostic for a failed GCS listing or download.
pub(crate) fn gcs_error(name: &str, what: &str, e: &super::gcs::GcsError) -> InputError {
    let help = match e.status {
        Some(401 | 403) => {
            "give the identity driftlock runs as storage.objects.list on the bucket (GOOGLE_APPLICATION_CREDENTIALS, or the backend block's credentials or access_token)"
        }
        Some(404) => {
            "check the bucket and the object's name (GCS backend layout: PREFIX/WORKSPACE.tfstate) and the endpoint (storage_custom_endpoint, STORAGE_EMULATOR_HOST); a missing state is never an empty one"
        }
        _ => {
            "check the endpoint, the network and the credentials; a state that cannot be read is never counted as no resources"
        }
    };
    InputError::new(&code::REMOTE_UNREADABLE, name, secrets::redact(&format!("cannot {what} {name}: {}", e.message)))
        .with_help(help)
}

/// The diagnostic for a failed list or download: the URL, and the cloud's own error.
pub fn error(name: &str, e: &object_store::Error) -> InputError {
    let mut reason = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !reason.contains(&text) {
            reason.push_str(": ");
            reason.push_str(&text);
        }
        source = s.source();
    }
    let reason = condense_xml_error(&reason);
    let help = match e {
        object_store::Error::NotFound { .. } => {
            "check the bucket and key (workspaces live under env:/WORKSPACE/ or the backend's workspace_key_prefix); a missing state is never an empty one"
        }
        object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => {
            "give the identity driftlock runs as read access to the object (s3:GetObject and s3:ListBucket, storage.objects.get/list, Storage Blob Data Reader)"
        }
        _ => {
            "check the endpoint, the network and the credentials; a state that cannot be read is never counted as no resources"
        }
    };
    InputError::new(&code::REMOTE_UNREADABLE, name, secrets::redact(&format!("cannot read {name}: {reason}")))
        .with_help(help)
}

/// S3 and Azure answer errors as XML documents: keep their `Code` and `Message`.
fn condense_xml_error(reason: &str) -> String {
    let Some(start) = reason.find("<?xml").or_else(|| reason.find("<Error>")) else { return reason.to_owned() };
    let body = &reason[start..];
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let from = body.find(&open)? + open.len();
        let to = body[from..].find("</")? + from;
        Some(body[from..to].trim().to_owned())
    };
    let mut out = reason[..start].trim_end().to_owned();
    match (tag("Code"), tag("Message")) {
        (Some(c), Some(m)) => out.push_str(&format!(" {c}: {m}")),
        (Some(c), None) => out.push_str(&format!(" {c}")),
        _ => return reason.to_owned(),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_errors_are_condensed() {
        let r = "GET x - 404 Not Found: <?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>1</RequestId></Error>";
        assert_eq!(condense_xml_error(r), "GET x - 404 Not Found: NoSuchKey: The specified key does not exist.");
        assert_eq!(condense_xml_error("plain"), "plain");
    }
}
