//! Bucket CORS: the `CORSConfiguration` document of PutBucketCors and GetBucketCors.
//!
//! ```xml
//! <CORSConfiguration>
//!   <CORSRule>
//!     <ID>optional</ID>
//!     <AllowedOrigin>https://*.example.com</AllowedOrigin>   <!-- one or more -->
//!     <AllowedMethod>PUT</AllowedMethod>                     <!-- one or more -->
//!     <AllowedHeader>*</AllowedHeader>                       <!-- any number -->
//!     <ExposeHeader>ETag</ExposeHeader>                      <!-- any number -->
//!     <MaxAgeSeconds>3000</MaxAgeSeconds>                    <!-- optional -->
//!   </CORSRule>
//! </CORSConfiguration>
//! ```
//!
//! Validation is AWS's: at least one rule and at most `CORS_RULE_COUNT_MAX`; every rule names
//! an origin and a method; methods are GET, PUT, HEAD, POST or DELETE; an origin or allowed
//! header has at most one `*`; an expose header has none (InvalidRequest, with AWS's words).
//! No value may hold a control character (`&#13;&#10;` decodes to CR LF): expose headers are
//! served verbatim in `Access-Control-Expose-Headers`, to unauthenticated preflights too.

use base::limits::CORS_RULE_COUNT_MAX;

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, escape_into, malformed_xml};
use crate::error::{S3Error, S3ErrorCode};
use crate::http_field::has_control;

/// The methods a CORS rule may allow (AWS `CORSRule.AllowedMethods`).
pub const CORS_METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

/// Longest rule ID AWS accepts.
const RULE_ID_CHARS_MAX: usize = 255;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorsRule {
    pub id: Option<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u32>,
}

pub fn parse_cors_configuration(body: &[u8]) -> Result<Vec<CorsRule>, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("CORSConfiguration")?;
    let mut rules: Vec<CorsRule> = Vec::new();
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "CORSRule" => {
                if rules.len() == CORS_RULE_COUNT_MAX {
                    return Err(S3Error::with_message(
                        S3ErrorCode::MalformedXML,
                        format!("A CORS configuration holds at most {CORS_RULE_COUNT_MAX} rules."),
                    ));
                }
                rules.push(CorsRule::default());
            }
            Step::Open { name, depth: 3 } if is_rule_field(&name) => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 3,
                text,
            } => {
                let rule = rules.last_mut().ok_or_else(malformed_xml)?;
                set_field(rule, &name, &text)?;
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    if rules.is_empty() {
        return Err(malformed_xml());
    }
    validate_cors_rules(&rules)?;
    Ok(rules)
}

/// The checks above on rules that did not come as XML (the console API's JSON): one to
/// `CORS_RULE_COUNT_MAX` rules, each valid. A rule without a method or an origin, or with an
/// empty origin, is MalformedXML as from the XML (callers may say it in their own words first).
pub fn validate_cors_rules(rules: &[CorsRule]) -> Result<(), S3Error> {
    if rules.is_empty() || rules.len() > CORS_RULE_COUNT_MAX {
        return Err(S3Error::with_message(
            S3ErrorCode::MalformedXML,
            format!("A CORS configuration holds 1 to {CORS_RULE_COUNT_MAX} rules."),
        ));
    }
    rules.iter().try_for_each(validate_rule)
}

fn is_rule_field(name: &str) -> bool {
    matches!(
        name,
        "ID" | "AllowedMethod"
            | "AllowedOrigin"
            | "AllowedHeader"
            | "ExposeHeader"
            | "MaxAgeSeconds"
    )
}

fn set_field(rule: &mut CorsRule, name: &str, text: &str) -> Result<(), S3Error> {
    let value = text.trim().to_owned();
    match name {
        "ID" => {
            if rule.id.replace(value).is_some() {
                return Err(malformed_xml());
            }
        }
        "AllowedMethod" => rule.allowed_methods.push(value),
        "AllowedOrigin" => rule.allowed_origins.push(value),
        "AllowedHeader" => rule.allowed_headers.push(value),
        "ExposeHeader" => rule.expose_headers.push(value),
        _ => {
            let seconds = value.parse::<u32>().map_err(|_| malformed_xml())?;
            if rule.max_age_seconds.replace(seconds).is_some() {
                return Err(malformed_xml());
            }
        }
    }
    Ok(())
}

