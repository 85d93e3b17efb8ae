//! The recorded deliveries of `tests/vectors/deliveries.json` (signatures computed with
//! openssl, never by bookhook), checked through the binary, with `--now` for the ones that
//! carry a timestamp.

use std::process::Output;

use bookhook_testkit::cli::{Bookhook, assert_exit_of};
use bookhook_testkit::vectors::{Delivery, deliveries};

/// The binary under test.
const BOOKHOOK: Bookhook = Bookhook::new(env!("CARGO_BIN_EXE_bookhook"));

fn recorded(provider: &str) -> Delivery {
    deliveries()
        .into_iter()
        .find(|d| d.provider == provider)
        .unwrap_or_else(|| panic!("no recorded {provider} delivery"))
}

/// `bookhook verify` for a recorded delivery, with the body on stdin, at `now`.
fn verify(d: &Delivery, now: Option<i64>) -> Output {
    let mut args: Vec<String> = ["verify", "--provider", &d.provider, "--secret", &d.secret]
        .map(str::to_owned)
        .to_vec();
    for (name, value) in &d.headers {
        args.extend(["--header".to_owned(), format!("{name}: {value}")]);
    }
    if let Some(query) = &d.query {
        args.extend(["--url-query".to_owned(), query.clone()]);
    }
    if let Some(now) = now {
        args.extend(["--now".to_owned(), now.to_string()]);
    }
    args.extend(["--body-file".to_owned(), "-".to_owned()]);
    BOOKHOOK
        .command(&args)
        .write_stdin(d.body.clone())
        .output()
        .unwrap()
}

#[test]
fn every_recorded_delivery_verifies_at_its_now() {
    let all = deliveries();
    assert!(all.len() >= 7, "expected a delivery per provider");
    for d in &all {
        let output = verify(d, d.now);
        assert_exit_of(&output, 0, &d.name);
        let printed = String::from_utf8(output.stdout).unwrap();
        assert!(
            printed.starts_with("ok (secret #1)\n"),
            "{}: {printed}",
            d.name
        );
        if let Some(id) = &d.expect_delivery_id {
            assert!(
                printed.contains(&format!("delivery-id: {id}\n")),
                "{}: {printed}",
                d.name
            );
        }
    }
}

#[test]
fn recorded_bookable_delivery_verifies_with_now_and_is_stale_later() {
    let d = recorded("bookable");
    let now = d.now.expect("the Bookable vector has a `now`");
    let output = verify(&d, Some(now));
    assert_exit_of(&output, 0, &d.name);
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(
        printed.contains("timestamp: 1747299612 (2025-05-15T09:00:12Z)"),
        "{printed}"
    );

    let output = verify(&d, Some(now + 3600));
    assert_exit_of(&output, 1, &d.name);
    assert!(String::from_utf8_lossy(&output.stderr).contains("timestamp too old"));
    let output = verify(&d, Some(now - 3600));
    assert_exit_of(&output, 1, &d.name);
    assert!(String::from_utf8_lossy(&output.stderr).contains("timestamp in the future"));
}

#[test]
fn recorded_calendly_delivery_verifies_with_now_and_is_stale_later() {
    let d = recorded("calendly");
    let now = d.now.expect("the Calendly vector has a `now`");
    let output = verify(&d, Some(now));
    assert_exit_of(&output, 0, &d.name);
    let printed = String::from_utf8(output.stdout).unwrap();
    assert!(printed.contains("timestamp: 1777644300 ("), "{printed}");

    let output = verify(&d, Some(now + 3600));
    assert_exit_of(&output, 1, &d.name);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("timestamp too old"), "{stderr}");
    assert!(!stderr.contains(&d.secret), "{stderr}");
}

#[test]
fn recorded_delivery_with_a_changed_body_is_rejected_unless_unsigned() {
    for d in deliveries() {
        let changed = Delivery {
            body: format!("{} ", d.body),
            ..d
        };
        let output = verify(&changed, changed.now);
        if changed.provider == "slotflow" {
            // Slotflow signs nothing: its token proves the URL is known, not the body.
            assert_exit_of(&output, 0, &changed.name);
        } else {
            assert_exit_of(&output, 1, &changed.name);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("rejected: signature mismatch"), "{stderr}");
        }
    }
}

#[test]
fn sign_reproduces_every_recorded_delivery() {
    for d in deliveries() {
        let value = |name: &str| {
            d.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut args: Vec<String> = ["sign", "--provider", &d.provider, "--secret", &d.secret]
            .map(str::to_owned)
            .to_vec();
        // What the recording says was sent alongside the body.
        let timestamp = value("webhook-timestamp").or_else(|| {
            d.headers.iter().find_map(|(_, v)| {
                v.strip_prefix("t=")
                    .and_then(|rest| rest.split(',').next())
                    .map(str::to_owned)
            })
        });
        if let Some(t) = timestamp {
            args.extend(["--timestamp".to_owned(), t]);
        }
        if let Some(id) = value("webhook-id").or_else(|| value("x-webhook-delivery-id")) {
            args.extend(["--id".to_owned(), id]);
        }
        if let Some(event) = value("x-webhook-event") {
            args.extend(["--event-type".to_owned(), event]);
        }
        args.extend(["--body-file".to_owned(), "-".to_owned()]);
        let output = BOOKHOOK
            .command(&args)
            .write_stdin(d.body.clone())
            .output()
            .unwrap();
        assert_exit_of(&output, 0, &d.name);
        let printed = String::from_utf8(output.stdout).unwrap();

        // Each recorded signature header appears with the same value (the recording may
        // spell the name differently or prefix `sha256=`; compare the MAC itself).
        for (name, recorded_value) in &d.headers {
            let line = printed
                .lines()
                .find(|line| {
                    line.split_once(": ")
                        .is_some_and(|(n, _)| n.eq_ignore_ascii_case(name))
                })
                .unwrap_or_else(|| panic!("{}: no {name} in {printed}", d.name));
            let (_, signed_value) = line.split_once(": ").unwrap();
            let strip = |v: &str| v.trim_start_matches("sha256=").to_owned();
            assert_eq!(
                strip(signed_value),
                strip(recorded_value),
                "{}: {name}",
                d.name
            );
        }
        if let Some(query) = &d.query {
            assert_eq!(printed.trim_end(), query, "{}", d.name);
        }
    }
}
