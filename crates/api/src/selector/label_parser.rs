//! The label selector lexer and parser. It follows upstream's grammar token
//! for token (including its quirks: `in`/`notin` are ordinary words where
//! a value is expected, `()` means the empty value, a NUL byte reads as the
//! end of the input), so the same strings parse and fail with the same
//! messages.

use super::SelectorError;
use super::label::{Operator, Requirement};
use super::validation::{go_quote, invalid, qualified_name_errors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

/// Whether a token is read where a key/operator or where a value is due.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

#[derive(Debug, Clone)]
struct Item<'a> {
    tok: Token,
    lit: &'a str,
    pos: usize,
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn symbol(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// The next byte, or 0 at the end (upstream reads a NUL byte the same way).
    fn read(&mut self) -> u8 {
        match self.src.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn lex(&mut self) -> Item<'a> {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return Item {
                tok: Token::EndOfString,
                lit: "",
                pos: self.pos,
            };
        }
        self.unread();
        if is_special(ch) {
            self.scan_special()
        } else {
            self.scan_identifier()
        }
    }

    fn scan_identifier(&mut self) -> Item<'a> {
        let start = self.pos;
        let end = loop {
            let here = self.pos;
            let ch = self.read();
            if ch == 0 {
                break here;
            }
            if is_special(ch) || is_whitespace(ch) {
                self.unread();
                break here;
            }
        };
        // Only ASCII bytes end an identifier, so the slice is on char
        // boundaries.
        let lit = self.src.get(start..end).unwrap_or("");
        let tok = match lit {
            "in" => Token::In,
            "notin" => Token::NotIn,
            _ => Token::Identifier,
        };
        Item {
            tok,
            lit,
            pos: start,
        }
    }

    /// The longest run of special characters that is an operator.
    fn scan_special(&mut self) -> Item<'a> {
        let start = self.pos;
        let mut last: Option<(Token, usize)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if !is_special(ch) {
                self.unread();
                break;
            }
            match self.src.get(start..self.pos).and_then(symbol) {
                Some(tok) => last = Some((tok, self.pos)),
                None if last.is_some() => {
                    self.unread();
                    break;
                }
                None => {}
            }
        }
        // Every single special character is itself an operator, so `last`
        // is always set once one was read.
        let (tok, end) = last.unwrap_or((Token::EndOfString, start));
        Item {
            tok,
            lit: self.src.get(start..end).unwrap_or(""),
            pos: start,
        }
    }
}

/// A parse failure: upstream's message and where it was noticed.
struct Failure {
    message: String,
    position: Option<usize>,
}

fn fail<T>(message: String, position: usize) -> Result<T, Failure> {
    Err(Failure {
        message,
        position: Some(position),
    })
}

impl From<SelectorError> for Failure {
    fn from(e: SelectorError) -> Self {
        Failure {
            message: e.to_string(),
            position: None,
        }
    }
}

struct Parser<'a> {
    items: Vec<Item<'a>>,
    position: usize,
}

