use super::*;

/// 2014-01-15T10:30:00Z, the AWS user guide's example creation time.
const JAN_15_1030: i64 = 1_389_781_800_000;
/// 2014-01-19T00:00:00Z: that object's expiry under a 3-day rule (the guide's answer).
const JAN_19: i64 = 1_390_089_600_000;

fn rule(id: &str) -> Rule {
    Rule {
        id: id.to_owned(),
        enabled: true,
        expiration: Some(Expiration::Days(1)),
        ..Rule::default()
    }
}

fn tags(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn config(rules: Vec<Rule>) -> LifecycleConfiguration {
    LifecycleConfiguration {
        rules,
        ..LifecycleConfiguration::default()
    }
}

// ---- validation ----

#[test]
fn a_plain_rule_is_valid() {
    assert_eq!(config(vec![rule("a")]).validate(), Ok(()));
}

#[test]
fn counts_and_ids() {
    assert_eq!(config(Vec::new()).validate(), Err(LifecycleError::NoRules));
    let many: Vec<Rule> = (0..=LIFECYCLE_RULES_MAX)
        .map(|i| rule(&i.to_string()))
        .collect();
    assert_eq!(
        config(many[..LIFECYCLE_RULES_MAX].to_vec()).validate(),
        Ok(())
    );
    assert_eq!(config(many).validate(), Err(LifecycleError::TooManyRules));
    assert_eq!(
        config(vec![rule("")]).validate(),
        Err(LifecycleError::EmptyId)
    );
    let longest = "é".repeat(LIFECYCLE_RULE_ID_CHARS_MAX);
    assert_eq!(config(vec![rule(&longest)]).validate(), Ok(()));
    let too_long = "i".repeat(LIFECYCLE_RULE_ID_CHARS_MAX + 1);
    assert_eq!(
        config(vec![rule(&too_long)]).validate(),
        Err(LifecycleError::IdTooLong)
    );
    assert_eq!(
        config(vec![rule("a"), rule("b"), rule("a")]).validate(),
        Err(LifecycleError::DuplicateId("a".to_owned()))
    );
}

#[test]
fn every_rule_needs_an_action() {
    let mut bare = rule("a");
    bare.expiration = None;
    assert_eq!(
        config(vec![bare.clone()]).validate(),
        Err(LifecycleError::NoAction)
    );
    for with_action in [
        Rule {
            abort_incomplete_days: Some(1),
            ..bare.clone()
        },
        Rule {
            noncurrent_expiration: Some(NoncurrentExpiration {
                noncurrent_days: 1,
                newer_noncurrent_versions: None,
            }),
            ..bare.clone()
        },
        Rule {
            expiration: Some(Expiration::ExpiredObjectDeleteMarker),
            ..bare.clone()
        },
    ] {
        assert_eq!(config(vec![with_action]).validate(), Ok(()));
    }
}

#[test]
fn day_counts_are_positive() {
    let check = |rule: Rule| config(vec![rule]).validate();
    assert_eq!(
        check(Rule {
            expiration: Some(Expiration::Days(0)),
            ..rule("a")
        }),
        Err(LifecycleError::ExpirationDaysNotPositive)
    );
    let noncurrent = |days, newer| Rule {
        expiration: None,
        noncurrent_expiration: Some(NoncurrentExpiration {
            noncurrent_days: days,
            newer_noncurrent_versions: newer,
        }),
        ..rule("a")
    };
    assert_eq!(
        check(noncurrent(0, None)),
        Err(LifecycleError::NoncurrentDaysNotPositive)
    );
    assert_eq!(check(noncurrent(1, Some(1))), Ok(()));
    assert_eq!(check(noncurrent(1, Some(100))), Ok(()));
    for newer in [0, 101] {
        assert_eq!(
            check(noncurrent(1, Some(newer))),
            Err(LifecycleError::NewerNoncurrentVersionsOutOfRange)
        );
    }
    assert_eq!(
        check(Rule {
            abort_incomplete_days: Some(0),
            ..rule("a")
        }),
        Err(LifecycleError::AbortDaysNotPositive)
    );
}

#[test]
fn dates_must_be_midnight_utc() {
    let check = |date| {
        config(vec![Rule {
            expiration: Some(Expiration::Date(date)),
            ..rule("a")
        }])
        .validate()
    };
    assert_eq!(check(JAN_19), Ok(()));
    assert_eq!(check(0), Ok(()));
    assert_eq!(check(-DAY_MS), Ok(()));
    for bad in [JAN_19 + 1, JAN_19 - 1000, JAN_15_1030] {
        assert_eq!(check(bad), Err(LifecycleError::DateNotMidnight));
    }
}

#[test]
fn size_bounds_must_leave_room() {
    let check = |greater, less| {
        let mut rule = rule("a");
        rule.filter.size_greater_than = greater;
        rule.filter.size_less_than = less;
        config(vec![rule]).validate()
    };
    assert_eq!(check(Some(0), Some(1)), Ok(()));
    assert_eq!(check(Some(10), None), Ok(()));
    assert_eq!(check(None, Some(1)), Ok(()));
    assert_eq!(check(Some(5), Some(5)), Err(LifecycleError::SizeRangeEmpty));
    assert_eq!(check(Some(6), Some(5)), Err(LifecycleError::SizeRangeEmpty));
    assert_eq!(
        check(None, Some(0)),
        Err(LifecycleError::SizeLessThanNotPositive)
    );
}

#[test]
fn tag_filters_exclude_marker_and_upload_actions() {
    let mut tagged = rule("a");
    tagged.filter.tags = tags(&[("k", "v")]);
    assert_eq!(config(vec![tagged.clone()]).validate(), Ok(()));
    let marker = Rule {
        expiration: Some(Expiration::ExpiredObjectDeleteMarker),
        ..tagged.clone()
    };
    assert_eq!(
        config(vec![marker]).validate(),
        Err(LifecycleError::DeleteMarkerWithTags)
    );
    let abort = Rule {
        abort_incomplete_days: Some(7),
        ..tagged
    };
    assert_eq!(
        config(vec![abort]).validate(),
        Err(LifecycleError::AbortWithTags)
    );
}

#[test]
fn every_error_has_a_message() {
    for error in [
        LifecycleError::NoRules,
        LifecycleError::TooManyRules,
        LifecycleError::EmptyId,
        LifecycleError::IdTooLong,
        LifecycleError::DuplicateId("x".to_owned()),
        LifecycleError::NoAction,
        LifecycleError::ExpirationDaysNotPositive,
        LifecycleError::DateNotMidnight,
        LifecycleError::NoncurrentDaysNotPositive,
        LifecycleError::NewerNoncurrentVersionsOutOfRange,
        LifecycleError::AbortDaysNotPositive,
        LifecycleError::SizeRangeEmpty,
        LifecycleError::SizeLessThanNotPositive,
        LifecycleError::DeleteMarkerWithTags,
        LifecycleError::AbortWithTags,
    ] {
        assert!(!error.message().is_empty());
        assert_eq!(error.to_string(), error.message());
    }
    assert_eq!(
        LifecycleError::IdTooLong.message(),
        "ID length should not exceed allowed limit of 255"
    );
}

// ---- generated IDs ----

#[test]
fn missing_ids_are_generated_stably_and_uniquely() {
    let mut first = config(vec![rule(""), rule("keep"), rule("")]);
    first.assign_missing_ids();
    assert_eq!(first.rules[1].id, "keep");
    assert_eq!(first.rules[0].id.len(), 16);
    assert_ne!(
        first.rules[0].id, first.rules[2].id,
        "same content, other place"
    );
    assert_eq!(first.validate(), Ok(()));
    let mut again = config(vec![rule(""), rule("keep"), rule("")]);
    again.assign_missing_ids();
    assert_eq!(again, first);
    // An explicit ID equal to the one that would be generated is not duplicated.
    let generated = first.rules[0].id.clone();
    let mut clash = config(vec![rule(""), rule("keep"), rule("")]);
    clash.rules[2].id.clone_from(&generated);
    clash.assign_missing_ids();
    assert_ne!(clash.rules[0].id, generated);
    assert_eq!(clash.validate(), Ok(()));
}

// ---- matching ----

#[test]
fn filters_match_prefix_sizes_and_all_tags() {
    let mut filter = Filter {
        prefix: "logs/".to_owned(),
        tags: tags(&[("env", "dev"), ("team", "a")]),
        size_greater_than: Some(10),
        size_less_than: Some(100),
    };
    let object_tags = tags(&[("team", "a"), ("x", "y"), ("env", "dev")]);
    assert!(filter.matches("logs/1", 11, &object_tags));
    assert!(filter.matches("logs/1", 99, &object_tags));
    assert!(
        !filter.matches("logs/1", 10, &object_tags),
        "strictly greater"
    );
    assert!(
        !filter.matches("logs/1", 100, &object_tags),
        "strictly less"
    );
    assert!(!filter.matches("log/1", 50, &object_tags));
    assert!(!filter.matches("logs/1", 50, &tags(&[("env", "dev")])));
    assert!(!filter.matches("logs/1", 50, &tags(&[("env", "prod"), ("team", "a")])));
    filter = Filter::default();
    assert!(filter.matches("", 0, &[]));
    assert!(filter.matches("anything", u64::MAX, &object_tags));
}

// ---- day rounding ----

#[test]
fn days_round_up_to_the_next_midnight_utc() {
    let three_days = Rule {
        expiration: Some(Expiration::Days(3)),
        ..rule("a")
    };
    // The user guide's example: created 2014-01-15 10:30 UTC, 3 days → 2014-01-19 00:00 UTC.
    assert_eq!(
        three_days.expiry_of_current(JAN_15_1030, DAY_MS),
        Some(JAN_19)
    );
    // Created exactly at midnight: midnight N days later, not a day more.
    let jan_16 = JAN_19 - 3 * DAY_MS;
    assert_eq!(three_days.expiry_of_current(jan_16, DAY_MS), Some(JAN_19));
    // One millisecond after midnight rounds to the following midnight.
    assert_eq!(
        three_days.expiry_of_current(jan_16 + 1, DAY_MS),
        Some(JAN_19 + DAY_MS)
    );
    // One millisecond before midnight rounds to that midnight.
    assert_eq!(
        three_days.expiry_of_current(jan_16 - 1, DAY_MS),
        Some(JAN_19)
    );
}

#[test]
fn a_short_test_day_rounds_to_its_own_multiples() {
    let two_days = Rule {
        expiration: Some(Expiration::Days(2)),
        ..rule("a")
    };
    // A 10-second day: created at 25 s, due at 45 s, rounded to 50 s.
    assert_eq!(two_days.expiry_of_current(25_000, 10_000), Some(50_000));
    assert_eq!(two_days.expiry_of_current(30_000, 10_000), Some(50_000));
    // A nonsensical day is taken as 1 ms rather than dividing by zero.
    assert_eq!(two_days.expiry_of_current(7, 0), Some(9));
    assert_eq!(two_days.expiry_of_current(7, -5), Some(9));
}

#[test]
fn dates_are_absolute_and_markers_expire_nothing_current() {
    let dated = Rule {
        expiration: Some(Expiration::Date(JAN_19)),
        ..rule("a")
    };
    assert_eq!(dated.expiry_of_current(0, 10), Some(JAN_19));
    let marker = Rule {
        expiration: Some(Expiration::ExpiredObjectDeleteMarker),
        ..rule("a")
    };
    assert_eq!(marker.expiry_of_current(0, DAY_MS), None);
    assert!(marker.removes_expired_delete_markers());
    assert!(!dated.removes_expired_delete_markers());
}

#[test]
fn negative_and_extreme_times_saturate() {
    assert_eq!(next_midnight_at_or_after(-1, DAY_MS), 0);
    assert_eq!(next_midnight_at_or_after(-DAY_MS - 1, DAY_MS), -DAY_MS);
    assert_eq!(after_days(i64::MAX - 5, u32::MAX, DAY_MS), i64::MAX);
    assert!(after_days(i64::MIN, 1, DAY_MS) < 0);
}

#[test]
fn noncurrent_versions_count_from_becoming_noncurrent() {
    let keep_two = Rule {
        expiration: None,
        noncurrent_expiration: Some(NoncurrentExpiration {
            noncurrent_days: 3,
            newer_noncurrent_versions: Some(2),
        }),
        ..rule("a")
    };
    assert_eq!(
        keep_two.expiry_of_noncurrent(JAN_15_1030, DAY_MS),
        Some(JAN_19)
    );
    assert!(!keep_two.noncurrent_version_expires(JAN_15_1030, 5, JAN_19 - 1, DAY_MS));
    assert!(keep_two.noncurrent_version_expires(JAN_15_1030, 2, JAN_19, DAY_MS));
    assert!(
        !keep_two.noncurrent_version_expires(JAN_15_1030, 1, JAN_19 + DAY_MS, DAY_MS),
        "one of the two newest noncurrent versions is kept"
    );
    let any = Rule {
        noncurrent_expiration: Some(NoncurrentExpiration {
            noncurrent_days: 3,
            newer_noncurrent_versions: None,
        }),
        ..keep_two.clone()
    };
    assert!(any.noncurrent_version_expires(JAN_15_1030, 0, JAN_19, DAY_MS));
    assert!(!rule("b").noncurrent_version_expires(0, 0, i64::MAX, DAY_MS));
    assert_eq!(rule("b").expiry_of_noncurrent(0, DAY_MS), None);
}

#[test]
fn uploads_abort_after_rounded_days() {
    let abort = Rule {
        expiration: None,
        abort_incomplete_days: Some(3),
        ..rule("a")
    };
    assert_eq!(abort.abort_upload_at(JAN_15_1030, DAY_MS), Some(JAN_19));
    assert_eq!(rule("b").abort_upload_at(JAN_15_1030, DAY_MS), None);
}

// ---- x-amz-expiration ----

#[test]
fn header_names_the_earliest_enabled_matching_rule() {
    let days = |id: &str, n, prefix: &str| {
        let mut rule = rule(id);
        rule.expiration = Some(Expiration::Days(n));
        rule.filter.prefix = prefix.to_owned();
        rule
    };
    let mut disabled = days("disabled", 1, "");
    disabled.enabled = false;
    let mut tagged = days("tagged", 2, "");
    tagged.filter.tags = tags(&[("k", "v")]);
    let marker = Rule {
        expiration: Some(Expiration::ExpiredObjectDeleteMarker),
        ..rule("marker")
    };
    let noncurrent_only = Rule {
        expiration: None,
        noncurrent_expiration: Some(NoncurrentExpiration {
            noncurrent_days: 1,
            newer_noncurrent_versions: None,
        }),
        ..rule("noncurrent")
    };
    let configuration = config(vec![
        disabled,
        marker,
        noncurrent_only,
        days("ten", 10, ""),
        tagged,
        days("other-prefix", 1, "other/"),
        days("five", 5, "logs/"),
        days("five-again", 5, ""),
    ]);
    let created = JAN_19 - 3 * DAY_MS;
    let header = |key: &str, object_tags: &[(String, String)]| {
        expiration_header_for(&configuration, key, 1, object_tags, created, DAY_MS)
    };
    assert_eq!(
        header("logs/a", &[]),
        Some((created + 5 * DAY_MS, "five".to_owned())),
        "earliest wins, the first of equals"
    );
    assert_eq!(
        header("logs/a", &tags(&[("k", "v")])),
        Some((created + 2 * DAY_MS, "tagged".to_owned()))
    );
    assert_eq!(
        header("x", &[]),
        Some((created + 5 * DAY_MS, "five-again".to_owned()))
    );
    let nothing = config(vec![Rule {
        expiration: Some(Expiration::ExpiredObjectDeleteMarker),
        ..rule("m")
    }]);
    assert_eq!(
        expiration_header_for(&nothing, "k", 0, &[], 0, DAY_MS),
        None
    );
    let dated = config(vec![
        days("days", 1, ""),
        Rule {
            expiration: Some(Expiration::Date(DAY_MS)),
            ..rule("date")
        },
    ]);
    assert_eq!(
        expiration_header_for(&dated, "k", 0, &[], 0, DAY_MS),
        Some((DAY_MS, "days".to_owned()))
    );
    assert_eq!(
        expiration_header_for(&dated, "k", 0, &[], 1, DAY_MS),
        Some((DAY_MS, "date".to_owned()))
    );
}
