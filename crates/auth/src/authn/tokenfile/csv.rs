//! The CSV dialect of the token file: Go's `encoding/csv` reader as
//! upstream configures it (comma-separated, `FieldsPerRecord = -1`, no
//! comment character, no lazy quotes, leading spaces kept).
//!
//! - A record is one line; a quoted field may span lines.
//! - `\r\n` reads as `\n`, and a `\r` just before the end of the input is
//!   dropped.
//! - Empty lines are skipped (a line of spaces is a record of one field).
//! - A quote inside an unquoted field is an error (`bare "`), as is a
//!   quoted field whose closing quote is followed by anything but a comma
//!   or the end of the line, or that never closes.

use std::fmt;

/// Why the CSV did not parse, in Go's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CsvErrorKind {
    /// A `"` inside an unquoted field.
    BareQuote,
    /// A quoted field that does not close properly.
    Quote,
}

impl fmt::Display for CsvErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CsvErrorKind::BareQuote => "bare \" in non-quoted-field",
            CsvErrorKind::Quote => "extraneous or missing \" in quoted-field",
        })
    }
}

/// A CSV syntax error, at a 1-based line and byte column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvError {
    /// The line the record starts on.
    pub start_line: usize,
    /// The line of the error.
    pub line: usize,
    /// The byte column of the error, from 1.
    pub column: usize,
    /// What is wrong.
    pub kind: CsvErrorKind,
}

impl fmt::Display for CsvError {
    /// Go's `csv.ParseError` text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start_line != self.line {
            write!(
                f,
                "record on line {}; parse error on line {}, column {}: {}",
                self.start_line, self.line, self.column, self.kind
            )
        } else {
            write!(
                f,
                "parse error on line {}, column {}: {}",
                self.line, self.column, self.kind
            )
        }
    }
}

/// One record: the line it starts on and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The line it starts on, from 1.
    pub line: usize,
    /// Its fields, unquoted.
    pub fields: Vec<String>,
}

