use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1 as metav1;
use serde_json::json;

use crate::selector::{LabelSelector, Operator, SelectorError};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse_err(s: &str) -> SelectorError {
    LabelSelector::parse(s).expect_err(s)
}

fn canonical(s: &str) -> String {
    LabelSelector::parse(s).unwrap().to_string()
}

const KEY_REGEX_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or \
     '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  \
     or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const VALUE_REGEX_MSG: &str = "a valid label must be an empty string or consist of alphanumeric \
     characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. \
     'MyValue',  or 'my_value',  or '12345', regex used for validation is \
     '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

#[test]
fn every_operator_parses_and_prints_canonically() {
    assert_eq!(
        canonical("a=b,c!=d,e==f,!g,h,i in (j),k notin (l,m),n>5,o<7"),
        "a=b,c!=d,e==f,!g,h,i in (j),k notin (l,m),n>5,o<7"
    );
    // Sorted by key; set values sorted and deduplicated.
    assert_eq!(canonical("z,y in (b,a,b),x"), "x,y in (a,b),z");
    assert_eq!(
        canonical("x in (foo,,baz),y,z notin ()"),
        "x in (,baz,foo),y,z notin ()"
    );
    assert_eq!(canonical("x in (,a)"), "x in (,a)");
    assert_eq!(canonical("x in (a,)"), "x in (,a)");
    assert_eq!(canonical("  a  =  b  ,\tc\n"), "a=b,c");
    assert_eq!(canonical("a==,b="), "a==,b=");
    // `in` and `notin` are plain words where a key or value is due.
    assert_eq!(canonical("x in (in,notin)"), "x in (in,notin)");
    assert_eq!(canonical("in=notin"), "in=notin");
    assert_eq!(
        canonical("app.kubernetes.io/name=web"),
        "app.kubernetes.io/name=web"
    );
    // Upstream reads a NUL byte as the end of the input where a token
    // starts, and as the end of an identifier inside one.
    assert_eq!(canonical("a= \0b"), "a=");
    assert_eq!(canonical("a\0"), "a");
    assert_eq!(parse_err("a\0b=c").position(), Some(2));
    assert_eq!(canonical(""), "");
    assert!(LabelSelector::parse("").unwrap().is_empty());
    assert!(LabelSelector::parse("   ").unwrap().is_empty());
    assert!(!LabelSelector::parse("a").unwrap().is_empty());

    let s = LabelSelector::parse("k notin (b,a)").unwrap();
    let r = &s.requirements()[0];
    assert_eq!((r.key(), r.operator()), ("k", Operator::NotIn));
    assert_eq!(r.values(), ["a", "b"]);
}

#[test]
fn syntax_errors_say_what_was_found_and_where() {
    let e = parse_err("env in (prod");
    assert_eq!(
        e.to_string(),
        "unable to parse requirement: found '', expected: ',' or ')'"
    );
    assert_eq!(e.position(), Some(12));

    let cases = [
        ("a=b c", "found 'c', expected: ',' or 'end of string'", 4),
        ("a,", "found '', expected: identifier after ','", 2),
        ("a,,b", "found ',', expected: identifier after ','", 2),
        (
            "=a",
            "found '=', expected: !, identifier, or 'end of string'",
            0,
        ),
        (
            ")",
            "found ')', expected: !, identifier, or 'end of string'",
            0,
        ),
        (
            "a!",
            "unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt",
            1,
        ),
        (
            "a in b",
            "unable to parse requirement: found 'b' expected: '('",
            5,
        ),
        (
            "a in (b c)",
            "unable to parse requirement: found 'c', expected: ',' or ')'",
            8,
        ),
        (
            "a in (=)",
            "unable to parse requirement: found '=', expected: ',', ')' or identifier",
            6,
        ),
        (
            "a in (b,=)",
            "unable to parse requirement: found '=', expected: ',', or identifier",
            8,
        ),
        (
            "a=(",
            "unable to parse requirement: found '(', expected: identifier",
            2,
        ),
        (
            "!",
            "unable to parse requirement: found '', expected: identifier",
            1,
        ),
        (
            "!=a",
            "found '!=', expected: !, identifier, or 'end of string'",
            0,
        ),
        (
            "a in",
            "unable to parse requirement: found '' expected: '('",
            4,
        ),
    ];
    for (input, message, position) in cases {
        let e = parse_err(input);
        assert_eq!(e.to_string(), message, "{input:?}");
        assert_eq!(e.position(), Some(position), "{input:?}");
    }
}