impl<'a> Parser<'a> {
    fn item(&self, context: Context) -> Item<'a> {
        // The list always ends with EndOfString, which is never consumed
        // twice; reading past it answers EndOfString again.
        let mut item = match self.items.get(self.position).or(self.items.last()) {
            Some(item) => item.clone(),
            None => Item {
                tok: Token::EndOfString,
                lit: "",
                pos: 0,
            },
        };
        if context == Context::Values && matches!(item.tok, Token::In | Token::NotIn) {
            item.tok = Token::Identifier;
        }
        item
    }

    fn lookahead(&self, context: Context) -> Item<'a> {
        self.item(context)
    }

    fn consume(&mut self, context: Context) -> Item<'a> {
        let item = self.item(context);
        self.position += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, Failure> {
        let mut requirements = Vec::new();
        loop {
            let next = self.lookahead(Context::Values);
            match next.tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|f| Failure {
                        message: format!("unable to parse requirement: {}", f.message),
                        position: f.position.or(Some(next.pos)),
                    })?;
                    requirements.push(r);
                    let after = self.consume(Context::Values);
                    match after.tok {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let t2 = self.lookahead(Context::Values);
                            if !matches!(t2.tok, Token::Identifier | Token::DoesNotExist) {
                                return fail(
                                    format!("found '{}', expected: identifier after ','", t2.lit),
                                    t2.pos,
                                );
                            }
                        }
                        _ => {
                            return fail(
                                format!("found '{}', expected: ',' or 'end of string'", after.lit),
                                after.pos,
                            );
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => {
                    return fail(
                        format!(
                            "found '{}', expected: !, identifier, or 'end of string'",
                            next.lit
                        ),
                        next.pos,
                    );
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, Failure> {
        let (key, unary) = self.parse_key_and_infer_operator()?;
        if let Some(op) = unary {
            return Ok(Requirement::new(key, op, Vec::new())?);
        }
        let op = self.parse_operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Ok(Requirement::new(key, op, values)?)
    }

    /// The key, and `exists`/`!` when no binary operator follows.
    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), Failure> {
        let mut item = self.consume(Context::Values);
        let mut operator = None;
        if item.tok == Token::DoesNotExist {
            operator = Some(Operator::DoesNotExist);
            item = self.consume(Context::Values);
        }
        if item.tok != Token::Identifier {
            return fail(
                format!("found '{}', expected: identifier", item.lit),
                item.pos,
            );
        }
        let errs = qualified_name_errors(item.lit);
        if !errs.is_empty() {
            // Upstream validates here with a nil field path, hence `<nil>`.
            return fail(
                invalid("<nil>", &go_quote(item.lit), &errs.join("; ")),
                item.pos,
            );
        }
        let next = self.lookahead(Context::Values);
        if matches!(next.tok, Token::EndOfString | Token::Comma) && operator.is_none() {
            operator = Some(Operator::Exists);
        }
        Ok((item.lit.to_string(), operator))
    }

    fn parse_operator(&mut self) -> Result<Operator, Failure> {
        let item = self.consume(Context::KeyAndOperator);
        Ok(match item.tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => {
                return fail(
                    format!(
                        "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                        item.lit
                    ),
                    item.pos,
                );
            }
        })
    }

    /// `(a,b,c)`: the set of values, sorted and without duplicates.
    fn parse_values(&mut self) -> Result<Vec<String>, Failure> {
        let open = self.consume(Context::Values);
        if open.tok != Token::OpenPar {
            return fail(format!("found '{}' expected: '('", open.lit), open.pos);
        }
        let next = self.lookahead(Context::Values);
        match next.tok {
            Token::Identifier | Token::Comma => {
                let values = self.parse_identifiers_list()?;
                let close = self.consume(Context::Values);
                if close.tok != Token::ClosedPar {
                    return fail(format!("found '{}', expected: ')'", next.lit), close.pos);
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            _ => fail(
                format!("found '{}', expected: ',', ')' or identifier", next.lit),
                next.pos,
            ),
        }
    }

    fn parse_identifiers_list(&mut self) -> Result<Vec<String>, Failure> {
        let mut set = std::collections::BTreeSet::new();
        loop {
            let item = self.consume(Context::Values);
            match item.tok {
                Token::Identifier => {
                    set.insert(item.lit.to_string());
                    let next = self.lookahead(Context::Values);
                    match next.tok {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set.into_iter().collect()),
                        _ => {
                            return fail(
                                format!("found '{}', expected: ',' or ')'", next.lit),
                                next.pos,
                            );
                        }
                    }
                }
                Token::Comma => {
                    // A leading, doubled or trailing comma stands for "".
                    if set.is_empty() {
                        set.insert(String::new());
                    }
                    let next = self.lookahead(Context::Values);
                    if next.tok == Token::ClosedPar {
                        set.insert(String::new());
                        return Ok(set.into_iter().collect());
                    }
                    if next.tok == Token::Comma {
                        self.consume(Context::Values);
                        set.insert(String::new());
                    }
                }
                _ => {
                    return fail(
                        format!("found '{}', expected: ',', or identifier", item.lit),
                        item.pos,
                    );
                }
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, Failure> {
        let next = self.lookahead(Context::Values);
        if matches!(next.tok, Token::EndOfString | Token::Comma) {
            return Ok(vec![String::new()]);
        }
        let item = self.consume(Context::Values);
        if item.tok == Token::Identifier {
            return Ok(vec![item.lit.to_string()]);
        }
        fail(
            format!("found '{}', expected: identifier", item.lit),
            item.pos,
        )
    }
}

/// Parses a selector string into its requirements (unsorted).
pub(super) fn parse(s: &str) -> Result<Vec<Requirement>, SelectorError> {
    let mut lexer = Lexer { src: s, pos: 0 };
    let mut items = Vec::new();
    loop {
        let item = lexer.lex();
        let end = item.tok == Token::EndOfString;
        items.push(item);
        if end {
            break;
        }
    }
    let mut parser = Parser { items, position: 0 };
    parser
        .parse()
        .map_err(|f| SelectorError::InvalidLabelSelector {
            message: f.message,
            position: f.position,
        })
}