/// Reads records one by one.
pub struct Reader<'a> {
    rest: &'a str,
    num_line: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `text`.
    pub fn new(text: &'a str) -> Self {
        Reader {
            rest: text,
            num_line: 0,
        }
    }

    /// The next line with its `\n` (normalised from `\r\n`), or `None` at
    /// the end of the input.
    fn read_line(&mut self) -> Option<String> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, rest) = match self.rest.find('\n') {
            Some(i) => self.rest.split_at(i + 1),
            None => (self.rest, ""),
        };
        self.rest = rest;
        self.num_line += 1;
        let mut line = line.to_string();
        if let Some(body) = line.strip_suffix("\r\n") {
            line = format!("{body}\n");
        } else if !line.ends_with('\n') && line.ends_with('\r') {
            line.pop();
        }
        Some(line)
    }

    /// The next record, `None` after the last one.
    pub fn read_record(&mut self) -> Option<Result<Record, CsvError>> {
        let mut line = loop {
            let line = self.read_line()?;
            if !line.is_empty() && line != "\n" {
                break line;
            }
        };
        let start_line = self.num_line;
        let mut line_of_field = self.num_line;
        let mut fields = Vec::new();
        let mut at = 0;
        let mut column = 1;
        'fields: loop {
            if !line[at..].starts_with('"') {
                let segment = &line[at..];
                let (field, comma) = match segment.find(',') {
                    Some(i) => (&segment[..i], Some(i)),
                    None => (segment.strip_suffix('\n').unwrap_or(segment), None),
                };
                if let Some(j) = field.find('"') {
                    return Some(Err(CsvError {
                        start_line,
                        line: self.num_line,
                        column: column + j,
                        kind: CsvErrorKind::BareQuote,
                    }));
                }
                fields.push(field.to_string());
                match comma {
                    Some(i) => {
                        at += i + 1;
                        column += i + 1;
                        continue 'fields;
                    }
                    None => break 'fields,
                }
            }
            // A quoted field.
            at += 1;
            column += 1;
            let mut field = String::new();
            loop {
                let segment = &line[at..];
                if let Some(i) = segment.find('"') {
                    field.push_str(&segment[..i]);
                    at += i + 1;
                    column += i + 1;
                    let after = &line[at..];
                    if after.starts_with('"') {
                        field.push('"');
                        at += 1;
                        column += 1;
                    } else if after.starts_with(',') {
                        at += 1;
                        column += 1;
                        fields.push(field);
                        continue 'fields;
                    } else if after.is_empty() || after == "\n" {
                        fields.push(field);
                        break 'fields;
                    } else {
                        return Some(Err(CsvError {
                            start_line,
                            line: self.num_line,
                            column: column - 1,
                            kind: CsvErrorKind::Quote,
                        }));
                    }
                } else if !segment.is_empty() {
                    // The field goes on on the next line.
                    field.push_str(segment);
                    column += segment.len();
                    at = 0;
                    match self.read_line() {
                        Some(next) => {
                            line = next;
                            line_of_field += 1;
                            column = 1;
                        }
                        None => line = String::new(),
                    }
                } else {
                    // The input ends inside the quotes.
                    return Some(Err(CsvError {
                        start_line,
                        line: line_of_field,
                        column,
                        kind: CsvErrorKind::Quote,
                    }));
                }
            }
        }
        Some(Ok(Record {
            line: start_line,
            fields,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Result<Vec<Vec<String>>, String> {
        let mut reader = Reader::new(text);
        let mut out = Vec::new();
        while let Some(record) = reader.read_record() {
            out.push(record.map_err(|e| e.to_string())?.fields);
        }
        Ok(out)
    }

    fn rows(rows: &[&[&str]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|f| f.to_string()).collect())
            .collect()
    }

    #[test]
    fn plain_and_quoted_fields() {
        assert_eq!(
            all("a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\n").unwrap(),
            rows(&[&["a", "b", "c"], &["x,y", "say \"hi\"", ""]])
        );
        // Leading spaces are kept, trailing \r\n and \r at the end dropped.
        assert_eq!(
            all(" a, b\r\nc,d\r").unwrap(),
            rows(&[&[" a", " b"], &["c", "d"]])
        );
        // Empty lines are skipped, a line of spaces is a field.
        assert_eq!(all("\n\r\na\n\n  \n").unwrap(), rows(&[&["a"], &["  "]]));
        assert_eq!(all("").unwrap(), rows(&[]));
        assert_eq!(all("\"\"").unwrap(), rows(&[&[""]]));
        // A comment character is not special.
        assert_eq!(all("#a,b").unwrap(), rows(&[&["#a", "b"]]));
    }

    #[test]
    fn quoted_field_across_lines() {
        let mut reader = Reader::new("x,\"one\r\ntwo\",y\nz\n");
        let first = reader.read_record().unwrap().unwrap();
        assert_eq!(first.line, 1);
        assert_eq!(first.fields, vec!["x", "one\ntwo", "y"]);
        let second = reader.read_record().unwrap().unwrap();
        assert_eq!(second.line, 3);
        assert_eq!(second.fields, vec!["z"]);
        assert!(reader.read_record().is_none());
    }

    #[test]
    fn errors_read_like_go() {
        assert_eq!(
            all("ok,1\na,b\"c\n").unwrap_err(),
            "parse error on line 2, column 4: bare \" in non-quoted-field"
        );
        assert_eq!(
            all("\"a\"b,c\n").unwrap_err(),
            "parse error on line 1, column 3: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            all("x,\"abc\nde\n").unwrap_err(),
            "record on line 1; parse error on line 2, column 4: extraneous or missing \" in quoted-field"
        );
        assert_eq!(
            all("\"").unwrap_err(),
            "parse error on line 1, column 2: extraneous or missing \" in quoted-field"
        );
    }

    #[test]
    fn multibyte_text() {
        assert_eq!(
            all("tök,ユーザー,\"é,è\"\n").unwrap(),
            rows(&[&["tök", "ユーザー", "é,è"]])
        );
        assert!(all("é\"").is_err());
    }
}
