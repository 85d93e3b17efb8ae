//! A dudect-style statistical timing check: does the time `Verifier::verify` takes to refuse a
//! signature depend on how many of its leading bytes match the expected MAC?
//!
//! Ignored by default (it measures wall-clock time, so it belongs on a quiet machine, not in
//! CI). Run it by hand, in release mode:
//!
//! ```text
//! cargo test -p bookhook-verify --release --test timing -- --ignored --nocapture
//! ```
//!
//! Method (after Reparaz, Balasch and Verbauwhede, "dude, is my code constant time?", 2017):
//!
//! - Two classes of wrong signature, identical except where they differ from the expected
//!   tag: class 0 differs in the *first* byte (no leading byte matches), class 1 in the *last*
//!   byte (31 leading bytes match). An early-exit comparison (`==` on slices, `memcmp`) takes
//!   longer for class 1.
//! - Each measurement picks the class at random, copies that class's header value into the
//!   *same* buffer (so memory layout and caching cannot differ between classes), then times
//!   one `verify` call with `Instant`.
//! - Welch's t-test between the classes, on all measurements and on measurements cropped
//!   at several upper percentiles (cropping removes the long tail that interrupts and other
//!   processes add). The reported figure is the largest |t|.
//! - dudect reads |t| > 10 as "definitely not constant time" and |t| < 4.5 as no evidence
//!   of a leak at this sample size. The test fails at |t| >= 10.
//! - A positive control proves the set-up can see a leak: the same measurement with an
//!   early-exit byte comparison of the decoded tags added after `verify` (what a `==`
//!   implementation would add). Its |t| must exceed 10, or the run is inconclusive and fails.
//!
//! Three families are checked: hex tags (Cal.com), base64 tags with a signed timestamp and id
//! (Standard Webhooks), and URL tokens (Slotflow, compared through their SHA-256 digests).
//! `BOOKHOOK_TIMING_SAMPLES` sets the measurements per family (default 1,000,000).

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_testkit::clock::fixed_at;
use bookhook_testkit::secrets::STANDARD_SECRET;
use bookhook_verify::{HeaderSource, Provider, SignParams, Signer, Verifier};

const NOW: i64 = 1_780_000_000;
const BODY: &[u8] =
    br#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1","attendee":{"email":"jane@example.com"}}}"#;

/// dudect's threshold for "definitely not constant time".
const LEAK: f64 = 10.0;

