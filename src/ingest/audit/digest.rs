//! CloudTrail digest files (`AWSLogs/…/CloudTrail-Digest/REGION/YYYY/MM/DD/…json.gz`): the log
//! files CloudTrail delivered in one hour with the SHA-256 of each, and the hash and signature of
//! the digest before it. Read whole (a digest is small) and hashed as read; the checks over them
//! are in `checks::trail`.

use serde::Deserialize;

use super::{RecordError, record_error};
use crate::error::InputError;
use crate::model::{DigestFile, DigestLog, Locator, Seg};
use crate::source::{Source, SourceId};

/// A digest file starts with these members, in this order, as CloudTrail writes it.
pub(crate) fn looks_like(head: &[u8]) -> bool {
    super::has(head, "\"digestStartTime\"") && super::has(head, "\"digestEndTime\"") && super::has(head, "\"logFiles\"")
        || super::has(head, "\"digestS3Object\"") && super::has(head, "\"digestPublicKeyFingerprint\"")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    aws_account_id: Option<String>,
    digest_start_time: Option<String>,
    digest_end_time: Option<String>,
    digest_s3_bucket: Option<String>,
    digest_s3_object: Option<String>,
    digest_public_key_fingerprint: Option<String>,
    digest_signature_algorithm: Option<String>,
    previous_digest_s3_bucket: Option<String>,
    previous_digest_s3_object: Option<String>,
    previous_digest_hash_value: Option<String>,
    previous_digest_hash_algorithm: Option<String>,
    previous_digest_signature: Option<String>,
    log_files: Option<Vec<RawLog>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    s3_bucket: Option<String>,
    s3_object: Option<String>,
    hash_value: Option<String>,
    hash_algorithm: Option<String>,
}

