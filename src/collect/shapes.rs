//! The output shapes of the calls `driftlock collect aws` makes, and the conversion of their
//! responses into exactly the JSON the `aws` CLI (v1) prints: members in the model's order,
//! timestamps as the wire text (XML) or number (JSON), pages merged as botocore's paginator
//! does (the result key's lists joined, `non_aggregate_keys` from the first page, tokens
//! dropped), indented by four spaces.
//!
//! `aws_shapes.json` is written by `xtask/scripts/aws_shapes.py` from the installed botocore's
//! service models (what the aws CLI itself parses with).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub(crate) struct Models {
    pub(crate) services: BTreeMap<String, Service>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Service {
    pub(crate) protocol: String,
    pub(crate) api_version: String,
    pub(crate) target_prefix: Option<String>,
    pub(crate) json_version: Option<String>,
    pub(crate) signing_name: String,
    pub(crate) operations: BTreeMap<String, Operation>,
    pub(crate) shapes: BTreeMap<String, Shape>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Operation {
    pub(crate) output: Option<String>,
    pub(crate) result_wrapper: Option<String>,
    pub(crate) paginator: Option<Paginator>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Paginator {
    pub(crate) input_token: String,
    pub(crate) output_token: String,
    pub(crate) result_key: String,
    pub(crate) limit_key: Option<String>,
    pub(crate) more_results: Option<String>,
    #[serde(default)]
    pub(crate) non_aggregate_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Shape {
    #[serde(rename = "type")]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) members: Vec<Member>,
    pub(crate) member: Option<String>,
    pub(crate) item: Option<String>,
    #[serde(default)]
    pub(crate) flattened: bool,
    pub(crate) key: Option<String>,
    pub(crate) value: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Member {
    pub(crate) name: String,
    pub(crate) shape: String,
    pub(crate) wire: Option<String>,
}

pub(crate) fn models() -> &'static Models {
    static M: OnceLock<Models> = OnceLock::new();
    M.get_or_init(|| {
        serde_json::from_str(include_str!("aws_shapes.json")).unwrap_or(Models { services: BTreeMap::new() })
    })
}

/// A JSON value that keeps its members in order (the CLI prints them in the model's order).
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Null,
    Bool(bool),
    /// A number as it is printed.
    Num(String),
    Str(String),
    List(Vec<Out>),
    Obj(Vec<(String, Out)>),
}

impl Out {
    pub fn get(&self, key: &str) -> Option<&Out> {
        match self {
            Out::Obj(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Out::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_list(&self) -> &[Out] {
        match self {
            Out::List(l) => l,
            _ => &[],
        }
    }

    fn take(&mut self, key: &str) -> Option<Out> {
        match self {
            Out::Obj(m) => m.iter().position(|(k, _)| k == key).map(|i| m.remove(i).1),
            _ => None,
        }
    }

    /// Python's `json.dumps(v, indent=4, ensure_ascii=False)`, as the aws CLI prints, with the
    /// trailing newline.
    pub fn pretty(&self) -> String {
        let mut s = String::new();
        self.write(&mut s, 0);
        s.push('\n');
        s
    }

    fn write(&self, s: &mut String, depth: usize) {
        let pad = |s: &mut String, d: usize| s.extend(std::iter::repeat_n(' ', d * 4));
        match self {
            Out::Null => s.push_str("null"),
            Out::Bool(b) => s.push_str(if *b { "true" } else { "false" }),
            Out::Num(n) => s.push_str(n),
            Out::Str(t) => s.push_str(&serde_json::to_string(t).unwrap_or_default()),
            Out::List(l) if l.is_empty() => s.push_str("[]"),
            Out::Obj(m) if m.is_empty() => s.push_str("{}"),
            Out::List(l) => {
                s.push_str("[\n");
                for (i, v) in l.iter().enumerate() {
                    pad(s, depth + 1);
                    v.write(s, depth + 1);
                    s.push_str(if i + 1 < l.len() { ",\n" } else { "\n" });
                }
                pad(s, depth);
                s.push(']');
            }
            Out::Obj(m) => {
                s.push_str("{\n");
                for (i, (k, v)) in m.iter().enumerate() {
                    pad(s, depth + 1);
                    let _ = write!(s, "{}: ", serde_json::to_string(k).unwrap_or_default());
                    v.write(s, depth + 1);
                    s.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
                }
                pad(s, depth);
                s.push('}');
            }
        }
    }
}

/// Why a response could not be read.
pub(crate) type ParseError = String;

/// Parses one response body of `service`'s `op` into the CLI's output (one page).
pub(crate) fn parse_response(service: &str, op: &str, body: &str) -> Result<Out, ParseError> {
    let svc = models().services.get(service).ok_or_else(|| format!("no model for {service}"))?;
    let o = svc.operations.get(op).ok_or_else(|| format!("no model for {service}:{op}"))?;
    let Some(shape) = &o.output else { return Ok(Out::Obj(Vec::new())) };
    match svc.protocol.as_str() {
        "json" => {
            let v: Out = if body.trim().is_empty() {
                Out::Obj(Vec::new())
            } else {
                serde_json::from_str(body).map_err(|e| format!("the response is not JSON: {e}"))?
            };
            Ok(from_json(svc, shape, &v))
        }
        _ => {
            let doc = roxmltree::Document::parse(body).map_err(|e| format!("the response is not XML: {e}"))?;
            let mut node = doc.root_element();
            if let Some(w) = &o.result_wrapper {
                node = node
                    .children()
                    .find(|c| c.is_element() && c.tag_name().name() == w)
                    .ok_or_else(|| format!("the response has no <{w}>"))?;
            }
            Ok(from_xml(svc, shape, &[node]))
        }
    }
}

/// Joins the pages of a paginated call as `build_full_result` does; other calls' single page
/// is returned as it is.
pub(crate) fn merge_pages(pag: Option<&Paginator>, mut pages: Vec<Out>) -> Out {
    let Some(p) = pag else {
        return pages.into_iter().next().unwrap_or(Out::Obj(Vec::new()));
    };
    let mut result: Option<Vec<Out>> = None;
    for page in &mut pages {
        if let Some(Out::List(items)) = page.take(&p.result_key) {
            result.get_or_insert_with(Vec::new).extend(items);
        }
    }
    let mut out = Vec::new();
    if let Some(items) = result {
        out.push((p.result_key.clone(), Out::List(items)));
    }
    for k in &p.non_aggregate_keys {
        let v = pages.first_mut().and_then(|f| f.take(k)).unwrap_or(Out::Null);
        out.push((k.clone(), v));
    }
    Out::Obj(out)
}

fn from_json(svc: &Service, shape_name: &str, v: &Out) -> Out {
    let Some(shape) = svc.shapes.get(shape_name) else { return v.clone() };
    match (shape.kind.as_str(), v) {
        (_, Out::Null) => Out::Null,
        ("structure", Out::Obj(o)) => Out::Obj(
            shape
                .members
                .iter()
                .filter_map(|m| {
                    let wire = m.wire.as_deref().unwrap_or(&m.name);
                    // botocore drops members that are `null` on the wire.
                    o.iter()
                        .find(|(k, _)| k == wire)
                        .map(|(_, x)| x)
                        .filter(|x| **x != Out::Null)
                        .map(|x| (m.name.clone(), from_json(svc, &m.shape, x)))
                })
                .collect(),
        ),
        ("list", Out::List(a)) => {
            let member = shape.member.as_deref().unwrap_or("");
            Out::List(a.iter().map(|x| from_json(svc, member, x)).collect())
        }
        ("map", Out::Obj(o)) => {
            let value = shape.value.as_deref().unwrap_or("");
            Out::Obj(o.iter().map(|(k, x)| (k.clone(), from_json(svc, value, x))).collect())
        }
        _ => v.clone(),
    }
}

/// JSON read in document order, numbers as Python prints them once parsed.
impl<'de> Deserialize<'de> for Out {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Out;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Out, E> {
                Ok(Out::Null)
            }
            fn visit_none<E>(self) -> Result<Out, E> {
                Ok(Out::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<Out, E> {
                Ok(Out::Bool(b))
            }
            fn visit_i64<E>(self, n: i64) -> Result<Out, E> {
                Ok(Out::Num(n.to_string()))
            }
            fn visit_u64<E>(self, n: u64) -> Result<Out, E> {
                Ok(Out::Num(n.to_string()))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Out, E> {
                Ok(Out::Num(serde_json::Number::from_f64(f).map_or_else(|| "NaN".to_owned(), |n| python_number(&n))))
            }
            fn visit_str<E>(self, s: &str) -> Result<Out, E> {
                Ok(Out::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<Out, E> {
                Ok(Out::Str(s))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<Out, A::Error> {
                let mut out = Vec::new();
                while let Some(x) = a.next_element()? {
                    out.push(x);
                }
                Ok(Out::List(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Out, A::Error> {
                // A key given twice keeps its first place and its last value, as a Python dict.
                let mut out: Vec<(String, Out)> = Vec::new();
                while let Some((k, v)) = m.next_entry::<String, Out>()? {
                    match out.iter_mut().find(|(x, _)| *x == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
                Ok(Out::Obj(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// botocore decodes IAM's policy documents (URL-encoded JSON on the wire) before printing.
fn policy_document(text: &str) -> Option<Out> {
    let bytes = text.as_bytes();
    let mut raw = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            raw.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            raw.push(bytes[i]);
            i += 1;
        }
    }
    serde_json::from_slice::<Out>(&raw).ok()
}

/// Python's `repr` of a parsed JSON number: integers as they are, floats shortest round-trip
/// with a `.0` or an `e+NN` exponent as Python writes them.
fn python_number(n: &serde_json::Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.is_finite() && f.abs() >= 1e16 || (f != 0.0 && f.abs() < 1e-4) {
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        return format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// botocore's XML parsing: `nodes` are the elements bound to this shape (one, or several for a
/// repeated element).
fn from_xml(svc: &Service, shape_name: &str, nodes: &[roxmltree::Node<'_, '_>]) -> Out {
    let Some(node) = nodes.first() else { return Out::Null };
    let Some(shape) = svc.shapes.get(shape_name) else { return Out::Str(text(node)) };
    match shape.kind.as_str() {
        "structure" => {
            let mut by_name: Vec<(&str, Vec<roxmltree::Node<'_, '_>>)> = Vec::new();
            for c in node.children().filter(roxmltree::Node::is_element) {
                let tag = c.tag_name().name();
                match by_name.iter_mut().find(|(t, _)| *t == tag) {
                    Some((_, v)) => v.push(c),
                    None => by_name.push((tag, vec![c])),
                }
            }
            let mut out = Vec::new();
            for m in &shape.members {
                let ms = svc.shapes.get(&m.shape);
                let flat = ms.filter(|s| s.kind == "list" && s.flattened);
                let wire = flat.and_then(|s| s.item.as_deref()).or(m.wire.as_deref()).unwrap_or(&m.name);
                if let Some((_, found)) = by_name.iter().find(|(t, _)| *t == wire) {
                    let v = if flat.is_some() {
                        let member = flat.and_then(|s| s.member.as_deref()).unwrap_or("");
                        Out::List(found.iter().map(|n| from_xml(svc, member, std::slice::from_ref(n))).collect())
                    } else {
                        from_xml(svc, &m.shape, found)
                    };
                    out.push((m.name.clone(), v));
                }
            }
            Out::Obj(out)
        }
        "list" => {
            let member = shape.member.as_deref().unwrap_or("");
            Out::List(
                node.children()
                    .filter(roxmltree::Node::is_element)
                    .map(|c| from_xml(svc, member, std::slice::from_ref(&c)))
                    .collect(),
            )
        }
        "map" => {
            let (k, v) = (shape.key.as_deref().unwrap_or(""), shape.value.as_deref().unwrap_or(""));
            let mut out = Vec::new();
            for entry in node.children().filter(roxmltree::Node::is_element) {
                let child = |name: &str| {
                    entry.children().find(|c| c.is_element() && c.tag_name().name().eq_ignore_ascii_case(name))
                };
                if let (Some(kn), Some(vn)) = (child("key"), child("value")) {
                    let key = match from_xml(svc, k, &[kn]) {
                        Out::Str(s) => s,
                        other => other.pretty().trim().to_owned(),
                    };
                    out.push((key, from_xml(svc, v, &[vn])));
                }
            }
            Out::Obj(out)
        }
        "boolean" => Out::Bool(text(node) == "true"),
        "integer" | "long" => {
            let t = text(node);
            match t.trim().parse::<i64>() {
                Ok(n) => Out::Num(n.to_string()),
                Err(_) => Out::Str(t),
            }
        }
        "float" | "double" => {
            let t = text(node);
            match t.trim().parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                Some(n) => Out::Num(python_number(&n)),
                None => Out::Str(t),
            }
        }
        "string" if shape_name == "policyDocumentType" => {
            let t = text(node);
            policy_document(&t).unwrap_or(Out::Str(t))
        }
        // Timestamps stay as the wire text: the aws CLI (v1) prints them so.
        _ => Out::Str(text(node)),
    }
}

fn text(node: &roxmltree::Node<'_, '_>) -> String {
    node.text().unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec2_xml_becomes_the_cli_json() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>r</requestId>
  <vpcSet>
    <item><vpcId>vpc-1</vpcId><cidrBlock>10.0.0.0/16</cidrBlock><isDefault>true</isDefault>
      <tagSet><item><key>Name</key><value>a</value></item></tagSet></item>
  </vpcSet>
  <nextToken>t</nextToken>
</DescribeVpcsResponse>"#;
        let page = parse_response("ec2", "DescribeVpcs", body).unwrap();
        assert_eq!(page.get("NextToken").and_then(Out::as_str), Some("t"));
        let pag = models().services["ec2"].operations["DescribeVpcs"].paginator.clone();
        let out = merge_pages(pag.as_ref(), vec![page.clone(), page]);
        let v: serde_json::Value = serde_json::from_str(&out.pretty()).unwrap();
        assert_eq!(v["Vpcs"].as_array().map(Vec::len), Some(2));
        assert_eq!(v["Vpcs"][0]["Tags"][0]["Key"], "Name");
        assert_eq!(v["Vpcs"][0]["IsDefault"], true);
        assert!(v.get("NextToken").is_none());
        // Members in the model's order, four-space indentation.
        let text = out.pretty();
        assert!(text.starts_with("{\n    \"Vpcs\": [\n        {\n            \""), "{text}");
        let wanted = ["VpcId", "CidrBlock", "IsDefault", "Tags"];
        let order: Vec<usize> = models().services["ec2"].shapes["Vpc"]
            .members
            .iter()
            .filter(|m| wanted.contains(&m.name.as_str()))
            .map(|m| text.find(&format!("\"{}\"", m.name)).unwrap())
            .collect();
        assert_eq!(order.len(), 4);
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{text}");
    }

    #[test]
    fn query_result_wrapper_and_s3_non_aggregate_keys() {
        let body = "<ListRolesResponse><ListRolesResult><IsTruncated>false</IsTruncated><Roles><member><RoleName>r</RoleName><Arn>arn:aws:iam::1:role/r</Arn></member></Roles></ListRolesResult></ListRolesResponse>";
        let page = parse_response("iam", "ListRoles", body).unwrap();
        let pag = models().services["iam"].operations["ListRoles"].paginator.clone();
        assert_eq!(
            merge_pages(pag.as_ref(), vec![page]).pretty(),
            "{\n    \"Roles\": [\n        {\n            \"RoleName\": \"r\",\n            \"Arn\": \"arn:aws:iam::1:role/r\"\n        }\n    ]\n}\n"
        );
        let body = "<ListAllMyBucketsResult><Buckets></Buckets><Owner><ID>x</ID></Owner></ListAllMyBucketsResult>";
        let page = parse_response("s3", "ListBuckets", body).unwrap();
        let pag = models().services["s3"].operations["ListBuckets"].paginator.clone();
        assert_eq!(
            merge_pages(pag.as_ref(), vec![page]).pretty(),
            "{\n    \"Buckets\": [],\n    \"Owner\": {\n        \"ID\": \"x\"\n    },\n    \"Prefix\": null\n}\n"
        );
    }

    #[test]
    fn json_protocol_keeps_model_order_and_python_numbers() {
        let body = r#"{"resourceIdentifiers":[{"resourceName":"b","resourceId":"b","resourceType":"AWS::S3::Bucket"}],"nextToken":"n"}"#;
        let page = parse_response("config", "ListDiscoveredResources", body).unwrap();
        let text = page.pretty();
        assert!(text.find("\"resourceType\"").unwrap() < text.find("\"resourceId\"").unwrap(), "{text}");
        let n = |s: &str| python_number(&serde_json::from_str(s).unwrap());
        assert_eq!(
            (n("1732442400.123"), n("5"), n("1.0"), n("1e20")),
            ("1732442400.123".into(), "5".into(), "1.0".into(), "1e+20".into())
        );
    }
}
