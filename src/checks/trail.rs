//! Trusting the trail: the audit logs are only evidence when nothing was removed, edited or
//! added after delivery, and when they cover the whole window judged.
//!
//! - `audit-log-tampered`: a log file a CloudTrail digest lists is missing or its SHA-256 (of
//!   the uncompressed content) differs; a digest's `previousDigestHashValue` differs from the
//!   previous digest given; a digest in the middle of a chain is missing; a digest's RSA
//!   signature (carried by the next digest's `previousDigestSignature`) does not verify with
//!   the key `--cloudtrail-public-keys` lists; a log file no digest lists although digests of
//!   its account and region cover the time it was delivered (a file added afterwards).
//! - `audit-coverage-gap`: a time inside the window no digest covers, a region in scope with
//!   no CloudTrail log file or digest at all, a log file no digest covers.
//! - `audit-trail-unverified`: no digest files at all (completeness cannot be proven), or
//!   digests whose signatures cannot be checked (no `--cloudtrail-public-keys`, or a key not in
//!   it). A warning, or an error under `--require-complete-trail`.

use std::collections::{BTreeMap, BTreeSet};

use rsa::pkcs1::DecodeRsaPublicKey;

use crate::code;
use crate::error::InputError;
use crate::finding::Finding;
use crate::ingest::audit::Window;
use crate::model::{AuditFile, DigestFile, Estate, Locator, Seg};
use crate::source::SourceId;

/// A stretch of time some input covers: (start, end, the source that covers it).
type Span = (jiff::Timestamp, jiff::Timestamp, SourceId);

/// Intervals between digests shorter than this are not gaps (CloudTrail's digest periods are
/// contiguous; this absorbs clock rounding only).
const SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(60);

/// Without `--since`/`--until`, the window runs over the digests given; regions deliver their
/// digests at different minutes of the hour, so a region's first and last hour may start or
/// end this much apart from the others without being a gap.
const REGION_OFFSET: jiff::SignedDuration = jiff::SignedDuration::from_hours(1);

/// One CloudTrail public key (`aws cloudtrail list-public-keys`).
#[derive(Debug, Clone)]
pub struct PublicKey {
    pub fingerprint: String,
    pub key: rsa::PublicKey,
    pub valid_from: Option<jiff::Timestamp>,
    pub valid_to: Option<jiff::Timestamp>,
}

/// The keys of a `list-public-keys` output, and the file they came from.
#[derive(Debug, Clone)]
pub struct PublicKeys {
    pub file: String,
    pub keys: Vec<PublicKey>,
}

fn time_value(v: &serde_json::Value) -> Option<jiff::Timestamp> {
    match v {
        serde_json::Value::String(s) => crate::ingest::audit::timestamp(s),
        serde_json::Value::Number(n) => {
            let secs = n.as_f64()?;
            jiff::Timestamp::from_millisecond((secs * 1000.0) as i64).ok()
        }
        _ => None,
    }
}

