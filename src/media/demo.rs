//! Pictures for the demo edition, drawn here (no photograph, nothing from elsewhere): a harbour
//! town's scenes in flat shapes, each story with its own subject and hour of the day. They go
//! through the library like any upload (checked, processed, described).

use image::{Rgb, RgbImage};

/// What a picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scene {
    Bridge,
    TownHall,
    WindFarm,
    Reservoir,
    Stadium,
    Theatre,
    Lighthouse,
}

impl Scene {
    /// The scene for a story file (by its name) and how it is described.
    pub fn for_story(story: &str) -> Self {
        match story {
            "bridge" => Self::Bridge,
            "election" => Self::TownHall,
            "windfarm" => Self::WindFarm,
            "drought" => Self::Reservoir,
            "rovers" => Self::Stadium,
            "lyric" => Self::Theatre,
            _ => Self::Lighthouse,
        }
    }

    pub fn alt(self) -> &'static str {
        match self {
            Self::Bridge => "Illustration: the swing bridge's dark iron span over the harbour",
            Self::TownHall => "Illustration: the town hall's columned front under a clock tower",
            Self::WindFarm => "Illustration: wind turbines standing in the sea off the headland",
            Self::Reservoir => "Illustration: a reservoir shrunk to a pool in cracked, dry earth",
            Self::Stadium => "Illustration: floodlights over a football ground at dusk",
            Self::Theatre => "Illustration: the theatre's lit windows on a dark street",
            Self::Lighthouse => "Illustration: the lighthouse on the breakwater at the harbour mouth",
        }
    }
}

/// The light of one hour: sky top and bottom, sun, water, land and ink colours.
struct Light {
    sky: ([u8; 3], [u8; 3]),
    sun: [u8; 3],
    water: [u8; 3],
    land: [u8; 3],
    ink: [u8; 3],
}

const LIGHTS: [Light; 4] = [
    // Dawn
    Light {
        sky: ([64, 84, 140], [244, 180, 140]),
        sun: [255, 226, 170],
        water: [70, 96, 140],
        land: [52, 60, 82],
        ink: [28, 30, 44],
    },
    // Noon
    Light {
        sky: ([86, 150, 214], [200, 226, 244]),
        sun: [255, 250, 225],
        water: [40, 110, 160],
        land: [84, 120, 88],
        ink: [34, 40, 46],
    },
    // Dusk
    Light {
        sky: ([40, 36, 92], [236, 122, 84]),
        sun: [255, 200, 120],
        water: [60, 52, 96],
        land: [46, 34, 60],
        ink: [20, 16, 30],
    },
    // Overcast
    Light {
        sky: ([120, 130, 142], [196, 200, 204]),
        sun: [226, 228, 230],
        water: [92, 106, 118],
        land: [82, 92, 96],
        ink: [40, 44, 50],
    },
];

fn mix(a: [u8; 3], b: [u8; 3], t: f32) -> Rgb<u8> {
    let t = t.clamp(0.0, 1.0);
    Rgb([0, 1, 2].map(|i| (f32::from(a[i]) * (1.0 - t) + f32::from(b[i]) * t).round() as u8))
}

fn rect(img: &mut RgbImage, x0: i64, y0: i64, x1: i64, y1: i64, c: [u8; 3]) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for y in y0.max(0)..y1.min(h) {
        for x in x0.max(0)..x1.min(w) {
            img.put_pixel(x as u32, y as u32, Rgb(c));
        }
    }
}

fn disc(img: &mut RgbImage, cx: f32, cy: f32, r: f32, c: [u8; 3]) {
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    for y in ((cy - r) as i64).max(0)..((cy + r) as i64 + 1).min(h) {
        for x in ((cx - r) as i64).max(0)..((cx + r) as i64 + 1).min(w) {
            let d = ((x as f32 - cx).powi(2) + (y as f32 - cy).powi(2)).sqrt();
            if d <= r {
                img.put_pixel(x as u32, y as u32, Rgb(c));
            }
        }
    }
}

/// A thick line from (x0, y0) to (x1, y1).
fn line(img: &mut RgbImage, (x0, y0): (f32, f32), (x1, y1): (f32, f32), width: f32, c: [u8; 3]) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()) / (width / 2.0).max(1.0)).ceil().max(1.0) as i64;
    for i in 0..=steps {
        let t = i as f32 / steps as f32;
        disc(img, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, width / 2.0, c);
    }
}

