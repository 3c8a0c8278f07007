//! The tool catalog (`tools.toml`): which tool, at which version, made a call, recognised from
//! the user agent an audit record carries or, for Azure, the application the caller signed in
//! with. Data, like the identity catalog; `driftlock catalog --tools` lists it.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::model::{Cloud, ToolSeen};

const TOOLS: &str = include_str!("tools.toml");

/// What kind of tool it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Infrastructure as code: Terraform, OpenTofu, Pulumi, CDK.
    Iac,
    /// A Terraform provider.
    Provider,
    /// A command-line tool.
    Cli,
    /// A library inside other tools.
    Sdk,
    /// A person at a web console or a browser.
    Console,
    /// A cloud service acting for a caller.
    Service,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Iac => "iac",
            Kind::Provider => "provider",
            Kind::Cli => "cli",
            Kind::Sdk => "sdk",
            Kind::Console => "console",
            Kind::Service => "service",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    tool: Vec<RawTool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTool {
    name: String,
    title: String,
    clouds: Vec<String>,
    kind: Kind,
    rank: u32,
    #[serde(rename = "match")]
    patterns: Vec<String>,
    #[serde(default)]
    app_ids: Vec<String>,
    #[serde(default)]
    note: Option<String>,
}

/// One tool of the catalog.
#[derive(Debug)]
pub struct Tool {
    pub name: &'static str,
    pub title: String,
    pub clouds: Vec<Cloud>,
    pub kind: Kind,
    pub rank: u32,
    pub patterns: Vec<regex::Regex>,
    pub app_ids: Vec<String>,
    pub note: Option<String>,
}

/// The whole catalog.
#[derive(Debug, Default)]
pub struct ToolCatalog {
    pub tools: Vec<Tool>,
}

impl ToolCatalog {
    /// The catalog built into driftlock (validated by `tool_catalog_is_valid`).
    pub fn builtin() -> &'static ToolCatalog {
        static CATALOG: OnceLock<ToolCatalog> = OnceLock::new();
        CATALOG.get_or_init(|| ToolCatalog::parse(TOOLS).unwrap_or_default())
    }

    pub fn parse(text: &str) -> Result<ToolCatalog, String> {
        let raw: RawFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut tools = Vec::new();
        for t in raw.tool {
            if tools.iter().any(|x: &Tool| x.name == t.name) {
                return Err(format!("tool {} is listed twice", t.name));
            }
            let clouds = t
                .clouds
                .iter()
                .map(|c| match c.as_str() {
                    "aws" => Ok(Cloud::Aws),
                    "gcp" => Ok(Cloud::Gcp),
                    "azure" => Ok(Cloud::Azure),
                    other => Err(format!("{}: unknown cloud {other:?}", t.name)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let patterns = t
                .patterns
                .iter()
                .map(|p| regex::Regex::new(p).map_err(|e| format!("{}: {e}", t.name)))
                .collect::<Result<Vec<_>, _>>()?;
            if patterns.is_empty() && t.app_ids.is_empty() {
                return Err(format!("{}: no `match` and no `app_ids`", t.name));
            }
            tools.push(Tool {
                name: Box::leak(t.name.into_boxed_str()),
                title: t.title,
                clouds,
                kind: t.kind,
                rank: t.rank,
                patterns,
                app_ids: t.app_ids.iter().map(|a| a.to_ascii_lowercase()).collect(),
                note: t.note,
            });
        }
        Ok(ToolCatalog { tools })
    }

    pub fn get(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.name == name)
    }

    /// Every tool a user agent (and an Azure app id) shows, most specific first (by rank, then
    /// catalog order). Empty: an unknown tool.
    pub fn recognise(&self, user_agent: Option<&str>, app_id: Option<&str>) -> Vec<ToolSeen> {
        let mut found: Vec<(u32, usize, ToolSeen)> = Vec::new();
        let app_id = app_id.map(str::to_ascii_lowercase);
        for (i, t) in self.tools.iter().enumerate() {
            let mut seen: Option<ToolSeen> = None;
            if let Some(ua) = user_agent {
                for p in &t.patterns {
                    if let Some(c) = p.captures(ua) {
                        let version = c.name("version").map(|m| m.as_str().to_owned());
                        seen = Some(ToolSeen { name: t.name, version });
                        break;
                    }
                }
            }
            if seen.is_none() && app_id.as_ref().is_some_and(|a| t.app_ids.contains(a)) {
                seen = Some(ToolSeen { name: t.name, version: None });
            }
            if let Some(s) = seen {
                found.push((t.rank, i, s));
            }
        }
        found.sort_by_key(|(rank, i, _)| (*rank, *i));
        found.into_iter().map(|(_, _, s)| s).collect()
    }

    /// True when the tool is a person at a console.
    pub fn is_console(&self, name: &str) -> bool {
        self.get(name).is_some_and(|t| t.kind == Kind::Console)
    }
}

/// A version as tools print them, made semver: `1.11.4`, `5.100` (→ `5.100.0`), `2.15.0dev1`
/// (→ `2.15.0-dev1`). `None` when it does not start with a number (`0.11+compatible` is
/// `0.11.0+compatible`: a placeholder, reported as such by the caller).
pub fn lenient_version(s: &str) -> Option<semver::Version> {
    if let Ok(v) = semver::Version::parse(s) {
        return Some(v);
    }
    let end = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (nums, rest) = s.split_at(end);
    let nums = nums.trim_end_matches('.');
    let parts: Vec<&str> = nums.split('.').filter(|p| !p.is_empty()).collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.parse::<u64>().is_err()) {
        return None;
    }
    let mut text = parts.join(".");
    for _ in parts.len()..3 {
        text.push_str(".0");
    }
    let rest = rest.trim_start_matches(['-', '.']);
    if let Some(build) = rest.strip_prefix('+') {
        text.push('+');
        text.push_str(build);
    } else if !rest.is_empty() {
        text.push('-');
        text.push_str(&rest.replace(|c: char| !(c.is_ascii_alphanumeric() || c == '.'), "."));
    }
    semver::Version::parse(&text).ok()
}

