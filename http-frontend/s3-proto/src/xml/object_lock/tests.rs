use super::*;

/// What boto3's put_object_lock_configuration sends.
const CONFIG: &str = "<ObjectLockConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
    <ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>\
    <Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>\
    </ObjectLockConfiguration>";

/// 2030-01-01T00:00:00Z.
const Y2030_MS: i64 = 1_893_456_000_000;

fn code<T: std::fmt::Debug>(result: Result<T, S3Error>) -> S3ErrorCode {
    result.expect_err("expected an error").code
}

fn extra(error: &S3Error, name: &str) -> Option<String> {
    error
        .extra
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.clone())
}

#[test]
fn configurations_parse_and_round_trip() {
    let parsed = parse_object_lock_configuration(CONFIG.as_bytes()).unwrap();
    assert_eq!(
        parsed,
        ObjectLockConfiguration {
            rule: Some(DefaultRetention {
                mode: RetentionMode::Governance,
                period: RetentionPeriod::Days(30),
            }),
        }
    );
    let years = CONFIG
        .replace("<Days>30</Days>", "<Years>100</Years>")
        .replace("GOVERNANCE", "COMPLIANCE");
    let no_rule = "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>\
                   </ObjectLockConfiguration>";
    for body in [CONFIG, years.as_str(), no_rule] {
        let parsed = parse_object_lock_configuration(body.as_bytes()).unwrap();
        let written = object_lock_configuration_xml(&parsed);
        assert_eq!(
            parse_object_lock_configuration(written.as_bytes()).unwrap(),
            parsed,
            "{written}"
        );
    }
    assert!(
        object_lock_configuration_xml(&ObjectLockConfiguration { rule: None }).ends_with(
            "\"><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>"
        )
    );
    assert!(object_lock_configuration_xml(&parsed).ends_with(
        "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention>\
         </Rule></ObjectLockConfiguration>"
    ));
}

#[test]
fn configuration_shapes_s3_refuses_are_malformed() {
    let enabled = "<ObjectLockEnabled>Enabled</ObjectLockEnabled>";
    for body in [
        CONFIG.replace(enabled, ""),
        CONFIG.replace(">Enabled<", ">Disabled<"),
        CONFIG.replace(">Enabled<", ">enabled<"),
        CONFIG.replace(enabled, &format!("{enabled}{enabled}")),
        CONFIG.replace("<Days>30</Days>", "<Days>30</Days><Years>1</Years>"),
        CONFIG.replace("<Days>30</Days>", ""),
        CONFIG.replace("<Mode>GOVERNANCE</Mode>", ""),
        CONFIG.replace("GOVERNANCE", "governance"),
        CONFIG.replace("GOVERNANCE", "abc"),
        CONFIG.replace("<Days>30</Days>", "<Days>30</Days><Days>30</Days>"),
        CONFIG.replace("30", "abc"),
        CONFIG.replace("30", "1.5"),
        CONFIG.replace("30", ""),
        CONFIG.replace(
            "<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention>\
             </Rule>",
            "<Rule></Rule>",
        ),
        CONFIG.replace("<Mode>GOVERNANCE</Mode><Days>30</Days>", ""),
        CONFIG.replace("<Rule>", "<Rule><Extra/>"),
        CONFIG.replace("</Rule>", "</Rule><Rule/>"),
        CONFIG.replace("<Days>30</Days>", "<Days>30</Days><DefaultEventHold/>"),
        CONFIG.replace("ObjectLockConfiguration", "ObjectLock"),
    ] {
        let result = parse_object_lock_configuration(body.as_bytes());
        assert_eq!(code(result), S3ErrorCode::MalformedXML, "{body}");
    }
}

#[test]
fn periods_out_of_range_are_invalid_arguments() {
    for (from, to, name, message) in [
        (
            "<Days>30",
            "<Days>0",
            "Days",
            "must be a positive integer value",
        ),
        (
            "<Days>30",
            "<Days>-1",
            "Days",
            "must be a positive integer value",
        ),
        ("<Days>30", "<Days>36501", "Days", "too large"),
        ("<Days>30", "<Days>999999999999", "Days", "too large"),
        ("<Days>30</Days>", "<Years>0</Years>", "Years", "positive"),
        (
            "<Days>30</Days>",
            "<Years>101</Years>",
            "Years",
            "too large",
        ),
    ] {
        let body = CONFIG.replace(from, to);
        let error = parse_object_lock_configuration(body.as_bytes()).unwrap_err();
        assert_eq!(error.code, S3ErrorCode::InvalidArgument, "{body}");
        assert!(error.message_or_default().contains(message), "{error:?}");
        assert_eq!(extra(&error, "ArgumentName").as_deref(), Some(name));
    }
    let longest = CONFIG.replace("<Days>30", "<Days>36500");
    assert!(parse_object_lock_configuration(longest.as_bytes()).is_ok());
}