/// Draws scene `scene` in light `variant` (0-3), `w` x `h`.
pub fn draw(scene: Scene, variant: usize, w: u32, h: u32) -> RgbImage {
    let light = &LIGHTS[variant % LIGHTS.len()];
    let (wf, hf) = (w as f32, h as f32);
    let horizon = (hf * 0.62) as i64;
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        if i64::from(y) < horizon {
            mix(light.sky.0, light.sky.1, y as f32 / horizon as f32)
        } else {
            // Water: darker with depth, with bands of light.
            let depth = (y as f32 - horizon as f32) / (hf - horizon as f32);
            let band = if (y / (h / 60).max(1)).is_multiple_of(5) { 0.18 } else { 0.0 };
            mix(light.water, light.sky.1, (0.35 - depth * 0.3 + band).max(0.0))
        }
    });
    // The sun (or a pale disc behind cloud), low or high with the hour.
    let sun_y = match variant % 4 {
        1 => hf * 0.16,
        3 => hf * 0.22,
        _ => hf * 0.48,
    };
    disc(&mut img, wf * (0.2 + 0.55 * ((variant * 37 % 10) as f32 / 10.0)), sun_y, hf * 0.07, light.sun);
    // Distant hills.
    for x in 0..w {
        let xf = x as f32 / wf;
        let top = horizon as f32
            - hf * (0.06 + 0.04 * (xf * 7.0 + variant as f32).sin() + 0.03 * (xf * 17.0).sin());
        for y in (top as i64).max(0)..horizon {
            img.put_pixel(x, y as u32, mix(light.land, light.sky.1, 0.35));
        }
    }
    let ink = light.ink;
    let base = horizon as f32;
    match scene {
        Scene::Bridge => {
            // Stone piers, a deck, and a truss of iron over the middle span.
            for px in [0.12, 0.5, 0.88] {
                rect(
                    &mut img,
                    (wf * px - wf * 0.03) as i64,
                    (base - hf * 0.12) as i64,
                    (wf * px + wf * 0.03) as i64,
                    (base + hf * 0.1) as i64,
                    light.land,
                );
            }
            rect(&mut img, 0, (base - hf * 0.16) as i64, i64::from(w), (base - hf * 0.12) as i64, ink);
            let (left, right, top) = (wf * 0.2, wf * 0.8, base - hf * 0.34);
            line(&mut img, (left, base - hf * 0.16), (wf * 0.35, top), hf * 0.012, ink);
            line(&mut img, (right, base - hf * 0.16), (wf * 0.65, top), hf * 0.012, ink);
            line(&mut img, (wf * 0.35, top), (wf * 0.65, top), hf * 0.012, ink);
            for i in 0..7 {
                let x = wf * 0.35 + wf * 0.05 * i as f32;
                line(&mut img, (x, top), (x + wf * 0.025, base - hf * 0.16), hf * 0.006, ink);
                line(&mut img, (x, top), (x - wf * 0.025, base - hf * 0.16), hf * 0.006, ink);
            }
        }
        Scene::TownHall => {
            let (x0, x1) = (wf * 0.22, wf * 0.78);
            rect(&mut img, x0 as i64, (base - hf * 0.3) as i64, x1 as i64, base as i64 + 4, [214, 204, 184]);
            rect(
                &mut img,
                (x0 - wf * 0.02) as i64,
                (base - hf * 0.34) as i64,
                (x1 + wf * 0.02) as i64,
                (base - hf * 0.3) as i64,
                ink,
            );
            for i in 0..8 {
                let x = x0 + wf * 0.03 + (x1 - x0 - wf * 0.06) * i as f32 / 7.0;
                rect(
                    &mut img,
                    (x - wf * 0.008) as i64,
                    (base - hf * 0.3) as i64,
                    (x + wf * 0.008) as i64,
                    base as i64,
                    [170, 160, 142],
                );
            }
            rect(
                &mut img,
                (wf * 0.46) as i64,
                (base - hf * 0.52) as i64,
                (wf * 0.54) as i64,
                (base - hf * 0.34) as i64,
                [196, 186, 166],
            );
            disc(&mut img, wf * 0.5, base - hf * 0.45, hf * 0.03, [250, 246, 232]);
            line(&mut img, (wf * 0.5, base - hf * 0.45), (wf * 0.5, base - hf * 0.47), hf * 0.005, ink);
            line(&mut img, (wf * 0.5, base - hf * 0.45), (wf * 0.515, base - hf * 0.45), hf * 0.005, ink);
        }
        Scene::WindFarm => {
            for (i, px) in [0.15f32, 0.33, 0.52, 0.7, 0.88].iter().enumerate() {
                let scale = 0.7 + 0.3 * ((i % 3) as f32 / 2.0);
                let (x, top) = (wf * px, base - hf * 0.4 * scale);
                line(&mut img, (x, base + hf * 0.02), (x, top), hf * 0.01 * scale, [236, 238, 240]);
                for k in 0..3 {
                    let a = (i as f32) * 0.7 + k as f32 * std::f32::consts::TAU / 3.0;
                    let len = hf * 0.15 * scale;
                    line(
                        &mut img,
                        (x, top),
                        (x + a.cos() * len, top + a.sin() * len),
                        hf * 0.007 * scale,
                        [236, 238, 240],
                    );
                }
            }
        }
        Scene::Reservoir => {
            // Dry, cracked earth over most of the water, a small pool left in the middle.
            let earth = [186, 150, 104];
            rect(&mut img, 0, horizon, i64::from(w), i64::from(h), earth);
            for y in horizon..i64::from(h) {
                let t = (y - horizon) as f32 / (hf - base);
                let half = wf * (0.12 + 0.05 * t);
                let c = mix(light.water, light.sky.1, 0.2).0;
                rect(
                    &mut img,
                    (wf * 0.5 - half * (1.0 - t * 0.6)) as i64,
                    y,
                    (wf * 0.5 + half * (1.0 - t * 0.6)) as i64,
                    y + 1,
                    c,
                );
            }
            let crack = [120, 92, 60];
            for i in 0..14 {
                let x = wf * (i as f32 / 13.0);
                let mut p = (x, base + hf * 0.04);
                for k in 1..6 {
                    let q =
                        (p.0 + wf * 0.03 * ((i * 7 + k * 3) % 5) as f32 / 4.0 - wf * 0.015, p.1 + hf * 0.06);
                    line(&mut img, p, q, hf * 0.004, crack);
                    p = q;
                }
            }
        }
        Scene::Stadium => {
            rect(&mut img, 0, (base - hf * 0.14) as i64, i64::from(w), base as i64 + 2, ink);
            rect(&mut img, 0, base as i64, i64::from(w), i64::from(h), [46, 110, 60]);
            for y in (base as i64..i64::from(h)).step_by((h / 14).max(1) as usize) {
                rect(&mut img, 0, y, i64::from(w), y + (i64::from(h) / 28).max(1), [54, 124, 68]);
            }
            for px in [0.08f32, 0.92] {
                line(&mut img, (wf * px, base - hf * 0.14), (wf * px, base - hf * 0.5), hf * 0.012, ink);
                rect(
                    &mut img,
                    (wf * px - wf * 0.04) as i64,
                    (base - hf * 0.56) as i64,
                    (wf * px + wf * 0.04) as i64,
                    (base - hf * 0.5) as i64,
                    [255, 250, 214],
                );
            }
            line(&mut img, (wf * 0.5, base), (wf * 0.5, hf), hf * 0.006, [230, 240, 230]);
        }
        Scene::Theatre => {
            rect(
                &mut img,
                (wf * 0.1) as i64,
                (base - hf * 0.42) as i64,
                (wf * 0.9) as i64,
                i64::from(h),
                ink,
            );
            for row in 0..3 {
                for col in 0..7 {
                    let x = wf * 0.15 + wf * 0.1 * col as f32;
                    let y = base - hf * 0.36 + hf * 0.13 * row as f32;
                    let lit = (row * 7 + col + 3) % 4 != 0;
                    rect(
                        &mut img,
                        x as i64,
                        y as i64,
                        (x + wf * 0.05) as i64,
                        (y + hf * 0.08) as i64,
                        if lit { [250, 210, 120] } else { [60, 56, 70] },
                    );
                }
            }
            rect(
                &mut img,
                (wf * 0.08) as i64,
                (base - hf * 0.47) as i64,
                (wf * 0.92) as i64,
                (base - hf * 0.42) as i64,
                [180, 40, 50],
            );
        }
        Scene::Lighthouse => {
            rect(
                &mut img,
                (wf * 0.45) as i64,
                (base - hf * 0.02) as i64,
                i64::from(w),
                (base + hf * 0.05) as i64,
                light.land,
            );
            for y in (base - hf * 0.5) as i64..(base - hf * 0.02) as i64 {
                let t = (y as f32 - (base - hf * 0.5)) / (hf * 0.48);
                let half = wf * (0.025 + 0.02 * t);
                let stripe = ((t * 5.0) as i64) % 2 == 0;
                rect(
                    &mut img,
                    (wf * 0.62 - half) as i64,
                    y,
                    (wf * 0.62 + half) as i64,
                    y + 1,
                    if stripe { [236, 232, 226] } else { [178, 40, 44] },
                );
            }
            disc(&mut img, wf * 0.62, base - hf * 0.53, hf * 0.035, [255, 236, 160]);
            line(
                &mut img,
                (wf * 0.62, base - hf * 0.53),
                (wf * 0.98, base - hf * 0.6),
                hf * 0.02,
                [255, 246, 200],
            );
        }
    }
    img
}

/// A drawn picture as a JPEG file, as a photographer's camera would hand it over.
pub fn jpeg(scene: Scene, variant: usize, w: u32, h: u32) -> Vec<u8> {
    let img = draw(scene, variant, w, h);
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode(img.as_raw(), w, h, image::ExtendedColorType::Rgb8)
        .expect("encoding to memory cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scene_draws_in_every_light() {
        for scene in [
            Scene::Bridge,
            Scene::TownHall,
            Scene::WindFarm,
            Scene::Reservoir,
            Scene::Stadium,
            Scene::Theatre,
            Scene::Lighthouse,
        ] {
            for variant in 0..4 {
                let img = draw(scene, variant, 160, 100);
                let distinct: std::collections::HashSet<_> = img.pixels().map(|p| p.0).collect();
                assert!(distinct.len() > 20, "{scene:?} {variant} is more than a few flat colours");
            }
        }
    }
}
