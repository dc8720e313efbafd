//! Turning an upload into what readers download. An upload is checked from its bytes and header
//! before anything is decoded (type, name, size, pixel count, polyglots), then decoded within
//! limits once to prove it is whole. Processing (a job, off the request path) decodes it again,
//! scales it down to the largest width served, turns it upright, converts it to sRGB and encodes
//! every variant: the encoders are given pixels only, so no EXIF, XMP or IPTC block (GPS
//! position, camera serial number) survives.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Widths served, up to the original's.
pub const WIDTHS: [u32; 5] = [320, 640, 960, 1280, 1920];
/// Width of the crops for link previews and structured data (or the picture's, if smaller).
pub const SOCIAL_WIDTH: u32 = 1200;
/// The crops made for link previews and search engines (Google asks for these three).
pub const CROPS: [(u32, u32); 3] = [(16, 9), (4, 3), (1, 1)];
/// Largest picture accepted, in pixels (a 50-megapixel camera's).
pub const MAX_PIXELS: u64 = 50_000_000;
/// Longest side accepted.
pub const MAX_SIDE: u32 = 20_000;
/// Memory a decoder may use (a 50-megapixel RGBA picture at 8 bits is 200 MB; 16-bit formats
/// are decoded within the same budget or refused).
const MAX_DECODE_BYTES: u64 = 220 * 1024 * 1024;

/// The kinds accepted, found from the bytes (never from the name or the declared type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl Kind {
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        match bytes {
            [0xFF, 0xD8, 0xFF, ..] => Some(Self::Jpeg),
            [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(Self::Png),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(Self::Gif),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(Self::Webp),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Self::Jpeg => ImageFormat::Jpeg,
            Self::Png => ImageFormat::Png,
            Self::Gif => ImageFormat::Gif,
            Self::Webp => ImageFormat::WebP,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Jpeg => "jpg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Webp => "webp",
        }
    }

    fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Jpeg => &["jpg", "jpeg", "jpe", "jfif"],
            Self::Png => &["png"],
            Self::Gif => &["gif"],
            Self::Webp => &["webp"],
        }
    }
}

/// Why an upload was refused. Each message tells the uploader what to do.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is too large ({0} MB); the limit is {1} MB.")]
    TooLarge(usize, usize),
    #[error("SVG files are refused: they can carry scripts. Export the drawing as PNG and upload that.")]
    Svg,
    #[error("Only JPEG, PNG, GIF and WebP pictures are accepted.")]
    NotAPicture,
    #[error(
        "The file is named {name:?} but holds a {actual} picture: rename it to .{extension} and upload it again."
    )]
    WrongExtension { name: String, actual: &'static str, extension: &'static str },
    #[error(
        "The file is a picture and also {0} at once (a polyglot): it was refused. Save it again from an image editor."
    )]
    Polyglot(&'static str),
    #[error(
        "The picture is {width} x {height} pixels; the largest accepted is 50 megapixels and 20,000 pixels a side. Scale it down first."
    )]
    TooManyPixels { width: u32, height: u32 },
    #[error("The picture could not be read: {0}. It may be truncated or damaged; export it again.")]
    Unreadable(String),
}

/// What a checked upload is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub kind: Kind,
    /// Upright size (the EXIF orientation applied).
    pub width: u32,
    pub height: u32,
    /// Whether it can be transparent (served as PNG, not JPEG, where AVIF and WebP are not).
    pub alpha: bool,
}

