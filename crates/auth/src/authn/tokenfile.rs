//! The static token file (`--token-auth-file`), as upstream's `tokenfile`
//! authenticator reads it: CSV records of
//! `token,user name,user uid[,"group1,group2,..."]`.
//!
//! - Records with fewer than 3 columns make the whole file invalid;
//!   columns after the 4th are ignored.
//! - A record with an empty token is skipped with a warning; a token that
//!   appears twice is kept from its later record, with a warning.
//! - The 4th column is split on commas (so it is quoted when it names
//!   more than one group); empty group names are dropped.
//!
//! Lookups hash the presented token with SHA-256 and compare the stored
//! token with it in constant time, so how long a lookup takes says
//! nothing about how close a guess was.

mod csv;

use std::collections::HashMap;
use std::fmt;

use aws_lc_rs::{constant_time, digest};

pub use csv::{CsvError, CsvErrorKind};

use crate::user::{AUTHENTICATED, UserInfo};

/// Why a token file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFileError {
    /// The CSV does not parse.
    #[error("{0}")]
    Csv(CsvError),
    /// A record has fewer than 3 columns.
    #[error(
        "line {line}: token file must have at least 3 columns (token, user name, user uid), found {found}"
    )]
    TooFewColumns {
        /// The line the record starts on.
        line: usize,
        /// How many columns it has.
        found: usize,
    },
}

/// Something upstream logs while it reads the file, which does not make
/// it invalid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenFileWarning {
    /// A record with an empty token, skipped.
    EmptyToken {
        /// Its number among the records, from 1.
        record: usize,
        /// The line it starts on.
        line: usize,
    },
    /// A token seen before; this later record replaces the earlier one.
    DuplicateToken {
        /// Its number among the records, from 1.
        record: usize,
        /// The line it starts on.
        line: usize,
    },
}

impl fmt::Display for TokenFileWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, record, line) = match self {
            TokenFileWarning::EmptyToken { record, line } => ("empty", record, line),
            TokenFileWarning::DuplicateToken { record, line } => ("duplicate", record, line),
        };
        write!(
            f,
            "{what} token has been found in token file, record number '{record}' (line {line})"
        )
    }
}

/// One token and the user it stands for.
struct Entry {
    token: Box<[u8]>,
    user: UserInfo,
}

/// A parsed token file.
pub struct TokenFile {
    by_digest: HashMap<[u8; 32], Entry>,
    warnings: Vec<TokenFileWarning>,
}

impl fmt::Debug for TokenFile {
    /// Lists the users, never the tokens.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut users: Vec<&str> = self
            .by_digest
            .values()
            .map(|e| e.user.name.as_str())
            .collect();
        users.sort_unstable();
        f.debug_struct("TokenFile")
            .field("users", &users)
            .field("warnings", &self.warnings)
            .finish()
    }
}

fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest::digest(&digest::SHA256, bytes).as_ref());
    out
}

impl TokenFile {
    /// Parses the text of a token file.
    pub fn parse(text: &str) -> Result<TokenFile, TokenFileError> {
        let mut reader = csv::Reader::new(text);
        let mut by_digest = HashMap::new();
        let mut warnings = Vec::new();
        let mut record_number = 0;
        while let Some(record) = reader.read_record() {
            let record = record.map_err(TokenFileError::Csv)?;
            let line = record.line;
            let found = record.fields.len();
            let mut fields = record.fields.into_iter();
            let (Some(token), Some(name), Some(uid)) =
                (fields.next(), fields.next(), fields.next())
            else {
                return Err(TokenFileError::TooFewColumns { line, found });
            };
            record_number += 1;
            if token.is_empty() {
                warnings.push(TokenFileWarning::EmptyToken {
                    record: record_number,
                    line,
                });
                continue;
            }
            let mut groups: Vec<String> = fields
                .next()
                .map(|g| {
                    g.split(',')
                        .filter(|g| !g.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if !groups.iter().any(|g| g == AUTHENTICATED) {
                groups.push(AUTHENTICATED.to_string());
            }
            let entry = Entry {
                user: UserInfo {
                    name,
                    uid,
                    groups,
                    ..Default::default()
                },
                token: token.into_bytes().into_boxed_slice(),
            };
            if by_digest.insert(sha256(&entry.token), entry).is_some() {
                warnings.push(TokenFileWarning::DuplicateToken {
                    record: record_number,
                    line,
                });
            }
        }
        Ok(TokenFile {
            by_digest,
            warnings,
        })
    }

    /// The user of `token`, with `system:authenticated` among its groups;
    /// `None` for a token not in the file.
    pub fn authenticate(&self, token: &str) -> Option<UserInfo> {
        if token.is_empty() {
            return None;
        }
        let entry = self.by_digest.get(&sha256(token.as_bytes()))?;
        constant_time::verify_slices_are_equal(&entry.token, token.as_bytes())
            .ok()
            .map(|()| entry.user.clone())
    }

    /// How many tokens the file holds.
    pub fn len(&self) -> usize {
        self.by_digest.len()
    }

    /// Whether the file holds no token.
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// What upstream would have logged while reading the file.
    pub fn warnings(&self) -> &[TokenFileWarning] {
        &self.warnings
    }
}

#[cfg(test)]
mod tests;
