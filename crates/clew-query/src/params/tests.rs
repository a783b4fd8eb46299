use super::*;

const NOW: u64 = 1_700_000_000_000_000_000;

fn p(q: &str) -> Params {
    Params::parse(Some(q))
}

fn search(q: &str) -> TraceQuery {
    match parse_trace_request(&p(q), NOW) {
        Ok(TraceRequest::Search(q)) => q,
        other => panic!("expected a search, got {other:?}"),
    }
}

fn err(q: &str) -> String {
    match parse_trace_request(&p(q), NOW) {
        Err(ParamError(msg)) => msg,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn search_defaults() {
    let q = search("service=frontend");
    assert_eq!(q.service.as_deref(), Some("frontend"));
    assert_eq!(q.operation, None);
    assert_eq!(q.start_max, NOW);
    assert_eq!(q.start_min, NOW - 48 * 3600 * 1_000_000_000);
    assert_eq!(q.limit, 100);
    assert_eq!((q.duration_min, q.duration_max), (None, None));
    assert!(q.tags.is_empty());
}

#[test]
fn search_parses_every_filter() {
    let q = search(
        "service=a%20b&operation=GET+%2F&start=1000&end=2000&limit=20&minDuration=1.2ms&maxDuration=2s",
    );
    assert_eq!(q.service.as_deref(), Some("a b"));
    assert_eq!(q.operation.as_deref(), Some("GET /"));
    assert_eq!((q.start_min, q.start_max), (1_000_000, 2_000_000));
    assert_eq!(q.limit, 20);
    assert_eq!(q.duration_min, Some(1_200_000));
    assert_eq!(q.duration_max, Some(2_000_000_000));
}

#[test]
fn start_defaults_to_48h_before_end() {
    let q = search("service=s&end=1000000000000");
    assert_eq!(q.start_max, 1_000_000_000_000_000);
    assert_eq!(
        q.start_min,
        1_000_000_000_000_000 - DEFAULT_SEARCH_LOOKBACK_NS
    );
}

#[test]
fn tags_from_both_forms_are_merged() {
    let q = search(
        "service=s&tag=http.url:http://x:80/&tags=%7B%22error%22%3A%22true%22%7D&tags=%7B%22a%22%3A%221%22%7D",
    );
    let got: Vec<(String, String)> = q.tags.into_iter().map(|t| (t.key, t.value)).collect();
    assert_eq!(
        got,
        vec![
            ("a".into(), "1".into()),
            ("error".into(), "true".into()),
            ("http.url".into(), "http://x:80/".into()),
        ]
    );
}

#[test]
fn json_tags_override_tag_form() {
    let q = search("service=s&tag=k:1&tags=%7B%22k%22%3A%222%22%7D");
    assert_eq!(q.tags.len(), 1);
    assert_eq!(q.tags[0].value, "2");
}

#[test]
fn bad_parameters_are_worded_like_jaeger() {
    assert_eq!(err(""), "parameter 'service' is required");
    assert_eq!(
        err("service=s&start=abc"),
        r#"unable to parse param 'start': strconv.ParseInt: parsing "abc": invalid syntax"#
    );
    assert_eq!(
        err("service=s&end=1.5"),
        r#"unable to parse param 'end': strconv.ParseInt: parsing "1.5": invalid syntax"#
    );
    assert_eq!(
        err("service=s&limit=x"),
        r#"strconv.ParseInt: parsing "x": invalid syntax"#
    );
    assert_eq!(
        err("service=s&minDuration=5"),
        r#"unable to parse param 'minDuration': time: missing unit in duration "5""#
    );
    assert_eq!(
        err("service=s&maxDuration=1x"),
        r#"unable to parse param 'maxDuration': time: unknown unit "x" in duration "1x""#
    );
    assert_eq!(
        err("service=s&minDuration=2s&maxDuration=1s"),
        "'maxDuration' should be greater than 'minDuration'"
    );
    assert_eq!(
        err("service=s&tag=novalue"),
        "malformed 'tag' parameter, expecting key:value, received: novalue"
    );
    assert!(
        err("service=s&tags=notjson")
            .starts_with("malformed 'tags' parameter, cannot unmarshal JSON: ")
    );
    assert!(err("service=s&tags=%7B%22a%22%3A1%7D").starts_with("malformed 'tags' parameter"));
    assert_eq!(
        err("traceID=xyz"),
        r#"cannot parse traceID param: strconv.ParseUint: parsing "xyz": invalid syntax"#
    );
}

#[test]
fn trace_ids_make_service_optional() {
    let got = parse_trace_request(
        &p("traceID=abc&traceID=0000000000000001000000000000000f"),
        NOW,
    );
    assert_eq!(
        got,
        Ok(TraceRequest::ByIds(vec![
            TraceId::new(0, 0xabc),
            TraceId::new(1, 0xf)
        ]))
    );
}

#[test]
fn trace_id_parsing_matches_jaeger() {
    assert_eq!(parse_trace_id("1"), Ok(TraceId::new(0, 1)));
    assert_eq!(parse_trace_id("ABCDEF"), Ok(TraceId::new(0, 0xabcdef)));
    assert_eq!(parse_trace_id("10000000000000002"), Ok(TraceId::new(1, 2)));
    assert_eq!(
        parse_trace_id(&"1".repeat(33)),
        Err(format!(
            "TraceID cannot be longer than 32 hex characters: {}",
            "1".repeat(33)
        ))
    );
    assert_eq!(
        parse_trace_id(""),
        Err(r#"strconv.ParseUint: parsing "": invalid syntax"#.into())
    );
    assert_eq!(
        parse_trace_id("g0000000000000001"),
        Err(r#"strconv.ParseUint: parsing "g": invalid syntax"#.into())
    );
}

#[test]
fn dependency_window_defaults_and_units() {
    let d = parse_dependency_request(&p(""), NOW).expect("defaults parse");
    assert_eq!(d.end, NOW);
    assert_eq!(d.start, NOW - 24 * 3600 * 1_000_000_000);
    let d = parse_dependency_request(&p("endTs=5000&lookback=2000&service=x"), NOW)
        .expect("explicit parse");
    assert_eq!((d.start, d.end), (3_000_000_000, 5_000_000_000));
    assert_eq!(d.service.as_deref(), Some("x"));
    assert_eq!(
        parse_dependency_request(&p("lookback=1h"), NOW),
        Err(ParamError(
            r#"unable to parse param 'lookback': strconv.ParseInt: parsing "1h": invalid syntax"#
                .into()
        ))
    );
}

#[test]
fn params_keep_repeats_and_treat_empty_as_absent() {
    let ps = p("a=1&a=2&b=");
    assert_eq!(ps.get("a"), Some("1"));
    assert_eq!(ps.all("a").collect::<Vec<_>>(), vec!["1", "2"]);
    assert_eq!(ps.get("b"), None);
    assert!(p("raw=true").flag("raw"));
    assert!(!p("raw=no").flag("raw"));
}
