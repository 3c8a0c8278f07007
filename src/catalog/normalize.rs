//! Normalizers: attributes whose cloud form differs from Terraform's are brought to one form on
//! both sides before they are compared (`compare = ["ingress:sg_rules"]` in the catalog).
//!
//! Every normalizer is idempotent and is applied to both sides, so a value already in the
//! common form passes through unchanged:
//!
//! | name | for | common form |
//! |---|---|---|
//! | `sg_rules` | security group `ingress`/`egress` blocks vs `IpPermissions` | sorted `PROTO FROM-TO SOURCE` strings |
//! | `json` | policy documents, event patterns, state machine definitions | parsed JSON, IAM's one-element lists as scalars |
//! | `set` | unordered lists (`subnet_ids`, `aliases`) | sorted, without duplicates |
//! | `number` | numbers the API returns as strings (SQS attributes) | a JSON number |
//! | `bool` | booleans the API returns as strings (`"true"`) | a JSON boolean |
//! | `dns_name` | Route 53 names (`Example.com.`, `\052.example.com`) | lower case, no final dot, `*` unescaped |
//! | `arn_id` | an id Terraform keeps bare where the API gives an ARN (`target_key_id`) | the ARN's last `/` part |

use serde_json::{Map, Value};

/// Applies the named normalizer; unknown names leave the value as it is (the catalog test
/// rejects them).
pub fn apply(name: &str, v: &Value, ctx: &NormalizeCtx<'_>) -> Value {
    match name {
        "sg_rules" => sg_rules(v, ctx),
        "json" => json_doc(v),
        "set" => set(v),
        "number" => number(v),
        "bool" => boolean(v),
        "dns_name" => each_string(v, dns_name),
        "arn_id" => each_string(v, arn_id),
        _ => v.clone(),
    }
}

/// The normalizers that exist.
pub const NAMES: &[&str] = &["sg_rules", "json", "set", "number", "bool", "dns_name", "arn_id"];

/// What a normalizer may need to know about the resource.
#[derive(Debug, Default, Clone, Copy)]
pub struct NormalizeCtx<'a> {
    /// The resource's own id (a security group's `sg-…`, for self references).
    pub self_id: Option<&'a str>,
}

fn s(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(x)) => x.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn protocol(p: &str) -> String {
    match p.to_ascii_lowercase().as_str() {
        "-1" | "all" => "all".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        "58" => "icmpv6".into(),
        other => other.into(),
    }
}

/// Security group rules, from Terraform's `ingress`/`egress` blocks or the EC2 API's
/// `IpPermissions` (also Config's camelCase `ipPermissions`), as a sorted list of
/// `PROTOCOL FROM-TO SOURCE` strings, one per source.
pub fn sg_rules(v: &Value, ctx: &NormalizeCtx<'_>) -> Value {
    let mut out: Vec<String> = Vec::new();
    let Some(rules) = v.as_array() else { return Value::Array(Vec::new()) };
    for r in rules {
        // Already normalized (idempotent): keep the rule strings.
        if let Value::String(done) = r {
            out.push(done.clone());
            continue;
        }
        let Some(o) = r.as_object() else { continue };
        let get = |names: &[&str]| names.iter().find_map(|n| o.get(*n));
        let proto = protocol(&s(get(&["protocol", "IpProtocol", "ipProtocol"])));
        let (from, to) = if proto == "all" {
            ("0".to_owned(), "0".to_owned())
        } else {
            (s(get(&["from_port", "FromPort", "fromPort"])), s(get(&["to_port", "ToPort", "toPort"])))
        };
        let head = format!("{proto} {from}-{to}");
        let mut sources: Vec<String> = Vec::new();
        let strings = |v: Option<&Value>, field: &[&str]| -> Vec<String> {
            v.and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| match x {
                            Value::String(s) => Some(s.clone()),
                            Value::Object(m) => {
                                field.iter().find_map(|f| m.get(*f)).and_then(Value::as_str).map(str::to_owned)
                            }
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        sources.extend(strings(get(&["cidr_blocks", "IpRanges", "ipv4Ranges", "ipRanges"]), &["CidrIp", "cidrIp"]));
        sources.extend(strings(get(&["ipv6_cidr_blocks", "Ipv6Ranges", "ipv6Ranges"]), &["CidrIpv6", "cidrIpv6"]));
        sources.extend(
            strings(get(&["prefix_list_ids", "PrefixListIds", "prefixListIds"]), &["PrefixListId", "prefixListId"])
                .into_iter()
                .map(|p| format!("pl:{p}")),
        );
        for g in strings(get(&["security_groups", "UserIdGroupPairs", "userIdGroupPairs"]), &["GroupId", "groupId"]) {
            let g = g.rsplit('/').next().unwrap_or(&g).to_owned();
            sources.push(if Some(g.as_str()) == ctx.self_id { "self".to_owned() } else { format!("sg:{g}") });
        }
        if o.get("self").and_then(Value::as_bool) == Some(true) {
            sources.push("self".to_owned());
        }
        for src in sources {
            out.push(format!("{head} {src}"));
        }
    }
    out.sort();
    out.dedup();
    Value::Array(out.into_iter().map(Value::String).collect())
}

/// A JSON document (IAM policies): parsed when given as a (possibly URL-encoded) string, and
/// canonicalized the way IAM compares them (single values and one-element lists alike).
pub fn json_doc(v: &Value) -> Value {
    let parsed = match v {
        Value::String(text) => {
            let decoded = if text.starts_with('%') { percent_decode(text) } else { text.clone() };
            serde_json::from_str::<Value>(&decoded).unwrap_or_else(|_| v.clone())
        }
        other => other.clone(),
    };
    canonical(&parsed)
}

fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), canonical(x))).collect::<Map<_, _>>()),
        Value::Array(a) if a.len() == 1 => canonical(&a[0]),
        Value::Array(a) => {
            let mut items: Vec<Value> = a.iter().map(canonical).collect();
            items.sort_by_key(|x| x.to_string());
            Value::Array(items)
        }
        other => other.clone(),
    }
}

