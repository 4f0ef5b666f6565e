//! Reading an NDJSON body (one record per line) as a stream, a chunk of records at a time, so
//! that a load of hundreds of thousands of records never sits in memory whole.

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use super::decode::{DecodeError, DecodedBody};
use super::strict_json::{self, Item};

/// Why the stream as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Body(#[from] DecodeError),
    /// `line` counts every line of the body from 1, blank ones too; `index` is the record's.
    #[error("line {line} (record {index}) is longer than {limit} bytes")]
    LineTooLong {
        line: usize,
        index: usize,
        limit: usize,
    },
}

/// Longest accepted line: one record.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

pub struct NdjsonReader {
    body: DecodedBody,
    /// Bytes read and not yet split into lines, from `start`.
    pending: Vec<u8>,
    start: usize,
    done: bool,
    /// Records (non-blank lines) read so far.
    index: usize,
    /// Lines read so far, blank ones too.
    lines: usize,
    /// Only when the request carries an `Idempotency-Key`: hashing costs about a tenth of the
    /// ingest's time.
    hasher: Option<Sha256>,
}

impl NdjsonReader {
    /// With `hash_prefix`, the body is hashed as it is read (see [`NdjsonReader::digest`]); the
    /// prefix makes the same bytes posted for another object hash differently.
    pub fn new(body: DecodedBody, hash_prefix: Option<&str>) -> Self {
        let hasher = hash_prefix.map(|prefix| {
            let mut hasher = Sha256::new();
            hasher.update(prefix.as_bytes());
            hasher.update([0]);
            hasher
        });
        Self {
            hasher,
            body,
            pending: Vec::new(),
            start: 0,
            done: false,
            index: 0,
            lines: 0,
        }
    }

    /// Up to `max` records, each with its index among the body's non-blank lines; an empty
    /// vector at the end of the body.
    pub async fn next_chunk(&mut self, max: usize) -> Result<Vec<Item>, StreamError> {
        let mut out = Vec::with_capacity(max.min(4096));
        while out.len() < max {
            if self.next_line(&mut out)? {
                continue;
            }
            if self.done {
                break;
            }
            match self.body.next().await? {
                Some(data) => self.push(&data),
                None => self.done = true,
            }
        }
        Ok(out)
    }

    /// Parses the next complete line into `out` (nothing for a blank one); false when no
    /// complete line is buffered.
    fn next_line(&mut self, out: &mut Vec<Item>) -> Result<bool, StreamError> {
        let rest = &self.pending[self.start..];
        let (line, used) = match rest.iter().position(|b| *b == b'\n') {
            Some(pos) => (&rest[..pos], pos + 1),
            None if self.done && !rest.is_empty() => (rest, rest.len()),
            None if rest.len() > MAX_LINE_BYTES => return Err(self.too_long()),
            None => return Ok(false),
        };
        if line.len() > MAX_LINE_BYTES {
            return Err(self.too_long());
        }
        self.lines += 1;
        if !line.iter().all(u8::is_ascii_whitespace) {
            out.push(strict_json::parse_record(self.index, line));
            self.index += 1;
        }
        self.start += used;
        Ok(true)
    }

    fn too_long(&self) -> StreamError {
        StreamError::LineTooLong {
            line: self.lines + 1,
            index: self.index,
            limit: MAX_LINE_BYTES,
        }
    }

    fn push(&mut self, data: &Bytes) {
        if let Some(hasher) = self.hasher.as_mut() {
            hasher.update(data);
        }
        self.pending.drain(..self.start);
        self.start = 0;
        self.pending.extend_from_slice(data);
    }

    /// SHA-256 of the prefix and every decoded byte, hex: the request's identity for
    /// `Idempotency-Key` (the same records hash the same whether sent compressed or not). `None`
    /// when the reader was made without a prefix.
    pub fn digest(self) -> Option<String> {
        self.hasher.map(|h| format!("{:x}", h.finalize()))
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;

    use super::*;
    use crate::ingest::decode::Encoding;

    fn plain(body: &'static str, limit: usize) -> DecodedBody {
        DecodedBody::new(Body::from(body), Encoding::Identity, limit, 100)
    }

    async fn chunks(
        body: &'static str,
        max: usize,
        limit: usize,
    ) -> Result<Vec<usize>, StreamError> {
        let mut reader = NdjsonReader::new(plain(body, limit), None);
        let mut sizes = Vec::new();
        loop {
            let chunk = reader.next_chunk(max).await?;
            if chunk.is_empty() {
                return Ok(sizes);
            }
            sizes.push(chunk.len());
        }
    }

    #[tokio::test]
    async fn lines_come_in_chunks_skipping_blank_ones() {
        let body = "{\"a\":1}\n\n{\"a\":2}\r\n  \n{\"a\":3}\n{\"a\":4}";
        assert_eq!(chunks(body, 3, 1000).await.unwrap(), vec![3, 1]);
    }

    #[tokio::test]
    async fn a_bad_line_is_reported_with_its_index_and_the_rest_still_reads() {
        let mut reader = NdjsonReader::new(plain("{\"a\":1}\nnot json\n{\"a\":3}\n", 1000), None);
        let chunk = reader.next_chunk(10).await.unwrap();
        assert_eq!(chunk.len(), 3);
        assert!(chunk[0].1.is_ok());
        assert_eq!(chunk[1].0, 1);
        assert!(
            chunk[1]
                .1
                .as_ref()
                .unwrap_err()
                .message
                .contains("not valid JSON")
        );
        assert!(chunk[2].1.is_ok());
    }

    #[tokio::test]
    async fn a_body_over_the_limit_fails_as_a_whole() {
        let result = chunks("{\"a\":1}\n{\"a\":2}\n", 10, 8).await;
        assert!(matches!(
            result,
            Err(StreamError::Body(DecodeError::TooLarge { limit: 8 }))
        ));
    }

    #[tokio::test]
    async fn a_line_too_long_is_named_by_its_number_and_record() {
        let long = format!(
            "{{\"a\":1}}\n\n{{\"a\":\"{}\"}}\n",
            "x".repeat(MAX_LINE_BYTES)
        );
        let body = DecodedBody::new(Body::from(long), Encoding::Identity, 1 << 30, 100);
        let mut reader = NdjsonReader::new(body, None);
        let error = reader.next_chunk(10).await.unwrap_err();
        assert!(
            matches!(
                error,
                StreamError::LineTooLong {
                    line: 3,
                    index: 1,
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().starts_with("line 3 (record 1)"),
            "{error}"
        );
    }
}