/// Checks an upload without decoding its pixels: kind, name, size, pixel count, polyglots.
pub fn probe(bytes: &[u8], file_name: &str, max_bytes: usize) -> Result<Probe, Refused> {
    if bytes.is_empty() {
        return Err(Refused::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(Refused::TooLarge(bytes.len().div_ceil(1024 * 1024), max_bytes >> 20));
    }
    let Some(kind) = Kind::sniff(bytes) else {
        return Err(if looks_like_svg(bytes) { Refused::Svg } else { Refused::NotAPicture });
    };
    if let Some((_, ext)) = file_name.rsplit_once('.') {
        let ext = ext.to_ascii_lowercase();
        let known = [Kind::Jpeg, Kind::Png, Kind::Gif, Kind::Webp];
        if !kind.extensions().contains(&ext.as_str()) {
            // Another picture kind's name, or a name that says it is something else entirely
            // (page.html, tool.exe): either way the name lies about the content.
            if known.iter().any(|k| k.extensions().contains(&ext.as_str()))
                || (!ext.is_empty() && ext.len() <= 5 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
            {
                return Err(Refused::WrongExtension {
                    name: file_name.to_owned(),
                    actual: kind.name(),
                    extension: kind.extension(),
                });
            }
        }
    }
    if let Some(other) = polyglot(bytes) {
        return Err(Refused::Polyglot(other));
    }
    let mut decoder = decoder(bytes, kind)?;
    let (width, height) = decoder.dimensions();
    if decoder.total_bytes() > MAX_DECODE_BYTES {
        return Err(Refused::TooManyPixels { width, height });
    }
    let alpha = decoder.color_type().has_alpha();
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let (width, height) = if swaps_sides(orientation) { (height, width) } else { (width, height) };
    Ok(Probe { kind, width, height, alpha })
}

/// [`probe`], then a full decode: a truncated or damaged file is refused at upload, with a
/// message, rather than failing later in a job.
pub fn check(bytes: &[u8], file_name: &str, max_bytes: usize) -> Result<Probe, Refused> {
    let probe = probe(bytes, file_name, max_bytes)?;
    if probe.kind == Kind::Jpeg && !ends_like_jpeg(bytes) {
        return Err(Refused::Unreadable("the JPEG data stops before its end".into()));
    }
    let decoder = decoder(bytes, probe.kind)?;
    DynamicImage::from_decoder(decoder).map_err(|e| Refused::Unreadable(e.to_string()))?;
    Ok(probe)
}

fn check_size(width: u32, height: u32) -> Result<(), Refused> {
    if width == 0 || height == 0 {
        return Err(Refused::Unreadable("it has no pixels".into()));
    }
    if width > MAX_SIDE || height > MAX_SIDE || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(Refused::TooManyPixels { width, height });
    }
    Ok(())
}

/// A decoder that has read the header only. Sizes are checked by the caller from the header
/// (to name them in the message); the memory limit stays as a second guard while decoding.
fn decoder(bytes: &[u8], kind: Kind) -> Result<impl ImageDecoder + '_, Refused> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    reader.no_limits();
    let mut decoder = reader.into_decoder().map_err(|e| Refused::Unreadable(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES + 16 * 1024 * 1024);
    decoder.set_limits(limits).map_err(|_| Refused::TooManyPixels { width, height })?;
    Ok(decoder)
}

fn swaps_sides(o: image::metadata::Orientation) -> bool {
    use image::metadata::Orientation::*;
    matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// A JPEG ends with its EOI marker; cameras may append data after it (a second, smaller
/// picture), which ends the same way.
fn ends_like_jpeg(bytes: &[u8]) -> bool {
    let tail = &bytes[bytes.len().saturating_sub(64 * 1024)..];
    tail.windows(2).any(|w| w == [0xFF, 0xD9])
}

fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    head.contains("<svg")
}

/// A file that is also HTML (a browser sniffing it would run its script) or a ZIP archive (a
/// ZIP reader finds its directory from the end, so data after the picture makes it one).
fn polyglot(bytes: &[u8]) -> Option<&'static str> {
    let tail = &bytes[bytes.len().saturating_sub(65_557)..];
    if tail.windows(4).any(|w| w == b"PK\x05\x06") {
        return Some("a ZIP archive");
    }
    const MARKUP: [&[u8]; 7] = [b"<script", b"<html", b"<body", b"<iframe", b"<svg", b"<?php", b"<!doctype"];
    let lower = bytes.to_ascii_lowercase();
    for m in MARKUP {
        if lower.windows(m.len()).any(|w| w == m) {
            return Some("an HTML document");
        }
    }
    None
}