/// An unordered list: sorted (by JSON text) and without duplicates. A single value is a list of
/// one; null is the empty list.
pub fn set(v: &Value) -> Value {
    let mut items: Vec<Value> = match v {
        Value::Array(a) => a.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    };
    items.sort_by_cached_key(Value::to_string);
    items.dedup();
    Value::Array(items)
}

/// A number given as a string (`"30"`, `"0.5"`) as a number; anything else unchanged.
pub fn number(v: &Value) -> Value {
    let Value::String(s) = v else { return v.clone() };
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(n) => Value::Number(n),
        None => v.clone(),
    }
}

/// `"true"`/`"false"` (any case) as booleans; anything else unchanged.
pub fn boolean(v: &Value) -> Value {
    match v {
        Value::String(s) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        other => other.clone(),
    }
}

/// Applies `f` to a string, or to every string of a list.
fn each_string(v: &Value, f: fn(&str) -> String) -> Value {
    match v {
        Value::String(s) => Value::String(f(s)),
        Value::Array(a) => Value::Array(a.iter().map(|x| each_string(x, f)).collect()),
        other => other.clone(),
    }
}

/// A DNS name as Route 53 compares it: case-insensitive, with or without the final dot, and
/// with the API's octal escapes (`\052` for `*`) decoded.
pub fn dns_name(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            let code = u32::from(b[i + 1] - b'0') * 64 + u32::from(b[i + 2] - b'0') * 8 + u32::from(b[i + 3] - b'0');
            if let Ok(c) = u8::try_from(code) {
                out.push(c);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
    match text.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => text,
    }
}

