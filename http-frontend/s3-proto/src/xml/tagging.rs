//! Tagging: the `Tagging` request body of PutObjectTagging / PutBucketTagging, the same
//! document as the Get answers, the `x-amz-tagging` header's query-string form, and the tag
//! rules S3 enforces (counts, lengths, characters, the reserved `aws:` prefix).

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, malformed_xml, push_element};
use crate::error::{S3Error, S3ErrorCode};

/// Most tags on an object.
pub const OBJECT_TAGS_MAX: usize = 10;
/// Most tags on a bucket.
pub const BUCKET_TAGS_MAX: usize = 50;
/// Longest tag key, in UTF-16 code units (S3 counts Unicode characters as Java does).
pub const TAG_KEY_UTF16_MAX: usize = 128;
/// Longest tag value, in UTF-16 code units.
pub const TAG_VALUE_UTF16_MAX: usize = 256;
/// Tags read from one body before giving up: well above both limits, so the limit check
/// reports the count, and a bound on memory for a hostile body.
const TAGS_PARSED_MAX: usize = 1000;

/// Which tag set a request writes: the limits differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagTarget {
    Object,
    Bucket,
}

/// Parses a `Tagging` body (`<Tagging><TagSet><Tag><Key/><Value/></Tag>...`), with or without
/// the S3 namespace. `MalformedXML` for another shape, a tag without `Key` or `Value`, or a
/// repeated field. The tags are not validated here: see [`validate_tags`].
pub fn parse_tagging(body: &[u8]) -> Result<Vec<(String, String)>, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("Tagging")?;
    let mut tags = Vec::new();
    let mut tag_set_seen = false;
    let (mut key, mut value): (Option<String>, Option<String>) = (None, None);
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "TagSet" && !tag_set_seen => {
                tag_set_seen = true;
            }
            Step::Open { name, depth: 3 } if name == "Tag" => {
                if tags.len() == TAGS_PARSED_MAX {
                    return Err(too_many_tags(TagTarget::Bucket));
                }
                (key, value) = (None, None);
            }
            Step::Open { name, depth: 4 } if name == "Key" || name == "Value" => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 4,
                text,
            } => {
                let slot = if name == "Key" { &mut key } else { &mut value };
                if slot.replace(text).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::Close { depth: 3, text, .. } => {
                require_blank(&text)?;
                let (Some(key), Some(value)) = (key.take(), value.take()) else {
                    return Err(malformed_xml());
                };
                tags.push((key, value));
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    if !tag_set_seen {
        return Err(malformed_xml());
    }
    Ok(tags)
}

/// Parses the `x-amz-tagging` header: URL query-string form (`k1=v1&k2=v2`, `+` is a space,
/// a key without `=` has an empty value). An empty header is no tags.
pub fn parse_tagging_header(value: &str) -> Result<Vec<(String, String)>, S3Error> {
    let mut tags: Vec<(String, String)> = Vec::new();
    for pair in value.split('&').filter(|pair| !pair.is_empty()) {
        if tags.len() == TAGS_PARSED_MAX {
            return Err(too_many_tags(TagTarget::Object));
        }
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(key), Some(value)) = (form_decode(key), form_decode(value)) else {
            return Err(bad_tagging_header());
        };
        if tags.iter().any(|(existing, _)| *existing == key) {
            return Err(bad_tagging_header());
        }
        tags.push((key, value));
    }
    Ok(tags)
}

fn bad_tagging_header() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query \
         parameters without tag name duplicates.",
    )
    .extra("ArgumentName", "x-amz-tagging")
}

/// Decodes one `application/x-www-form-urlencoded` component; `None` for a bad escape or
/// bytes that are not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(byte) = input.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = char::from(input.next()?).to_digit(16)?;
                let low = char::from(input.next()?).to_digit(16)?;
                bytes.push(u8::try_from(high * 16 + low).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

fn too_many_tags(target: TagTarget) -> S3Error {
    let message = match target {
        TagTarget::Object => "Object tags cannot be greater than 10",
        TagTarget::Bucket => "Bucket tag count cannot be greater than 50",
    };
    S3Error::with_message(S3ErrorCode::BadRequest, message)
}

fn invalid_tag(message: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidTag, message)
}

