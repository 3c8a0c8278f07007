//! Attribute comparison with Terraform's semantics of "no change", and readable diffs.
//!
//! `null`, `{}`, `[]` and an absent key mean the same thing in Terraform's JSON (a refresh
//! turns `tags: null` into `{}` on every AWS resource); object member order never matters.
//! Differences of that kind are not changes, so they are never called manual intervention.

use serde_json::Value;

/// True when `v` is null or an empty object or array.
pub fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Equality under Terraform's empty-value semantics.
pub fn semantically_equal(a: &Value, b: &Value) -> bool {
    if is_empty(a) && is_empty(b) {
        return true;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let null = Value::Null;
            x.iter().all(|(k, v)| semantically_equal(v, y.get(k).unwrap_or(&null)))
                && y.iter().all(|(k, v)| x.contains_key(k) || is_empty(v))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| semantically_equal(p, q))
        }
        _ => a == b,
    }
}

/// Top-level attribute names whose values differ semantically, sorted.
pub fn changed_attributes(before: &Value, after: &Value) -> Vec<String> {
    let null = Value::Null;
    let empty = serde_json::Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = b.keys().chain(a.keys()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .filter(|k| !semantically_equal(b.get(*k).unwrap_or(&null), a.get(*k).unwrap_or(&null)))
        .cloned()
        .collect()
}

const MASKED: &str = "(sensitive value)";

/// `v` with every leaf the mask marks sensitive replaced by `(sensitive value)`.
fn apply_mask(v: &Value, mask: &Value) -> Value {
    match (v, mask) {
        (Value::Null, _) => Value::Null,
        (_, Value::Bool(true)) => Value::String(MASKED.to_owned()),
        (Value::Object(o), Value::Object(m)) => {
            Value::Object(o.iter().map(|(k, x)| (k.clone(), apply_mask(x, m.get(k).unwrap_or(&Value::Null)))).collect())
        }
        (Value::Array(a), Value::Array(m)) => {
            Value::Array(a.iter().enumerate().map(|(i, x)| apply_mask(x, m.get(i).unwrap_or(&Value::Null))).collect())
        }
        _ => v.clone(),
    }
}

/// Flattens `v` into sorted `path = value` lines, skipping empty values. Objects nest with
/// dots; a list of one scalar is one line; longer lists and lists of objects are one line per element
/// (`path[] = {…}`), sorted, because Terraform's JSON writes sets as lists in hash order and
/// an index-by-index diff of a set says nothing true.
fn flatten(path: &str, v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                let p = if is_ident(k) {
                    format!("{path}.{k}")
                } else {
                    format!("{path}[{}]", serde_json::to_string(k).unwrap_or_default())
                };
                flatten(&p, x, out);
            }
        }
        Value::Array(a) if a.is_empty() => {}
        Value::Array(a) if a.len() > 1 || a.iter().any(|x| x.is_object() || x.is_array()) => {
            let mut items: Vec<String> = a.iter().map(|x| format!("{path}[] = {}", compact(x))).collect();
            items.sort();
            out.extend(items);
        }
        Value::Null => {}
        other => out.push(format!("{path} = {}", compact(other))),
    }
}

/// One line in Terraform's own notation, empty members dropped (`{a = null}` and `{}` print
/// alike), with spaces so long lines wrap between members.
fn compact(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let members: Vec<String> =
                o.iter().filter(|(_, x)| !is_empty(x)).map(|(k, x)| format!("{k} = {}", compact(x))).collect();
            format!("{{{}}}", members.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(compact).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

fn is_ident(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A line diff of the attributes that changed, with sensitive values masked. `None` when
/// nothing changed in meaning.
pub fn attribute_diff(before: &Value, after: &Value, before_mask: &Value, after_mask: &Value) -> Option<String> {
    let changed = changed_attributes(before, after);
    if changed.is_empty() {
        return None;
    }
    let mut out = String::new();
    // One diff per attribute, so `tags` and `tags_all` read as two groups.
    for k in &changed {
        let mut old = Vec::new();
        let mut new = Vec::new();
        let b = apply_mask(before.get(k).unwrap_or(&Value::Null), before_mask.get(k).unwrap_or(&Value::Null));
        let a = apply_mask(after.get(k).unwrap_or(&Value::Null), after_mask.get(k).unwrap_or(&Value::Null));
        flatten(k, &b, &mut old);
        flatten(k, &a, &mut new);
        old.sort();
        new.sort();
        let old = old.join("\n") + "\n";
        let new = new.join("\n") + "\n";
        let diff = similar::TextDiff::from_lines(&old, &new);
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => "- ",
                similar::ChangeTag::Insert => "+ ",
                similar::ChangeTag::Equal => continue,
            };
            out.push_str(sign);
            out.push_str(change.value().trim_end_matches('\n'));
            out.push('\n');
        }
    }
    if out.is_empty() {
        // Only masked values changed: say so without showing them.
        out = changed.iter().map(|k| format!("~ {k} = {MASKED}\n")).collect();
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_values_are_equal() {
        assert!(semantically_equal(&json!(null), &json!({})));
        assert!(semantically_equal(&json!([]), &json!(null)));
        assert!(semantically_equal(&json!({"tags": null, "id": "x"}), &json!({"id": "x", "tags": {}})));
        assert!(semantically_equal(&json!({"a": {"b": []}}), &json!({"a": {}})));
        assert!(!semantically_equal(&json!({"tags": {"a": "1"}}), &json!({"tags": {}})));
        assert!(!semantically_equal(&json!(""), &json!(null)));
        assert!(!semantically_equal(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn tags_null_to_empty_is_no_diff() {
        assert_eq!(
            attribute_diff(&json!({"id":"v","tags":null}), &json!({"id":"v","tags":{}}), &json!({}), &json!({})),
            None
        );
    }

    #[test]
    fn diff_shows_only_changed_leaves() {
        let d = attribute_diff(
            &json!({"id":"v","tags":{"Name":"a","keep":"k"}}),
            &json!({"id":"v","tags":{"Name":"b","keep":"k","owner":"alice"}}),
            &json!({}),
            &json!({}),
        )
        .unwrap();
        assert_eq!(d, "- tags.Name = \"a\"\n+ tags.Name = \"b\"\n+ tags.owner = \"alice\"\n");
    }

    #[test]
    fn sets_of_objects_diff_by_element() {
        let d = attribute_diff(
            &json!({"ingress":[{"from_port":443,"cidr_blocks":["0.0.0.0/0"]}]}),
            &json!({"ingress":[{"from_port":22,"cidr_blocks":["0.0.0.0/0"]},{"from_port":443,"cidr_blocks":["0.0.0.0/0"]}]}),
            &json!({}),
            &json!({}),
        )
        .unwrap();
        assert_eq!(d, "+ ingress[] = {cidr_blocks = [\"0.0.0.0/0\"], from_port = 22}\n");
    }

    #[test]
    fn sensitive_values_are_masked() {
        let d = attribute_diff(
            &json!({"value":"old-secret"}),
            &json!({"value":"new-secret"}),
            &json!({"value":true}),
            &json!({"value":true}),
        )
        .unwrap();
        assert!(!d.contains("secret"), "{d}");
        assert!(d.contains("(sensitive value)"));
    }
}