/// The id an ARN ends with (`arn:aws:kms:r:a:key/K` → `K`, `…:task-definition/f:3` → `f:3`);
/// anything that is not an ARN unchanged.
pub fn arn_id(s: &str) -> String {
    match crate::catalog::arn::Arn::parse(s) {
        Some(a) => a.resource.rsplit('/').next().unwrap_or(a.resource).to_owned(),
        None => s.to_owned(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn terraform_and_api_rules_agree() {
        let tf = json!([{"from_port":443,"to_port":443,"protocol":"tcp","cidr_blocks":["0.0.0.0/0"],"self":false,"description":"https"},
                        {"from_port":0,"to_port":0,"protocol":"-1","security_groups":[],"self":true}]);
        let api = json!([{"IpProtocol":"tcp","FromPort":443,"ToPort":443,"IpRanges":[{"CidrIp":"0.0.0.0/0","Description":"https"}],"UserIdGroupPairs":[]},
                         {"IpProtocol":"-1","UserIdGroupPairs":[{"GroupId":"sg-1","UserId":"1"}],"IpRanges":[]}]);
        let ctx = NormalizeCtx { self_id: Some("sg-1") };
        assert_eq!(sg_rules(&tf, &ctx), sg_rules(&api, &ctx));
        assert_eq!(sg_rules(&api, &ctx), json!(["all 0-0 self", "tcp 443-443 0.0.0.0/0"]));
    }

    #[test]
    fn policy_documents_compare_by_meaning() {
        let a = json!(
            "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"sts:AssumeRole\",\"Principal\":{\"Service\":\"ec2.amazonaws.com\"}}]}"
        );
        let b = json!({"Statement":{"Principal":{"Service":["ec2.amazonaws.com"]},"Action":["sts:AssumeRole"],"Effect":"Allow"},"Version":"2012-10-17"});
        let c = json!(
            "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22sts%3AAssumeRole%22%2C%22Principal%22%3A%7B%22Service%22%3A%22ec2.amazonaws.com%22%7D%7D%5D%7D"
        );
        assert_eq!(json_doc(&a), json_doc(&b));
        assert_eq!(json_doc(&a), json_doc(&c));
    }

    #[test]
    fn sets_ignore_order_and_repeats() {
        assert_eq!(set(&json!(["subnet-b", "subnet-a", "subnet-b"])), json!(["subnet-a", "subnet-b"]));
        assert_eq!(set(&json!("x")), json!(["x"]));
        assert_eq!(set(&Value::Null), json!([]));
        let once = set(&json!([3, 1, 2]));
        assert_eq!(set(&once), once);
    }

    #[test]
    fn numbers_and_booleans_given_as_strings() {
        assert_eq!(number(&json!("30")), json!(30));
        assert_eq!(number(&json!(" 0.5 ")), json!(0.5));
        assert_eq!(number(&json!(30)), json!(30));
        assert_eq!(number(&json!("thirty")), json!("thirty"));
        assert_eq!(boolean(&json!("TRUE")), json!(true));
        assert_eq!(boolean(&json!("false")), json!(false));
        assert_eq!(boolean(&json!(true)), json!(true));
        assert_eq!(boolean(&json!("yes")), json!("yes"));
    }

    #[test]
    fn dns_names_compare_as_route53_does() {
        assert_eq!(dns_name("Example.COM."), "example.com");
        assert_eq!(dns_name("example.com"), "example.com");
        assert_eq!(dns_name("\\052.example.com."), "*.example.com");
        assert_eq!(dns_name("."), ".");
        assert_eq!(dns_name("a\\05"), "a\\05");
        let ctx = NormalizeCtx::default();
        assert_eq!(apply("dns_name", &json!(["A.example.", "b"]), &ctx), json!(["a.example", "b"]));
        assert_eq!(apply("dns_name", &json!("X."), &ctx), json!("x"));
    }

    #[test]
    fn arn_ids_are_the_last_part() {
        assert_eq!(arn_id("arn:aws:kms:us-east-1:1:key/1234-abcd"), "1234-abcd");
        assert_eq!(arn_id("1234-abcd"), "1234-abcd");
        assert_eq!(arn_id("arn:aws:ecs:us-east-1:1:task-definition/web:3"), "web:3");
        assert_eq!(arn_id("arn:aws:sns:us-east-1:1:topic"), "topic");
        let ctx = NormalizeCtx::default();
        assert_eq!(apply("arn_id", &json!(42), &ctx), json!(42));
    }

    #[test]
    fn every_normalizer_is_idempotent() {
        // Normalizers run on both sides, and on values a reader may already have normalized.
        let ctx = NormalizeCtx { self_id: Some("sg-1") };
        let samples = [
            json!("30"),
            json!(["b", "a", "b"]),
            json!("Example.com."),
            json!("arn:aws:kms:us-east-1:1:key/k"),
            json!({"Version": "2012-10-17", "Statement": [{"Action": ["s3:GetObject"]}]}),
            json!([{"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]),
            json!("%7B%7D"),
            json!(true),
            Value::Null,
        ];
        for name in NAMES {
            for v in &samples {
                let once = apply(name, v, &ctx);
                assert_eq!(apply(name, &once, &ctx), once, "{name} on {v}");
            }
        }
        assert_eq!(apply("no-such-normalizer", &samples[0], &ctx), samples[0]);
    }
}
