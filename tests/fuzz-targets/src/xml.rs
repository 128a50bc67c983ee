//! Every XML request body codec of s3-proto `xml/`, one target dispatching on the first
//! byte. Where we also write the document (tagging, CORS, bucket encryption), what we parsed
//! and accepted must come back unchanged from what we write: a configuration stored from a
//! PUT is served by the GET.

use base::limits::CORS_RULE_COUNT_MAX;
use s3_proto::xml::{
    TagTarget, bucket_encryption_xml, bucket_versioning_xml, check_part_order,
    cors_configuration_xml, legal_hold_xml, lifecycle_configuration_xml,
    object_lock_configuration_xml, parse_bucket_encryption, parse_complete_multipart_upload,
    parse_cors_configuration, parse_create_bucket_configuration, parse_delete, parse_legal_hold,
    parse_lifecycle_configuration, parse_object_lock_configuration, parse_retention, parse_tagging,
    parse_tagging_header, parse_versioning_configuration, retention_xml, tagging_xml,
    validate_tags,
};

/// Body kinds, selected by the first byte modulo their count.
const KINDS: u8 = 12;

/// Input: one byte choosing the document (0 CompleteMultipartUpload, 1 Delete, 2 Tagging,
/// 3 CORSConfiguration, 4 ServerSideEncryptionConfiguration, 5 CreateBucketConfiguration,
/// 6 the `x-amz-tagging` header form, 7 VersioningConfiguration, 8 ObjectLockConfiguration,
/// 9 Retention, 10 LegalHold, 11 LifecycleConfiguration), then the body.
pub fn xml_bodies(data: &[u8]) {
    let Some((&kind, body)) = data.split_first() else {
        return;
    };
    match kind % KINDS {
        0 => complete_multipart_upload(body),
        1 => delete(body),
        2 => {
            if let Ok(tags) = parse_tagging(body) {
                tags_round_trip(&tags);
            }
        }
        3 => cors(body),
        4 => {
            if let Ok(config) = parse_bucket_encryption(body) {
                let written = bucket_encryption_xml(&config);
                assert_eq!(
                    parse_bucket_encryption(written.as_bytes()).as_ref(),
                    Ok(&config),
                    "{written}"
                );
            }
        }
        5 => {
            let _ = parse_create_bucket_configuration(body);
        }
        7..=11 => versioning_documents(kind % KINDS, body),
        _ => {
            if let Ok(text) = std::str::from_utf8(body)
                && let Ok(tags) = parse_tagging_header(text)
            {
                tags_round_trip(&tags);
            }
        }
    }
}

/// The versioning, object lock and lifecycle documents: what is accepted is written back
/// unchanged (a configuration stored by a PUT is what the GET serves).
fn versioning_documents(kind: u8, body: &[u8]) {
    match kind {
        7 => {
            if let Ok(config) = parse_versioning_configuration(body) {
                let written = bucket_versioning_xml(&config);
                let reparsed = parse_versioning_configuration(written.as_bytes());
                assert_eq!(reparsed.as_ref(), Ok(&config), "{written}");
            }
        }
        8 => {
            if let Ok(config) = parse_object_lock_configuration(body) {
                let written = object_lock_configuration_xml(&config);
                let reparsed = parse_object_lock_configuration(written.as_bytes());
                assert_eq!(reparsed.as_ref(), Ok(&config), "{written}");
            }
        }
        9 => {
            // A retain-until date before 1970 is in the past: the handler refuses it before
            // anything is stored, so only dates the writer can spell must come back unchanged.
            if let Ok(Some(retention)) = parse_retention(body)
                && retention.retain_until_ms >= 0
            {
                let written = retention_xml(&retention);
                assert_eq!(parse_retention(written.as_bytes()), Ok(Some(retention)));
            }
        }
        10 => {
            if let Ok(hold) = parse_legal_hold(body) {
                assert_eq!(parse_legal_hold(legal_hold_xml(hold).as_bytes()), Ok(hold));
            }
        }
        _ => {
            if let Ok(config) = parse_lifecycle_configuration(body) {
                assert!(config.validate().is_ok());
                let written = lifecycle_configuration_xml(&config);
                let reparsed = parse_lifecycle_configuration(written.as_bytes());
                assert_eq!(reparsed.as_ref(), Ok(&config), "{written}");
            }
        }
    }
}

fn complete_multipart_upload(body: &[u8]) {
    let Ok(parts) = parse_complete_multipart_upload(body) else {
        return;
    };
    assert!((1..=10_000).contains(&parts.len()));
    for part in &parts {
        assert!((1..=10_000).contains(&part.part_number), "{part:?}");
    }
    if check_part_order(&parts).is_ok() {
        assert!(
            parts
                .windows(2)
                .all(|pair| pair[0].part_number < pair[1].part_number)
        );
    }
}

fn delete(body: &[u8]) {
    let Ok(request) = parse_delete(body) else {
        return;
    };
    // The S3 maximum, enforced while parsing (BAD-INPUTS X3).
    assert!((1..=1000).contains(&request.objects.len()));
}

/// Tags accepted for an object or a bucket are written back by GetObjectTagging exactly.
fn tags_round_trip(tags: &[(String, String)]) {
    if validate_tags(tags, TagTarget::Object).is_err()
        && validate_tags(tags, TagTarget::Bucket).is_err()
    {
        return;
    }
    let written = tagging_xml(tags);
    assert_eq!(
        parse_tagging(written.as_bytes()).as_deref(),
        Ok(tags),
        "{written}"
    );
}

fn cors(body: &[u8]) {
    let Ok(rules) = parse_cors_configuration(body) else {
        return;
    };
    assert!((1..=CORS_RULE_COUNT_MAX).contains(&rules.len()));
    let written = cors_configuration_xml(&rules);
    assert_eq!(
        parse_cors_configuration(written.as_bytes()).as_ref(),
        Ok(&rules),
        "{written}"
    );
}
