//! Patterns of the policy language, compiled once: `*` (any run of characters, `/` and `:`
//! included) and `?` (one character) wildcards, and policy variables (`${aws:username}`,
//! `${s3:prefix, 'default'}`, the escapes `${*}`, `${?}`, `${$}`).
//!
//! A pattern without variables matches with no allocation: the common shapes (`*`, an exact
//! string, `prefix*`) are recognised at compile time and tested with one comparison, and the
//! general case is the linear two-pointer glob with one backtrack point. A pattern with
//! variables resolves them against the request's condition keys first, into a short vector
//! of borrowed pieces (one allocation, only for such patterns).
//!
//! Case folding, where an element asks for it (actions, `...IgnoreCase`), is ASCII-only in
//! wildcard patterns; exact comparisons fold full Unicode lower case.

use crate::context::{ConditionSource, Values};

/// Longest variable name inside `${...}`; longer text is taken literally.
const VARIABLE_NAME_LENGTH_MAX: usize = 128;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(Box<str>),
    /// A policy variable: the condition key (lower case) and its default, if any.
    Variable {
        key: Box<str>,
        default: Option<Box<str>>,
    },
    AnyRun,
    AnyOne,
}

/// What a pattern's text allows, decided by the element and the policy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (Action, Resource, `StringLike`, `ArnLike`); else literal.
    pub wildcards: bool,
    /// `${...}` is a variable (Version 2012-10-17, in Resource and string/ARN conditions).
    pub variables: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// `*`: matches every string.
    Any,
    /// No wildcard and no variable.
    Exact(Box<str>),
    /// A literal followed by one trailing `*`.
    Prefix(Box<str>),
    /// Anything else, matched piece by piece.
    General,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    shape: Shape,
    pieces: Box<[Piece]>,
    has_variables: bool,
}

impl Pattern {
    /// Whether matching reads the request's condition keys (a `${...}` variable).
    pub(crate) fn has_variables(&self) -> bool {
        self.has_variables
    }
}

/// A piece with its variable resolved, borrowed from the pattern or the request.
#[derive(Debug, Clone, Copy)]
enum PieceRef<'a> {
    Literal(&'a str),
    AnyRun,
    AnyOne,
}

impl Pattern {
    pub(crate) fn compile(text: &str, syntax: Syntax) -> Pattern {
        let pieces = compile_pieces(text, syntax);
        let has_variables = pieces.iter().any(|p| matches!(p, Piece::Variable { .. }));
        let shape = match pieces.as_slice() {
            [Piece::AnyRun] => Shape::Any,
            [] => Shape::Exact("".into()),
            [Piece::Literal(literal)] => Shape::Exact(literal.clone()),
            [Piece::Literal(literal), Piece::AnyRun] => Shape::Prefix(literal.clone()),
            _ => Shape::General,
        };
        Pattern {
            shape,
            pieces: pieces.into_boxed_slice(),
            has_variables,
        }
    }

    /// True if the pattern matches `text`. A variable whose key the request lacks (or holds
    /// several values for) and that has no default makes the pattern match nothing, as AWS
    /// documents for unresolvable variables.
    pub(crate) fn matches(&self, text: &str, fold: bool, keys: &dyn ConditionSource) -> bool {
        match &self.shape {
            Shape::Any => true,
            Shape::Exact(literal) => equal(literal, text, fold),
            Shape::Prefix(literal) => has_prefix(text, literal, fold),
            Shape::General if !self.has_variables => glob(&self.pieces, text, fold),
            Shape::General => match self.resolve(keys) {
                Some(pieces) => glob(&pieces, text, fold),
                None => false,
            },
        }
    }

    fn resolve<'a>(&'a self, keys: &'a dyn ConditionSource) -> Option<Vec<PieceRef<'a>>> {
        let mut resolved = Vec::with_capacity(self.pieces.len());
        for piece in &self.pieces {
            resolved.push(match piece {
                Piece::Literal(literal) => PieceRef::Literal(literal),
                Piece::AnyRun => PieceRef::AnyRun,
                Piece::AnyOne => PieceRef::AnyOne,
                Piece::Variable { key, default } => {
                    match (keys.values_lowercase(key).and_then(Values::single), default) {
                        (Some(value), _) => PieceRef::Literal(value),
                        (None, Some(default)) => PieceRef::Literal(default),
                        (None, None) => return None,
                    }
                }
            });
        }
        Some(resolved)
    }

    /// True if the pattern is `*`: it matches every string.
    pub(crate) fn is_any(&self) -> bool {
        matches!(self.shape, Shape::Any)
    }

    /// True if the pattern matches every string that starts with `prefix`, whatever the
    /// case (as actions are matched): `*`, or a literal prefix of `prefix` then `*`.
    pub(crate) fn covers_prefix(&self, prefix: &str) -> bool {
        match &self.shape {
            Shape::Any => true,
            Shape::Prefix(literal) => has_prefix(prefix, literal, true),
            Shape::Exact(_) | Shape::General => false,
        }
    }

    /// True if the pattern has no wildcard and no variable.
    pub(crate) fn is_literal(&self) -> bool {
        matches!(self.shape, Shape::Exact(_))
    }
}

