//! Field selectors: upstream's `fields` syntax (`k=v`, `k==v`, `k!=v`,
//! comma for AND, `\` escaping of `\`, `,` and `=` in values) and their
//! evaluation against a resource's selectable fields.

use std::fmt;

use serde_json::Value;

use super::SelectorError;
use super::field_set::{canonical_field, field_value_canonical};
use crate::registry::ResourceInfo;

/// One `field=value` or `field!=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldTerm {
    /// The field label as the client wrote it (`spec.nodeName`).
    pub field: String,
    /// The unescaped value.
    pub value: String,
    /// `!=` rather than `=`/`==`.
    pub negated: bool,
}

impl fmt::Display for FieldTerm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.negated { "!=" } else { "=" };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: terms that must all hold. The empty selector
/// matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

/// Upstream's `EscapeValue`: backslash-escapes `\`, `,` and `=`.
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Upstream's `UnescapeValue`, with its error texts.
pub fn unescape_value(s: &str) -> Result<String, SelectorError> {
    if !s.contains(['\\', ',', '=']) {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut in_slash = false;
    for c in s.chars() {
        if in_slash {
            if !matches!(c, '\\' | ',' | '=') {
                return Err(SelectorError::InvalidFieldSelector {
                    message: format!("invalid field selector: invalid escape sequence: \\{c}"),
                });
            }
            out.push(c);
            in_slash = false;
            continue;
        }
        match c {
            '\\' => in_slash = true,
            ',' | '=' => {
                // Upstream prints the rune with %v, i.e. as a number.
                return Err(SelectorError::InvalidFieldSelector {
                    message: format!(
                        "invalid field selector: unescaped character in value: {}",
                        c as u32
                    ),
                });
            }
            c => out.push(c),
        }
    }
    if in_slash {
        return Err(SelectorError::InvalidFieldSelector {
            message: "invalid field selector: invalid escape sequence: \\".to_string(),
        });
    }
    Ok(out)
}

/// Splits on commas that are not backslash-escaped (escapes are kept).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let mut terms = Vec::new();
    let mut start = 0;
    let mut in_slash = false;
    for (i, c) in s.char_indices() {
        if in_slash {
            in_slash = false;
        } else if c == '\\' {
            in_slash = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// The first operator occurrence splits a term; `!=` and `==` win over `=`
/// at the same place. The left side has no escaping.
fn split_term(term: &str) -> Option<(&str, &str, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        for op in ["!=", "==", "="] {
            if let Some(rhs) = rest.strip_prefix(op) {
                return Some((&term[..i], op, rhs));
            }
        }
    }
    None
}

impl FieldSelector {
    /// Parses upstream's field selector syntax. Terms are kept in
    /// upstream's order (sorted by their text); empty terms are skipped.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts {
            if part.is_empty() {
                continue;
            }
            let Some((lhs, op, rhs)) = split_term(part) else {
                return Err(SelectorError::InvalidFieldSelector {
                    message: format!("invalid selector: '{s}'; can't understand '{part}'"),
                });
            };
            terms.push(FieldTerm {
                field: lhs.to_string(),
                value: unescape_value(rhs)?,
                negated: op == "!=",
            });
        }
        Ok(FieldSelector { terms })
    }

    /// A selector with the given terms.
    pub fn from_terms(terms: Vec<FieldTerm>) -> Self {
        FieldSelector { terms }
    }

    /// The terms.
    pub fn terms(&self) -> &[FieldTerm] {
        &self.terms
    }

    /// Whether the selector places no restriction.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// Checks every field against what the resource lets clients select on;
    /// the first unsupported one is an error with upstream's text for that
    /// kind (e.g. `field label not supported: spec.nothing`).
    pub fn check_supported(&self, info: &ResourceInfo) -> Result<(), SelectorError> {
        for term in &self.terms {
            canonical_field(info, &term.field)?;
        }
        Ok(())
    }

    /// Whether an object satisfies every term. A field the resource does not
    /// support reads as "" (call [`FieldSelector::check_supported`] first to
    /// reject such selectors as upstream does).
    pub fn matches(&self, info: &ResourceInfo, obj: &Value) -> bool {
        self.terms.iter().all(|term| {
            let actual = canonical_field(info, &term.field)
                .map(|canonical| field_value_canonical(info, obj, canonical))
                .unwrap_or_default();
            (actual == term.value) != term.negated
        })
    }

    /// The value a term requires `field` to equal, if any (upstream's
    /// `RequiresExactMatch`: the first `=`/`==` term on that field).
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| !t.negated && t.field == field)
            .map(|t| t.value.as_str())
    }

    /// `metadata.name=X`: the one name the selector allows, which lets the
    /// server read a single key instead of listing.
    pub fn exact_name(&self) -> Option<&str> {
        self.requires_exact_match("metadata.name")
    }

    /// `metadata.namespace=X`: the one namespace the selector allows.
    pub fn exact_namespace(&self) -> Option<&str> {
        self.requires_exact_match("metadata.namespace")
    }
}

impl fmt::Display for FieldSelector {
    /// Upstream's string form: terms joined by commas, values escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, term) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{term}")?;
        }
        Ok(())
    }
}