/// Widths to make for a picture `width` pixels wide: the standard ones below it, and its own
/// width (capped at the largest served) so that the largest variant is never upscaled.
pub fn widths_for(width: u32) -> Vec<u32> {
    let top = width.min(*WIDTHS.last().unwrap_or(&1920));
    let mut out: Vec<u32> = WIDTHS.iter().copied().filter(|w| *w < top).collect();
    out.push(top);
    out
}

/// Size of a variant `w` wide, keeping the aspect ratio.
pub fn height_at(width: u32, height: u32, w: u32) -> u32 {
    ((u64::from(height) * u64::from(w) + u64::from(width) / 2) / u64::from(width).max(1)).max(1) as u32
}

/// Size of the `ratio` crop of a `width` x `height` picture: as large as fits, at most
/// [`SOCIAL_WIDTH`] wide.
pub fn crop_size(width: u32, height: u32, (rw, rh): (u32, u32)) -> (u32, u32) {
    // The largest rw:rh box inside the picture.
    let (mut cw, mut ch) = if u64::from(width) * u64::from(rh) > u64::from(height) * u64::from(rw) {
        ((u64::from(height) * u64::from(rw) / u64::from(rh)) as u32, height)
    } else {
        (width, (u64::from(width) * u64::from(rh) / u64::from(rw)) as u32)
    };
    if cw > SOCIAL_WIDTH {
        ch = (u64::from(ch) * u64::from(SOCIAL_WIDTH) / u64::from(cw)) as u32;
        cw = SOCIAL_WIDTH;
    }
    (cw.max(1), ch.max(1))
}

/// The box of the source to crop for a `rw:rh` crop centred as near the focal point (fractions of
/// width and height) as the edges allow: `(left, top, width, height)` in source pixels.
pub fn crop_box(width: u32, height: u32, (rw, rh): (u32, u32), focus: (f64, f64)) -> (f64, f64, f64, f64) {
    let (w, h) = (f64::from(width), f64::from(height));
    let target = f64::from(rw) / f64::from(rh);
    let (cw, ch) = if w / h > target { (h * target, h) } else { (w, w / target) };
    let left = (focus.0 * w - cw / 2.0).clamp(0.0, w - cw);
    let top = (focus.1 * h - ch / 2.0).clamp(0.0, h - ch);
    (left, top, cw, ch)
}

/// One encoded file of a processed picture.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The file's name under the picture's version: `640.avif`, `16x9.jpg`.
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Quality settings: chosen by eye on the demo pictures and photographs at phone and desktop
/// sizes (see docs/MEDIA.md).
const JPEG_QUALITY: u8 = 80;
const WEBP_QUALITY: f32 = 76.0;
const AVIF_QUALITY: f32 = 62.0;
/// rav1e's speed (1 slowest to 10 fastest): 8 keeps a 24-megapixel picture's whole set of
/// variants within seconds on one core.
const AVIF_SPEED: u8 = 8;

