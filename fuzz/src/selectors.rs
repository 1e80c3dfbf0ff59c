//! Label and field selectors, as they arrive in `?labelSelector=` and
//! `?fieldSelector=`: parsed, printed, parsed back, and evaluated.

use ironclad_api::selector::{FieldSelector, FieldTerm, LabelSelector};

use crate::fixtures;

/// Parses the input as a label selector. An error must point inside the
/// input; an accepted selector must print to a string that parses back to
/// the same selector, and is evaluated against a label set and an object.
pub fn label_selector(data: &[u8]) -> bool {
    // Query parameters are decoded to strings, so every input is one.
    let text = String::from_utf8_lossy(data);
    let selector = match LabelSelector::parse(&text) {
        Ok(selector) => selector,
        Err(err) => {
            if let Some(position) = err.position() {
                assert!(
                    position <= text.len(),
                    "error position {position} past the end of {text:?}: {err}"
                );
            }
            return false;
        }
    };
    let printed = selector.to_string();
    match LabelSelector::parse(&printed) {
        Ok(again) => assert_eq!(
            again, selector,
            "{text:?} printed as {printed:?}, which parses to another selector"
        ),
        Err(err) => panic!("{text:?} printed as {printed:?}, which does not parse: {err}"),
    }
    let _ = selector.matches(fixtures::labels());
    let _ = selector.matches_object(fixtures::pod());
    let _ = selector.requires_exact_match("app");
    true
}

/// Parses the input as a field selector, checks that its printed form
/// parses back to the same terms, and checks and evaluates it against
/// resources with different field sets.
pub fn field_selector(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let Ok(selector) = FieldSelector::parse(&text) else {
        return false;
    };
    let printed = selector.to_string();
    match FieldSelector::parse(&printed) {
        // Terms are ordered by their text, which printing normalises
        // (`a==b` becomes `a=b`), so only the set of terms is kept.
        Ok(again) => assert_eq!(
            sorted(again.terms()),
            sorted(selector.terms()),
            "{text:?} printed as {printed:?}, which parses to other terms"
        ),
        Err(err) => panic!("{text:?} printed as {printed:?}, which does not parse: {err}"),
    }
    for (info, obj) in fixtures::field_subjects() {
        // An unsupported field reads as "" in `matches`, so both run.
        let _ = selector.check_supported(info);
        let _ = selector.matches(info, obj);
    }
    let _ = selector.exact_name();
    let _ = selector.exact_namespace();
    true
}

fn sorted(terms: &[FieldTerm]) -> Vec<(&str, &str, bool)> {
    let mut out: Vec<_> = terms
        .iter()
        .map(|t| (t.field.as_str(), t.value.as_str(), t.negated))
        .collect();
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_selectors_and_rejects_garbage() {
        assert!(label_selector(b"app=web,tier in (fe,be),!gone"));
        assert!(!label_selector(b"a in (b"));
        assert!(field_selector(b"metadata.name=web-pod,spec.nodeName!=x"));
        assert!(!field_selector(b"abc"));
    }
}