/// Headers whose signature value is one mutable buffer, rewritten before each measurement.
struct Buffer {
    fixed: Vec<(&'static str, Vec<u8>)>,
    name: &'static str,
    value: Vec<u8>,
}

impl HeaderSource for Buffer {
    fn for_each_value<'a>(&'a self, name: &str, f: &mut dyn FnMut(&'a [u8])) {
        if name.eq_ignore_ascii_case(self.name) {
            f(&self.value);
        }
        for (n, v) in &self.fixed {
            if n.eq_ignore_ascii_case(name) {
                f(v);
            }
        }
    }
}

/// A wrong credential of each class and the decoded bytes the verifier compares.
struct Family {
    name: &'static str,
    verifier: Verifier,
    headers: Buffer,
    /// Whether `value` is the query string rather than the signature header.
    in_query: bool,
    /// Class 0 (first byte differs) and class 1 (last byte differs), as sent.
    sent: [Vec<u8>; 2],
    /// The expected tag and each class's decoded tag, for the positive control.
    expected: Vec<u8>,
    decoded: [Vec<u8>; 2],
}

fn verifier(p: Provider, secret: &str) -> Verifier {
    Verifier::builder(p)
        .secret(secret)
        .clock(fixed_at(NOW))
        .build()
        .unwrap()
}

fn flipped(tag: &[u8], at: usize) -> Vec<u8> {
    let mut t = tag.to_vec();
    t[at] ^= 0x01;
    t
}

fn calcom() -> Family {
    let secret = "calcom-timing-secret";
    let signed = Signer::new(Provider::CalCom, secret)
        .unwrap()
        .sign(BODY, &SignParams::at(NOW));
    let expected = hex::decode(signed.header("x-cal-signature-256").unwrap()).unwrap();
    let decoded = [flipped(&expected, 0), flipped(&expected, 31)];
    Family {
        name: "calcom (hex)",
        verifier: verifier(Provider::CalCom, secret),
        headers: Buffer {
            fixed: Vec::new(),
            name: "x-cal-signature-256",
            value: Vec::new(),
        },
        in_query: false,
        sent: decoded.clone().map(|d| hex::encode(d).into_bytes()),
        expected,
        decoded,
    }
}

fn standard() -> Family {
    let secret = STANDARD_SECRET;
    let signed = Signer::new(Provider::StandardWebhooks, secret)
        .unwrap()
        .sign(BODY, &SignParams::at(NOW).id("msg_timing"));
    let value = signed.header("webhook-signature").unwrap();
    let expected = STANDARD.decode(value.strip_prefix("v1,").unwrap()).unwrap();
    let decoded = [flipped(&expected, 0), flipped(&expected, 31)];
    Family {
        name: "standard (base64)",
        verifier: verifier(Provider::StandardWebhooks, secret),
        headers: Buffer {
            fixed: vec![
                ("webhook-id", b"msg_timing".to_vec()),
                ("webhook-timestamp", NOW.to_string().into_bytes()),
            ],
            name: "webhook-signature",
            value: Vec::new(),
        },
        in_query: false,
        sent: decoded
            .clone()
            .map(|d| format!("v1,{}", STANDARD.encode(d)).into_bytes()),
        expected,
        decoded,
    }
}

fn slotflow() -> Family {
    let token = "sf_timing_token_0123456789abcdef";
    let expected = token.as_bytes().to_vec();
    let last = expected.len() - 1;
    let decoded = [flipped(&expected, 0), flipped(&expected, last)];
    Family {
        name: "slotflow (token)",
        verifier: verifier(Provider::Slotflow, token),
        headers: Buffer {
            fixed: Vec::new(),
            name: "x-unused",
            value: Vec::new(),
        },
        in_query: true,
        sent: decoded.clone().map(|d| [b"token=".as_slice(), &d].concat()),
        expected,
        decoded,
    }
}

/// What a `==` over the tags would add: an early-exit byte loop the optimiser cannot fold.
fn leaky_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    for (x, y) in a.iter().zip(b) {
        if black_box(*x) != black_box(*y) {
            return false;
        }
    }
    true
}

/// A small xorshift generator: the class sequence must be unpredictable to the CPU's branch
/// predictor, not cryptographically random.
struct XorShift(u64);

impl XorShift {
    fn bit(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 32) as usize & 1
    }
}

/// Measures `n` refusals, returning (class, nanoseconds) pairs.
fn measure(family: &mut Family, n: usize, control: bool) -> Vec<(usize, u64)> {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n);
    // Warm up caches, branch predictors and the CPU clock.
    for i in 0..n / 20 {
        family.headers.value.clone_from(&family.sent[i & 1]);
        black_box(run(family, i & 1, control));
    }
    for _ in 0..n {
        let class = rng.bit();
        // Same buffer, same length for both classes: only the content differs.
        family.headers.value.copy_from_slice(&family.sent[class]);
        let start = Instant::now();
        let refused = run(family, class, control);
        let elapsed = start.elapsed();
        assert!(
            black_box(refused),
            "{}: a wrong credential was accepted",
            family.name
        );
        out.push((class, elapsed.as_nanos() as u64));
    }
    out
}

fn run(family: &Family, class: usize, control: bool) -> bool {
    let query = family
        .in_query
        .then(|| std::str::from_utf8(&family.headers.value).unwrap());
    let result = family.verifier.verify_with_query(
        black_box(query),
        black_box(&family.headers),
        black_box(BODY),
    );
    let refused = result.is_err();
    if control {
        black_box(leaky_eq(
            black_box(&family.expected),
            black_box(&family.decoded[class]),
        ));
    }
    refused
}

