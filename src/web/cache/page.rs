//! One public response as every reader gets it: its bytes, compressed once (brotli and gzip,
//! made off the request path), and a validator (`ETag`) so that a browser or a shared cache can
//! ask "has it changed?" and get a 304 instead of the page.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

/// Bodies smaller than this are sent as they are (compression would save less than a packet).
const COMPRESS_ABOVE: usize = 1024;
/// Brotli's quality for stored pages: 9 of 11 makes nearly the smallest files for a fraction of
/// 11's time (a 60 KB page in about 3 ms, once per change).
const BROTLI_QUALITY: u32 = 9;

/// A response body with its encodings.
#[derive(Debug, Clone)]
pub struct Page {
    /// The response's headers as the handler made them (content type, cache policy, keys).
    pub headers: HeaderMap,
    pub etag: HeaderValue,
    pub identity: Bytes,
    pub gzip: Option<Bytes>,
    pub br: Option<Bytes>,
    /// Every header of each answer, made once: identity, gzip, brotli, 304 (a hit clones one).
    answers: [HeaderMap; 4],
    /// The same answers as HTTP/1.1 bytes: status line and headers, without `date` and the
    /// blank line that ends them (the serving threads' hits, [`crate::web::serve`]).
    heads: [Bytes; 4],
}

/// Which of a page's answers a request gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Identity = 0,
    Gzip = 1,
    Br = 2,
    NotModified = 3,
}

/// The encodings a response may be sent in, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Br,
    Gzip,
    Identity,
}

impl Encoding {
    /// The best encoding the request accepts among brotli and gzip (`q=0` refuses one).
    pub fn choose(request: &HeaderMap) -> Self {
        Self::choose_among(request.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()))
    }

    /// [`Encoding::choose`] from the `Accept-Encoding` values themselves.
    pub fn choose_among<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut best = Self::Identity;
        for value in values {
            for item in value.split(',') {
                let mut parts = item.split(';');
                let name = parts.next().unwrap_or("").trim();
                let refused = parts.any(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|q| q.trim().parse::<f32>().ok())
                        .is_some_and(|q| q <= 0.0)
                });
                if refused {
                    continue;
                }
                if name.eq_ignore_ascii_case("br") {
                    best = Self::Br;
                } else if name.eq_ignore_ascii_case("gzip") && best == Self::Identity {
                    best = Self::Gzip;
                }
            }
        }
        best
    }
}

/// Whether a content type is worth compressing (text, not pictures).
pub fn compressible(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| {
        t.starts_with("text/")
            || t.starts_with("application/xml")
            || t.starts_with("application/rss+xml")
            || t.starts_with("application/atom+xml")
            || t.starts_with("application/json")
            || t.starts_with("application/feed+json")
            || t.starts_with("application/javascript")
            || t.starts_with("image/svg+xml")
            || t.starts_with("image/x-icon")
            || t.starts_with("image/vnd.microsoft.icon")
    })
}

/// A weak validator for a body: the same bytes always give the same tag, on every node.
pub fn etag_for(body: &[u8]) -> HeaderValue {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body);
    let tag = format!("W/\"{}\"", crate::accounts::hex(&digest[..12]));
    HeaderValue::from_str(&tag).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""))
}

/// Whether the reader's copy is current: `If-None-Match` names this tag (weak comparison, as
/// RFC 9110 asks for it), or, without it, `If-Modified-Since` is no older than the page's
/// `Last-Modified` (feeds).
pub fn not_modified(request: &HeaderMap, etag: &HeaderValue, headers: &HeaderMap) -> bool {
    let values = |name| request.get_all(name).iter().filter_map(|v: &HeaderValue| v.to_str().ok());
    is_current(
        request.contains_key(header::IF_NONE_MATCH).then(|| values(header::IF_NONE_MATCH)),
        values(header::IF_MODIFIED_SINCE).next(),
        etag,
        headers,
    )
}

/// [`not_modified`] from the request's values themselves: its `If-None-Match` values when it
/// has that header, and its `If-Modified-Since`.
pub fn is_current<'a>(
    if_none_match: Option<impl Iterator<Item = &'a str>>,
    if_modified_since: Option<&str>,
    etag: &HeaderValue,
    headers: &HeaderMap,
) -> bool {
    if let Some(mut values) = if_none_match {
        let ours = etag.as_bytes().strip_prefix(b"W/").unwrap_or(etag.as_bytes());
        return values.any(|v| {
            v.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.as_bytes().strip_prefix(b"W/").unwrap_or(tag.as_bytes()) == ours)
        });
    }
    let parse = |v: &str| chrono::DateTime::parse_from_rfc2822(v).ok();
    let modified = headers.get(header::LAST_MODIFIED).and_then(|v| v.to_str().ok()).and_then(parse);
    match (if_modified_since.and_then(parse), modified) {
        (Some(since), Some(modified)) => modified.timestamp() <= since.timestamp(),
        _ => false,
    }
}

pub fn gzip(body: &[u8]) -> Bytes {
    let mut out =
        flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), flate2::Compression::best());
    // Writing to memory cannot fail.
    let _ = out.write_all(body);
    Bytes::from(out.finish().unwrap_or_default())
}

pub fn brotli(body: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(body.len() / 4);
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 16 * 1024, BROTLI_QUALITY, 22);
        let _ = writer.write_all(body);
    }
    Bytes::from(out)
}

impl Page {
    /// A page with its validator, not yet compressed.
    pub fn new(headers: HeaderMap, identity: Bytes) -> Self {
        let mut page = Self {
            etag: etag_for(&identity),
            headers,
            identity,
            gzip: None,
            br: None,
            answers: Default::default(),
            heads: Default::default(),
        };
        page.prepare();
        page
    }

