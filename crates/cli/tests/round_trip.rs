//! `bookhook sign` output fed to `bookhook verify`, through the binary both ways.

use std::path::Path;
use std::process::Output;

use bookhook_testkit::cli::{Bookhook, assert_exit, stdout};
use bookhook_testkit::secrets::secret;
use bookhook_verify::{Provider, SignParams, Signer};

/// The binary under test.
const BOOKHOOK: Bookhook = Bookhook::new(env!("CARGO_BIN_EXE_bookhook"));

const BODY: &str =
    r#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1","attendee":{"email":"jane@example.com"}}}"#;

fn write_body(dir: &Path) -> String {
    let path = dir.join("body.json");
    std::fs::write(&path, BODY).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `sign` output turned into `verify` arguments: headers as `--header`, a query string
/// (Slotflow) as `--url-query`.
fn delivery_args(signed: &str) -> Vec<String> {
    signed
        .lines()
        .flat_map(|line| {
            let flag = if line.contains(": ") {
                "--header"
            } else {
                "--url-query"
            };
            [flag.to_owned(), line.to_owned()]
        })
        .collect()
}

fn sign(provider: Provider, secret: &str, body_file: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "sign",
        "--provider",
        provider.as_str(),
        "--secret",
        secret,
        "--body-file",
        body_file,
    ];
    args.extend_from_slice(extra);
    let output = BOOKHOOK.run(&args);
    assert_exit(&output, 0);
    stdout(&output)
}

fn verify(
    provider: Provider,
    secret_args: &[&str],
    signed: &str,
    body_file: &str,
    extra: &[&str],
) -> Output {
    let delivery = delivery_args(signed);
    let mut args = vec!["verify", "--provider", provider.as_str()];
    args.extend_from_slice(secret_args);
    args.extend(delivery.iter().map(String::as_str));
    args.extend_from_slice(&["--body-file", body_file]);
    args.extend_from_slice(extra);
    BOOKHOOK.run(&args)
}

#[test]
fn sign_then_verify_succeeds_for_every_provider() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    for provider in Provider::ALL {
        let secret = secret(provider);
        let signed = sign(provider, secret, &body, &[]);
        assert!(
            !signed.trim().is_empty(),
            "{provider}: sign printed nothing"
        );
        let output = verify(provider, &["--secret", secret], &signed, &body, &[]);
        assert_exit(&output, 0);
        assert!(
            stdout(&output).starts_with("ok (secret #1)\n"),
            "{provider}: {}",
            stdout(&output)
        );
    }
}

#[test]
fn sign_at_a_fixed_time_verifies_with_now_and_reports_the_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    for provider in Provider::ALL {
        let secret = secret(provider);
        let signed = sign(provider, secret, &body, &["--timestamp", "1700000000"]);
        let output = verify(
            provider,
            &["--secret", secret],
            &signed,
            &body,
            &["--now", "1700000120"],
        );
        assert_exit(&output, 0);
        let printed = stdout(&output);
        if provider.signs_timestamp() {
            assert!(
                printed.contains("timestamp: 1700000000 (2023-11-14T22:13:20Z)"),
                "{provider}: {printed}"
            );
        } else {
            assert!(!printed.contains("timestamp:"), "{provider}: {printed}");
        }
    }
}

#[test]
fn sign_prints_exactly_what_the_library_signs() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    for provider in Provider::ALL {
        let secret = secret(provider);
        let printed = sign(
            provider,
            secret,
            &body,
            &[
                "--timestamp",
                "1747299612",
                "--id",
                "dlv_42",
                "--event-type",
                "booking.created",
            ],
        );
        let signed = Signer::new(provider, secret).unwrap().sign(
            BODY.as_bytes(),
            &SignParams::at(1747299612)
                .id("dlv_42")
                .event_type("booking.created"),
        );
        let mut expected: String = signed
            .headers()
            .iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect();
        if let Some(query) = signed.query() {
            expected.push_str(query);
            expected.push('\n');
        }
        assert_eq!(printed, expected, "{provider}");
    }
}

#[test]
fn slatis_sign_prints_one_header_line() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let printed = sign(Provider::Slatis, "whsec_x", &body, &[]);
    let (name, value) = printed.trim_end().split_once(": ").unwrap();
    assert_eq!(name, "x-slatis-signature");
    let hex = value.strip_prefix("sha256=").unwrap();
    assert_eq!(hex.len(), 64);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(printed.lines().count(), 1);
}

#[test]
fn slotflow_sign_prints_the_query_string() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let printed = sign(Provider::Slotflow, "sf_token_0123456789abcdef", &body, &[]);
    assert_eq!(printed, "token=sf_token_0123456789abcdef\n");
}