#[test]
fn keys_and_values_are_validated_like_upstream() {
    assert_eq!(
        parse_err("-bad=x").to_string(),
        format!("unable to parse requirement: <nil>: Invalid value: \"-bad\": {KEY_REGEX_MSG}")
    );
    assert_eq!(
        parse_err("a=-x").to_string(),
        format!(
            "unable to parse requirement: values[0][a]: Invalid value: \"-x\": {VALUE_REGEX_MSG}"
        )
    );
    assert_eq!(
        parse_err(&format!("a={}", "v".repeat(64))).to_string(),
        format!(
            "unable to parse requirement: values[0][a]: Invalid value: \"{}\": must be no more \
             than 63 characters",
            "v".repeat(64)
        )
    );
    assert!(LabelSelector::parse(&format!("a={}", "v".repeat(63))).is_ok());
    assert_eq!(
        parse_err(&format!("{}=x", "k".repeat(64))).to_string(),
        format!(
            "unable to parse requirement: <nil>: Invalid value: \"{}\": name part must be no \
             more than 63 characters",
            "k".repeat(64)
        )
    );
    assert_eq!(
        parse_err("a>x").to_string(),
        "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' \
         operators, the value must be an integer"
    );
    assert_eq!(
        parse_err("a>-x").to_string(),
        format!(
            "unable to parse requirement: [values[0]: Invalid value: \"-x\": for 'Gt', 'Lt' \
             operators, the value must be an integer, values[0][a]: Invalid value: \"-x\": \
             {VALUE_REGEX_MSG}]"
        )
    );
    assert!(parse_err("a>").to_string().contains("must be an integer"));
    // Negative bounds are not valid label values upstream either.
    assert!(LabelSelector::parse("n>-3").is_err());
    // The position of a validation error is the requirement's start.
    assert_eq!(parse_err("ok,a=-x").position(), Some(3));
    assert_eq!(parse_err("x,a=-x").position(), Some(2));
}

#[test]
fn matching_follows_each_operator() {
    let l = labels(&[("env", "prod"), ("tier", "web"), ("n", "10"), ("s", "abc")]);
    let yes = [
        "",
        "env=prod",
        "env==prod",
        "env!=dev",
        "missing!=x",
        "env in (prod,dev)",
        "env notin (dev)",
        "missing notin (a)",
        "env",
        "!missing",
        "n>5",
        "n<11",
        "env=prod,tier=web",
    ];
    let no = [
        "env=dev",
        "missing=x",
        "env!=prod",
        "env in (dev)",
        "missing in (a)",
        "env notin (prod)",
        "missing",
        "!env",
        "n>10",
        "n<10",
        "s>1",
        "missing>1",
        "env=prod,tier=db",
    ];
    for s in yes {
        assert!(LabelSelector::parse(s).unwrap().matches(&l), "{s}");
    }
    for s in no {
        assert!(!LabelSelector::parse(s).unwrap().matches(&l), "{s}");
    }
}

#[test]
fn objects_are_matched_on_metadata_labels() {
    let sel = LabelSelector::parse("app=web,!canary").unwrap();
    assert!(sel.matches_object(&json!({"metadata": {"labels": {"app": "web"}}})));
    assert!(!sel.matches_object(&json!({"metadata": {"labels": {"app": "web", "canary": ""}}})));
    assert!(!sel.matches_object(&json!({"metadata": {}})));
    assert!(!sel.matches_object(&json!({"metadata": {"labels": {"app": 1}}})));
    assert!(
        LabelSelector::parse("!a")
            .unwrap()
            .matches_object(&json!({}))
    );
    assert!(LabelSelector::default().matches_object(&json!({})));
}