    /// Makes the headers of each answer (marked as cache hits: the first answer, rendered for
    /// the request, drops the mark).
    fn prepare(&mut self) {
        let mut base = self.headers.clone();
        base.insert(header::ETAG, self.etag.clone());
        if compressible(&self.headers) {
            base.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        }
        base.insert("x-cache", HeaderValue::from_static("hit"));
        let mut not_modified = base.clone();
        not_modified.remove(header::CONTENT_TYPE);
        not_modified.remove(header::CONTENT_LENGTH);
        let with = |body: Option<&Bytes>, encoding: Option<&'static str>| {
            let mut h = base.clone();
            if let Some(encoding) = encoding {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
            }
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body.map_or(0, Bytes::len)));
            h
        };
        self.answers = [
            with(Some(&self.identity), None),
            with(self.gzip.as_ref(), Some("gzip")),
            with(self.br.as_ref(), Some("br")),
            not_modified,
        ];
        self.heads = std::array::from_fn(|i| {
            let status = if i == Answer::NotModified as usize { "304 Not Modified" } else { "200 OK" };
            let mut head = format!("HTTP/1.1 {status}\r\n").into_bytes();
            for (name, value) in &self.answers[i] {
                head.extend_from_slice(name.as_str().as_bytes());
                head.extend_from_slice(b": ");
                head.extend_from_slice(value.as_bytes());
                head.extend_from_slice(b"\r\n");
            }
            Bytes::from(head)
        });
    }

    /// Which answer a request gets: a 304 when the reader's copy is current, else the body in
    /// the best encoding both sides have.
    pub fn answer(&self, encoding: Encoding, current: bool) -> Answer {
        if current {
            return Answer::NotModified;
        }
        match (encoding, &self.br, &self.gzip) {
            (Encoding::Br, Some(_), _) => Answer::Br,
            (Encoding::Br | Encoding::Gzip, _, Some(_)) => Answer::Gzip,
            _ => Answer::Identity,
        }
    }

    /// The status line and headers of an answer (see `heads`).
    pub fn head(&self, answer: Answer) -> &Bytes {
        &self.heads[answer as usize]
    }

    /// The body of an answer (empty for a 304).
    pub fn body(&self, answer: Answer) -> &Bytes {
        static EMPTY: Bytes = Bytes::new();
        match answer {
            Answer::Identity => &self.identity,
            Answer::Gzip => self.gzip.as_ref().unwrap_or(&EMPTY),
            Answer::Br => self.br.as_ref().unwrap_or(&EMPTY),
            Answer::NotModified => &EMPTY,
        }
    }

    /// Whether [`Page::compressed`] would make anything.
    pub fn wants_compression(&self) -> bool {
        self.identity.len() > COMPRESS_ABOVE && compressible(&self.headers)
    }

    /// The page with its brotli and gzip bodies (CPU work: run it off the async threads).
    pub fn compressed(mut self) -> Self {
        if self.wants_compression() {
            self.gzip = Some(gzip(&self.identity));
            self.br = Some(brotli(&self.identity));
            self.prepare();
        }
        self
    }

    /// The response to one request: a 304 when the reader's copy is current, else the body in
    /// the best encoding both sides have. Without a stored encoding the body goes as it is (the
    /// router's compression layer may still compress it on the way). Marked `x-cache: hit`.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let answer = self.answer(Encoding::choose(request), not_modified(request, &self.etag, &self.headers));
        let mut response = Response::new(Body::from(self.body(answer).clone()));
        if answer == Answer::NotModified {
            *response.status_mut() = StatusCode::NOT_MODIFIED;
        }
        *response.headers_mut() = self.answers[answer as usize].clone();
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(k.clone(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn the_best_accepted_encoding_is_chosen() {
        assert_eq!(
            Encoding::choose(&request(&[(header::ACCEPT_ENCODING, "gzip, deflate, br")])),
            Encoding::Br
        );
        assert_eq!(Encoding::choose(&request(&[(header::ACCEPT_ENCODING, "gzip")])), Encoding::Gzip);
        assert_eq!(Encoding::choose(&request(&[(header::ACCEPT_ENCODING, "br;q=0, gzip")])), Encoding::Gzip);
        assert_eq!(Encoding::choose(&request(&[])), Encoding::Identity);
        assert_eq!(Encoding::choose(&request(&[(header::ACCEPT_ENCODING, "identity")])), Encoding::Identity);
    }

    #[test]
    fn a_current_copy_gets_a_304_and_the_bytes_decompress_to_the_page() {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        let html = "<p>The harbour wall holds.</p>".repeat(100);
        let page = Page::new(headers, Bytes::from(html.clone())).compressed();
        let etag = page.etag.to_str().unwrap().to_owned();
        let r = page.respond(&request(&[(header::IF_NONE_MATCH, &etag)]));
        assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
        let r = page.respond(&request(&[(header::IF_NONE_MATCH, "\"other\", W/\"x\"")]));
        assert_eq!(r.status(), StatusCode::OK);
        let r = page.respond(&request(&[(header::ACCEPT_ENCODING, "gzip")]));
        assert_eq!(r.headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(r.headers()[header::VARY], "accept-encoding");
        let mut text = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::GzDecoder::new(&page.gzip.as_ref().unwrap()[..]),
            &mut text,
        )
        .unwrap();
        assert_eq!(text, html);
        let mut text = Vec::new();
        brotli::BrotliDecompress(&mut &page.br.as_ref().unwrap()[..], &mut text).unwrap();
        assert_eq!(text, html.as_bytes());
        assert!(page.br.as_ref().unwrap().len() < html.len() / 10);
    }
}