fn hex_of(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The region of a digest from its object key: `…/CloudTrail-Digest/REGION/…`.
pub(crate) fn region_of(object: &str) -> Option<String> {
    let mut parts = object.split('/');
    parts.by_ref().find(|p| *p == "CloudTrail-Digest")?;
    parts.next().filter(|r| !r.is_empty()).map(str::to_owned)
}

/// Reads one digest file.
pub(crate) fn parse(id: SourceId, source: &Source, bytes: &[u8]) -> Result<DigestFile, InputError> {
    use sha2::Digest as _;
    let name = source.name.as_str();
    let sha256 = hex_of(&sha2::Sha256::digest(bytes));
    let raw: Raw = serde_json::from_slice(bytes).map_err(|e| match source.text() {
        Ok(text) => InputError::from_json(name, &text, 0, &text, &e),
        Err(err) => err,
    })?;
    let fail = |path: Vec<Seg>, message: String| {
        record_error(name, source, &RecordError { locator: Locator::new(path), message })
    };
    let required = |v: Option<String>, key: &'static str| {
        v.filter(|s| !s.is_empty()).ok_or_else(|| {
            fail(
                Vec::new(),
                format!("this CloudTrail digest file has no `{key}`: a digest without it cannot be checked"),
            )
        })
    };
    let time = |v: &str, key: &'static str| {
        super::timestamp(v).ok_or_else(|| fail(vec![Seg::Key(key)], format!("`{key}` is not an RFC 3339 time: `{v}`")))
    };
    let account = required(raw.aws_account_id, "awsAccountId")?;
    let start_text = required(raw.digest_start_time, "digestStartTime")?;
    let end_text = required(raw.digest_end_time, "digestEndTime")?;
    let start = time(&start_text, "digestStartTime")?;
    let end = time(&end_text, "digestEndTime")?;
    let s3_bucket = required(raw.digest_s3_bucket, "digestS3Bucket")?;
    let s3_object = required(raw.digest_s3_object, "digestS3Object")?;
    let public_key_fingerprint = required(raw.digest_public_key_fingerprint, "digestPublicKeyFingerprint")?;
    let signature_algorithm = required(raw.digest_signature_algorithm, "digestSignatureAlgorithm")?;
    let Some(logs) = raw.log_files else {
        return Err(fail(Vec::new(), "this CloudTrail digest file has no `logFiles` array".into()));
    };
    let mut log_files = Vec::with_capacity(logs.len());
    for (i, l) in logs.into_iter().enumerate() {
        let at = |key: &'static str| vec![Seg::Key("logFiles"), Seg::Index(i as u32), Seg::Key(key)];
        let field = |v: Option<String>, key: &'static str| {
            v.filter(|s| !s.is_empty()).ok_or_else(|| {
                fail(vec![Seg::Key("logFiles"), Seg::Index(i as u32)], format!("log file entry {i} has no `{key}`"))
            })
        };
        let hash = field(l.hash_value, "hashValue")?.to_ascii_lowercase();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(fail(at("hashValue"), format!("`hashValue` of log file entry {i} is not a hex SHA-256")));
        }
        log_files.push(DigestLog {
            index: i as u32,
            s3_bucket: field(l.s3_bucket, "s3Bucket")?,
            s3_object: field(l.s3_object, "s3Object")?,
            hash,
            hash_algorithm: l.hash_algorithm.unwrap_or_else(|| "SHA-256".into()),
        });
    }
    if end < start {
        return Err(fail(vec![Seg::Key("digestEndTime")], "`digestEndTime` is before `digestStartTime`".into()));
    }
    Ok(DigestFile {
        source: id,
        path: name.to_owned(),
        sha256,
        account,
        region: region_of(&s3_object),
        start,
        end,
        end_text,
        s3_bucket,
        s3_object,
        previous_bucket: raw.previous_digest_s3_bucket.filter(|s| !s.is_empty()),
        previous_object: raw.previous_digest_s3_object.filter(|s| !s.is_empty()),
        previous_hash: raw.previous_digest_hash_value.filter(|s| !s.is_empty()).map(|s| s.to_ascii_lowercase()),
        previous_hash_algorithm: raw.previous_digest_hash_algorithm.filter(|s| !s.is_empty()),
        previous_signature: raw.previous_digest_signature.filter(|s| !s.is_empty() && s != "null"),
        public_key_fingerprint,
        signature_algorithm,
        log_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_digest() {
        let text = r#"{"awsAccountId":"111122223333","digestStartTime":"2026-11-20T09:01:31Z","digestEndTime":"2026-11-20T10:01:31Z","digestS3Bucket":"b","digestS3Object":"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2026/11/20/111122223333_CloudTrail-Digest_us-east-2_main_us-east-2_20261120T100131Z.json.gz","digestPublicKeyFingerprint":"31e8","digestSignatureAlgorithm":"SHA256withRSA","newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[{"s3Bucket":"b","s3Object":"AWSLogs/x.json.gz","hashValue":"AB00000000000000000000000000000000000000000000000000000000000000","hashAlgorithm":"SHA-256","newestEventTime":"2026-11-20T09:59:00Z","oldestEventTime":"2026-11-20T09:50:00Z"}]}"#;
        assert!(looks_like(text.as_bytes()));
        let src = Source::memory("d.json", text.as_bytes().to_vec());
        let d = parse(SourceId(0), &src, text.as_bytes()).unwrap();
        assert_eq!(d.region.as_deref(), Some("us-east-2"));
        assert_eq!(d.previous_signature, None);
        assert_eq!(d.log_files[0].hash, format!("ab{}", "0".repeat(62)));
        assert_eq!(d.chain(), "b/111122223333_CloudTrail-Digest_us-east-2_main_us-east-2");
        let broken = text.replace("\"hashValue\":\"AB", "\"hashValue\":\"ZZ");
        let src = Source::memory("d.json", broken.as_bytes().to_vec());
        let e = parse(SourceId(0), &src, broken.as_bytes()).unwrap_err();
        assert!(e.message.contains("not a hex SHA-256"), "{}", e.message);
    }
}