/// Letters, digits and spaces of any script, and `+ - = . _ : / @` (the S3 tag character set).
fn is_tag_character(character: char) -> bool {
    character.is_alphanumeric()
        || (character.is_whitespace() && !character.is_control())
        || matches!(character, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
}

/// S3's tag rules: at most 10 (object) or 50 (bucket) tags (`BadRequest`); keys of 1 to 128
/// and values of 0 to 256 UTF-16 units from the tag character set, no `aws:` key prefix, no
/// repeated key (`InvalidTag`).
pub fn validate_tags(tags: &[(String, String)], target: TagTarget) -> Result<(), S3Error> {
    let tags_max = match target {
        TagTarget::Object => OBJECT_TAGS_MAX,
        TagTarget::Bucket => BUCKET_TAGS_MAX,
    };
    if tags.len() > tags_max {
        return Err(too_many_tags(target));
    }
    for (index, (key, value)) in tags.iter().enumerate() {
        if key.encode_utf16().count() > TAG_KEY_UTF16_MAX {
            return Err(invalid_tag(
                "The TagKey you have provided is too long, max 128",
            ));
        }
        if value.encode_utf16().count() > TAG_VALUE_UTF16_MAX {
            return Err(invalid_tag(
                "The TagValue you have provided is too long, max 256",
            ));
        }
        if key.is_empty() || !key.chars().all(is_tag_character) {
            return Err(invalid_tag("The TagKey you have provided is invalid"));
        }
        if !value.chars().all(is_tag_character) {
            return Err(invalid_tag("The TagValue you have provided is invalid"));
        }
        if key
            .get(..4)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("aws:"))
        {
            return Err(invalid_tag("Your TagKey cannot be prefixed with aws:"));
        }
        if tags[..index].iter().any(|(earlier, _)| earlier == key) {
            return Err(invalid_tag(
                "Cannot provide multiple Tags with the same key",
            ));
        }
    }
    Ok(())
}

/// The `Tagging` document of GetObjectTagging and GetBucketTagging.
pub fn tagging_xml(tags: &[(String, String)]) -> String {
    let mut out = String::with_capacity(128 + tags.len() * 64);
    out.push_str(XML_DECLARATION);
    out.push_str("<Tagging xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\"><TagSet>");
    for (key, value) in tags {
        out.push_str("<Tag>");
        push_element(&mut out, "Key", key);
        push_element(&mut out, "Value", value);
        out.push_str("</Tag>");
    }
    out.push_str("</TagSet></Tagging>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn tagging_round_trips() {
        let tags = pairs(&[("a b", "1 & 2"), ("k", "")]);
        assert_eq!(parse_tagging(tagging_xml(&tags).as_bytes()).unwrap(), tags);
        let empty = b"<Tagging><TagSet/></Tagging>";
        assert!(parse_tagging(empty).unwrap().is_empty());
    }

    #[test]
    fn malformed_bodies_are_malformed_xml() {
        for body in [
            "<Tagging/>",
            "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
            "<Tagging><TagSet><Tag><Key>k</Key><Key>j</Key><Value/></Tag></TagSet></Tagging>",
            "<Tagging><TagSet><Tag><Key>k</Key><Value/><Other/></Tag></TagSet></Tagging>",
            "<Other><TagSet/></Other>",
        ] {
            let error = parse_tagging(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::MalformedXML, "{body}");
        }
    }

    #[test]
    fn header_form_decodes() {
        assert_eq!(
            parse_tagging_header("a=1&b%20c=d+e&f").unwrap(),
            pairs(&[("a", "1"), ("b c", "d e"), ("f", "")])
        );
        assert!(parse_tagging_header("").unwrap().is_empty());
        for bad in ["a=1&a=2", "a=%zz", "a=%ff"] {
            let error = parse_tagging_header(bad).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::InvalidArgument, "{bad}");
        }
    }

    #[test]
    fn rules() {
        let code = |tags: &[(&str, &str)], target| {
            validate_tags(&pairs(tags), target)
                .err()
                .map(|error| error.code)
        };
        assert_eq!(
            code(&[("k", "v"), ("é字 +-=._:/@", "")], TagTarget::Object),
            None
        );
        let eleven: Vec<(String, String)> =
            (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        let as_refs: Vec<(&str, &str)> = eleven
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            code(&as_refs, TagTarget::Object),
            Some(S3ErrorCode::BadRequest)
        );
        assert_eq!(code(&as_refs, TagTarget::Bucket), None);
        let long_key = "k".repeat(129);
        let long_value = "v".repeat(257);
        for bad in [
            vec![(long_key.as_str(), "v")],
            vec![("k", long_value.as_str())],
            vec![("", "v")],
            vec![("aws:x", "v")],
            vec![("k", "v"), ("k", "w")],
            vec![("k#", "v")],
        ] {
            assert_eq!(code(&bad, TagTarget::Object), Some(S3ErrorCode::InvalidTag));
        }
        // 65 letters outside the BMP are 130 UTF-16 units: too long a key.
        let astral = "\u{1D400}".repeat(65);
        assert_eq!(
            code(&[(astral.as_str(), "")], TagTarget::Object),
            Some(S3ErrorCode::InvalidTag)
        );
    }
}