fn validate_rule(rule: &CorsRule) -> Result<(), S3Error> {
    let invalid =
        |message: String| Err(S3Error::with_message(S3ErrorCode::InvalidRequest, message));
    if rule.allowed_methods.is_empty() || rule.allowed_origins.is_empty() {
        return Err(malformed_xml());
    }
    // Before any message below quotes a value: the quoted value is then free of controls.
    for (element, values) in [
        ("ID", rule.id.as_slice()),
        ("AllowedMethod", rule.allowed_methods.as_slice()),
        ("AllowedOrigin", rule.allowed_origins.as_slice()),
        ("AllowedHeader", rule.allowed_headers.as_slice()),
        ("ExposeHeader", rule.expose_headers.as_slice()),
    ] {
        if values.iter().any(|value| has_control(value)) {
            return invalid(format!(
                "{element} contains a control character, which is not allowed."
            ));
        }
    }
    if rule
        .id
        .as_ref()
        .is_some_and(|id| id.chars().count() > RULE_ID_CHARS_MAX)
    {
        return invalid(format!(
            "The ID of a CORS rule is at most {RULE_ID_CHARS_MAX} characters."
        ));
    }
    for method in &rule.allowed_methods {
        if !CORS_METHODS.contains(&method.as_str()) {
            return invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {method}"
            ));
        }
    }
    for origin in &rule.allowed_origins {
        if origin.is_empty() {
            return Err(malformed_xml());
        }
        if wildcards(origin) > 1 {
            return invalid(format!(
                "AllowedOrigin \"{origin}\" can not have more than one wildcard."
            ));
        }
    }
    for header in &rule.allowed_headers {
        if wildcards(header) > 1 {
            return invalid(format!(
                "AllowedHeader \"{header}\" can not have more than one wildcard."
            ));
        }
    }
    for header in &rule.expose_headers {
        if wildcards(header) > 0 {
            return invalid(format!(
                "ExposeHeader \"{header}\" contains wildcard. We currently do not support \
                 wildcard for ExposeHeader."
            ));
        }
    }
    Ok(())
}

fn wildcards(pattern: &str) -> usize {
    pattern.bytes().filter(|&byte| byte == b'*').count()
}

pub fn cors_configuration_xml(rules: &[CorsRule]) -> String {
    let mut out = String::with_capacity(200 + 200 * rules.len());
    out.push_str(XML_DECLARATION);
    out.push_str("<CORSConfiguration xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\">");
    for rule in rules {
        out.push_str("<CORSRule>");
        if let Some(id) = &rule.id {
            element(&mut out, "ID", id);
        }
        for (name, values) in [
            ("AllowedHeader", &rule.allowed_headers),
            ("AllowedMethod", &rule.allowed_methods),
            ("AllowedOrigin", &rule.allowed_origins),
            ("ExposeHeader", &rule.expose_headers),
        ] {
            for value in values {
                element(&mut out, name, value);
            }
        }
        if let Some(seconds) = rule.max_age_seconds {
            element(&mut out, "MaxAgeSeconds", &seconds.to_string());
        }
        out.push_str("</CORSRule>");
    }
    out.push_str("</CORSConfiguration>");
    out
}