/// The median time of `class`, in nanoseconds.
fn median(samples: &[(usize, u64)], class: usize) -> u64 {
    let mut times: Vec<u64> = samples
        .iter()
        .filter(|(c, _)| *c == class)
        .map(|&(_, ns)| ns)
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

/// Welch's t between the two classes over measurements below `cap` nanoseconds.
fn welch_t(samples: &[(usize, u64)], cap: u64) -> (f64, [usize; 2], [f64; 2]) {
    let mut n = [0f64; 2];
    let mut mean = [0f64; 2];
    let mut m2 = [0f64; 2];
    for &(class, ns) in samples.iter().filter(|(_, ns)| *ns <= cap) {
        // Welford's running mean and variance.
        let x = ns as f64;
        n[class] += 1.0;
        let delta = x - mean[class];
        mean[class] += delta / n[class];
        m2[class] += delta * (x - mean[class]);
    }
    let var = [m2[0] / (n[0] - 1.0), m2[1] / (n[1] - 1.0)];
    let t = (mean[0] - mean[1]) / (var[0] / n[0] + var[1] / n[1]).sqrt();
    (t, [n[0] as usize, n[1] as usize], mean)
}

/// The largest |t| over the uncropped data and crops at upper percentiles, with its crop.
fn max_t(samples: &[(usize, u64)]) -> (f64, &'static str, [f64; 2]) {
    let mut sorted: Vec<u64> = samples.iter().map(|&(_, ns)| ns).collect();
    sorted.sort_unstable();
    let at = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    let crops = [
        ("all", u64::MAX),
        ("p99.9", at(0.999)),
        ("p99", at(0.99)),
        ("p95", at(0.95)),
        ("p90", at(0.90)),
        ("p80", at(0.80)),
        ("p70", at(0.70)),
        ("p50", at(0.50)),
    ];
    crops
        .into_iter()
        .map(|(label, cap)| {
            let (t, _, mean) = welch_t(samples, cap);
            (t.abs(), label, mean)
        })
        .fold(
            (0.0, "all", [0.0; 2]),
            |best, x| if x.0 > best.0 { x } else { best },
        )
}

#[test]
#[ignore = "measures wall-clock time: run by hand with --release --ignored --nocapture"]
fn refusal_time_does_not_depend_on_how_many_leading_bytes_match() {
    let n: usize = std::env::var("BOOKHOOK_TIMING_SAMPLES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    println!(
        "dudect-style check, {n} measurements per family, classes: first byte differs / last byte differs"
    );
    println!(
        "{:<18} {:>9} {:>9} {:>8} {:>6} | {:>11} {:>6} {:>10} | {:>10}",
        "family",
        "median0",
        "median1",
        "max |t|",
        "crop",
        "control |t|",
        "crop",
        "control +ns",
        "resolution"
    );
    let mut failures = Vec::new();
    for mut family in [calcom(), standard(), slotflow()] {
        let real = measure(&mut family, n, false);
        let (t, crop, _) = max_t(&real);
        let control = measure(&mut family, n, true);
        let (t_control, crop_control, mean_control) = max_t(&control);
        // What the control's leak adds, and the smallest class difference this run would
        // have flagged at |t| = 4.5 (the t-statistic grows linearly with the difference).
        let control_ns = (mean_control[1] - mean_control[0]).abs();
        let resolution = control_ns * 4.5 / t_control;
        println!(
            "{:<18} {:>9} {:>9} {:>8.2} {:>6} | {:>11.2} {:>6} {:>10.1} | {:>7.2} ns",
            family.name,
            median(&real, 0),
            median(&real, 1),
            t,
            crop,
            t_control,
            crop_control,
            control_ns,
            resolution
        );
        if t >= LEAK {
            failures.push(format!("{}: |t| = {t:.2} >= {LEAK} ({crop})", family.name));
        }
        if t_control < LEAK {
            failures.push(format!(
                "{}: inconclusive, the early-exit control reached only |t| = {t_control:.2}; use more samples or a quieter machine",
                family.name
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
