//! The Azure Activity Log: `az monitor activity-log list` (an array of events: `caller`,
//! `claims`, `operationName.value`, `resourceId`, `status.value`, `category.value`,
//! `eventTimestamp`, `eventDataId`) and diagnostic-settings exports (`{"records":[…]}` through
//! Event Hubs, one record per line in storage: `time`, `resourceId`, `operationName`,
//! `category`, `resultType`, `identity.claims`, `callerIpAddress`).
//!
//! ARM logs an operation more than once (`Started`/`Accepted`, then `Succeeded` or `Failed`):
//! it is judged once, by its outcome. The log records no user agent, so the tool is seen only
//! when the caller signed in through a known first-party app (`claims.appid`: the az CLI,
//! Azure PowerShell, the portal).

use std::io::BufRead;

use serde_json::Value;

use super::{AuditFormat, Judge, RecordError, Sink, str_of};
use crate::error::InputError;
use crate::model::{Action, AuditEvent, AuditTrail, Cloud, Locator, Principal, PrincipalType, Seg, touch_key};
use crate::source::{ReadFailure, Source, SourceId};

const OBJECT_ID: &str = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const UPN: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn";

/// `{"value": "x", "localizedValue": …}` (list output) or `"x"` (exports).
fn value_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    match v.get(key)? {
        Value::String(s) => Some(s.as_str()),
        o @ Value::Object(_) => str_of(o, "value"),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5 && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn principal(caller: Option<&str>, claims: Option<&Value>) -> Principal {
    let claim = |k: &str| claims.and_then(|c| str_of(c, k));
    let caller = caller.or_else(|| claim(UPN)).or_else(|| claim("appid")).unwrap_or("");
    let mut p = Principal { id: caller.to_owned(), display: caller.to_owned(), ..Principal::default() };
    for k in [OBJECT_ID, "oid", "appid", "azp"] {
        if let Some(v) = claim(k) {
            if !p.aliases.iter().any(|a| a == v) && v != caller {
                p.aliases.push(v.to_owned());
            }
        }
    }
    p.kind = Some(match claim("idtyp") {
        Some("user") => PrincipalType::AzureUser,
        Some("app") => PrincipalType::AzureApp,
        _ if caller.contains('@') => PrincipalType::AzureUser,
        _ if is_guid(caller) => PrincipalType::AzureApp,
        _ => PrincipalType::Unknown,
    });
    p
}

/// Operations that change nothing: `…/read`, and `list…` actions (`listKeys/action`).
fn is_read(op: &str) -> bool {
    let lower = op.to_ascii_lowercase();
    lower.ends_with("/read")
        || lower
            .strip_suffix("/action")
            .and_then(|r| r.rsplit('/').next())
            .is_some_and(|a| a.starts_with("list") || a.starts_with("get") || a.starts_with("read"))
}

fn to_event(v: &Value, id: SourceId, locator: Locator) -> Result<Option<AuditEvent>, String> {
    let op = value_of(v, "operationName").ok_or("the record has no `operationName`")?;
    let resource_id = str_of(v, "resourceId").ok_or("the record has no `resourceId`")?;
    let time_text = str_of(v, "eventTimestamp")
        .or_else(|| str_of(v, "time"))
        .ok_or("the record has no `eventTimestamp` (or `time`)")?;
    let time = super::timestamp(time_text).ok_or_else(|| format!("`{time_text}` is not an RFC 3339 time"))?;
    let identity = v.get("identity");
    let claims = v.get("claims").or_else(|| identity.and_then(|i| i.get("claims")));
    let status = value_of(v, "status").or_else(|| str_of(v, "resultType")).unwrap_or("Succeeded");
    let category = value_of(v, "category").unwrap_or("Administrative");
    let event_id = str_of(v, "eventDataId")
        .or_else(|| str_of(v, "correlationId"))
        .ok_or("the record has no `eventDataId` (or `correlationId`)")?;
    let status_lower = status.to_ascii_lowercase();
    if matches!(status_lower.as_str(), "started" | "start" | "accepted" | "accept") {
        return Ok(None); // judged by its outcome
    }
    let error_code =
        matches!(status_lower.as_str(), "failed" | "failure" | "canceled" | "cancelled").then(|| status.to_owned());
    let p = principal(str_of(v, "caller"), claims);
    let lower_op = op.to_ascii_lowercase();
    let sub_status = value_of(v, "subStatus")
        .or_else(|| v.get("properties").and_then(|p| str_of(p, "statusCode")))
        .or_else(|| str_of(v, "resultSignature"))
        .unwrap_or("");
    let action = if lower_op.ends_with("/delete") {
        Action::Delete
    } else if lower_op.ends_with("/write") && sub_status.contains("Created") {
        Action::Create
    } else {
        Action::Change
    };
    let account = str_of(v, "subscriptionId").map(str::to_owned).or_else(|| {
        let lower = resource_id.to_ascii_lowercase();
        lower.strip_prefix("/subscriptions/").and_then(|r| r.split('/').next()).map(str::to_owned)
    });
    let source = value_of(v, "resourceProviderName")
        .map(str::to_owned)
        .unwrap_or_else(|| op.split('/').next().unwrap_or(op).to_owned());
    let mut ev = AuditEvent {
        cloud: Cloud::Azure,
        event_id: event_id.to_owned(),
        name: op.to_owned(),
        time,
        source,
        region: None,
        account,
        principal: p,
        invoked_by: None,
        user_agent: None,
        app_id: claims.and_then(|c| str_of(c, "appid")).map(str::to_owned),
        source_ip: v
            .get("httpRequest")
            .and_then(|h| str_of(h, "clientIpAddress"))
            .or_else(|| str_of(v, "callerIpAddress"))
            .map(str::to_owned),
        read_only: Some(is_read(op)),
        error_code,
        event_type: None,
        console_session: false,
        operation: None,
        resources: vec![(touch_key(resource_id), action)],
        source_id: id,
        locator,
    };
    if !category.eq_ignore_ascii_case("Administrative") {
        // Policy, Security, ServiceHealth, Autoscale…: raised by the platform.
        ev.event_type = Some(format!("Azure{category}"));
        ev.invoked_by = Some(format!("Azure {category}"));
    }
    Ok(Some(ev))
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
    let mut continuations = 0u64;
    match fmt {
        AuditFormat::AzureLines => {
            super::for_each_line(name, reader, failure, &mut |n, line| {
                let v: Value = serde_json::from_str(line).map_err(|e| super::line_json_error(name, n, line, &e))?;
                match to_event(&v, id, Locator::new(vec![Seg::Line(n)]).focus("operationName"))
                    .map_err(|m| super::line_shape_error(name, n, line, &m))?
                {
                    Some(ev) => sink.add(ev),
                    None => continuations += 1,
                }
                Ok(())
            })?;
        }
        _ => {
            let key = (fmt == AuditFormat::AzureRecords).then_some("records");
            super::stream_array(source, reader, key, failure, &mut |i, v| {
                let mut path = Vec::new();
                if key.is_some() {
                    path.push(Seg::Key("records"));
                }
                path.push(Seg::Index(i));
                let locator = Locator::new(path).focus("operationName");
                match to_event(&v, id, locator.clone())
                    .map_err(|m| RecordError { locator, message: format!("record {i}: {m}") })?
                {
                    Some(ev) => sink.add(ev),
                    None => continuations += 1,
                }
                Ok(())
            })?;
        }
    }
    let mut trail = sink.finish().0;
    trail.counts.records += continuations;
    trail.counts.continuations += continuations;
    Ok(trail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_reads_and_actions() {
        let user = principal(Some("alice@contoso.com"), Some(&serde_json::json!({"idtyp": "user"})));
        assert_eq!(user.kind(), PrincipalType::AzureUser);
        let app = principal(
            Some("5b0c7e2a-3f4d-4c1e-9a8b-7d6e5f4a3b2c"),
            Some(&serde_json::json!({"appid": "9d3f1a2b-1111-4222-8333-944455566677"})),
        );
        assert_eq!(app.kind(), PrincipalType::AzureApp);
        assert!(app.aliases.contains(&"9d3f1a2b-1111-4222-8333-944455566677".to_owned()));
        assert!(is_read("Microsoft.Network/virtualNetworks/read"));
        assert!(is_read("Microsoft.Storage/storageAccounts/listKeys/action"));
        assert!(!is_read("Microsoft.Compute/virtualMachines/restart/action"));
        assert!(!is_read("Microsoft.Network/publicIPAddresses/write"));
    }
}