/// Decodes an original, turns it upright and into sRGB, scaled to at most the largest width
/// served (the rest of the work is done on that).
pub fn prepare(bytes: &[u8]) -> anyhow::Result<DynamicImage> {
    use anyhow::Context;
    let kind = Kind::sniff(bytes).context("not a picture")?;
    let mut decoder = decoder(bytes, kind).map_err(|e| anyhow::anyhow!("{e}"))?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let image = DynamicImage::from_decoder(decoder).context("decoding")?;
    // Eight bits a channel, alpha kept only where it exists.
    let image = if image.color().has_alpha() {
        DynamicImage::ImageRgba8(image.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.into_rgb8())
    };
    let largest = *WIDTHS.last().unwrap_or(&1920);
    let (w, h) = (image.width(), image.height());
    // The side that will be the width once upright.
    let upright_w = if swaps_sides(orientation) { h } else { w };
    let mut image = if upright_w > largest {
        let scale = f64::from(largest) / f64::from(upright_w);
        let nw = ((f64::from(w) * scale).round() as u32).max(1);
        let nh = ((f64::from(h) * scale).round() as u32).max(1);
        resize(&image, nw, nh, None)?
    } else {
        image
    };
    image.apply_orientation(orientation);
    if let Some(icc) = icc {
        to_srgb(&mut image, &icc);
    }
    Ok(image)
}

/// Converts pixels described by an ICC profile to sRGB. A profile that cannot be read is
/// ignored (the pixels are taken as sRGB, as browsers do).
fn to_srgb(image: &mut DynamicImage, icc: &[u8]) {
    use moxcms::{ColorProfile, Layout, TransformOptions};
    let Ok(source) = ColorProfile::new_from_slice(icc) else {
        return;
    };
    let srgb = ColorProfile::new_srgb();
    let (layout, pixels): (Layout, &mut [u8]) = match image {
        DynamicImage::ImageRgb8(buf) => (Layout::Rgb, buf.as_mut()),
        DynamicImage::ImageRgba8(buf) => (Layout::Rgba, buf.as_mut()),
        _ => return,
    };
    let Ok(transform) = source.create_transform_8bit(layout, &srgb, layout, TransformOptions::default())
    else {
        return;
    };
    let mut out = vec![0u8; pixels.len()];
    if transform.transform(pixels, &mut out).is_ok() {
        pixels.copy_from_slice(&out);
    }
}

/// Resizes with Lanczos3 (alpha premultiplied), optionally from a crop box of the source.
fn resize(
    image: &DynamicImage,
    w: u32,
    h: u32,
    crop: Option<(f64, f64, f64, f64)>,
) -> anyhow::Result<DynamicImage> {
    let out = gazette_codecs::resize(pixels(image), w, h, crop).map_err(anyhow::Error::msg)?;
    Ok(match image {
        DynamicImage::ImageRgba8(_) => DynamicImage::ImageRgba8(
            image::RgbaImage::from_raw(w, h, out).ok_or_else(|| anyhow::anyhow!("resize"))?,
        ),
        _ => DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(w, h, out).ok_or_else(|| anyhow::anyhow!("resize"))?,
        ),
    })
}

/// A prepared picture's pixels (RGB8 or RGBA8) for the codecs.
fn pixels(image: &DynamicImage) -> gazette_codecs::Pixels<'_> {
    gazette_codecs::Pixels {
        data: image.as_bytes(),
        width: image.width(),
        height: image.height(),
        channels: if image.color().has_alpha() { 4 } else { 3 },
    }
}

/// Every variant of a prepared picture: each width in AVIF, WebP and the fallback (JPEG, or PNG
/// when it has transparency), and the three social crops as JPEG.
pub fn variants(image: &DynamicImage, focus: (f64, f64)) -> anyhow::Result<Vec<Variant>> {
    let (width, height) = (image.width(), image.height());
    let alpha = image.color().has_alpha();
    let mut out = Vec::new();
    for w in widths_for(width) {
        let scaled =
            if w == width { image.clone() } else { resize(image, w, height_at(width, height, w), None)? };
        out.push(Variant { name: format!("{w}.avif"), bytes: avif(&scaled)? });
        out.push(Variant { name: format!("{w}.webp"), bytes: webp(&scaled) });
        let (ext, bytes) = fallback(&scaled, alpha)?;
        out.push(Variant { name: format!("{w}.{ext}"), bytes });
    }
    for ratio in CROPS {
        let (cw, ch) = crop_size(width, height, ratio);
        let crop = resize(image, cw, ch, Some(crop_box(width, height, ratio, focus)))?;
        // Link previews are drawn on a background of their own: flatten onto white.
        let flat = DynamicImage::ImageRgb8(flatten(&crop));
        out.push(Variant { name: format!("{}x{}.jpg", ratio.0, ratio.1), bytes: jpeg(&flat)? });
    }
    Ok(out)
}