/// Reads the output of `aws cloudtrail list-public-keys` (`PublicKeyList[]` with `Value`, the
/// base64 DER PKCS#1 public key, `Fingerprint`, `ValidityStartTime`, `ValidityEndTime`).
pub fn load_public_keys(path: &std::path::Path) -> Result<PublicKeys, InputError> {
    use base64::Engine as _;
    let source = crate::source::Source::file(path);
    let name = source.name.clone();
    let text = source.text()?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| InputError::from_json(&name, &text, 0, &text, &e))?;
    let shape = |message: String| {
        InputError::new(&code::UNEXPECTED_SHAPE, &name, format!("{name}: {message}"))
            .with_help("pass the output of `aws cloudtrail list-public-keys --start-time … --end-time …` for the digests' region and period, as the CLI printed it (JSON)")
    };
    let list = v.get("PublicKeyList").and_then(serde_json::Value::as_array).ok_or_else(|| {
        shape("this is not `aws cloudtrail list-public-keys` output: it has no `PublicKeyList` array".into())
    })?;
    if list.is_empty() {
        return Err(shape("`PublicKeyList` is empty: no digest could be verified".into()));
    }
    let mut keys = Vec::with_capacity(list.len());
    for (i, k) in list.iter().enumerate() {
        let field = |key: &str| k.get(key).and_then(serde_json::Value::as_str).filter(|s| !s.is_empty());
        let fingerprint =
            field("Fingerprint").ok_or_else(|| shape(format!("key {i} of `PublicKeyList` has no `Fingerprint`")))?;
        let value = field("Value").ok_or_else(|| shape(format!("key {i} ({fingerprint}) has no `Value`")))?;
        let der = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| shape(format!("the `Value` of key {fingerprint} is not base64")))?;
        let key = rsa::PublicKey::from_pkcs1_der(&der)
            .map_err(|_| shape(format!("the `Value` of key {fingerprint} is not a DER PKCS#1 RSA public key")))?;
        keys.push(PublicKey {
            fingerprint: fingerprint.to_ascii_lowercase(),
            key,
            valid_from: k.get("ValidityStartTime").and_then(time_value),
            valid_to: k.get("ValidityEndTime").and_then(time_value),
        });
    }
    Ok(PublicKeys { file: name, keys })
}

/// What the trail checks need besides the estate.
#[derive(Debug, Default)]
pub struct TrailOptions<'a> {
    pub window: Window,
    pub keys: Option<&'a PublicKeys>,
    /// `--require-complete-trail`: what cannot be proven is an error, not a warning.
    pub require_complete: bool,
    /// AWS regions in scope: each needs CloudTrail evidence (`--audit-region`, and the regions
    /// of the AWS inventories).
    pub regions: Vec<String>,
}