#[test]
fn api_selectors_convert_like_label_selector_as_selector() {
    let sel = metav1::LabelSelector {
        match_labels: Some([("b".into(), "2".into()), ("a".into(), "1".into())].into()),
        match_expressions: Some(vec![
            metav1::LabelSelectorRequirement {
                key: "c".into(),
                operator: "In".into(),
                values: Some(vec!["y".into(), "x".into()]),
            },
            metav1::LabelSelectorRequirement {
                key: "d".into(),
                operator: "Exists".into(),
                values: None,
            },
            metav1::LabelSelectorRequirement {
                key: "e".into(),
                operator: "DoesNotExist".into(),
                values: Some(vec![]),
            },
            metav1::LabelSelectorRequirement {
                key: "f".into(),
                operator: "NotIn".into(),
                values: Some(vec!["z".into()]),
            },
        ]),
    };
    let s = LabelSelector::from_k8s(&sel).unwrap();
    assert_eq!(s.to_string(), "a=1,b=2,c in (x,y),d,!e,f notin (z)");
    assert!(s.matches(&labels(&[("a", "1"), ("b", "2"), ("c", "x"), ("d", "")])));
    assert!(!s.matches(&labels(&[("a", "1"), ("b", "2"), ("c", "x")])));

    let empty = LabelSelector::from_k8s(&metav1::LabelSelector::default()).unwrap();
    assert!(empty.is_empty() && empty.matches(&BTreeMap::new()));

    let nothing = LabelSelector::from_k8s_opt(None).unwrap();
    assert!(nothing.is_nothing() && !nothing.is_empty());
    assert!(!nothing.matches(&BTreeMap::new()));
    assert_eq!(nothing.to_string(), "");

    let expr = |key: &str, op: &str, values: Option<Vec<String>>| metav1::LabelSelector {
        match_expressions: Some(vec![metav1::LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values,
        }]),
        ..Default::default()
    };
    let err = |s: metav1::LabelSelector| LabelSelector::from_k8s(&s).unwrap_err().to_string();
    assert_eq!(
        err(expr("a", "Foo", None)),
        "\"Foo\" is not a valid label selector operator"
    );
    assert_eq!(
        err(expr("a", "In", None)),
        "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be \
         empty"
    );
    assert_eq!(
        err(expr("a", "Exists", Some(vec!["x".into()]))),
        "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does \
         not exist"
    );
    assert_eq!(
        err(expr("-a", "Exists", None)),
        format!("key: Invalid value: \"-a\": {KEY_REGEX_MSG}")
    );
    let bad_label = metav1::LabelSelector {
        match_labels: Some([("a".into(), "b c".into())].into()),
        ..Default::default()
    };
    assert_eq!(
        err(bad_label),
        format!("values[0][a]: Invalid value: \"b c\": {VALUE_REGEX_MSG}")
    );
}

#[test]
fn exact_matches_and_map_selectors() {
    let s = LabelSelector::parse("a=1,b in (2),c in (3,4),d!=5").unwrap();
    assert_eq!(s.requires_exact_match("a"), Some("1"));
    assert_eq!(s.requires_exact_match("b"), Some("2"));
    assert_eq!(s.requires_exact_match("c"), None);
    assert_eq!(s.requires_exact_match("d"), None);
    assert_eq!(s.requires_exact_match("e"), None);

    let m = LabelSelector::from_labels(&labels(&[("tier", "web"), ("app", "x")]));
    assert_eq!(m.to_string(), "app=x,tier=web");
    assert!(m.matches(&labels(&[("app", "x"), ("tier", "web"), ("other", "1")])));
    assert!(LabelSelector::from_labels(&BTreeMap::new()).is_empty());
    assert_eq!(
        LabelSelector::parse(&m.to_string()).unwrap(),
        m,
        "the string form parses back to the same selector"
    );
}