fn flatten(image: &DynamicImage) -> image::RgbImage {
    match image {
        DynamicImage::ImageRgba8(buf) => image::RgbImage::from_fn(buf.width(), buf.height(), |x, y| {
            let p = buf.get_pixel(x, y).0;
            let a = u16::from(p[3]);
            let mix = |c: u8| ((u16::from(c) * a + 255 * (255 - a) + 127) / 255) as u8;
            image::Rgb([mix(p[0]), mix(p[1]), mix(p[2])])
        }),
        other => other.to_rgb8(),
    }
}

/// The fallback file for browsers without AVIF or WebP: `(extension, bytes)`.
pub fn fallback_extension(alpha: bool) -> &'static str {
    if alpha { "png" } else { "jpg" }
}

fn fallback(image: &DynamicImage, alpha: bool) -> anyhow::Result<(&'static str, Vec<u8>)> {
    if alpha {
        use image::ImageEncoder;
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Default,
            image::codecs::png::FilterType::Adaptive,
        )
        .write_image(image.as_bytes(), image.width(), image.height(), image.color().into())?;
        Ok(("png", out))
    } else {
        Ok(("jpg", jpeg(image)?))
    }
}

fn jpeg(image: &DynamicImage) -> anyhow::Result<Vec<u8>> {
    let rgb = image.to_rgb8();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY).encode(
        rgb.as_raw(),
        rgb.width(),
        rgb.height(),
        image::ExtendedColorType::Rgb8,
    )?;
    Ok(out)
}

fn webp(image: &DynamicImage) -> Vec<u8> {
    let (w, h) = (image.width(), image.height());
    let encoder = match image {
        DynamicImage::ImageRgba8(buf) => webp::Encoder::from_rgba(buf.as_raw(), w, h),
        DynamicImage::ImageRgb8(buf) => webp::Encoder::from_rgb(buf.as_raw(), w, h),
        _ => unreachable!("prepared pictures are RGB8 or RGBA8"),
    };
    encoder.encode(WEBP_QUALITY).to_vec()
}

fn avif(image: &DynamicImage) -> anyhow::Result<Vec<u8>> {
    // One thread: the job runner already works on one picture at a time on each node.
    gazette_codecs::avif(pixels(image), AVIF_QUALITY, AVIF_SPEED).map_err(anyhow::Error::msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_never_upscale() {
        assert_eq!(widths_for(6000), vec![320, 640, 960, 1280, 1920]);
        assert_eq!(widths_for(1000), vec![320, 640, 960, 1000]);
        assert_eq!(widths_for(200), vec![200]);
        assert_eq!(widths_for(640), vec![320, 640]);
        assert_eq!(height_at(6000, 4000, 640), 427);
    }

    #[test]
    fn crops_follow_the_focal_point_within_the_edges() {
        assert_eq!(crop_size(6000, 4000, (16, 9)), (1200, 675));
        assert_eq!(crop_size(6000, 4000, (1, 1)), (1200, 1200));
        assert_eq!(crop_size(800, 600, (16, 9)), (800, 450));
        // A square crop of a landscape picture, focused on its right third.
        let (l, t, w, h) = crop_box(3000, 2000, (1, 1), (0.8, 0.5));
        assert_eq!((l, t, w, h), (1000.0, 0.0, 2000.0, 2000.0));
        let (l, ..) = crop_box(3000, 2000, (1, 1), (0.5, 0.5));
        assert_eq!(l, 500.0);
    }
}
