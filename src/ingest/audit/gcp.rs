//! GCP Cloud Audit Logs: `gcloud logging read --format=json` (an array of log entries) and
//! log-sink exports (one entry per line). Each entry's `protoPayload` is an `AuditLog`:
//! `authenticationInfo.principalEmail`, `requestMetadata.callerSuppliedUserAgent`,
//! `serviceName`, `methodName`, `resourceName`, `status`; the entry's `operation` ties the first
//! and last entries of a long-running operation (judged once, by its first entry).

use std::io::BufRead;

use serde_json::Value;

use super::{AuditFormat, Judge, RecordError, Sink, str_of};
use crate::error::InputError;
use crate::model::{
    Action, AuditEvent, AuditTrail, Cloud, Locator, Operation, Principal, PrincipalType, Seg, touch_key,
};
use crate::source::{ReadFailure, Source, SourceId};

/// Google-managed service agents act by themselves (`service-NUMBER@…`, `…@cloudservices…`,
/// `…@gcp-sa-…`).
fn is_service_agent(email: &str) -> bool {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    (local.starts_with("service-") && local[8..].bytes().all(|b| b.is_ascii_digit()))
        || domain == "cloudservices.gserviceaccount.com"
        || domain.starts_with("gcp-sa-")
        || domain.ends_with("system.iam.gserviceaccount.com")
        || domain == "container-engine-robot.iam.gserviceaccount.com"
}

fn principal(auth: Option<&Value>) -> Principal {
    let email = auth.and_then(|a| str_of(a, "principalEmail")).unwrap_or("");
    let mut p = Principal { id: email.to_owned(), display: email.to_owned(), ..Principal::default() };
    p.kind = Some(if email.is_empty() {
        PrincipalType::Unknown
    } else if email.ends_with(".gserviceaccount.com") {
        if is_service_agent(email) { PrincipalType::GcpServiceAgent } else { PrincipalType::GcpServiceAccount }
    } else {
        PrincipalType::GcpUser
    });
    // A person impersonating a service account: the chain starts with them.
    if let Some(chain) = auth.and_then(|a| a.get("serviceAccountDelegationInfo")).and_then(Value::as_array) {
        for d in chain {
            let first = d.get("firstPartyPrincipal").and_then(|f| str_of(f, "principalEmail"));
            if let Some(who) = first.filter(|w| !w.ends_with(".gserviceaccount.com")) {
                p.delegated_by = Some(who.to_owned());
                break;
            }
        }
    }
    p
}

/// The Cloud Asset Inventory name of an audited resource.
fn asset_of(service: &str, resource: &str) -> Option<String> {
    if resource.is_empty() {
        return None;
    }
    if resource.starts_with("//") {
        return Some(resource.to_owned());
    }
    if service == "storage.googleapis.com" {
        let rest = resource.strip_prefix("projects/_/buckets/")?;
        if rest.contains("/objects/") {
            return None;
        }
        return Some(format!("//storage.googleapis.com/{rest}"));
    }
    Some(format!("//{service}/{resource}"))
}

fn action_of(method: &str) -> Action {
    let op = method.rsplit('.').next().unwrap_or(method).to_ascii_lowercase();
    if op.starts_with("insert") || op.starts_with("create") {
        Action::Create
    } else if op.starts_with("delete") {
        Action::Delete
    } else {
        Action::Change
    }
}