/// The string CloudTrail signs for a digest (its documented data-signing string):
/// `digestEndTime \n digestS3Bucket/digestS3Object \n hex SHA-256 of the uncompressed digest \n
/// previousDigestSignature` (`null` for the first digest of a chain).
pub fn signing_string(d: &DigestFile) -> String {
    format!(
        "{}\n{}/{}\n{}\n{}",
        d.end_text,
        d.s3_bucket,
        d.s3_object,
        d.sha256,
        d.previous_signature.as_deref().unwrap_or("null")
    )
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Verifies digest `d` against its signature `signature_hex` (from the next digest).
fn verify(d: &DigestFile, signature_hex: &str, keys: &PublicKeys) -> Result<(), Problem> {
    if !d.signature_algorithm.eq_ignore_ascii_case("SHA256withRSA") {
        return Err(Problem::Unverifiable(format!(
            "its signature algorithm `{}` is not SHA256withRSA, the one CloudTrail documents",
            d.signature_algorithm
        )));
    }
    let fp = d.public_key_fingerprint.to_ascii_lowercase();
    let Some(key) = keys.keys.iter().find(|k| k.fingerprint == fp) else {
        return Err(Problem::Unverifiable(format!("{} holds no public key with fingerprint {fp}", keys.file)));
    };
    if key.valid_from.is_some_and(|t| d.end < t) || key.valid_to.is_some_and(|t| d.end > t) {
        return Err(Problem::Tampered(format!(
            "it is signed with key {fp}, which was not valid at its end time {}",
            d.end_text
        )));
    }
    let Some(sig) = hex_decode(signature_hex) else {
        return Err(Problem::Tampered("the signature the next digest carries is not hex".into()));
    };
    key.key
        .pkcs1v15_verify::<sha2::Sha256>(signing_string(d).as_bytes(), &sig)
        .map_err(|_| Problem::Tampered(format!("its SHA256withRSA signature does not verify with key {fp}")))
}

enum Problem {
    Tampered(String),
    Unverifiable(String),
}

/// The part of an S3 key or a local path from `AWSLogs/` on, which both share.
fn logs_key(path: &str) -> &str {
    let p = path.trim_start_matches("./");
    match p.find("AWSLogs/") {
        Some(i) => &p[i..],
        None => p,
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The delivery time a CloudTrail log file's name carries (`…_20261120T1005Z_…`).
fn delivered_at(path: &str) -> Option<jiff::Timestamp> {
    base_name(path).split('_').find_map(|part| {
        let b = part.as_bytes();
        if b.len() != 14 || b[8] != b'T' || b[13] != b'Z' {
            return None;
        }
        let text = format!("{}-{}-{}T{}:{}:00Z", &part[0..4], &part[4..6], &part[6..8], &part[9..11], &part[11..13]);
        text.parse().ok()
    })
}

fn overlaps(w: &Window, start: jiff::Timestamp, end: jiff::Timestamp) -> bool {
    w.since.is_none_or(|s| end >= s) && w.until.is_none_or(|u| start <= u)
}

fn hours(d: jiff::SignedDuration) -> String {
    let mins = d.as_secs() / 60;
    if mins >= 60 { format!("{} h {:02} min", mins / 60, mins % 60) } else { format!("{mins} min") }
}

/// Findings of the trail's integrity and coverage.
pub fn findings(estate: &Estate, opts: &TrailOptions<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let digests = &estate.audit_digests;
    let files = &estate.audit_files;
    let any_audit = !estate.audit.sources.is_empty() || !digests.is_empty();
    if !any_audit {
        return out;
    }
    let strict = |mut f: Finding| {
        if opts.require_complete {
            f.severity = code::Severity::Error;
        }
        f
    };
    if digests.is_empty() {
        let what = if files.is_empty() {
            "the audit logs given carry no integrity proof (only CloudTrail log files delivered to S3 have digest files)".to_owned()
        } else {
            format!("no CloudTrail digest file was given for the {} CloudTrail log file(s) read", files.len())
        };
        out.push(strict(
            Finding::new(
                &code::AUDIT_TRAIL_UNVERIFIED,
                format!("the audit trail's completeness could not be proven: {what}; a log file deleted or edited after delivery would go unnoticed"),
            )
            .help("enable log file validation on the trail and pass its `CloudTrail-Digest/` folder with the logs (`aws s3 sync s3://BUCKET/AWSLogs/ACCOUNT/ logs/`, then --audit-log logs/); --require-complete-trail makes this an error")
            .identity("no-digests"),
        ));
        regions_in_scope(estate, opts, &mut out);
        return out;
    }

    // Local log files, by their `AWSLogs/…` key, base name and hash.
    let mut by_key: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_name: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut by_hash: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        by_key.insert(logs_key(&f.path), i);
        by_name.entry(base_name(&f.path)).or_default().push(i);
        by_hash.entry(f.sha256.as_str()).or_insert(i);
    }
    let mut listed = vec![false; files.len()];

    // 1. Every log file a digest lists, for digests that overlap the window.
    for d in digests {
        let in_window = overlaps(&opts.window, d.start, d.end);
        for l in &d.log_files {
            let found = by_key
                .get(logs_key(&l.s3_object))
                .copied()
                .or_else(|| by_name.get(base_name(&l.s3_object)).and_then(|v| (v.len() == 1).then(|| v[0])));
            match found {
                Some(i) => {
                    listed[i] = true;
                    let f = &files[i];
                    if f.sha256 != l.hash {
                        if let Some(&j) = by_hash.get(l.hash.as_str()) {
                            listed[j] = true; // the listed content is there, under another name
                            continue;
                        }
                        out.push(
                            Finding::new(
                                &code::AUDIT_LOG_TAMPERED,
                                format!(
                                    "log file {} was altered after delivery: the SHA-256 of its content is {}, digest {} lists {}",
                                    f.path, f.sha256, d.path, l.hash
                                ),
                            )
                            .help("the trail cannot be trusted: find out who could write to the log bucket, and judge this period from a copy CloudTrail delivered (S3 versioning, a replica); never edit log files")
                            .at(d.source, Locator::new(vec![Seg::Key("logFiles"), Seg::Index(l.index), Seg::Key("hashValue")]))
                            .identity(l.s3_object.clone()),
                        );
                    }
                }
                None => {
                    if let Some(&j) = by_hash.get(l.hash.as_str()) {
                        listed[j] = true;
                        continue;
                    }
                    if !in_window {
                        continue;
                    }
                    out.push(
                        Finding::new(
                            &code::AUDIT_LOG_TAMPERED,
                            format!(
                                "log file {} is missing: digest {} lists it (delivered between {} and {}), but it is not among the audit logs given",
                                l.s3_object, d.path, d.start, d.end
                            ),
                        )
                        .help("download it with the others (`aws s3 sync`); if it is gone from the bucket, it was deleted after delivery and the trail cannot be trusted for that hour")
                        .at(d.source, Locator::new(vec![Seg::Key("logFiles"), Seg::Index(l.index), Seg::Key("s3Object")]))
                        .identity(l.s3_object.clone()),
                    );
                }
            }
        }
    }

    // 2. Chains: each digest's previous hash, the previous digest's presence, signatures.
    let mut by_object: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, d) in digests.iter().enumerate() {
        by_object.insert((d.s3_bucket.as_str(), d.s3_object.as_str()), i);
    }
    let mut chains: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, d) in digests.iter().enumerate().filter(|(_, d)| !d.is_backfill()) {
        chains.entry(d.chain()).or_default().push(i);
    }
    let mut unverifiable: Vec<String> = Vec::new();
    let mut verified = 0usize;
    for members in chains.values_mut() {
        members.sort_by_key(|&i| (digests[i].end, digests[i].s3_object.clone()));
        let earliest = digests[members[0]].end;
        for &i in members.iter() {
            let d = &digests[i];
            let Some(prev_object) = d.previous_object.as_deref() else { continue };
            let prev_bucket = d.previous_bucket.as_deref().unwrap_or(&d.s3_bucket);
            match by_object.get(&(prev_bucket, prev_object)).map(|&p| &digests[p]) {
                Some(prev) => {
                    if d.previous_hash.as_deref() != Some(prev.sha256.as_str()) {
                        out.push(
                            Finding::new(
                                &code::AUDIT_LOG_TAMPERED,
                                format!(
                                    "the digest chain is broken: {} says the previous digest {} has SHA-256 {}, but its content hashes to {}",
                                    d.path,
                                    prev.path,
                                    d.previous_hash.as_deref().unwrap_or("(none)"),
                                    prev.sha256
                                ),
                            )
                            .help("a digest file was edited or replaced after delivery: the trail cannot be trusted for its hour")
                            .at(d.source, Locator::new(vec![Seg::Key("previousDigestHashValue")]))
                            .identity(d.s3_object.clone()),
                        );
                        continue;
                    }
                    let Some(sig) = d.previous_signature.as_deref() else {
                        out.push(
                            Finding::new(
                                &code::AUDIT_LOG_TAMPERED,
                                format!("the digest chain is broken: {} names previous digest {} but carries no signature of it", d.path, prev.path),
                            )
                            .help("CloudTrail always carries the previous digest's signature; a digest without it was not written by CloudTrail")
                            .at(d.source, Locator::new(vec![Seg::Key("previousDigestS3Object")]))
                            .identity(d.s3_object.clone()),
                        );
                        continue;
                    };
                    if let Some(keys) = opts.keys {
                        match verify(prev, sig, keys) {
                            Ok(()) => verified += 1,
                            Err(Problem::Tampered(why)) => out.push(
                                Finding::new(
                                    &code::AUDIT_LOG_TAMPERED,
                                    format!("digest {} is not authentic: {why} (the signature is carried by {})", prev.path, d.path),
                                )
                                .help("the digest was forged or altered: the trail cannot be trusted for its hour; check that --cloudtrail-public-keys holds the keys of the digests' region")
                                .at(d.source, Locator::new(vec![Seg::Key("previousDigestSignature")]))
                                .identity(prev.s3_object.clone()),
                            ),
                            Err(Problem::Unverifiable(why)) => unverifiable.push(format!("{}: {why}", prev.path)),
                        }
                    }
                }
                None if d.end > earliest => out.push(
                    Finding::new(
                        &code::AUDIT_LOG_TAMPERED,
                        format!(
                            "the digest chain is broken: {} names previous digest {prev_object}, which is not among the files given while earlier digests of the chain are",
                            d.path
                        ),
                    )
                    .help("download the whole CloudTrail-Digest/ folder for the period; a digest missing from the bucket was deleted after delivery")
                    .at(d.source, Locator::new(vec![Seg::Key("previousDigestS3Object")]))
                    .identity(d.s3_object.clone()),
                ),
                None => {} // the chain starts before the files given
            }
        }
    }
    match opts.keys {
        None => out.push(strict(
            Finding::new(
                &code::AUDIT_TRAIL_UNVERIFIED,
                format!(
                    "the signatures of {} CloudTrail digest file(s) were not verified: without --cloudtrail-public-keys, hashes prove the log files match their digests but not that CloudTrail wrote the digests",
                    digests.len()
                ),
            )
            .help("pass `aws cloudtrail list-public-keys --start-time … --end-time …` output with --cloudtrail-public-keys FILE (per region)")
            .identity("no-public-keys"),
        )),
        Some(_) if !unverifiable.is_empty() => {
            let mut f = Finding::new(
                &code::AUDIT_TRAIL_UNVERIFIED,
                format!(
                    "{} CloudTrail digest signature(s) could not be verified: {}",
                    unverifiable.len(),
                    unverifiable.join("; ")
                ),
            )
            .help("list the public keys of every region and period the digests cover (`aws cloudtrail list-public-keys --region R --start-time … --end-time …`) and pass them together")
            .identity("unverifiable-signatures");
            f.severity = code::Severity::Error;
            out.push(f);
        }
        Some(_) => {}
    }
    let _ = verified;

    // 3. Log files no digest lists.
    for (i, f) in files.iter().enumerate().filter(|(i, _)| !listed[*i]) {
        let (Some(first), Some(last)) = (f.first_event, f.last_event) else { continue };
        if !overlaps(&opts.window, first, last) {
            continue;
        }
        let when = delivered_at(&f.path).unwrap_or(last);
        // The digest of the hour it was delivered in, when given: it should have listed it.
        let span = digests
            .iter()
            .filter(|d| Some(d.account.as_str()) == f.account.as_deref() && d.region == f.region)
            .find(|d| when >= d.start - SLACK && when <= d.end + SLACK)
            .map(|d| (d.start, d.end));
        match span {
            Some(_) => out.push(
                Finding::new(
                    &code::AUDIT_LOG_TAMPERED,
                    format!(
                        "log file {} is listed by no digest, although the digest of account {} in {} for the hour it was delivered ({}) is given: it was added or renamed after delivery",
                        f.path,
                        f.account.as_deref().unwrap_or("?"),
                        f.region.as_deref().unwrap_or("?"),
                        when
                    ),
                )
                .help("CloudTrail lists every file it delivers in the next digest (late files in a `_backfill` digest: pass it too); a file no digest lists is not CloudTrail's")
                .at(f.source, Locator::default())
                .identity(logs_key(&f.path).to_owned()),
            ),
            _ => out.push(
                Finding::new(
                    &code::AUDIT_COVERAGE_GAP,
                    format!(
                        "log file {} (account {}, {}) is covered by no digest given: its completeness and integrity cannot be proven",
                        f.path,
                        f.account.as_deref().unwrap_or("?"),
                        f.region.as_deref().unwrap_or("?")
                    ),
                )
                .help("pass the CloudTrail-Digest/ files of its account, region and hour")
                .at(f.source, Locator::default())
                .identity(logs_key(&f.path).to_owned()),
            ),
        }
        let _ = i;
    }

    // 4. Time the digests do not cover, per account and region.
    let chained: Vec<&DigestFile> = digests.iter().filter(|d| !d.is_backfill()).collect();
    let (Some(min_start), Some(max_end)) = (chained.iter().map(|d| d.start).min(), chained.iter().map(|d| d.end).max())
    else {
        return out;
    };
    let from = opts.window.since.unwrap_or(min_start + REGION_OFFSET);
    let to = opts.window.until.unwrap_or(max_end - REGION_OFFSET);
    let mut groups: BTreeMap<(&str, Option<&str>), Vec<Span>> = BTreeMap::new();
    for d in &chained {
        groups.entry((d.account.as_str(), d.region.as_deref())).or_default().push((d.start, d.end, d.source));
    }
    if from < to {
        for ((account, region), mut iv) in groups {
            iv.sort_by_key(|x| (x.0, x.1));
            let region = region.unwrap_or("an unknown region");
            let mut cursor = from;
            let mut gaps: Vec<(jiff::Timestamp, jiff::Timestamp, Option<SourceId>)> = Vec::new();
            for (s, e, src) in iv {
                if s > cursor + SLACK && s > from {
                    gaps.push((cursor, s.min(to), Some(src)));
                }
                cursor = cursor.max(e);
                if cursor >= to {
                    break;
                }
            }
            if cursor + SLACK < to {
                gaps.push((cursor, to, None));
            }
            for (a, b, src) in gaps.into_iter().filter(|(a, b, _)| a < b) {
                let mut f = Finding::new(
                    &code::AUDIT_COVERAGE_GAP,
                    format!(
                        "no CloudTrail digest covers account {account} in {region} from {a} to {b} ({}): the log files delivered then cannot be proven complete",
                        hours(b.duration_since(a))
                    ),
                )
                .help("pass the digests and log files of that period (the hour after --until too: logs arrive up to 15 minutes late); if the trail was stopped then, nothing recorded that time and the gate cannot open on it")
                .identity(format!("{account}/{region}/{a}"));
                if let Some(src) = src {
                    f = f.at(src, Locator::new(vec![Seg::Key("digestStartTime")]));
                }
                out.push(f);
            }
        }
    }
    regions_in_scope(estate, opts, &mut out);
    out
}

