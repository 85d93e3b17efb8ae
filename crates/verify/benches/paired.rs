//! Paired ratios, bookhook ÷ floor, for machines too noisy for separate measurements.
//!
//! Criterion (`benches/verify.rs`) measures the floor and bookhook one after the other, seconds
//! apart; on a shared VM the machine's speed drifts by more than the gap being measured. Here
//! each round times a batch of floor calls, a batch of bookhook calls, and the floor again
//! (A-B-A, ~2 ms per batch), and takes bookhook's time over the mean of the two floors: drift
//! slower than a few milliseconds cancels out. The table gives the median and the quartiles of
//! the round ratios.
//!
//! `cargo bench -p bookhook-verify --bench paired` (run by `scripts/bench.sh verify`);
//! `BENCH_PAIRED_ROUNDS` sets the rounds per case (default 41).

use std::hint::black_box;
use std::time::{Duration, Instant};

use bookhook_verify::{Provider, SignParams};

mod common;
use common::{
    Ed25519Floor, ID, NOW, ROTATION, SCHEMES, SIZES, V1A_PUBLIC_KEY, V1A_SECRET_KEY, body,
    delivery_headers, floor, verifier,
};

/// Each batch runs for about this long: long against timer resolution, short against drift.
const BATCH: Duration = Duration::from_millis(2);

/// How long one call of `f` takes, over a batch of `n` calls.
fn time_batch(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

/// Round ratios `b / mean(a before, a after)`, sorted.
fn paired(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> Vec<f64> {
    // Calls per batch, from a short calibration of the slower one (b).
    let probe = time_batch(64, &mut b).max(Duration::from_nanos(1));
    let n = u32::try_from(BATCH.as_nanos() / probe.as_nanos())
        .unwrap_or(u32::MAX)
        .clamp(16, 1_000_000);
    time_batch(n, &mut a); // warm-up
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| {
            let before = time_batch(n, &mut a);
            let measured = time_batch(n, &mut b);
            let after = time_batch(n, &mut a);
            measured.as_secs_f64() / ((before + after).as_secs_f64() / 2.0)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios
}

/// `median (q1–q3)` of sorted ratios.
fn summary(sorted: &[f64]) -> String {
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
    format!("{:.2}× ({:.2}–{:.2})", at(0.5), at(0.25), at(0.75))
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) is a smoke
    // run with a single round.
    let measuring = std::env::args().any(|a| a == "--bench");
    let rounds = if measuring {
        std::env::var("BENCH_PAIRED_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(41)
    } else {
        1
    };
    let deadline = Instant::now() + Duration::from_secs(600);

    println!("paired ratios, bookhook ÷ floor: median (quartiles) of {rounds} A-B-A rounds");
    println!("| scheme | 256 B | 1 KiB | 16 KiB | 256 KiB |");
    println!("|---|---|---|---|---|");
    let params = SignParams::at(NOW).id(ID).event_type("booking.created");
    let mut cases: Vec<(String, Provider, Vec<&str>)> = SCHEMES
        .iter()
        .map(|&(p, s)| (p.to_string(), p, vec![s]))
        .collect();
    cases.push((
        "standard, 3 secrets".to_owned(),
        Provider::StandardWebhooks,
        ROTATION.to_vec(),
    ));
    for (name, provider, secrets) in cases {
        let signing = secrets[secrets.len() - 1];
        let mut row = format!("| {name} |");
        for size in SIZES {
            if Instant::now() > deadline {
                row.push_str(" (time limit) |");
                continue;
            }
            let body = body(size);
            let headers = delivery_headers(provider, signing, &body, &params);
            let verifier = verifier(provider, &secrets);
            let floor = floor(provider, signing, &body);
            assert!(
                floor.verify(&body) && !floor.verify(&body[1..]),
                "the floor checks"
            );
            verifier
                .verify(&headers, &body)
                .expect("signed delivery verifies");
            let ratios = paired(
                rounds,
                || assert!(floor.verify(black_box(&body))),
                || {
                    black_box(verifier.verify(black_box(&headers), black_box(&body))).expect("ok");
                },
            );
            row.push_str(&format!(" {} |", summary(&ratios)));
        }
        println!("{row}");
    }
    v1a_rows(rounds, deadline);
}

/// Standard Webhooks `v1a`: bookhook ÷ its floor (a bare `verify_strict` of the same signed
/// bytes with an already parsed key), and the same delivery verified as `v1a` ÷ as `v1`.
fn v1a_rows(rounds: usize, deadline: Instant) {
    let provider = Provider::StandardWebhooks;
    let hmac = SCHEMES[5].1;
    let params = SignParams::at(NOW).id(ID);
    let mut vs_floor = "| standard v1a ÷ ed25519 floor |".to_owned();
    let mut vs_v1 = "| standard v1a ÷ standard v1 |".to_owned();
    for size in SIZES {
        if Instant::now() > deadline {
            vs_floor.push_str(" (time limit) |");
            vs_v1.push_str(" (time limit) |");
            continue;
        }
        let body = body(size);
        let signed = delivery_headers(provider, V1A_SECRET_KEY, &body, &params);
        let v1a = verifier(provider, &[V1A_PUBLIC_KEY]);
        v1a.verify(&signed, &body)
            .expect("signed delivery verifies");
        let floor = Ed25519Floor::new(&signed, &body);
        assert!(floor.verify(&floor.message), "the floor checks");
        let hmac_signed = delivery_headers(provider, hmac, &body, &params);
        let v1 = verifier(provider, &[hmac]);
        v1.verify(&hmac_signed, &body)
            .expect("signed delivery verifies");
        let run_v1a = || {
            black_box(v1a.verify(black_box(&signed), black_box(&body))).expect("ok");
        };
        let ratios = paired(
            rounds,
            || assert!(floor.verify(black_box(&floor.message))),
            run_v1a,
        );
        vs_floor.push_str(&format!(" {} |", summary(&ratios)));
        let ratios = paired(
            rounds,
            || {
                black_box(v1.verify(black_box(&hmac_signed), black_box(&body))).expect("ok");
            },
            run_v1a,
        );
        vs_v1.push_str(&format!(" {} |", summary(&ratios)));
    }
    println!("{vs_floor}");
    println!("{vs_v1}");
}
