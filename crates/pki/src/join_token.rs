//! The join token: a secret in Kubernetes bootstrap-token form that lets a
//! new server join the cluster (it unseals the shared cluster secrets).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::random;

/// Length of the token id.
const ID_LEN: usize = 6;
/// Length of the token secret.
const SECRET_LEN: usize = 16;

/// A join token `<id>.<secret>`, in the form of upstream's bootstrap tokens
/// (`^([a-z0-9]{6})\.([a-z0-9]{16})$`). Its `Debug` hides the secret.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JoinToken {
    /// Six characters from `[a-z0-9]`; not secret.
    pub id: String,
    /// Sixteen characters from `[a-z0-9]`.
    pub secret: String,
}

impl JoinToken {
    /// A new random token.
    pub fn generate() -> Result<JoinToken> {
        Ok(JoinToken {
            id: random::lower_alnum(ID_LEN)?,
            secret: random::lower_alnum(SECRET_LEN)?,
        })
    }

    /// Parses `id.secret`, exactly as upstream's bootstrap-token regex
    /// `^([a-z0-9]{6})\.([a-z0-9]{16})$` does (no surrounding spaces).
    pub fn parse(text: &str) -> Result<JoinToken> {
        let (id, secret) = text.split_once('.').ok_or(Error::InvalidToken)?;
        let valid = |s: &str, len: usize| {
            s.len() == len
                && s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        };
        if !valid(id, ID_LEN) || !valid(secret, SECRET_LEN) {
            return Err(Error::InvalidToken);
        }
        Ok(JoinToken {
            id: id.to_string(),
            secret: secret.to_string(),
        })
    }
}

impl fmt::Display for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.id, self.secret)
    }
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinToken")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl FromStr for JoinToken {
    type Err = Error;

    fn from_str(s: &str) -> Result<JoinToken> {
        JoinToken::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let good = ["abcdef.0123456789abcdef", "000000.zzzzzzzzzzzzzzzz"];
        for t in good {
            let token = JoinToken::parse(t).unwrap();
            assert_eq!(token.to_string(), t);
        }
        let token = JoinToken::parse("abcdef.0123456789abcdef").unwrap();
        assert_eq!(token.id, "abcdef");
        assert_eq!(token.secret, "0123456789abcdef");

        let bad = [
            "",
            ".",
            "abcdef",
            "abcdef.",
            ".0123456789abcdef",
            "abcde.0123456789abcdef",
            "abcdefg.0123456789abcdef",
            "abcdef.0123456789abcde",
            "abcdef.0123456789abcdef0",
            "ABCDEF.0123456789abcdef",
            "abcdef.0123456789ABCDEF",
            "abcdef:0123456789abcdef",
            "abcdef.0123456789abcdef\n",
            " abcdef.0123456789abcdef",
            "abc-ef.0123456789abcdef",
            "abcdef.0123456789abcde.",
            "abcdef.01234.6789abcdef",
            "abcdéf.0123456789abcdef",
        ];
        for t in bad {
            assert!(
                matches!(JoinToken::parse(t), Err(Error::InvalidToken)),
                "{t:?} should be refused"
            );
        }
    }

    #[test]
    fn generated_tokens_parse_and_differ() {
        let a = JoinToken::generate().unwrap();
        let b = JoinToken::generate().unwrap();
        assert_eq!(JoinToken::parse(&a.to_string()).unwrap(), a);
        assert_ne!(a, b);
        assert_eq!(
            "abcdef.0123456789abcdef".parse::<JoinToken>().unwrap().id,
            "abcdef"
        );
    }

    #[test]
    fn debug_hides_the_secret() {
        let token = JoinToken::parse("abcdef.0123456789abcdef").unwrap();
        let shown = format!("{token:?}");
        assert!(shown.contains("abcdef") && !shown.contains("0123456789abcdef"));
    }
}
