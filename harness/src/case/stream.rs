//! Reading a case file in bounded memory. A file of up to [`BLOCK`] bytes is read whole and
//! split by the layout rule ([`split_text`]); a larger one is streamed when its first block shows
//! its layout: JSON Lines block by block, an array item by item (after a first pass that checks
//! the whole file is one JSON array, so that a broken array is still one error and no case).
//! Cases are handed on in batches of at most [`BATCH`], in input order, as text not yet read:
//! the caller reads them on every core.
//!
//! What is held at once is one block (or the longest line, if longer), one batch of case texts
//! and what the caller keeps of a batch: never the whole file. A large input is still read whole
//! when its first block does not show JSON Lines or an array: a file that starts with `{` whose
//! first non-blank line is not a JSON object on its own, starting in column one (a pretty-printed
//! object, or JSON Lines whose first line is broken), one that starts with `//` and has no JSON
//! line in its first block, one that starts with anything else (it is then one error); and a large
//! array on standard input, which cannot be read twice.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use keyward_iam::json::Json;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::read::{is_case_line, line_is_json, split_text, CaseSource, Item, LineItems};
use super::CaseError;

/// Files up to this size are read whole; larger ones are read this much at a time.
pub const BLOCK: usize = 1 << 20;
/// Cases handed on at a time: enough to keep every core busy, few enough to bound memory.
pub const BATCH: usize = 512;

/// Where the text comes from: a file (which can be read twice) or standard input.
enum Input {
    File(File),
    Stdin(io::Stdin),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::File(f) => f.read(buf),
            Input::Stdin(s) => s.read(buf),
        }
    }
}

