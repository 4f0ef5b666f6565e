//! A request body as its sender meant it: `Content-Encoding: gzip` is decompressed as it streams
//! in, within a limit on the decompressed size and on the ratio of decompressed to sent bytes (a
//! few kilobytes of gzip can stand for gigabytes). Any other encoding is refused (RFC 9110
//! §8.4: a server answers 415 to a content coding it does not know).

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, header};
use flate2::write::MultiGzDecoder;
use http_body_util::BodyExt;

/// Below this many decompressed bytes the ratio is not checked: small bodies compress well.
const RATIO_FLOOR: usize = 1024 * 1024;
/// Compressed bytes are fed to the decoder this many at a time, so one network frame can
/// never inflate to more than about a thousand times this before the limits are checked.
const FEED: usize = 4096;

/// The body's content coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
}

/// The `Content-Encoding` named a coding the hub does not decode.
#[derive(Debug, thiserror::Error)]
#[error("Content-Encoding must be gzip or identity, got {0:?}")]
pub struct UnsupportedEncoding(pub String);

impl Encoding {
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, UnsupportedEncoding> {
        let mut codings = Vec::new();
        for value in headers.get_all(header::CONTENT_ENCODING) {
            let text = value.to_str().map_err(|_| {
                UnsupportedEncoding(String::from_utf8_lossy(value.as_bytes()).into())
            })?;
            codings.extend(text.split(',').map(str::trim).filter(|c| !c.is_empty()));
        }
        let named: Vec<&str> = codings
            .into_iter()
            .filter(|c| !c.eq_ignore_ascii_case("identity"))
            .collect();
        match named.as_slice() {
            [] => Ok(Self::Identity),
            [one] if one.eq_ignore_ascii_case("gzip") || one.eq_ignore_ascii_case("x-gzip") => {
                Ok(Self::Gzip)
            }
            _ => Err(UnsupportedEncoding(named.join(", "))),
        }
    }
}

/// Why the body cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error(
        "the gzip body decompresses to more than {ratio} times its size \
         (SLUICE_MAX_DECOMPRESSION_RATIO)"
    )]
    Ratio { ratio: usize },
    #[error("the gzip body is corrupt: {0}")]
    Corrupt(String),
    #[error("the body could not be read: {0}")]
    Read(String),
}

/// A body's decoded bytes, a frame at a time, within `limit` decoded bytes.
pub struct DecodedBody {
    body: Body,
    gzip: Option<MultiGzDecoder<Vec<u8>>>,
    done: bool,
    sent: usize,
    decoded: usize,
    limit: usize,
    max_ratio: usize,
}

impl DecodedBody {
    pub fn new(body: Body, encoding: Encoding, limit: usize, max_ratio: usize) -> Self {
        Self {
            body,
            gzip: (encoding == Encoding::Gzip).then(|| MultiGzDecoder::new(Vec::new())),
            done: false,
            sent: 0,
            decoded: 0,
            limit,
            max_ratio,
        }
    }

    /// The next decoded bytes; `None` at the end of the body.
    pub async fn next(&mut self) -> Result<Option<Bytes>, DecodeError> {
        while !self.done {
            let Some(frame) = self.body.frame().await else {
                self.done = true;
                let Some(gzip) = self.gzip.take() else {
                    return Ok(None);
                };
                let rest = gzip
                    .finish()
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                return self.emit(rest);
            };
            let frame = frame.map_err(|e| DecodeError::Read(e.to_string()))?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            self.sent += data.len();
            let Some(gzip) = &mut self.gzip else {
                self.decoded += data.len();
                self.check()?;
                return Ok(Some(data));
            };
            let mut out = Vec::new();
            for piece in data.chunks(FEED) {
                gzip.write_all(piece)
                    .and_then(|()| gzip.flush())
                    .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
                out.append(gzip.get_mut());
                let decoded = self.decoded + out.len();
                check(decoded, self.sent, self.limit, Some(self.max_ratio))?;
            }
            if let Some(bytes) = self.emit(out)? {
                return Ok(Some(bytes));
            }
        }
        Ok(None)
    }

