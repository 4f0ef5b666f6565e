//! The body of a Bulk API 2.0 upload (docs/salesforce.md §5.1), written while it is sent.
//!
//! A job takes up to 100 MB of CSV (§5.4); holding it whole, plus the copy a request makes of
//! it, is what made a push of 50,000 records peak at hundreds of MB. A [`CsvSource`] writes
//! it a chunk at a time instead, from whatever the caller keeps anyway. Its length is known
//! before it is sent: it is checked against the job limit and sent as `Content-Length`, as a
//! whole-CSV body would be (no chunked transfer encoding).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// About this many bytes go in each chunk of a streamed upload.
const UPLOAD_CHUNK_BYTES: usize = 64 * 1024;

/// A CSV written as it is sent. It may be written more than once (the request is sent again
/// after a re-authentication, §1.3), so writing must not consume it, and every writing must
/// give the same bytes.
pub trait CsvSource: Send + Sync + 'static {
    /// The exact number of bytes the writing gives, all chunks together.
    fn size(&self) -> u64;

    /// Appends the CSV's next part to `out`, from where `cursor` says (0 at the start; the
    /// source moves it on). Writes at least one row, until `out` holds about `target` bytes;
    /// writes nothing once the CSV is done.
    fn write_next(&self, cursor: &mut usize, out: &mut Vec<u8>, target: usize);
}

/// The CSV of a `PUT …/batches`: bytes in hand, or a [`CsvSource`] written while it is sent.
/// Cheap to clone.
#[derive(Clone)]
pub struct CsvUpload(Upload);

#[derive(Clone)]
enum Upload {
    Bytes(Bytes),
    Streamed(Arc<dyn CsvSource>),
}

impl CsvUpload {
    /// A CSV written while it is sent.
    pub fn streamed(source: Arc<dyn CsvSource>) -> Self {
        Self(Upload::Streamed(source))
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Upload::Bytes(bytes) => bytes.len() as u64,
            Upload::Streamed(source) => source.size(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A request body that writes the CSV from its start.
    pub(crate) fn body(&self) -> reqwest::Body {
        match &self.0 {
            Upload::Bytes(bytes) => reqwest::Body::from(bytes.clone()),
            Upload::Streamed(source) => reqwest::Body::wrap(SourceBody {
                source: source.clone(),
                cursor: 0,
                left: source.size(),
            }),
        }
    }

    /// The whole CSV, written out.
    #[cfg(test)]
    fn to_bytes(&self) -> Vec<u8> {
        match &self.0 {
            Upload::Bytes(bytes) => bytes.to_vec(),
            Upload::Streamed(source) => {
                let mut out = Vec::new();
                let mut cursor = 0;
                loop {
                    let before = out.len();
                    source.write_next(&mut cursor, &mut out, before + UPLOAD_CHUNK_BYTES);
                    if out.len() == before {
                        return out;
                    }
                }
            }
        }
    }
}

impl From<String> for CsvUpload {
    fn from(csv: String) -> Self {
        Self(Upload::Bytes(Bytes::from(csv)))
    }
}

impl From<Vec<u8>> for CsvUpload {
    fn from(csv: Vec<u8>) -> Self {
        Self(Upload::Bytes(Bytes::from(csv)))
    }
}

/// A [`CsvSource`] as an HTTP body: one chunk in memory at a time, its exact size announced
/// (hyper sends it as `Content-Length`).
struct SourceBody {
    source: Arc<dyn CsvSource>,
    cursor: usize,
    /// Bytes still to send, by the source's own count.
    left: u64,
}

/// A source that writes a different length than it announced: the request is cut short
/// rather than sent with a wrong `Content-Length`.
#[derive(Debug, thiserror::Error)]
#[error("the CSV upload wrote {written} bytes where {announced} were announced")]
pub struct LengthMismatch {
    announced: u64,
    written: u64,
}

impl http_body::Body for SourceBody {
    type Data = Bytes;
    type Error = LengthMismatch;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, LengthMismatch>>> {
        let this = self.get_mut();
        let mut chunk = Vec::with_capacity(UPLOAD_CHUNK_BYTES + UPLOAD_CHUNK_BYTES / 4);
        this.source
            .write_next(&mut this.cursor, &mut chunk, UPLOAD_CHUNK_BYTES);
        let written = chunk.len() as u64;
        if written == 0 && this.left == 0 {
            return Poll::Ready(None);
        }
        if written == 0 || written > this.left {
            let announced = this.source.size();
            return Poll::Ready(Some(Err(LengthMismatch {
                announced,
                written: announced - this.left + written,
            })));
        }
        this.left -= written;
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(chunk)))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    /// `rows` lines of `width` bytes each.
    struct Lines {
        rows: usize,
        width: usize,
        announced: u64,
    }

    impl CsvSource for Lines {
        fn size(&self) -> u64 {
            self.announced
        }

        fn write_next(&self, cursor: &mut usize, out: &mut Vec<u8>, target: usize) {
            while *cursor < self.rows {
                out.extend(std::iter::repeat_n(b'x', self.width - 1));
                out.push(b'\n');
                *cursor += 1;
                if out.len() >= target {
                    break;
                }
            }
        }
    }

    fn body(source: Lines) -> SourceBody {
        SourceBody {
            left: source.size(),
            source: Arc::new(source),
            cursor: 0,
        }
    }

    #[tokio::test]
    async fn a_streamed_csv_goes_in_chunks_of_its_announced_length() {
        let source = Lines {
            rows: 3000,
            width: 100,
            announced: 300_000,
        };
        let mut body = body(source);
        assert_eq!(http_body::Body::size_hint(&body).exact(), Some(300_000));
        let mut sizes = Vec::new();
        while let Some(frame) = body.frame().await {
            sizes.push(frame.unwrap().into_data().unwrap().len());
        }
        assert_eq!(sizes.iter().sum::<usize>(), 300_000);
        assert!(sizes.len() >= 4, "{sizes:?}");
        assert!(sizes.iter().all(|s| *s <= UPLOAD_CHUNK_BYTES + 100));
    }

    #[tokio::test]
    async fn a_source_that_writes_more_or_less_than_announced_fails_the_body() {
        for announced in [299_999, 300_001] {
            let mut body = body(Lines {
                rows: 3000,
                width: 100,
                announced,
            });
            let collected = (&mut body).collect().await;
            assert!(collected.is_err(), "announced {announced}");
        }
    }

    #[test]
    fn written_out_a_streamed_upload_is_its_whole_csv() {
        let upload = CsvUpload::streamed(Arc::new(Lines {
            rows: 10,
            width: 3,
            announced: 30,
        }));
        assert_eq!(upload.len(), 30);
        assert_eq!(upload.to_bytes(), b"xx\n".repeat(10));
    }
}
