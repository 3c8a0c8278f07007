//! `driftlock catalog`: which Terraform resource types are compared with the cloud, and how
//! (the identity catalog of `src/catalog/*.toml`), as a table or as JSON.

use std::io::Write;

use clap::{Args, ValueEnum};
use serde_json::{Value, json};

use crate::catalog::{Catalog, Entry, KeySource};
use crate::model::KeyKind;
use crate::report::exit;

/// A Terraform provider the catalog covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Provider {
    /// hashicorp/aws
    Aws,
    /// hashicorp/google
    Google,
    /// hashicorp/azurerm
    Azurerm,
}

impl Provider {
    fn name(self) -> &'static str {
        match self {
            Provider::Aws => "aws",
            Provider::Google => "google",
            Provider::Azurerm => "azurerm",
        }
    }
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Only this provider's resource types
    #[arg(long, value_enum)]
    pub provider: Option<Provider>,
    /// Print a JSON array of objects instead of a table
    #[arg(long)]
    pub json: bool,
    /// List the tool catalog instead: the tools recognised in audit logs (user agents, Azure
    /// app ids), by the names the governance record uses
    #[arg(long, conflicts_with = "provider")]
    pub tools: bool,
}

/// Prints the catalog; always exit status 0.
pub fn run(args: &CatalogArgs) -> i32 {
    let text = if args.tools {
        let tools = crate::tools::ToolCatalog::builtin();
        if args.json { render_tools_json(tools) } else { render_tools_table(tools) }
    } else {
        let entries = selected(Catalog::builtin(), args.provider);
        if args.json { render_json(&entries) } else { render_table(&entries) }
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`| head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
    exit::OPEN
}

/// The entries of one provider, or of all, in a stable order: provider, then Terraform type.
pub fn selected(catalog: &Catalog, provider: Option<Provider>) -> Vec<&Entry> {
    let mut entries: Vec<&Entry> = catalog
        .entries()
        .iter()
        .map(AsRef::as_ref)
        .filter(|e| provider.is_none_or(|p| e.provider == p.name()))
        .collect();
    entries.sort_by(|a, b| (&a.provider, &a.terraform).cmp(&(&b.provider, &b.terraform)));
    entries
}

/// The catalog's spelling of a key kind.
fn kind_name(k: KeyKind) -> &'static str {
    match k {
        KeyKind::Arn => "arn",
        KeyKind::Id => "id",
        KeyKind::Name => "name",
        KeyKind::UniqueId => "unique_id",
        KeyKind::Asset => "asset",
        KeyKind::Arm => "arm",
    }
}

/// `arn`, `id=key_id`, `asset=//compute.googleapis.com/{id}`: as the catalog spells them.
fn key_text(e: &Entry) -> Vec<String> {
    e.keys
        .iter()
        .map(|k| {
            let kind = kind_name(k.kind);
            match &k.source {
                KeySource::Attr(a) if a == kind => kind.to_owned(),
                KeySource::Attr(a) | KeySource::Template(a) => format!("{kind}={a}"),
            }
        })
        .collect()
}

fn compare_text(e: &Entry) -> Vec<String> {
    e.compare
        .iter()
        .map(|c| match &c.normalizer {
            Some(n) => format!("{}:{n}", c.attr),
            None => c.attr.clone(),
        })
        .collect()
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

/// One section per provider: a header line, the column titles, one line per type.
pub fn render_table(entries: &[&Entry]) -> String {
    const TITLES: [&str; 6] = ["TERRAFORM TYPE", "CLOUD TYPE", "REGIONAL", "TAGGED", "KEYS", "COMPARED"];
    let mut out = String::new();
    let mut providers: Vec<&str> = entries.iter().map(|e| e.provider.as_str()).collect();
    providers.dedup();
    for (i, provider) in providers.iter().enumerate() {
        let rows: Vec<[String; 6]> = entries
            .iter()
            .filter(|e| e.provider == *provider)
            .map(|e| {
                let compare = compare_text(e);
                [
                    e.terraform.clone(),
                    e.cloud_type.to_string(),
                    yes_no(e.regional).to_owned(),
                    yes_no(e.tagged).to_owned(),
                    key_text(e).join(", "),
                    if compare.is_empty() { "-".to_owned() } else { compare.join(", ") },
                ]
            })
            .collect();
        let tags_attr = entries.iter().find(|e| e.provider == *provider).map_or("", |e| e.tags_attr.as_str());
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!(
            "{provider}: {} resource types; tags compared through `{tags_attr}` wherever the state records it\n",
            rows.len()
        ));
        let mut widths = TITLES.map(str::len);
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[&str]| {
            let mut s = String::new();
            for (j, cell) in cells.iter().enumerate() {
                if j + 1 == cells.len() {
                    s.push_str(cell);
                } else {
                    s.push_str(&format!("{cell:<width$}  ", width = widths[j]));
                }
            }
            s.truncate(s.trim_end().len());
            s.push('\n');
            s
        };
        out.push_str(&line(&TITLES));
        for row in &rows {
            out.push_str(&line(&row.each_ref().map(String::as_str)));
        }
    }
    if entries.is_empty() {
        out.push_str("no resource types\n");
    }
    out
}

/// The tool catalog as a table: name, kind, clouds, what it is, and what to know.
pub fn render_tools_table(tools: &crate::tools::ToolCatalog) -> String {
    let rows: Vec<[String; 4]> = tools
        .tools
        .iter()
        .map(|t| {
            let clouds: Vec<&str> = t.clouds.iter().map(|c| c.as_str()).collect();
            let mut what = t.title.clone();
            if let Some(n) = &t.note {
                what.push_str(" — ");
                what.push_str(n);
            }
            [t.name.to_owned(), t.kind.as_str().to_owned(), clouds.join(","), what]
        })
        .collect();
    let titles = ["TOOL", "KIND", "CLOUDS", "WHAT"];
    let mut widths = titles.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = format!(
        "{} tools recognised in audit logs (user agents; Azure app ids). Console tools are always manual intervention; an unknown user agent is an unknown tool, never a pass.\n",
        rows.len()
    );
    let line = |cells: [&str; 4]| {
        format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        )
    };
    out.push_str(&line(titles));
    for r in &rows {
        out.push_str(&line([&r[0], &r[1], &r[2], &r[3]]));
    }
    out
}

/// The tool catalog as a JSON array.
pub fn render_tools_json(tools: &crate::tools::ToolCatalog) -> String {
    let all: Vec<Value> = tools
        .tools
        .iter()
        .map(|t| {
            json!({
                "name": t.name,
                "title": t.title,
                "kind": t.kind.as_str(),
                "clouds": t.clouds.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
                "rank": t.rank,
                "match": t.patterns.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                "app_ids": t.app_ids,
                "note": t.note,
            })
        })
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

/// A JSON array, one object per type, in the table's order.
pub fn render_json(entries: &[&Entry]) -> String {
    let all: Vec<Value> = entries
        .iter()
        .map(|e| {
            json!({
                "provider": e.provider,
                "terraform_type": e.terraform,
                "cloud": e.cloud.as_str(),
                "cloud_type": &*e.cloud_type,
                "keys": e.keys.iter().map(|k| {
                    let (from, template) = match &k.source {
                        KeySource::Attr(a) => (a.as_str(), false),
                        KeySource::Template(t) => (t.as_str(), true),
                    };
                    json!({"kind": kind_name(k.kind), "from": from, "template": template})
                }).collect::<Vec<_>>(),
                "arn_template": e.arn,
                "compare": e.compare.iter().map(|c| json!({"attribute": c.attr, "normalizer": c.normalizer})).collect::<Vec<_>>(),
                "tags_attribute": e.tags_attr,
                "regional": e.regional,
                "tagged": e.tagged,
                "note": e.note,
            })
        })
        .collect();
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}