/// Regions in scope with no CloudTrail evidence at all.
fn regions_in_scope(estate: &Estate, opts: &TrailOptions<'_>, out: &mut Vec<Finding>) {
    let seen: BTreeSet<&str> = estate
        .audit_files
        .iter()
        .filter_map(|f: &AuditFile| f.region.as_deref())
        .chain(estate.audit_digests.iter().filter_map(|d| d.region.as_deref()))
        .collect();
    let aws_logs = !estate.audit_files.is_empty() || !estate.audit_digests.is_empty();
    let mut wanted: BTreeSet<&str> = opts.regions.iter().map(String::as_str).collect();
    if aws_logs {
        // The regions the AWS inventories show resources in.
        for r in estate.inventory.resources.iter().filter(|r| r.cloud == crate::model::Cloud::Aws) {
            if let Some(region) = r.region.as_deref().filter(|r| !r.is_empty() && *r != "global") {
                wanted.insert(region);
            }
        }
    }
    for region in wanted.into_iter().filter(|r| !seen.contains(r)) {
        out.push(
            Finding::new(
                &code::AUDIT_COVERAGE_GAP,
                format!("region {region} is in scope but no CloudTrail log file or digest covers it: who changed what there cannot be told"),
            )
            .help("pass the trail's logs of every region in scope (a multi-region trail writes AWSLogs/ACCOUNT/CloudTrail/REGION/ for each); --audit-region lists the regions that must be covered")
            .identity(region.to_owned()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_time_from_the_file_name() {
        let t = delivered_at("x/123456789012_CloudTrail_us-east-1_20261120T1005Z_abcDEF.json.gz").unwrap();
        assert_eq!(t.to_string(), "2026-11-20T10:05:00Z");
        assert!(delivered_at("ct.json").is_none());
    }

    #[test]
    fn keys_match_on_the_awslogs_part() {
        assert_eq!(logs_key("logs/prefix/AWSLogs/1/CloudTrail/r/f.json.gz"), "AWSLogs/1/CloudTrail/r/f.json.gz");
        assert_eq!(logs_key("AWSLogs/1/x"), "AWSLogs/1/x");
        assert_eq!(hex_decode("0aff"), Some(vec![10, 255]));
        assert_eq!(hex_decode("0g"), None);
    }
}
