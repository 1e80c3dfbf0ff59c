//! Label and field selectors, parsed, printed and evaluated as upstream's
//! `apimachinery/pkg/labels` and `pkg/fields` do, with upstream's error
//! texts (API clients and tests compare them).

mod field;
mod field_set;
mod label;
mod label_parser;
mod validation;

pub use field::{FieldSelector, FieldTerm, escape_value, unescape_value};
pub use field_set::{field_value, supported_fields};
pub use label::{LabelSelector, Operator, Requirement};

/// Why a selector was rejected. `Display` is upstream's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A label selector that does not parse, or has an invalid key, value
    /// or operator.
    #[error("{message}")]
    InvalidLabelSelector {
        /// Upstream's text, e.g.
        /// `unable to parse requirement: found '', expected: ',' or ')'`.
        message: String,
        /// Byte offset in the selector string of the token where the problem
        /// was found (the end of the string for a premature end), when the
        /// error comes from parsing a string.
        position: Option<usize>,
    },
    /// A field selector that does not parse (bad term, bad escape).
    #[error("{message}")]
    InvalidFieldSelector {
        /// Upstream's text.
        message: String,
    },
    /// A field the resource does not let clients select on.
    #[error("{message}")]
    UnsupportedField {
        /// The field as the client wrote it.
        field: String,
        /// Upstream's text for that kind, e.g.
        /// `field label not supported: spec.nothing`.
        message: String,
    },
}

impl SelectorError {
    /// Where in a label selector string the error was found, if known.
    pub fn position(&self) -> Option<usize> {
        match self {
            SelectorError::InvalidLabelSelector { position, .. } => *position,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
