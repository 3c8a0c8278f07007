//! `--backend DIR`: the root module's `backend` block (read with hcl-rs), completed by the
//! `-backend-config` files (`--backend-config FILE`) and the `.terraform/terraform.tfstate`
//! backend cache, resolved into the states of every workspace.
//!
//! Layouts: `s3` keeps the default workspace at `key` and the others at
//! `WORKSPACE_KEY_PREFIX/WORKSPACE/key` (prefix `env:` by default); `gcs` at
//! `PREFIX/WORKSPACE.tfstate`; `azurerm` at `key` and `keyenv:WORKSPACE`; `local` at `path`
//! (default `terraform.tfstate`) and `terraform.tfstate.d/WORKSPACE/terraform.tfstate`; `http`
//! has one state at `address`. Values of keys, secrets and passwords are never printed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::object::{AzureSettings, GcsSettings, Plan, Select, StoreSpec, Stores};
use super::s3::S3Settings;
use super::{http, secrets};
use crate::code;
use crate::error::InputError;
use crate::source::display_path;

/// A backend configuration resolved from a root module.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// `backend "s3" in infra/`, for messages.
    pub name: String,
    pub kind: String,
    pub config: BTreeMap<String, Value>,
    pub dir: PathBuf,
}

/// Arguments whose values are secrets.
const SECRET_KEYS: &[&str] = &[
    "access_key",
    "secret_key",
    "token",
    "password",
    "sas_token",
    "client_secret",
    "client_certificate_password",
    "credentials",
    "access_token",
    "encryption_key",
    "kms_encryption_key",
    "sse_customer_key",
];