/// Reads `path` (`-`: standard input) and hands its cases to `sink` batch by batch. An `Err` is
/// about the whole file, given after the batches read before it (an I/O error in the middle).
pub(crate) fn stream_file(
    path: &Path,
    sink: &mut dyn for<'a> FnMut(Vec<Item<'a>>),
) -> Result<(), CaseError> {
    let file = path.display().to_string();
    let cannot_read = |e: io::Error| CaseError {
        place: None,
        file: file.clone(),
        case: None,
        path: "$".into(),
        message: format!("cannot read: {e}"),
    };
    let mut input = if file == "-" {
        Input::Stdin(io::stdin())
    } else {
        Input::File(File::open(path).map_err(cannot_read)?)
    };
    let mut buf = Vec::with_capacity(BLOCK + 1);
    // One byte more than a block tells a file of exactly a block from a larger one.
    let eof = fill(&mut input, &mut buf, BLOCK + 1).map_err(cannot_read)?;
    if !eof {
        let first = buf.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let first_line = buf
            .split(|&b| b == b'\n')
            .find(|l| !l.trim_ascii().is_empty())
            .unwrap_or_default();
        let lines = match first {
            Some(b'{') => std::str::from_utf8(first_line).is_ok_and(is_case_line),
            Some(b'/') => has_json_line(&buf),
            _ => false,
        };
        if lines {
            return stream_lines(&file, &mut input, buf, sink).map_err(cannot_read);
        }
        // An array is read twice, so only a regular file (not a pipe given as a path) streams.
        if let (Some(b'['), Input::File(f)) = (first, &mut input) {
            if f.metadata().is_ok_and(|m| m.is_file()) {
                return stream_array(&file, f, sink);
            }
        }
        input.read_to_end(&mut buf).map_err(cannot_read)?;
    }
    let text = String::from_utf8(buf).map_err(|_| {
        cannot_read(io::Error::new(
            io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })?;
    let mut items = split_text(&file, &text)?.into_iter();
    loop {
        let batch: Vec<Item<'_>> = items.by_ref().take(BATCH).collect();
        if batch.is_empty() {
            return Ok(());
        }
        sink(batch);
    }
}

/// Reads until `buf` holds `want` bytes or the input ends; whether it ended.
fn fill(input: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let before = buf.len();
        input.take((want - before) as u64).read_to_end(buf)?;
        if buf.len() == before {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether some complete line of a first block holds JSON (the rule for a file that starts with
/// a comment).
fn has_json_line(block: &[u8]) -> bool {
    let complete = match block.iter().rposition(|&b| b == b'\n') {
        Some(end) => &block[..end],
        None => return false,
    };
    complete.split(|&b| b == b'\n').any(line_is_json)
}

/// JSON Lines, block by block: each block is cut after its last complete line; the rest starts
/// the next block.
fn stream_lines(
    file: &str,
    input: &mut Input,
    mut buf: Vec<u8>,
    sink: &mut dyn for<'a> FnMut(Vec<Item<'a>>),
) -> io::Result<()> {
    let mut lines = LineItems::new(file);
    let mut eof = false;
    // How much of `buf` is known to hold no newline (a line longer than a block is read on, and
    // only what was added is searched again).
    let mut scanned = 0;
    loop {
        let end = if eof {
            buf.len()
        } else {
            match buf[scanned..].iter().rposition(|&b| b == b'\n') {
                Some(nl) => scanned + nl + 1,
                // A line longer than a block: read on until it ends.
                None => {
                    scanned = buf.len();
                    let want = buf.len() + BLOCK;
                    eof = fill(input, &mut buf, want)?;
                    continue;
                }
            }
        };
        scanned = 0;
        let mut batch = Vec::with_capacity(BATCH);
        let block = &buf[..end];
        let mut rest = block;
        while !rest.is_empty() {
            let (line, after) = match rest.iter().position(|&b| b == b'\n') {
                Some(nl) => (&rest[..nl], &rest[nl + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            rest = after;
            if let Some(item) = lines.next_line(line) {
                batch.push(item);
                if batch.len() == BATCH {
                    sink(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
                }
            }
        }
        if !batch.is_empty() {
            sink(batch);
        }
        if eof {
            return Ok(());
        }
        buf.drain(..end);
        let want = buf.len() + BLOCK;
        eof = fill(input, &mut buf, want)?;
    }
}

/// A large array in a file: a first pass checks that the whole file is one JSON array (reading
/// nothing into memory), the second hands its items on.
fn stream_array(
    file: &str,
    f: &mut File,
    sink: &mut dyn for<'a> FnMut(Vec<Item<'a>>),
) -> Result<(), CaseError> {
    let whole = |message: String| CaseError {
        place: None,
        file: file.to_string(),
        case: None,
        path: "$".into(),
        message,
    };
    let reading = |e: serde_json::Error| {
        if e.is_io() {
            whole(format!("cannot read: {e}"))
        } else {
            whole(format!("not valid JSON: {e}"))
        }
    };
    f.seek(SeekFrom::Start(0))
        .map_err(|e| reading(serde_json::Error::io(e)))?;
    // Each item is parsed in full (and dropped), so that the errors are a JSON reader's, as for
    // a file read whole; the text is checked to be UTF-8, as a file read whole is.
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(
        BLOCK,
        Utf8Checked::new(&mut *f),
    ));
    de.deserialize_seq(CheckItems)
        .and_then(|()| de.end())
        .map_err(reading)?;
    f.seek(SeekFrom::Start(0))
        .map_err(|e| reading(serde_json::Error::io(e)))?;
    let mut de = serde_json::Deserializer::from_reader(BufReader::with_capacity(BLOCK, f));
    de.deserialize_seq(Items { sink })
        .and_then(|()| de.end())
        .map_err(|e| {
            if e.is_io() {
                reading(e)
            } else {
                whole(format!(
                    "cannot read: the file changed while it was read ({e})"
                ))
            }
        })
}

/// The first pass over an array: every item parsed, then dropped.
struct CheckItems;

impl<'de> Visitor<'de> for CheckItems {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of cases")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<Json<'de>>()?.is_some() {}
        Ok(())
    }
}

/// A reader that fails as `read_to_string` does on text that is not UTF-8, checking as it goes
/// (a character cut by a read is finished by the next).
struct Utf8Checked<R> {
    inner: R,
    /// The start of a character the last read cut.
    pending: Vec<u8>,
}

impl<R: Read> Utf8Checked<R> {
    fn new(inner: R) -> Self {
        Utf8Checked {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<R: Read> Read for Utf8Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let invalid = || {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        };
        if n == 0 {
            return if self.pending.is_empty() {
                Ok(0)
            } else {
                Err(invalid())
            };
        }
        let mut bytes = std::mem::take(&mut self.pending);
        bytes.extend_from_slice(&buf[..n]);
        if let Err(e) = std::str::from_utf8(&bytes) {
            match e.error_len() {
                Some(_) => return Err(invalid()),
                // The read ended inside a character: its start waits for the next read.
                None => self.pending = bytes[e.valid_up_to()..].to_vec(),
            }
        }
        Ok(n)
    }
}

/// The second pass over an array: each item's text, in batches.
struct Items<'s> {
    sink: &'s mut dyn for<'a> FnMut(Vec<Item<'a>>),
}

impl<'de> Visitor<'de> for Items<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of cases")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut batch = Vec::with_capacity(BATCH);
        let mut index = 0;
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            let text: Box<str> = raw.into();
            batch.push(Item::Text {
                text: Cow::Owned(text.into()),
                src: CaseSource {
                    index,
                    line: None,
                    array: true,
                },
            });
            index += 1;
            if batch.len() == BATCH {
                (self.sink)(std::mem::replace(&mut batch, Vec::with_capacity(BATCH)));
            }
        }
        if !batch.is_empty() {
            (self.sink)(batch);
        }
        Ok(())
    }
}
