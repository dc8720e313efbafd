//! Picture encoders and the resizer behind plain functions over 8-bit RGB or RGBA buffers (see
//! Cargo.toml for why this is a crate of its own).

/// Pixels of a picture: `channels` is 3 (RGB) or 4 (RGBA), rows packed.
#[derive(Debug, Clone, Copy)]
pub struct Pixels<'a> {
    pub data: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub channels: u8,
}

/// Encodes AVIF (8-bit, YCbCr) with rav1e at `speed` (1 slowest to 10 fastest) on one thread.
#[inline(never)]
pub fn avif(p: Pixels<'_>, quality: f32, speed: u8) -> Result<Vec<u8>, String> {
    use ravif::{BitDepth, Encoder, Img, RGB8, RGBA8};
    let (w, h) = (p.width as usize, p.height as usize);
    let encoder = Encoder::new()
        .with_quality(quality)
        .with_speed(speed)
        .with_bit_depth(BitDepth::Eight)
        .with_num_threads(Some(1));
    let encoded = match p.channels {
        4 => {
            let px: Vec<RGBA8> = p.data.chunks_exact(4).map(|c| RGBA8::new(c[0], c[1], c[2], c[3])).collect();
            encoder.encode_rgba(Img::new(&px[..], w, h))
        }
        3 => {
            let px: Vec<RGB8> = p.data.chunks_exact(3).map(|c| RGB8::new(c[0], c[1], c[2])).collect();
            encoder.encode_rgb(Img::new(&px[..], w, h))
        }
        n => return Err(format!("{n} channels: only RGB and RGBA are encoded")),
    };
    encoded.map(|e| e.avif_file).map_err(|e| e.to_string())
}

/// Resizes with Lanczos3 (alpha premultiplied while filtering), optionally from a crop box of
/// the source `(left, top, width, height)` in source pixels.
#[inline(never)]
pub fn resize(
    p: Pixels<'_>,
    width: u32,
    height: u32,
    crop: Option<(f64, f64, f64, f64)>,
) -> Result<Vec<u8>, String> {
    use fast_image_resize::images::{Image, ImageRef};
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
    let kind = match p.channels {
        4 => PixelType::U8x4,
        3 => PixelType::U8x3,
        n => return Err(format!("{n} channels: only RGB and RGBA are resized")),
    };
    let src = ImageRef::new(p.width, p.height, p.data, kind).map_err(|e| e.to_string())?;
    let mut dst = Image::new(width, height, kind);
    let mut options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    if let Some((l, t, w, h)) = crop {
        options = options.crop(l, t, w, h);
    }
    Resizer::new().resize(&src, &mut dst, &options).map_err(|e| e.to_string())?;
    Ok(dst.into_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_resizes() {
        let data: Vec<u8> = (0..64 * 48 * 3).map(|i| (i % 251) as u8).collect();
        let p = Pixels { data: &data, width: 64, height: 48, channels: 3 };
        let small = resize(p, 32, 24, None).unwrap();
        assert_eq!(small.len(), 32 * 24 * 3);
        let file = avif(Pixels { data: &small, width: 32, height: 24, channels: 3 }, 60.0, 10).unwrap();
        assert_eq!(&file[4..8], b"ftyp");
        assert!(resize(Pixels { channels: 2, ..p }, 8, 8, None).is_err());
    }
}