/// Reads the backend of the root module in `dir`.
pub fn resolve(dir: &Path, config_files: &[PathBuf]) -> Result<Resolved, InputError> {
    let shown = display_path(dir);
    let mut kind: Option<String> = None;
    let mut config: BTreeMap<String, Value> = BTreeMap::new();
    // 1. The backend cache `terraform init` wrote (it holds what init was given).
    let cache = dir.join(".terraform/terraform.tfstate");
    if cache.is_file() {
        let text = std::fs::read_to_string(&cache).map_err(|e| {
            InputError::new(
                &code::BAD_BACKEND,
                display_path(&cache),
                format!("cannot read {}: {e}", display_path(&cache)),
            )
        })?;
        let v: Value = serde_json::from_str(&text).map_err(|e| {
            InputError::new(
                &code::BAD_BACKEND,
                display_path(&cache),
                format!("{} is not terraform's backend cache: {e}", display_path(&cache)),
            )
            .with_help("run `terraform init` again, or delete the file")
        })?;
        if let Some(b) = v.get("backend") {
            kind = b.get("type").and_then(Value::as_str).map(str::to_owned);
            if let Some(Value::Object(c)) = b.get("config") {
                for (k, v) in c {
                    if !v.is_null() {
                        config.insert(k.clone(), v.clone());
                    }
                }
            }
        }
    }
    // 2. The block itself.
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| {
            InputError::new(&code::BAD_BACKEND, &shown, format!("cannot read the root module {shown}: {e}"))
                .with_help("pass the directory terraform is run in")
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    entries.sort();
    let mut block_kind = None;
    for file in &entries {
        let name = display_path(file);
        let text = std::fs::read_to_string(file)
            .map_err(|e| InputError::new(&code::BAD_BACKEND, &name, format!("cannot read {name}: {e}")))?;
        let body: hcl::Body = hcl::from_str(&text).map_err(|e| {
            InputError::new(&code::BAD_BACKEND, &name, secrets::redact(&format!("{name} is not valid HCL: {e}")))
        })?;
        for tf in body.blocks().filter(|b| b.identifier() == "terraform") {
            for b in tf.body().blocks().filter(|b| b.identifier() == "backend") {
                let Some(label) = b.labels().first() else { continue };
                block_kind = Some(label.as_str().to_owned());
                for a in b.body().attributes() {
                    config.insert(a.key().to_owned(), literal(a.expr()).ok_or_else(|| not_literal(&name, a.key()))?);
                }
                for inner in b.body().blocks() {
                    // `assume_role { … }`, `endpoints { … }` written as blocks.
                    let mut obj = serde_json::Map::new();
                    for a in inner.body().attributes() {
                        obj.insert(a.key().to_owned(), literal(a.expr()).ok_or_else(|| not_literal(&name, a.key()))?);
                    }
                    config.insert(inner.identifier().to_owned(), Value::Object(obj));
                }
            }
        }
    }
    if let Some(b) = block_kind {
        kind = Some(b);
    }
    // 3. Partial configuration files, as `terraform init -backend-config=FILE`.
    for f in config_files {
        let name = display_path(f);
        let text = std::fs::read_to_string(f).map_err(|e| {
            InputError::new(&code::BAD_BACKEND, &name, format!("cannot read {name}: {e}"))
                .with_help("pass the files given to `terraform init -backend-config=FILE`")
        })?;
        let body: hcl::Body = hcl::from_str(&text).map_err(|e| {
            InputError::new(&code::BAD_BACKEND, &name, secrets::redact(&format!("{name} is not valid HCL: {e}")))
        })?;
        for a in body.attributes() {
            config.insert(a.key().to_owned(), literal(a.expr()).ok_or_else(|| not_literal(&name, a.key()))?);
        }
        for inner in body.blocks() {
            let mut obj = serde_json::Map::new();
            for a in inner.body().attributes() {
                obj.insert(a.key().to_owned(), literal(a.expr()).ok_or_else(|| not_literal(&name, a.key()))?);
            }
            config.insert(inner.identifier().to_owned(), Value::Object(obj));
        }
    }
    for (k, v) in &config {
        if SECRET_KEYS.contains(&k.as_str()) {
            if let Some(s) = v.as_str() {
                secrets::register(s);
            }
        }
    }
    let kind = kind.unwrap_or_else(|| "local".to_owned());
    Ok(Resolved { name: format!("backend \"{kind}\" of {shown}"), kind, config, dir: dir.to_path_buf() })
}

fn not_literal(file: &str, key: &str) -> InputError {
    InputError::new(&code::BAD_BACKEND, file, format!("{file}: the backend argument `{key}` is not a literal value"))
        .with_help("backend blocks cannot use variables or expressions; terraform refuses them too")
}

fn literal(e: &hcl::Expression) -> Option<Value> {
    Some(match e {
        hcl::Expression::Null => Value::Null,
        hcl::Expression::Bool(b) => Value::Bool(*b),
        hcl::Expression::Number(n) => serde_json::to_value(n).ok()?,
        hcl::Expression::String(s) => Value::String(s.clone()),
        hcl::Expression::Array(a) => Value::Array(a.iter().map(literal).collect::<Option<_>>()?),
        hcl::Expression::Object(o) => {
            let mut m = serde_json::Map::new();
            for (k, v) in o {
                let key = match k {
                    hcl::ObjectKey::Identifier(i) => i.as_str().to_owned(),
                    hcl::ObjectKey::Expression(hcl::Expression::String(s)) => s.clone(),
                    _ => return None,
                };
                m.insert(key, literal(v)?);
            }
            Value::Object(m)
        }
        hcl::Expression::TemplateExpr(t) => match &**t {
            hcl::TemplateExpr::QuotedString(s) if !s.contains("${") && !s.contains("%{") => Value::String(s.clone()),
            _ => return None,
        },
        _ => return None,
    })
}

impl Resolved {
    fn str(&self, key: &str) -> Option<String> {
        self.config.get(key).and_then(Value::as_str).map(str::to_owned).filter(|s| !s.is_empty())
    }

    fn flag(&self, key: &str) -> bool {
        self.config.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    fn require(&self, key: &str) -> Result<String, InputError> {
        self.str(key).ok_or_else(|| {
            InputError::new(&code::BAD_BACKEND, &self.name, format!("{}: `{key}` is not set", self.name)).with_help(
                "pass the -backend-config files terraform is given (--backend-config FILE), or run `terraform init` first so .terraform/terraform.tfstate records the backend",
            )
        })
    }

    /// Local backends: the state files of every workspace, as paths.
    pub fn local_paths(&self) -> Option<Vec<PathBuf>> {
        if self.kind != "local" {
            return None;
        }
        let path = self.str("path").unwrap_or_else(|| "terraform.tfstate".to_owned());
        let mut out = Vec::new();
        let default = self.dir.join(&path);
        if default.is_file() {
            out.push(default);
        }
        let wsdir = self.dir.join(self.str("workspace_dir").unwrap_or_else(|| "terraform.tfstate.d".to_owned()));
        if let Ok(rd) = std::fs::read_dir(&wsdir) {
            let mut ws: Vec<PathBuf> =
                rd.filter_map(Result::ok).map(|e| e.path().join("terraform.tfstate")).filter(|p| p.is_file()).collect();
            ws.sort();
            out.extend(ws);
        }
        Some(out)
    }

    fn s3_settings(&self) -> S3Settings {
        let endpoints = self.config.get("endpoints");
        let endpoint = endpoints
            .and_then(|e| e.get("s3"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| self.str("endpoint"))
            .filter(|s| !s.is_empty());
        S3Settings {
            endpoint,
            region: self.str("region"),
            profile: self.str("profile"),
            access_key: self.str("access_key"),
            secret_key: self.str("secret_key"),
            token: self.str("token"),
            path_style: self.flag("use_path_style") || self.flag("force_path_style"),
        }
    }
}

fn parent(key: &str) -> String {
    key.rsplit_once('/').map(|(p, _)| p.to_owned()).unwrap_or_default()
}

fn re(pattern: &str, name: &str) -> Result<regex::Regex, InputError> {
    regex::Regex::new(pattern).map_err(|e| InputError::new(&code::BAD_BACKEND, name, format!("{name}: {e}")))
}

/// What to fetch for a remote backend: one plan per listing.
pub(crate) fn plan(b: &Resolved, stores: &mut Stores) -> Result<Vec<Plan>, InputError> {
    match b.kind.as_str() {
        "s3" => {
            let bucket = b.require("bucket")?;
            let key = b.require("key")?;
            let wkp = b.str("workspace_key_prefix").unwrap_or_else(|| "env:".to_owned());
            let wkp = wkp.trim_end_matches('/');
            let pattern = re(
                &format!("^(?:{}|{}/[^/]+/{})$", regex::escape(&key), regex::escape(wkp), regex::escape(&key)),
                &b.name,
            )?;
            let spec = StoreSpec::S3 { bucket: bucket.clone(), settings: b.s3_settings() };
            let select = Select::Match {
                prefixes: vec![parent(&key), wkp.to_owned()],
                pattern,
                names_of: None,
                what: format!("no workspace's state (neither {key} nor {wkp}/WORKSPACE/{key})"),
            };
            Ok(vec![stores.plan_objects(spec, format!("s3://{bucket}/"), b.name.clone(), select)])
        }
        "gcs" => {
            let bucket = b.require("bucket")?;
            let prefix = b.str("prefix").unwrap_or_default();
            let prefix = prefix.trim_matches('/');
            let pattern = if prefix.is_empty() {
                re(r"^[^/]+\.tfstate$", &b.name)?
            } else {
                re(&format!(r"^{}/[^/]+\.tfstate$", regex::escape(prefix)), &b.name)?
            };
            let settings = GcsSettings {
                credentials: b.str("credentials"),
                access_token: b.str("access_token"),
                endpoint: b.str("storage_custom_endpoint"),
            };
            let spec = StoreSpec::Gcs { bucket: bucket.clone(), settings };
            let select = Select::Match {
                prefixes: vec![prefix.to_owned()],
                pattern,
                names_of: None,
                what: format!("no workspace's state ({prefix}/WORKSPACE.tfstate)"),
            };
            Ok(vec![stores.plan_objects(spec, format!("gs://{bucket}/"), b.name.clone(), select)])
        }
        "azurerm" => {
            let account = b.require("storage_account_name")?;
            let container = b.require("container_name")?;
            let key = b.require("key")?;
            let pattern = re(&format!(r"^{}(?:env:[^/]+)?$", regex::escape(&key)), &b.name)?;
            let settings = AzureSettings { access_key: b.str("access_key"), sas_token: b.str("sas_token") };
            let spec = StoreSpec::Azure { account: account.clone(), container: container.clone(), settings };
            let select = Select::Match {
                prefixes: vec![parent(&key)],
                pattern,
                names_of: None,
                what: format!("no workspace's state (neither {key} nor {key}env:WORKSPACE)"),
            };
            Ok(vec![stores.plan_objects(spec, format!("azblob://{account}/{container}/"), b.name.clone(), select)])
        }
        "http" => {
            let address = b.require("address")?;
            let req = http::Request::new(
                &address,
                b.str("username").or_else(|| super::s3::process_env("TF_HTTP_USERNAME")),
                b.str("password").or_else(|| super::s3::process_env("TF_HTTP_PASSWORD")),
            );
            Ok(vec![Plan::http(req)])
        }
        other => Err(InputError::new(
            &code::BAD_BACKEND,
            &b.name,
            format!("{}: driftlock does not read `{other}` backends", b.name),
        )
        .with_help("it reads s3, gcs, azurerm, http and local; pull the state (`terraform state pull`) and pass it with --state")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_cache_and_partial_files_merge() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.tf"),
            "terraform {\n  backend \"s3\" {\n    key = \"app/terraform.tfstate\"\n    use_path_style = true\n    endpoints = { s3 = \"http://127.0.0.1:9\" }\n  }\n}\n",
        )
        .unwrap();
        let partial = dir.path().join("prod.s3.tfbackend");
        std::fs::write(&partial, "bucket = \"states\"\nsecret_key = \"sk-partial-secret\"\n").unwrap();
        let r = resolve(dir.path(), std::slice::from_ref(&partial)).unwrap();
        assert_eq!(r.kind, "s3");
        assert_eq!(r.str("bucket").as_deref(), Some("states"));
        let s = r.s3_settings();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9"));
        assert!(s.path_style);
        assert_eq!(secrets::redact("x sk-partial-secret"), "x ***");
        // Without the partial file, `bucket` is missing.
        let r = resolve(dir.path(), &[]).unwrap();
        let e = plan(&r, &mut Stores::default()).err().unwrap();
        assert_eq!(e.code.code, "DL0804");
        assert!(e.message.contains("`bucket`"), "{}", e.message);
    }

    #[test]
    fn expressions_are_refused_and_no_block_means_local() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "terraform {\n  backend \"s3\" {\n    bucket = var.b\n  }\n}\n")
            .unwrap();
        assert_eq!(resolve(dir.path(), &[]).unwrap_err().code.code, "DL0804");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("main.tf"), "resource \"terraform_data\" \"x\" {}\n").unwrap();
        std::fs::write(dir.path().join("terraform.tfstate"), "{}").unwrap();
        std::fs::create_dir_all(dir.path().join("terraform.tfstate.d/dev")).unwrap();
        std::fs::write(dir.path().join("terraform.tfstate.d/dev/terraform.tfstate"), "{}").unwrap();
        let r = resolve(dir.path(), &[]).unwrap();
        assert_eq!(r.local_paths().unwrap().len(), 2);
    }
}