fn compile_pieces(text: &str, syntax: Syntax) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(character) = rest.chars().next() {
        if syntax.variables
            && rest.starts_with("${")
            && let Some((piece, length)) = compile_variable(rest)
        {
            match piece {
                Piece::Literal(escaped) => literal.push_str(&escaped),
                variable => {
                    flush_literal(&mut pieces, &mut literal);
                    pieces.push(variable);
                }
            }
            rest = &rest[length..];
            continue;
        }
        match character {
            '*' if syntax.wildcards => {
                flush_literal(&mut pieces, &mut literal);
                // Consecutive `*` are one run.
                if pieces.last() != Some(&Piece::AnyRun) {
                    pieces.push(Piece::AnyRun);
                }
            }
            '?' if syntax.wildcards => {
                flush_literal(&mut pieces, &mut literal);
                pieces.push(Piece::AnyOne);
            }
            other => literal.push(other),
        }
        rest = &rest[character.len_utf8()..];
    }
    flush_literal(&mut pieces, &mut literal);
    pieces
}

fn flush_literal(pieces: &mut Vec<Piece>, literal: &mut String) {
    if !literal.is_empty() {
        pieces.push(Piece::Literal(std::mem::take(literal).into_boxed_str()));
    }
}

/// `${...}` at the start of `text`: the piece and the bytes it spans, or `None` if it is not
/// a well-formed variable (then the characters are literal, as AWS treats them).
fn compile_variable(text: &str) -> Option<(Piece, usize)> {
    let close = text.find('}')?;
    let inner = &text[2..close];
    let length = close + 1;
    match inner {
        "*" | "?" | "$" => return Some((Piece::Literal(inner.into()), length)),
        _ => {}
    }
    let (name, default) = match inner.split_once(',') {
        None => (inner.trim(), None),
        Some((name, default)) => {
            let default = default.trim();
            let quoted = default.len() >= 2 && default.starts_with('\'') && default.ends_with('\'');
            if !quoted {
                return None;
            }
            (name.trim(), Some(default[1..default.len() - 1].into()))
        }
    };
    let valid_name = !name.is_empty()
        && name.len() <= VARIABLE_NAME_LENGTH_MAX
        && name.contains(':')
        && name.bytes().all(|byte| {
            byte.is_ascii_alphanumeric() || matches!(byte, b':' | b'/' | b'-' | b'_' | b'.')
        });
    if !valid_name {
        return None;
    }
    let key = name.to_ascii_lowercase().into_boxed_str();
    Some((Piece::Variable { key, default }, length))
}

fn equal(literal: &str, text: &str, fold: bool) -> bool {
    if !fold {
        return literal == text;
    }
    if literal.is_ascii() && text.is_ascii() {
        return literal.eq_ignore_ascii_case(text);
    }
    literal
        .chars()
        .flat_map(char::to_lowercase)
        .eq(text.chars().flat_map(char::to_lowercase))
}

fn has_prefix(text: &str, prefix: &str, fold: bool) -> bool {
    if fold {
        text.len() >= prefix.len()
            && text.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    } else {
        text.starts_with(prefix)
    }
}

trait AsPieceRef {
    fn piece_ref(&self) -> PieceRef<'_>;
}

impl AsPieceRef for Piece {
    fn piece_ref(&self) -> PieceRef<'_> {
        match self {
            Piece::Literal(literal) => PieceRef::Literal(literal),
            Piece::AnyRun => PieceRef::AnyRun,
            Piece::AnyOne => PieceRef::AnyOne,
            // Callers resolve variables before matching piece by piece.
            Piece::Variable { .. } => unreachable!("unresolved policy variable"),
        }
    }
}

impl AsPieceRef for PieceRef<'_> {
    fn piece_ref(&self) -> PieceRef<'_> {
        *self
    }
}

/// The classic glob match with one backtrack point: on a mismatch, the last `*` absorbs one
/// more character. Linear in practice, O(pattern x text) at worst, never recursive.
fn glob<P: AsPieceRef>(pieces: &[P], text: &str, fold: bool) -> bool {
    let mut piece_idx = 0;
    let mut text_idx = 0;
    // (piece after the last `*`, text position that `*` currently extends to)
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        if let Some(piece) = pieces.get(piece_idx) {
            let rest = &text[text_idx..];
            match piece.piece_ref() {
                PieceRef::AnyRun => {
                    piece_idx += 1;
                    backtrack = Some((piece_idx, text_idx));
                    continue;
                }
                PieceRef::AnyOne => {
                    if let Some(character) = rest.chars().next() {
                        piece_idx += 1;
                        text_idx += character.len_utf8();
                        continue;
                    }
                }
                PieceRef::Literal(literal) => {
                    if has_prefix(rest, literal, fold) {
                        piece_idx += 1;
                        text_idx += literal.len();
                        continue;
                    }
                }
            }
        } else if text_idx == text.len() {
            return true;
        }
        let Some((resume_idx, star_text_idx)) = backtrack else {
            return false;
        };
        let Some(character) = text[star_text_idx..].chars().next() else {
            return false;
        };
        let next_text_idx = star_text_idx + character.len_utf8();
        backtrack = Some((resume_idx, next_text_idx));
        piece_idx = resume_idx;
        text_idx = next_text_idx;
    }
}

#[cfg(test)]
mod tests;
