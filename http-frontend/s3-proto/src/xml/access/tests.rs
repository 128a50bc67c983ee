use super::*;
use crate::error::S3ErrorCode;

#[test]
fn public_access_block_round_trips_and_defaults_to_false() {
    let body =
        b"<PublicAccessBlockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
        <BlockPublicAcls>true</BlockPublicAcls><RestrictPublicBuckets>true</RestrictPublicBuckets>\
        </PublicAccessBlockConfiguration>";
    let switches = parse_public_access_block(body).unwrap();
    assert_eq!(
        switches,
        PublicAccessBlock {
            block_public_acls: true,
            restrict_public_buckets: true,
            ..PublicAccessBlock::default()
        }
    );
    let xml = public_access_block_xml(switches);
    assert_eq!(parse_public_access_block(xml.as_bytes()).unwrap(), switches);
    for bad in [
        &b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls>\
           </PublicAccessBlockConfiguration>"[..],
        b"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls>\
           <BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>",
        b"<PublicAccessBlockConfiguration><Other>true</Other></PublicAccessBlockConfiguration>",
        b"<Other/>",
    ] {
        let error = parse_public_access_block(bad).unwrap_err();
        assert_eq!(error.code, S3ErrorCode::MalformedXML);
    }
}

#[test]
fn ownership_controls_take_one_rule_of_three_values() {
    let body = |value: &str| {
        format!(
            "<OwnershipControls><Rule><ObjectOwnership>{value}</ObjectOwnership></Rule>\
             </OwnershipControls>"
        )
    };
    for value in OBJECT_OWNERSHIP_VALUES {
        assert_eq!(
            parse_ownership_controls(body(value).as_bytes()).unwrap(),
            value
        );
    }
    assert!(parse_ownership_controls(body("Owner").as_bytes()).is_err());
    assert!(parse_ownership_controls(b"<OwnershipControls/>").is_err());
    let xml = ownership_controls_xml("BucketOwnerEnforced");
    assert_eq!(
        parse_ownership_controls(xml.as_bytes()).unwrap(),
        "BucketOwnerEnforced"
    );
}

#[test]
fn an_acl_round_trips_through_its_xml() {
    let acl = base::acl::Acl::canned("public-read").unwrap();
    let xml = access_control_policy_xml("owner-id", "maxiofs", &acl);
    let parsed = parse_access_control_policy(xml.as_bytes()).unwrap();
    assert_eq!(parsed.owner_id.as_deref(), Some("owner-id"));
    let grants: Vec<(&str, &str, Permission)> = parsed
        .grants
        .iter()
        .map(|(grantee, permission)| (grantee.kind.as_str(), grantee.value.as_str(), *permission))
        .collect();
    assert_eq!(
        grants,
        [
            ("ID", "owner-id", Permission::FullControl),
            ("URI", base::acl::ALL_USERS_URI, Permission::Read)
        ]
    );
}

#[test]
fn grants_need_one_grantee_and_a_known_permission() {
    let grant = |inner: &str| {
        format!(
            "<AccessControlPolicy><AccessControlList><Grant>{inner}</Grant></AccessControlList>\
             </AccessControlPolicy>"
        )
    };
    for bad in [
        grant("<Permission>READ</Permission>"),
        grant("<Grantee><ID>a</ID></Grantee>"),
        grant("<Grantee><ID>a</ID></Grantee><Permission>EVERYTHING</Permission>"),
        grant("<Grantee><ID>a</ID><URI>b</URI></Grantee><Permission>READ</Permission>"),
    ] {
        let error = parse_access_control_policy(bad.as_bytes()).unwrap_err();
        assert_eq!(error.code, S3ErrorCode::MalformedACLError, "{bad}");
    }
    assert!(parse_access_control_policy(b"<Other/>").is_err());
    let empty = "<AccessControlPolicy><Owner><ID>o</ID></Owner><AccessControlList/>\
                 </AccessControlPolicy>";
    assert!(
        parse_access_control_policy(empty.as_bytes())
            .unwrap()
            .grants
            .is_empty()
    );
}

#[test]
fn more_than_a_hundred_grants_is_a_malformed_acl() {
    let grant = "<Grant><Grantee><ID>owner-id</ID></Grantee><Permission>FULL_CONTROL</Permission>\
                 </Grant>";
    let body = |count: usize| {
        format!(
            "<AccessControlPolicy><AccessControlList>{}</AccessControlList></AccessControlPolicy>",
            grant.repeat(count)
        )
    };
    let parsed = parse_access_control_policy(body(ACL_GRANTS_MAX).as_bytes()).unwrap();
    assert_eq!(parsed.grants.len(), ACL_GRANTS_MAX);
    let error = parse_access_control_policy(body(ACL_GRANTS_MAX + 1).as_bytes());
    assert_eq!(error.unwrap_err().code, S3ErrorCode::MalformedACLError);
}
