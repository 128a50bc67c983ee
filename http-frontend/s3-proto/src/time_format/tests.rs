use super::{
    http_date_from_millis, http_date_from_secs, iso8601_millis, parse_http_date,
    parse_iso8601_millis, parse_request_date,
};

#[test]
fn iso8601_has_millis_and_z() {
    assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(
        iso8601_millis(1_255_369_830_000),
        "2009-10-12T17:50:30.000Z"
    );
    assert_eq!(
        iso8601_millis(1_255_369_830_042),
        "2009-10-12T17:50:30.042Z"
    );
}

#[test]
fn iso8601_clamps_out_of_range() {
    assert_eq!(iso8601_millis(-1), "1970-01-01T00:00:00.000Z");
    assert_eq!(iso8601_millis(i64::MAX), "9999-12-31T23:59:59.999Z");
}

#[test]
fn http_date_is_imf_fixdate() {
    assert_eq!(
        http_date_from_secs(1_255_369_830),
        "Mon, 12 Oct 2009 17:50:30 GMT"
    );
    assert_eq!(
        http_date_from_millis(1_255_369_830_999),
        "Mon, 12 Oct 2009 17:50:30 GMT"
    );
    assert_eq!(http_date_from_secs(-5), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(
        http_date_from_secs(i64::MAX),
        "Fri, 31 Dec 9999 23:59:59 GMT"
    );
}

#[test]
fn http_dates_parse_in_all_three_forms() {
    for value in [
        "Mon, 12 Oct 2009 17:50:30 GMT",
        "Monday, 12-Oct-09 17:50:30 GMT",
        "Mon Oct 12 17:50:30 2009",
        " Mon, 12 Oct 2009 17:50:30 GMT ",
    ] {
        assert_eq!(parse_http_date(value), Some(1_255_369_830), "{value:?}");
    }
    assert_eq!(parse_http_date("yesterday"), None);
    assert_eq!(parse_http_date(""), None);
}

#[test]
fn iso8601_parses_rfc3339() {
    assert_eq!(
        parse_iso8601_millis("2009-10-12T17:50:30.042Z"),
        Some(1_255_369_830_042)
    );
    assert_eq!(
        parse_iso8601_millis("2009-10-12T19:50:30+02:00"),
        Some(1_255_369_830_000)
    );
    assert_eq!(parse_iso8601_millis("2009-10-12"), None);
}

#[test]
fn request_dates_take_http_and_rfc_2822_forms() {
    let secs = Some(1_255_369_830);
    for value in [
        "Mon, 12 Oct 2009 17:50:30 GMT",
        "Monday, 12-Oct-09 17:50:30 GMT",
        "Mon Oct 12 17:50:30 2009",
        "Mon, 12 Oct 2009 17:50:30 +0000",
        // botocore's email.utils.formatdate() for a SigV4 request whose caller set Date.
        "Mon, 12 Oct 2009 17:50:30 -0000",
        " Mon, 12 Oct 2009 19:50:30 +0200 ",
    ] {
        assert_eq!(parse_request_date(value), secs, "{value}");
    }
    for value in [
        "yesterday",
        "",
        "Mon, 12 Oct 2009 17:50:30",
        "2009-10-12T17:50:30Z",
    ] {
        assert_eq!(parse_request_date(value), None, "{value}");
    }
}
