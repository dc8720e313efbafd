//! How related two articles are: a logistic model over features of the pair, fitted on
//! labelled story corpora by leave-one-corpus-out (`gazette eval loco`, docs/RELEVANCE.md),
//! never set by hand. Each feature is one a sceptic would name: how alike the whole texts, the
//! headlines and the ledes are (cosines of `(1 + ln count) · idf` vectors), how much the
//! article's nearest other pieces vouch for the candidate, how alike the names they mention
//! are, and the whole-text likeness weighed by closeness in time at three scales (a week, two
//! months, a year).

/// Features of a pair, in the order of [`NAMES`]. Every feature is zero for two articles
/// that share nothing: time alone, or the likeness of an article's nearest pieces among
/// themselves, never makes two pieces related.
pub const FEATURES: usize = 8;
pub const NAMES: [&str; FEATURES] =
    ["whole", "headline", "lede", "names", "support", "whole x week", "whole x months", "whole x year"];

/// The shipped weights (the bias last), fitted by `gazette eval loco` on every shared story
/// corpus (its last table).
pub const WEIGHTS: [f32; FEATURES + 1] =
    [5.880528, 3.7607849, 3.8139305, 0.7414117, 0.865728, 8.413857, 7.848576, 1.849671, -5.9753137];

/// A pair's features: cosines `[whole, headline, lede, names]`, support, days apart. The
/// whole-text likeness also comes weighed by closeness in time at three scales (the sceptic's
/// recipe, cosine times a decay, at a week, two months and a year).
pub fn features(cosines: [f32; 4], support: f32, days: f32) -> [f32; FEATURES] {
    let days = days.abs();
    let (week, months, year) = ((-days / 7.0).exp(), (-days / 60.0).exp(), (-days / 365.0).exp());
    [
        cosines[0],
        cosines[1],
        cosines[2],
        cosines[3],
        support,
        cosines[0] * week,
        cosines[0] * months,
        cosines[0] * year,
    ]
}

/// The probability that the pair tells one story, under `weights`.
pub fn score(x: &[f32; FEATURES], weights: &[f32; FEATURES + 1]) -> f32 {
    let z: f32 = x.iter().zip(weights).map(|(a, w)| a * w).sum::<f32>() + weights[FEATURES];
    1.0 / (1.0 + (-z).exp())
}

/// The probability the model gives a pair with `evidence` (its weighted features' sum).
pub fn score_of_evidence(evidence: f32, weights: &[f32; FEATURES + 1]) -> f32 {
    1.0 / (1.0 + (-(evidence + weights[FEATURES])).exp())
}

/// Logistic regression by Newton's method (iteratively reweighted least squares) with a small
/// ridge, each sample with its weight: `(features, same story, weight)`.
pub fn fit(samples: &[([f32; FEATURES], bool, f32)], ridge: f64) -> [f32; FEATURES + 1] {
    const K: usize = FEATURES + 1;
    let mut w = [0f64; K];
    for _ in 0..30 {
        let mut grad = [0f64; K];
        let mut hess = [[0f64; K]; K];
        for (x, y, weight) in samples {
            let mut v = [1f64; K];
            for i in 0..FEATURES {
                v[i] = f64::from(x[i]);
            }
            let z: f64 = v.iter().zip(&w).map(|(a, b)| a * b).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            let weight = f64::from(*weight);
            let err = p - if *y { 1.0 } else { 0.0 };
            let s = (p * (1.0 - p)).max(1e-9) * weight;
            for i in 0..K {
                grad[i] += weight * err * v[i];
                for j in 0..K {
                    hess[i][j] += s * v[i] * v[j];
                }
            }
        }
        // The bias is not shrunk.
        for i in 0..FEATURES {
            grad[i] += ridge * w[i];
            hess[i][i] += ridge;
        }
        hess[FEATURES][FEATURES] += 1e-9;
        let Some(step) = solve(hess, grad) else { break };
        let mut largest = 0f64;
        for i in 0..K {
            w[i] -= step[i];
            largest = largest.max(step[i].abs());
        }
        if largest < 1e-6 {
            break;
        }
    }
    let mut out = [0f32; K];
    for i in 0..K {
        out[i] = w[i] as f32;
    }
    out
}

/// `a x = b` by Gaussian elimination with partial pivoting (none for a singular `a`).
#[allow(clippy::needless_range_loop)] // Indices read as the algebra is written.
fn solve<const K: usize>(mut a: [[f64; K]; K], mut b: [f64; K]) -> Option<[f64; K]> {
    for col in 0..K {
        let pivot = (col..K).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..K {
            let f = a[row][col] / a[col][col];
            for k in col..K {
                a[row][k] -= f * a[col][k];
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0f64; K];
    for row in (0..K).rev() {
        let s: f64 = (row + 1..K).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fit_finds_the_feature_that_tells_the_label() {
        // Same story when the headlines are alike; the other features are noise.
        let mut samples = Vec::new();
        for i in 0..2_000u32 {
            let noise =
                |k: u32| ((i.wrapping_mul(2_654_435_761).wrapping_add(k * 40_503)) % 1_000) as f32 / 1_000.0;
            let same = i % 5 == 0;
            let headline = if same { 0.5 + noise(1) / 2.0 } else { noise(1) / 2.0 };
            let x = [noise(2), headline, noise(3), noise(4), noise(5), noise(6), noise(7), noise(8)];
            samples.push((x, same, 1.0));
        }
        let w = fit(&samples, 1.0);
        let strongest = (0..FEATURES).max_by(|&a, &b| w[a].abs().total_cmp(&w[b].abs())).unwrap();
        assert_eq!(NAMES[strongest], "headline", "{w:?}");
        assert!(score(&samples[0].0, &w) > 0.5 && score(&samples[1].0, &w) < 0.5, "{w:?}");
    }
}
