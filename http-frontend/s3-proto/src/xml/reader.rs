//! A strict, bounded walk over an XML request body on top of quick-xml's reader: it yields
//! element opens and closes (with the element's own text) and rejects everything S3 request
//! bodies never contain. It never recurses, never expands entities other than the five
//! predefined ones and character references, refuses characters XML 1.0 cannot carry, and
//! never allocates more than a small multiple of the (already capped) body.

use base::limits::{XML_BODY_BYTES_MAX, XML_DEPTH_MAX};
use quick_xml::Reader;
use quick_xml::events::Event;

use super::malformed_xml;
use crate::error::{S3Error, S3ErrorCode};

/// One step of the walk.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// An element opened; `depth` is 1 for the root.
    Open { name: String, depth: usize },
    /// An element closed; `text` is the character data directly inside it (entities decoded).
    Close {
        name: String,
        depth: usize,
        text: String,
    },
    /// The document ended after its root element closed.
    End,
}

pub(crate) struct Walker<'a> {
    reader: Reader<&'a [u8]>,
    /// Local names of the open elements, root first.
    names: Vec<String>,
    /// Character data of the innermost open element since it opened.
    text: String,
    /// An `Empty` event (`<a/>`) is reported as Open then Close: the Close is held here.
    pending_close: Option<String>,
    root_seen: bool,
}

impl<'a> Walker<'a> {
    /// Starts a walk. The body must be UTF-8 (an optional BOM is skipped) and at most
    /// `XML_BODY_BYTES_MAX` bytes.
    pub(crate) fn new(body: &'a [u8]) -> Result<Walker<'a>, S3Error> {
        if body.len() > XML_BODY_BYTES_MAX {
            return Err(S3Error::with_message(
                S3ErrorCode::MaxMessageLengthExceeded,
                format!("The XML body exceeds {XML_BODY_BYTES_MAX} bytes."),
            ));
        }
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        let text = std::str::from_utf8(body).map_err(|_| malformed_xml())?;
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.check_comments = true;
        config.expand_empty_elements = false;
        config.trim_text_start = false;
        config.trim_text_end = false;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        Ok(Walker {
            reader,
            names: Vec::new(),
            text: String::new(),
            pending_close: None,
            root_seen: false,
        })
    }

    pub(crate) fn next(&mut self) -> Result<Step, S3Error> {
        if let Some(name) = self.pending_close.take() {
            return Ok(self.close(name));
        }
        loop {
            let event = self.reader.read_event().map_err(|_| malformed_xml())?;
            match event {
                Event::Start(start) => {
                    let name = local_name(start.local_name().as_ref())?;
                    return self.open(name);
                }
                Event::Empty(start) => {
                    let name = local_name(start.local_name().as_ref())?;
                    self.pending_close = Some(name.clone());
                    return self.open(name);
                }
                Event::End(end) => {
                    let name = local_name(end.local_name().as_ref())?;
                    return Ok(self.close(name));
                }
                Event::Text(text) => {
                    let content = text.xml10_content();
                    self.push_text(&content)?;
                }
                Event::CData(cdata) => {
                    let content = cdata.xml10_content();
                    self.push_text(&content)?;
                }
                Event::GeneralRef(reference) => {
                    let character = match reference.resolve_char_ref() {
                        Ok(Some(character)) => character,
                        Ok(None) => predefined_entity(&reference).ok_or_else(malformed_xml)?,
                        Err(_) => return Err(malformed_xml()),
                    };
                    let mut buf = [0_u8; 4];
                    self.push_text(character.encode_utf8(&mut buf))?;
                }
                Event::DocType(_) => return Err(malformed_xml()),
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
                Event::Eof => {
                    return if self.root_seen && self.names.is_empty() {
                        Ok(Step::End)
                    } else {
                        Err(malformed_xml())
                    };
                }
            }
        }
    }

    fn open(&mut self, name: String) -> Result<Step, S3Error> {
        let is_second_root = self.root_seen && self.names.is_empty();
        if is_second_root || self.names.len() >= XML_DEPTH_MAX {
            return Err(malformed_xml());
        }
        // Text before a child element is mixed content, which no S3 body has.
        require_blank(&self.text)?;
        self.root_seen = true;
        self.names.push(name.clone());
        self.text.clear();
        Ok(Step::Open {
            name,
            depth: self.names.len(),
        })
    }

    fn close(&mut self, name: String) -> Step {
        let depth = self.names.len();
        // check_end_names guarantees the names match.
        self.names.pop();
        let text = std::mem::take(&mut self.text);
        Step::Close { name, depth, text }
    }

    /// Text outside the root must be whitespace; text inside is kept for the innermost
    /// element (the body cap bounds its size).
    fn push_text(&mut self, content: &str) -> Result<(), S3Error> {
        if self.names.is_empty() {
            if content
                .chars()
                .all(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
            {
                return Ok(());
            }
            return Err(malformed_xml());
        }
        // XML 1.0 cannot carry these characters (its `Char` production), raw or as a
        // character reference: Go's encoding/xml and AWS refuse them. Accepting one would
        // store a value that our own writers turn into U+FFFD, so a configuration read back
        // would differ from the one accepted.
        if content.chars().any(|c| !is_xml_char(c)) {
            return Err(malformed_xml());
        }
        self.text.push_str(content);
        Ok(())
    }
}

/// XML 1.0 `Char`: tab, line feed, carriage return, and U+0020 and above except U+FFFE and
/// U+FFFF (surrogates cannot occur in a `str`).
fn is_xml_char(character: char) -> bool {
    matches!(character, '\t' | '\n' | '\r')
        || (character >= '\u{20}' && !matches!(character, '\u{fffe}' | '\u{ffff}'))
}

impl Walker<'_> {
    /// Reads the root element's opening and checks its local name (any namespace or none).
    pub(crate) fn expect_root(&mut self, root_name: &str) -> Result<(), S3Error> {
        match self.next()? {
            Step::Open { name, depth: 1 } if name == root_name => Ok(()),
            _ => Err(malformed_xml()),
        }
    }

    /// Skips everything inside the element just opened at `depth`, up to its close.
    pub(crate) fn skip_subtree(&mut self, depth: usize) -> Result<(), S3Error> {
        loop {
            match self.next()? {
                Step::Close { depth: closed, .. } if closed == depth => return Ok(()),
                Step::End => return Err(malformed_xml()),
                Step::Open { .. } | Step::Close { .. } => {}
            }
        }
    }
}

/// Text left directly inside a container element must be whitespace.
pub(crate) fn require_blank(text: &str) -> Result<(), S3Error> {
    if text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) {
        Ok(())
    } else {
        Err(malformed_xml())
    }
}

fn local_name(name: &str) -> Result<String, S3Error> {
    if name.is_empty() {
        return Err(malformed_xml());
    }
    Ok(name.to_owned())
}

fn predefined_entity(name: &str) -> Option<char> {
    match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}
