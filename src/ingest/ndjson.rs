//! Reading an NDJSON body (one record per line) as a stream, a chunk of records at a time, so
//! that a load of hundreds of thousands of records never sits in memory whole.

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// A line that is not a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub index: usize,
    pub message: String,
}

/// Why the stream as a whole cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("a line is longer than {limit} bytes")]
    LineTooLong { limit: usize },
    #[error("the body could not be read: {0}")]
    Read(String),
}

/// Longest accepted line: one record.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

pub struct NdjsonReader {
    body: Body,
    pending: Vec<u8>,
    done: bool,
    read: usize,
    limit: usize,
    index: usize,
    hasher: Sha256,
}

impl NdjsonReader {
    /// `hash_prefix` starts the digest of the body (see [`NdjsonReader::digest`]), so that the
    /// same bytes posted for another object hash differently.
    pub fn new(body: Body, limit: usize, hash_prefix: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(hash_prefix.as_bytes());
        hasher.update([0]);
        Self {
            hasher,
            body,
            pending: Vec::new(),
            done: false,
            read: 0,
            limit,
            index: 0,
        }
    }

    /// Up to `max` records, each with its index among the body's non-blank lines; an empty
    /// vector at the end of the body.
    pub async fn next_chunk(
        &mut self,
        max: usize,
    ) -> Result<Vec<(usize, Result<Value, LineError>)>, StreamError> {
        let mut out = Vec::with_capacity(max.min(4096));
        while out.len() < max {
            if let Some(line) = self.take_line()? {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let index = self.index;
                self.index += 1;
                let parsed = serde_json::from_slice::<Value>(&line).map_err(|e| LineError {
                    index,
                    message: format!("not valid JSON: {e}"),
                });
                out.push((index, parsed));
                continue;
            }
            if self.done {
                break;
            }
            self.fill().await?;
        }
        Ok(out)
    }

    fn take_line(&mut self) -> Result<Option<Vec<u8>>, StreamError> {
        if let Some(pos) = self.pending.iter().position(|b| *b == b'\n') {
            let rest = self.pending.split_off(pos + 1);
            let mut line = std::mem::replace(&mut self.pending, rest);
            line.pop();
            return Ok(Some(line));
        }
        if self.pending.len() > MAX_LINE_BYTES {
            return Err(StreamError::LineTooLong {
                limit: MAX_LINE_BYTES,
            });
        }
        if self.done && !self.pending.is_empty() {
            return Ok(Some(std::mem::take(&mut self.pending)));
        }
        Ok(None)
    }

    async fn fill(&mut self) -> Result<(), StreamError> {
        loop {
            match self.body.frame().await {
                None => {
                    self.done = true;
                    return Ok(());
                }
                Some(Err(e)) => return Err(StreamError::Read(e.to_string())),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return self.push(data);
                    }
                }
            }
        }
    }

    fn push(&mut self, data: Bytes) -> Result<(), StreamError> {
        self.read += data.len();
        if self.read > self.limit {
            return Err(StreamError::TooLarge { limit: self.limit });
        }
        self.hasher.update(&data);
        self.pending.extend_from_slice(&data);
        Ok(())
    }

    /// SHA-256 of the prefix and every byte read, hex: the request's identity for
    /// `Idempotency-Key`.
    pub fn digest(self) -> String {
        format!("{:x}", self.hasher.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn chunks(
        body: &'static str,
        max: usize,
        limit: usize,
    ) -> Result<Vec<usize>, StreamError> {
        let mut reader = NdjsonReader::new(Body::from(body), limit, "");
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
        let mut reader =
            NdjsonReader::new(Body::from("{\"a\":1}\nnot json\n{\"a\":3}\n"), 1000, "");
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
        assert!(matches!(result, Err(StreamError::TooLarge { limit: 8 })));
    }
}