    /// The whole decoded body.
    pub async fn read_all(mut self) -> Result<Vec<u8>, DecodeError> {
        let mut all = Vec::new();
        while let Some(bytes) = self.next().await? {
            all.extend_from_slice(&bytes);
        }
        Ok(all)
    }

    fn emit(&mut self, out: Vec<u8>) -> Result<Option<Bytes>, DecodeError> {
        self.decoded += out.len();
        self.check()?;
        Ok((!out.is_empty()).then(|| Bytes::from(out)))
    }

    fn check(&self) -> Result<(), DecodeError> {
        let ratio = self.gzip.is_some().then_some(self.max_ratio);
        check(self.decoded, self.sent, self.limit, ratio)
    }
}

/// `decoded` bytes from `sent` ones are within `limit` and, for a compressed body, `ratio`.
fn check(
    decoded: usize,
    sent: usize,
    limit: usize,
    ratio: Option<usize>,
) -> Result<(), DecodeError> {
    if decoded > limit || sent > limit {
        return Err(DecodeError::TooLarge { limit });
    }
    match ratio {
        Some(ratio) if decoded > RATIO_FLOOR && decoded > sent.saturating_mul(ratio) => {
            Err(DecodeError::Ratio { ratio })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_ENCODING, value.parse().unwrap());
        headers
    }

    #[test]
    fn gzip_and_identity_are_known_and_nothing_else() {
        assert_eq!(
            Encoding::from_headers(&HeaderMap::new()).unwrap(),
            Encoding::Identity
        );
        assert_eq!(
            Encoding::from_headers(&headers("identity")).unwrap(),
            Encoding::Identity
        );
        assert_eq!(
            Encoding::from_headers(&headers("GZIP")).unwrap(),
            Encoding::Gzip
        );
        for other in ["br", "deflate", "gzip, gzip", "zstd", "gzip, br"] {
            let error = Encoding::from_headers(&headers(other)).unwrap_err();
            assert!(error.to_string().contains("gzip or identity"), "{other}");
        }
    }

    #[tokio::test]
    async fn a_gzip_body_reads_as_its_plain_bytes() {
        let plain = "{\"a\": 1}\n".repeat(10_000);
        let body = DecodedBody::new(
            Body::from(gzip(plain.as_bytes())),
            Encoding::Gzip,
            1 << 20,
            100,
        );
        assert_eq!(body.read_all().await.unwrap(), plain.as_bytes());
    }

    #[tokio::test]
    async fn a_body_that_inflates_past_the_ratio_is_refused() {
        let zeros = vec![b' '; 8 * 1024 * 1024];
        let body = DecodedBody::new(Body::from(gzip(&zeros)), Encoding::Gzip, 1 << 30, 100);
        let error = body.read_all().await.unwrap_err();
        assert!(
            matches!(error, DecodeError::Ratio { ratio: 100 }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_body_that_inflates_past_the_limit_is_refused() {
        let plain = "{\"a\": 1}\n".repeat(10_000);
        let body = DecodedBody::new(
            Body::from(gzip(plain.as_bytes())),
            Encoding::Gzip,
            1000,
            1000,
        );
        let error = body.read_all().await.unwrap_err();
        assert!(
            matches!(error, DecodeError::TooLarge { limit: 1000 }),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_truncated_or_plain_body_sent_as_gzip_is_corrupt() {
        let mut cut = gzip(b"{\"a\": 1}\n");
        cut.truncate(cut.len() - 4);
        for bytes in [cut, b"{\"a\": 1}\n".to_vec()] {
            let body = DecodedBody::new(Body::from(bytes), Encoding::Gzip, 1 << 20, 100);
            let error = body.read_all().await.unwrap_err();
            assert!(matches!(error, DecodeError::Corrupt(_)), "{error}");
        }
    }
}