/// True for the placeholder a provider reports when it cannot learn Terraform's version.
pub fn is_placeholder_version(s: &str) -> bool {
    s.contains("+compatible") || s == "dev" || s.ends_with("-dev")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(ua: &str) -> Vec<(&'static str, Option<String>)> {
        ToolCatalog::builtin().recognise(Some(ua), None).into_iter().map(|t| (t.name, t.version)).collect()
    }

    #[test]
    fn tool_catalog_is_valid() {
        let c = ToolCatalog::parse(TOOLS).unwrap();
        assert!(c.tools.len() >= 20);
        assert_eq!(ToolCatalog::builtin().tools.len(), c.tools.len());
    }

    #[test]
    fn real_terraform_provider_user_agents() {
        // ../shared/samples/terraform-aws-provider-user-agents.txt, captured from terraform 1.11.4
        let ua = "APN/1.0 HashiCorp/1.0 Terraform/1.11.4 (+https://www.terraform.io) terraform-provider-aws/5.100.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.23.10 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.224.1 m/C,e";
        let n = names(ua);
        assert_eq!(n[0], ("terraform", Some("1.11.4".into())));
        assert_eq!(n[1], ("terraform-provider-aws", Some("5.100.0".into())));
        assert_eq!(n[2], ("aws-sdk-go-v2", Some("1.36.3".into())));
        assert_eq!(n.len(), 3);
        let compat = names(
            "APN/1.0 HashiCorp/1.0 Terraform/0.11+compatible (+https://www.terraform.io) terraform-provider-aws/5.100.0",
        );
        assert_eq!(compat[0], ("terraform", Some("0.11+compatible".into())));
        assert!(is_placeholder_version("0.11+compatible"));
    }

    #[test]
    fn real_aws_cli_user_agent() {
        // ../shared/samples/aws-cli-v1-user-agent.txt
        let ua = "aws-cli/1.45.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.7 md/pyimpl#CPython m/Z,C,N,b,g,D cfg/retry-mode#legacy botocore/1.43.11";
        let n = names(ua);
        assert_eq!(n[0], ("aws-cli", Some("1.45.11".into())));
        assert_eq!(n[1], ("botocore", Some("1.43.11".into())));
        let v2 = names(
            "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.8.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/prompt#off md/command#ec2.create-tags",
        );
        assert_eq!(v2[0], ("aws-cli", Some("2.17.20".into())));
    }

    #[test]
    fn documented_user_agents() {
        let first = |ua: &str| names(ua).first().map(|t| t.0);
        assert_eq!(
            first(
                "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.0"
            ),
            Some("boto3")
        );
        assert_eq!(
            first(
                "aws-sdk-java/2.20.0 Linux/5.10 OpenJDK_64-Bit_Server_VM/17 Java/17 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy"
            ),
            Some("aws-sdk-java")
        );
        assert_eq!(
            first("aws-sdk-js/3.350.0 os/linux/5.10 lang/js md/nodejs#18.16.0 api/s3#3.350.0"),
            Some("aws-sdk-js")
        );
        assert_eq!(
            first("aws-sdk-dotnet-coreclr/3.7.100.0 aws-sdk-dotnet-core/3.7.100.0 .NET_Core/6.0 OS/Linux"),
            Some("aws-sdk-dotnet")
        );
        assert_eq!(first("aws-sdk-go/1.44.0 (go1.20; linux; amd64)"), Some("aws-sdk-go"));
        assert_eq!(first("aws-cdk/2.100.0 aws-sdk-js/2.1400.0 linux/v18.16.0"), Some("aws-cdk"));
        assert_eq!(
            first("pulumi-aws/6.0.2 APN/1.0 HashiCorp/1.0 Terraform/0.11+compatible terraform-provider-aws/dev"),
            Some("pulumi")
        );
        assert_eq!(first("cloudformation.amazonaws.com"), Some("cloudformation"));
        assert_eq!(first("console.amazonaws.com"), Some("aws-console"));
        assert_eq!(first("[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488]"), Some("aws-console"));
        assert_eq!(
            first(
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
            ),
            Some("web-browser")
        );
        assert_eq!(
            first(
                "google-cloud-sdk gcloud/460.0.0 command/gcloud.compute.firewall-rules.create invocation-id/0 environment/None environment-version/None client-os/LINUX client-os-ver/6.1.0 client-pltf-arch/x86_64 interactive/True from-script/False python/3.11.6 term/xterm (Linux 6.1.0),gzip(gfe)"
            ),
            Some("gcloud")
        );
        let google = names(
            "google-api-go-client/0.5 Terraform/1.11.4 (+https://www.terraform.io) Terraform-Plugin-SDK/2.33.0 terraform-provider-google/6.8.0,gzip(gfe)",
        );
        assert_eq!(google[0], ("terraform", Some("1.11.4".into())));
        assert_eq!(google[1], ("terraform-provider-google", Some("6.8.0".into())));
        assert_eq!(
            first("AZURECLI/2.61.0 (DEB) azsdk-python-azure-mgmt-network/25.4.0 Python/3.11.8"),
            Some("azure-cli")
        );
        let portal = ToolCatalog::builtin().recognise(None, Some("C44B4083-3BB0-49C1-B47D-974E53CBDF3C"));
        assert_eq!(portal[0].name, "azure-portal");
        assert!(names("curl/8.5.0").is_empty(), "an unknown user agent is an unknown tool");
    }

    #[test]
    fn versions_are_made_semver() {
        assert_eq!(lenient_version("1.11.4").unwrap().to_string(), "1.11.4");
        assert_eq!(lenient_version("5.100").unwrap().to_string(), "5.100.0");
        assert_eq!(lenient_version("460.0.0").unwrap().to_string(), "460.0.0");
        assert_eq!(lenient_version("2.15.0dev1").unwrap().to_string(), "2.15.0-dev1");
        assert_eq!(lenient_version("0.11+compatible").unwrap().to_string(), "0.11.0+compatible");
        assert!(lenient_version("dev").is_none());
    }
}
