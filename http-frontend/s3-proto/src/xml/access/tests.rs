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
fn only_the_owners_full_control_is_owner_only() {
    let owner = "owner-id";
    let ours = owner_full_control_xml(owner, "maxiofs");
    assert!(grants_owner_full_control_only(ours.as_bytes(), owner).unwrap());
    assert!(!grants_owner_full_control_only(ours.as_bytes(), "someone").unwrap());
    let public = ours.replace(
        "</AccessControlList>",
        "<Grant><Grantee xsi:type=\"Group\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\
         <URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>\
         <Permission>READ</Permission></Grant></AccessControlList>",
    );
    assert!(!grants_owner_full_control_only(public.as_bytes(), owner).unwrap());
    let read_only = ours.replace("FULL_CONTROL", "READ");
    assert!(!grants_owner_full_control_only(read_only.as_bytes(), owner).unwrap());
    let no_grant = "<AccessControlPolicy><Owner><ID>owner-id</ID></Owner>\
                    <AccessControlList/></AccessControlPolicy>";
    assert!(!grants_owner_full_control_only(no_grant.as_bytes(), owner).unwrap());
    assert!(grants_owner_full_control_only(b"<Other/>", owner).is_err());
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
    assert!(grants_owner_full_control_only(body(ACL_GRANTS_MAX).as_bytes(), "owner-id").unwrap());
    let error = grants_owner_full_control_only(body(ACL_GRANTS_MAX + 1).as_bytes(), "owner-id");
    assert_eq!(error.unwrap_err().code, S3ErrorCode::MalformedACLError);
}