#[test]
fn body_from_stdin_signs_and_verifies_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let body_file = write_body(dir.path());
    for provider in [
        Provider::Calendly,
        Provider::StandardWebhooks,
        Provider::Slatis,
    ] {
        let secret = secret(provider);
        let sign_out = BOOKHOOK
            .command(&[
                "sign",
                "--provider",
                provider.as_str(),
                "--secret",
                secret,
                "--body-file",
                "-",
            ])
            .write_stdin(BODY)
            .output()
            .unwrap();
        assert_exit(&sign_out, 0);
        let signed = stdout(&sign_out);

        // Signed from stdin, verified from the file...
        assert_exit(
            &verify(provider, &["--secret", secret], &signed, &body_file, &[]),
            0,
        );
        // ...and from stdin again.
        let delivery = delivery_args(&signed);
        let mut args = vec![
            "verify",
            "--provider",
            provider.as_str(),
            "--secret",
            secret,
        ];
        args.extend(delivery.iter().map(String::as_str));
        args.extend_from_slice(&["--body-file", "-"]);
        let output = BOOKHOOK.command(&args).write_stdin(BODY).output().unwrap();
        assert_exit(&output, 0);
        // A different body on stdin does not verify.
        let output = BOOKHOOK
            .command(&args)
            .write_stdin(format!("{BODY} "))
            .output()
            .unwrap();
        assert_exit(&output, 1);
    }
}

#[test]
fn several_secrets_report_the_one_that_matched() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let signed = sign(Provider::Bookable, "wh_sec_third", &body, &[]);

    // Repeated flags, a comma-separated list, and both mixed: numbered from 1 in order.
    for secret_args in [
        &[
            "--secret",
            "wh_sec_first",
            "--secret",
            "wh_sec_second",
            "--secret",
            "wh_sec_third",
        ][..],
        &["--secret", "wh_sec_first,wh_sec_second,wh_sec_third"][..],
        &[
            "--secret",
            "wh_sec_first",
            "--secret",
            "wh_sec_second, wh_sec_third",
        ][..],
    ] {
        let output = verify(Provider::Bookable, secret_args, &signed, &body, &[]);
        assert_exit(&output, 0);
        assert!(
            stdout(&output).starts_with("ok (secret #3)\n"),
            "{secret_args:?}: {}",
            stdout(&output)
        );
    }

    let output = verify(
        Provider::Bookable,
        &["--secret", "wh_sec_third,wh_sec_first"],
        &signed,
        &body,
        &[],
    );
    assert!(stdout(&output).starts_with("ok (secret #1)\n"));
}

#[test]
fn secret_file_holds_the_active_secrets_one_per_line() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let signed = sign(Provider::CalCom, "calcom-new", &body, &[]);
    let secrets = dir.path().join("calcom.secrets");
    std::fs::write(&secrets, "calcom-old\n\ncalcom-new\n").unwrap();
    let output = verify(
        Provider::CalCom,
        &["--secret-file", secrets.to_str().unwrap()],
        &signed,
        &body,
        &[],
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).starts_with("ok (secret #2)\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn sign_reads_its_secret_file_without_the_trailing_newline() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let secret_file = dir.path().join("slatis.secret");
    std::fs::write(&secret_file, "whsec_from_file\n").unwrap();
    let output = BOOKHOOK.run(&[
        "sign",
        "--provider",
        "slatis",
        "--secret-file",
        secret_file.to_str().unwrap(),
        "--body-file",
        &body,
    ]);
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        sign(Provider::Slatis, "whsec_from_file", &body, &[])
    );
}

#[test]
fn secret_file_can_be_read_from_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let output = BOOKHOOK
        .command(&[
            "sign",
            "--provider",
            "calendly",
            "--secret-file",
            "-",
            "--timestamp",
            "1700000000",
            "--body-file",
            &body,
        ])
        .write_stdin("calendly-key\n")
        .output()
        .unwrap();
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        sign(
            Provider::Calendly,
            "calendly-key",
            &body,
            &["--timestamp", "1700000000"]
        )
    );
}

#[test]
fn verify_prints_delivery_id_and_event_type_when_sent() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let signed = sign(
        Provider::SchedulingKit,
        "sk_secret",
        &body,
        &["--id", "dlv_0001", "--event-type", "booking.created"],
    );
    let output = verify(
        Provider::SchedulingKit,
        &["--secret", "sk_secret"],
        &signed,
        &body,
        &[],
    );
    assert_exit(&output, 0);
    assert_eq!(
        stdout(&output),
        "ok (secret #1)\ndelivery-id: dlv_0001\nevent-type: booking.created\n"
    );

    let secret = secret(Provider::StandardWebhooks);
    let signed = sign(
        Provider::StandardWebhooks,
        secret,
        &body,
        &["--id", "msg_abc", "--timestamp", "1700000000"],
    );
    let output = verify(
        Provider::StandardWebhooks,
        &["--secret", secret],
        &signed,
        &body,
        &["--now", "1700000000"],
    );
    assert_exit(&output, 0);
    assert!(
        stdout(&output).contains("delivery-id: msg_abc\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn url_query_accepts_a_whole_url() {
    let dir = tempfile::tempdir().unwrap();
    let body = write_body(dir.path());
    let output = BOOKHOOK.run(&[
        "verify",
        "--provider",
        "slotflow",
        "--secret",
        "sf_token_0123456789abcdef",
        "--url-query",
        "http://127.0.0.1:8080/webhooks/slotflow?tenant=1&token=sf_token_0123456789abcdef",
        "--body-file",
        &body,
    ]);
    assert_exit(&output, 0);
}