fn element(out: &mut String, name: &str, text: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    escape_into(out, text);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What boto3 sends for `put_bucket_cors` with two rules.
    const TWO_RULES: &str = "<CORSConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
        <CORSRule><ID>uploads</ID><AllowedHeader>*</AllowedHeader>\
        <AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>\
        <AllowedOrigin>https://*.example.com</AllowedOrigin><ExposeHeader>ETag</ExposeHeader>\
        <MaxAgeSeconds>3000</MaxAgeSeconds></CORSRule>\
        <CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>\
        </CORSConfiguration>";

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|&item| item.to_owned()).collect()
    }

    #[test]
    fn what_boto3_sends_parses_and_round_trips() {
        let rules = parse_cors_configuration(TWO_RULES.as_bytes()).unwrap();
        assert_eq!(
            rules,
            [
                CorsRule {
                    id: Some("uploads".into()),
                    allowed_methods: strings(&["PUT", "POST"]),
                    allowed_origins: strings(&["https://*.example.com"]),
                    allowed_headers: strings(&["*"]),
                    expose_headers: strings(&["ETag"]),
                    max_age_seconds: Some(3000),
                },
                CorsRule {
                    allowed_methods: strings(&["GET"]),
                    allowed_origins: strings(&["*"]),
                    ..CorsRule::default()
                },
            ]
        );
        let written = cors_configuration_xml(&rules);
        assert_eq!(parse_cors_configuration(written.as_bytes()).unwrap(), rules);
    }

    #[test]
    fn shapes_s3_refuses_are_malformed() {
        let no_origin = TWO_RULES.replace("<AllowedOrigin>*</AllowedOrigin>", "");
        let no_method = TWO_RULES.replace("<AllowedMethod>GET</AllowedMethod>", "");
        let no_rules = "<CORSConfiguration></CORSConfiguration>".to_owned();
        let empty_origin =
            TWO_RULES.replace("<AllowedOrigin>*</AllowedOrigin>", "<AllowedOrigin/>");
        let bad_age = TWO_RULES.replace("3000", "-1");
        let two_ages = TWO_RULES.replace(
            "<MaxAgeSeconds>3000</MaxAgeSeconds>",
            "<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds>",
        );
        let unknown = TWO_RULES.replace("<ID>uploads</ID>", "<Extra>1</Extra>");
        let too_many = format!(
            "<CORSConfiguration>{}</CORSConfiguration>",
            "<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>\
             </CORSRule>"
                .repeat(CORS_RULE_COUNT_MAX + 1)
        );
        for body in [
            no_origin,
            no_method,
            no_rules,
            empty_origin,
            bad_age,
            two_ages,
            unknown,
            too_many,
        ] {
            let error = parse_cors_configuration(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::MalformedXML, "{body}");
        }
    }

    #[test]
    fn values_s3_refuses_are_invalid_requests_with_its_message() {
        for (from, to, message) in [
            (
                "<AllowedMethod>GET</AllowedMethod>",
                "<AllowedMethod>PATCH</AllowedMethod>",
                "Unsupported method is PATCH",
            ),
            (
                "https://*.example.com",
                "https://*.example.*",
                "can not have more than one wildcard",
            ),
            (
                "<AllowedHeader>*</AllowedHeader>",
                "<AllowedHeader>x-*-*</AllowedHeader>",
                "AllowedHeader \"x-*-*\" can not have more than one wildcard",
            ),
            (
                "<ExposeHeader>ETag</ExposeHeader>",
                "<ExposeHeader>x-amz-*</ExposeHeader>",
                "contains wildcard",
            ),
        ] {
            let body = TWO_RULES.replace(from, to);
            let error = parse_cors_configuration(body.as_bytes()).unwrap_err();
            assert_eq!(error.code, S3ErrorCode::InvalidRequest, "{body}");
            assert!(error.message_or_default().contains(message), "{error:?}");
        }
        // XML character references decode to control characters; none may be stored.
        for (from, to) in [
            (
                "<ExposeHeader>ETag",
                "<ExposeHeader>ETag&#13;&#10;Set-Cookie: a=1",
            ),
            (
                "<ExposeHeader>ETag",
                "<ExposeHeader>ETag&#10;Set-Cookie: a=1",
            ),
            ("<AllowedHeader>*", "<AllowedHeader>x&#13;&#10;y"),
            (
                "https://*.example.com",
                "https://a.example.com&#13;&#10;Set-Cookie: a=1",
            ),
            ("<AllowedMethod>GET", "<AllowedMethod>GET&#13;&#10;X: 1"),
            ("<ID>uploads", "<ID>up&#0;loads"),
            ("<ExposeHeader>ETag", "<ExposeHeader>E&#9;Tag"),
        ] {
            let body = TWO_RULES.replace(from, to);
            let error = parse_cors_configuration(body.as_bytes()).unwrap_err();
            assert!(
                matches!(
                    error.code,
                    S3ErrorCode::InvalidRequest | S3ErrorCode::MalformedXML
                ),
                "{body}: {error:?}"
            );
        }
        let long_id = TWO_RULES.replace("uploads", &"i".repeat(RULE_ID_CHARS_MAX + 1));
        let error = parse_cors_configuration(long_id.as_bytes()).unwrap_err();
        assert_eq!(error.code, S3ErrorCode::InvalidRequest);
    }
}