/// One log entry → an event, or why it is not an audit entry.
fn to_event(v: &Value, id: SourceId, locator: Locator) -> Result<AuditEvent, String> {
    let pp = v.get("protoPayload").ok_or("the entry has no `protoPayload`")?;
    let ty = str_of(pp, "@type").unwrap_or("");
    if !ty.ends_with("google.cloud.audit.AuditLog") {
        return Err(format!(
            "`protoPayload` is {ty:?}, not a Cloud Audit Log (type.googleapis.com/google.cloud.audit.AuditLog)"
        ));
    }
    let time_text = str_of(v, "timestamp").ok_or("the entry has no `timestamp`")?;
    let time =
        super::timestamp(time_text).ok_or_else(|| format!("`timestamp` {time_text:?} is not an RFC 3339 time"))?;
    let insert_id = str_of(v, "insertId").ok_or("the entry has no `insertId`")?;
    let service = str_of(pp, "serviceName").ok_or("`protoPayload` has no `serviceName`")?;
    let method = str_of(pp, "methodName").ok_or("`protoPayload` has no `methodName`")?;
    let resource = str_of(pp, "resourceName").unwrap_or("");
    let log_name = str_of(v, "logName").unwrap_or("");
    // Data Access logs read; Admin Activity logs hold writes (and the few reads they log are
    // told by name).
    let read_only = log_name.contains("data_access").then_some(true);
    let error_code = pp
        .get("status")
        .and_then(|s| s.get("code"))
        .and_then(Value::as_i64)
        .filter(|c| *c != 0)
        .map(|c| format!("status {c}"))
        .or_else(|| log_name.contains("policy").then(|| "denied by policy".to_owned()));
    let meta = pp.get("requestMetadata");
    let labels = v.get("resource").and_then(|r| r.get("labels"));
    let account = labels.and_then(|l| str_of(l, "project_id")).map(str::to_owned).or_else(|| {
        resource.strip_prefix("projects/").and_then(|r| r.split('/').next()).filter(|p| *p != "_").map(str::to_owned)
    });
    let region = labels
        .and_then(|l| str_of(l, "zone").or_else(|| str_of(l, "region")).or_else(|| str_of(l, "location")))
        .map(str::to_owned);
    let operation = v.get("operation").and_then(|o| {
        Some(Operation {
            id: str_of(o, "id")?.to_owned(),
            first: o.get("first").and_then(Value::as_bool).unwrap_or(false),
            last: o.get("last").and_then(Value::as_bool).unwrap_or(false),
        })
    });
    let mut p = principal(pp.get("authenticationInfo"));
    let system_event = log_name.contains("system_event");
    if system_event {
        p.kind = Some(PrincipalType::GcpServiceAgent);
    }
    let resources = asset_of(service, resource).map(|a| vec![(touch_key(&a), action_of(method))]).unwrap_or_default();
    Ok(AuditEvent {
        cloud: Cloud::Gcp,
        event_id: insert_id.to_owned(),
        name: method.to_owned(),
        time,
        source: service.to_owned(),
        region,
        account,
        principal: p,
        invoked_by: None,
        user_agent: meta.and_then(|m| str_of(m, "callerSuppliedUserAgent")).map(str::to_owned),
        app_id: None,
        source_ip: meta.and_then(|m| str_of(m, "callerIp")).map(str::to_owned),
        read_only,
        error_code,
        event_type: system_event.then(|| "SystemEvent".to_owned()),
        console_session: false,
        operation,
        resources,
        source_id: id,
        locator,
    })
}

pub(crate) fn parse<R: BufRead>(
    fmt: AuditFormat,
    id: SourceId,
    source: &Source,
    reader: R,
    failure: &ReadFailure,
    judge: &Judge<'_>,
) -> Result<AuditTrail, InputError> {
    let name = source.name.as_str();
    let mut sink = Sink::new(judge, id);
    match fmt {
        AuditFormat::GcpArray => {
            super::stream_array(source, reader, None, failure, &mut |i, v| {
                let locator = Locator::new(vec![Seg::Index(i)]).focus("protoPayload");
                let ev = to_event(&v, id, locator.clone())
                    .map_err(|m| RecordError { locator, message: format!("entry {i}: {m}") })?;
                sink.add(ev);
                Ok(())
            })?;
        }
        _ => {
            super::for_each_line(name, reader, failure, &mut |n, line| {
                let v: Value = serde_json::from_str(line).map_err(|e| super::line_json_error(name, n, line, &e))?;
                let ev = to_event(&v, id, Locator::new(vec![Seg::Line(n)]).focus("protoPayload"))
                    .map_err(|m| super::line_shape_error(name, n, line, &m))?;
                sink.add(ev);
                Ok(())
            })?;
        }
    }
    Ok(sink.finish().0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_and_assets() {
        assert_eq!(
            principal(Some(&serde_json::json!({"principalEmail": "alice@example.com"}))).kind(),
            PrincipalType::GcpUser
        );
        let sa = serde_json::json!({"principalEmail": "tf-deployer@dl-k1-prod.iam.gserviceaccount.com"});
        assert_eq!(principal(Some(&sa)).kind(), PrincipalType::GcpServiceAccount);
        let agent =
            serde_json::json!({"principalEmail": "service-481516234200@compute-system.iam.gserviceaccount.com"});
        assert_eq!(principal(Some(&agent)).kind(), PrincipalType::GcpServiceAgent);
        let delegated = serde_json::json!({"principalEmail": "tf@p.iam.gserviceaccount.com", "serviceAccountDelegationInfo": [{"firstPartyPrincipal": {"principalEmail": "bob@example.com"}}]});
        assert_eq!(principal(Some(&delegated)).delegated_by.as_deref(), Some("bob@example.com"));
        assert_eq!(
            asset_of("compute.googleapis.com", "projects/p/global/firewalls/f").as_deref(),
            Some("//compute.googleapis.com/projects/p/global/firewalls/f")
        );
        assert_eq!(
            asset_of("storage.googleapis.com", "projects/_/buckets/b").as_deref(),
            Some("//storage.googleapis.com/b")
        );
        assert_eq!(action_of("v1.compute.firewalls.insert"), Action::Create);
        assert_eq!(action_of("google.pubsub.v1.Publisher.DeleteTopic"), Action::Delete);
        assert_eq!(action_of("storage.setIamPermissions"), Action::Change);
    }
}
