//! Rendering a body at the largest size an article may have (1 MB), one construct grown to
//! fill it (`gazette::domain::hostile`): each renders within 100 ms or is refused with a
//! message. `cargo bench --bench render` prints one line a construct (the fastest of five
//! runs) and exits non-zero when one is over its budget. Figures in docs/PERFORMANCE.md.

use std::time::{Duration, Instant};

use gazette::domain::{hostile, markdown};

const BUDGET: Duration = Duration::from_millis(100);

fn main() {
    let size = markdown::MAX_SOURCE_BYTES - 64;
    let mut over = Vec::new();
    println!("{:<20} {:>9} {:>10}  outcome", "construct", "bytes", "ms");
    for (name, body) in hostile::constructs(size) {
        let body: String = body.chars().take(size).collect();
        let mut best = Duration::MAX;
        let mut outcome = String::new();
        for _ in 0..5 {
            let started = Instant::now();
            outcome = match markdown::render(&body) {
                Ok(r) => format!("rendered, {} words", r.word_count),
                Err(e) => format!("refused: {e}"),
            };
            best = best.min(started.elapsed());
        }
        println!(
            "{name:<20} {:>9} {:>10.1}  {}",
            body.len(),
            best.as_secs_f64() * 1e3,
            outcome.chars().take(90).collect::<String>()
        );
        if best > BUDGET {
            over.push(name);
        }
    }
    if !over.is_empty() {
        eprintln!("over the {BUDGET:?} budget: {over:?}");
        std::process::exit(1);
    }
}
