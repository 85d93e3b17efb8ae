//! Replays a fuzz corpus without sanitizers and counts the verifier's answers, so a run's
//! report can say how often the fuzzer reached acceptance and each refusal.
//!
//! `cargo run --release --example corpus_stats -- TARGET corpus/TARGET`

use std::collections::BTreeMap;
use std::{env, fs};

use arbitrary::{Arbitrary, Unstructured};
use bookhook_fuzz::mixed::MixedDelivery;
use bookhook_fuzz::{Delivery, provider};
use bookhook_verify::Provider;

fn main() {
    let mut args = env::args().skip(1);
    let target = args.next().expect("usage: corpus_stats TARGET DIR");
    let dir = args.next().expect("usage: corpus_stats TARGET DIR");
    if target == "standard_mixed" {
        return mixed_stats(&dir);
    }
    let among: &[Provider] = match target.as_str() {
        "verify" => &Provider::ALL,
        "hex_signature" => &[Provider::Slatis, Provider::SchedulingKit, Provider::CalCom],
        "stripe_style" => &[Provider::Bookable, Provider::Calendly],
        "standard_webhooks" => &[Provider::StandardWebhooks],
        "slotflow_query" => &[Provider::Slotflow],
        other => panic!("no stats for {other}"),
    };
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in fs::read_dir(&dir).expect("corpus dir") {
        let data = fs::read(entry.expect("entry").path()).expect("read");
        let u = Unstructured::new(&data);
        let (which, delivery) = if among.len() == 1 {
            match Delivery::arbitrary_take_rest(u) {
                Ok(d) => (0, d),
                Err(_) => continue,
            }
        } else {
            match <(u8, Delivery)>::arbitrary_take_rest(u) {
                Ok(x) => x,
                Err(_) => continue,
            }
        };
        let p = provider(which, among);
        let key = match delivery.check(p) {
            Ok(v) => format!("{p}: accepted (secret #{})", v.secret_index()),
            Err(e) => format!("{p}: {} {}", e.status().as_u16(), e),
        };
        *counts.entry(key).or_default() += 1;
    }
    for (k, n) in counts {
        println!("{n:6}  {k}");
    }
}

/// `standard_mixed`: which kind of key accepted, or why it was refused.
fn mixed_stats(dir: &str) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for entry in fs::read_dir(dir).expect("corpus dir") {
        let data = fs::read(entry.expect("entry").path()).expect("read");
        let Ok(delivery) = MixedDelivery::arbitrary_take_rest(Unstructured::new(&data)) else {
            continue;
        };
        let key = match delivery.check() {
            Ok(v) => format!(
                "accepted by {:?} (secret #{})",
                v.key_kind(),
                v.secret_index()
            ),
            Err(e) => format!("{} {}", e.status().as_u16(), e),
        };
        *counts.entry(key).or_default() += 1;
    }
    for (k, n) in counts {
        println!("{n:6}  {k}");
    }
}
