//! Repeat disputes among 20,000 cases of a county over three years.
//!
//! `cargo bench -p gridgov-disputes --bench repeat`
#![expect(
    missing_docs,
    reason = "criterion_group! makes an undocumented function"
)]

use chrono::{Days, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion};
use geo::Point;
use gridgov_disputes::case::Case;
use gridgov_disputes::repeat::repeats;
use gridgov_model::vocab::{DisputeCategory, DisputeChannel, DisputeLevel, DisputeStatus};
use gridgov_model::{DivisionCode, FeatureId};

/// A small linear congruential generator: the same seed gives the same cases.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` cases over 40 km x 40 km around 27°N and three years, half of them in 200 village
/// centres (where disputes cluster), with parties drawn from 8,000 names.
fn county(n: usize) -> Vec<Case> {
    let mut rng = Lcg(7);
    let village: DivisionCode = "520526101201".parse().expect("a valid code");
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("a valid day");
    let centres: Vec<(f64, f64)> = (0..200)
        .map(|_| (105.0 + rng.next() * 0.4, 27.0 + rng.next() * 0.36))
        .collect();
    (0..n)
        .map(|i| {
            let at = if rng.next() < 0.5 {
                let (x, y) = centres[(rng.next() * 200.0) as usize];
                (
                    x + (rng.next() - 0.5) * 0.004,
                    y + (rng.next() - 0.5) * 0.004,
                )
            } else {
                (105.0 + rng.next() * 0.4, 27.0 + rng.next() * 0.36)
            };
            Case {
                id: Some(FeatureId(i as i64)),
                village,
                grid: None,
                location: Some(Point::new(at.0, at.1)),
                category: DisputeCategory::Other,
                channel: DisputeChannel::People,
                level: DisputeLevel::Village,
                status: DisputeStatus::Open,
                opened_on: start + Days::new((rng.next() * 1095.0) as u64),
                deadline: None,
                closed_on: None,
                parties: vec![
                    format!("人{}", (rng.next() * 8000.0) as u32),
                    format!("人{}", (rng.next() * 8000.0) as u32),
                ],
                leader: None,
                plan: None,
                description: None,
                steps: Vec::new(),
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cases = county(20_000);
    c.bench_function("repeats of 20,000 cases", |b| {
        b.iter(|| repeats(std::hint::black_box(&cases)));
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