#[test]
fn retention_parses_with_or_without_fractions_and_round_trips() {
    for date in [
        "2030-01-01T00:00:00Z",
        "2030-01-01T00:00:00.000Z",
        "2030-01-01T01:00:00+01:00",
    ] {
        let body = format!(
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
             <Mode>COMPLIANCE</Mode><RetainUntilDate>{date}</RetainUntilDate></Retention>"
        );
        let parsed = parse_retention(body.as_bytes()).unwrap();
        let expected = ObjectRetention {
            mode: RetentionMode::Compliance,
            retain_until_ms: Y2030_MS,
        };
        assert_eq!(parsed, Some(expected), "{date}");
        let written = retention_xml(&expected);
        assert!(written.ends_with(
            "<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Mode>COMPLIANCE\
             </Mode><RetainUntilDate>2030-01-01T00:00:00.000Z</RetainUntilDate></Retention>"
        ));
        assert_eq!(parse_retention(written.as_bytes()).unwrap(), Some(expected));
    }
    assert_eq!(parse_retention(b"<Retention/>").unwrap(), None);
    assert_eq!(parse_retention(b"<Retention>\n</Retention>").unwrap(), None);
}

#[test]
fn retention_shapes_and_values_s3_refuses_are_malformed() {
    let mode = "<Mode>GOVERNANCE</Mode>";
    let date = "<RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>";
    for inner in [
        mode.to_owned(),
        date.to_owned(),
        format!("<Mode>governance</Mode>{date}"),
        format!("<Mode>BAD</Mode>{date}"),
        format!("{mode}<RetainUntilDate>2030-01-01T00:00:00</RetainUntilDate>"),
        format!("{mode}<RetainUntilDate>2030-01-01</RetainUntilDate>"),
        format!("{mode}<RetainUntilDate>abc</RetainUntilDate>"),
        format!("{mode}{mode}{date}"),
        format!("{mode}{date}<EventHold>ON</EventHold>"),
    ] {
        let body = format!("<Retention>{inner}</Retention>");
        assert_eq!(
            code(parse_retention(body.as_bytes())),
            S3ErrorCode::MalformedXML,
            "{body}"
        );
    }
}

#[test]
fn past_dates_are_refused_with_s3_words() {
    assert!(check_retain_until_in_future(Y2030_MS, Y2030_MS - 1, "RetainUntilDate").is_ok());
    let error = check_retain_until_in_future(Y2030_MS, Y2030_MS, "RetainUntilDate").unwrap_err();
    assert_eq!(error.code, S3ErrorCode::InvalidArgument);
    assert_eq!(
        error.message_or_default(),
        "The retain until date must be in the future!"
    );
    assert_eq!(
        extra(&error, "ArgumentName").as_deref(),
        Some("RetainUntilDate")
    );
}

#[test]
fn legal_holds_are_on_or_off() {
    for hold in [LegalHold::On, LegalHold::Off] {
        let written = legal_hold_xml(hold);
        assert_eq!(parse_legal_hold(written.as_bytes()).unwrap(), hold);
    }
    assert!(legal_hold_xml(LegalHold::On).ends_with(
        "<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Status>ON</Status>\
         </LegalHold>"
    ));
    for body in [
        "<LegalHold><Status>on</Status></LegalHold>",
        "<LegalHold><Status>abc</Status></LegalHold>",
        "<LegalHold><Status></Status></LegalHold>",
        "<LegalHold></LegalHold>",
        "<LegalHold><Status>ON</Status><Status>ON</Status></LegalHold>",
        "<LegalHold><Status>ON</Status><Other/></LegalHold>",
        "<Hold><Status>ON</Status></Hold>",
    ] {
        assert_eq!(
            code(parse_legal_hold(body.as_bytes())),
            S3ErrorCode::MalformedXML,
            "{body}"
        );
    }
}

#[test]
fn lock_headers_parse_with_s3_errors() {
    let none = parse_object_lock_headers(None, None, None).unwrap();
    assert!(none.is_empty());
    let all = parse_object_lock_headers(
        Some("COMPLIANCE"),
        Some("2030-01-01T00:00:00.000Z"),
        Some("ON"),
    )
    .unwrap();
    assert_eq!(
        all,
        ObjectLockHeaders {
            retention: Some(ObjectRetention {
                mode: RetentionMode::Compliance,
                retain_until_ms: Y2030_MS,
            }),
            legal_hold: Some(LegalHold::On),
        }
    );
    let hold_only = parse_object_lock_headers(None, None, Some("OFF")).unwrap();
    assert_eq!(hold_only.legal_hold, Some(LegalHold::Off));
    assert!(!hold_only.is_empty());
    for (mode, date, hold, name, message) in [
        (
            Some("GOVERNANCE"),
            None,
            None,
            DATE_HEADER,
            "must both be supplied",
        ),
        (
            None,
            Some("2030-01-01T00:00:00Z"),
            None,
            MODE_HEADER,
            "must both be supplied",
        ),
        (
            Some("governance"),
            Some("2030-01-01T00:00:00Z"),
            None,
            MODE_HEADER,
            "Unknown wormMode directive.",
        ),
        (
            Some("GOVERNANCE"),
            Some("abc"),
            None,
            DATE_HEADER,
            "ISO 8601",
        ),
        (None, None, Some("wrong"), HOLD_HEADER, "'ON' or 'OFF'"),
    ] {
        let error = parse_object_lock_headers(mode, date, hold).unwrap_err();
        assert_eq!(error.code, S3ErrorCode::InvalidArgument);
        assert!(error.message_or_default().contains(message), "{error:?}");
        assert_eq!(extra(&error, "ArgumentName").as_deref(), Some(name));
    }
}
