//! Every exit code: 0 ok, 1 rejected (missing, mismatch, stale, future), 2 malformed input,
//! bad secret, unreadable file or bad usage; and stderr never holds a secret or a MAC.

use std::path::Path;
use std::process::Output;

use bookhook_testkit::cli::{Bookhook, assert_exit, stderr};

/// The binary under test.
const BOOKHOOK: Bookhook = Bookhook::new(env!("CARGO_BIN_EXE_bookhook"));

/// Distinctive, so that finding it in any output is unambiguous.
const SECRET: &str = "whsec_DoNotLeakMe_7f3a9c";
const BODY: &str = r#"{"event":"BOOKING_CREATED","data":{"id":"bkg_1"}}"#;
const T: i64 = 1_747_299_612;

/// Asserts the exit code, that the reason on stderr contains `reason`, and that neither
/// stream leaks `SECRET` or any of `macs`.
fn assert_refused(output: &Output, code: i32, reason: &str, macs: &[&str]) {
    assert_exit(output, code);
    let err = stderr(output);
    assert!(err.contains(reason), "expected `{reason}` in stderr: {err}");
    assert!(
        output.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(!err.contains(SECRET), "secret on stderr: {err}");
    for mac in macs {
        assert!(!err.contains(mac), "MAC on stderr: {err}");
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    body: String,
    tampered: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, BODY).unwrap();
    let tampered = dir.path().join("tampered.json");
    std::fs::write(&tampered, BODY.replace("bkg_1", "bkg_2")).unwrap();
    Fixture {
        body: path(&body),
        tampered: path(&tampered),
        _dir: dir,
    }
}

fn path(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// The `X-Samna-Signature` header line for `BODY` at `t`, signed with `SECRET`.
fn bookable_header(body: &str, t: i64) -> String {
    let output = BOOKHOOK.run(&[
        "sign",
        "--provider",
        "bookable",
        "--secret",
        SECRET,
        "--timestamp",
        &t.to_string(),
        "--body-file",
        body,
    ]);
    assert_exit(&output, 0);
    String::from_utf8(output.stdout)
        .unwrap()
        .trim_end()
        .to_owned()
}

/// The hex MAC inside a `t=..,v1=<hex>` header line.
fn v1(header: &str) -> &str {
    header.rsplit("v1=").next().unwrap()
}

fn verify_bookable(header: Option<&str>, body: &str, now: i64) -> Output {
    let now = now.to_string();
    let mut args = vec![
        "verify",
        "--provider",
        "bookable",
        "--secret",
        SECRET,
        "--now",
        &now,
        "--body-file",
        body,
    ];
    if let Some(header) = header {
        args.extend_from_slice(&["--header", header]);
    }
    BOOKHOOK.run(&args)
}

#[test]
fn authentic_delivery_exits_0() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let output = verify_bookable(Some(&header), &f.body, T + 60);
    assert_exit(&output, 0);
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
}

#[test]
fn signature_mismatch_exits_1() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let output = verify_bookable(Some(&header), &f.tampered, T);
    assert_refused(&output, 1, "rejected: signature mismatch", &[v1(&header)]);

    // The right body with another secret: also a mismatch.
    let output = BOOKHOOK.run(&[
        "verify",
        "--provider",
        "bookable",
        "--secret",
        "wh_sec_other",
        "--now",
        &T.to_string(),
        "--header",
        &header,
        "--body-file",
        &f.body,
    ]);
    assert_refused(&output, 1, "signature mismatch", &[v1(&header)]);
}

#[test]
fn stale_timestamp_exits_1() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let output = verify_bookable(Some(&header), &f.body, T + 301);
    assert_refused(
        &output,
        1,
        "rejected: timestamp too old (301 s old, tolerance 300 s",
        &[v1(&header)],
    );
    // Exactly at the tolerance it is still accepted.
    assert_exit(&verify_bookable(Some(&header), &f.body, T + 300), 0);
}

#[test]
fn future_timestamp_exits_1() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let output = verify_bookable(Some(&header), &f.body, T - 301);
    assert_refused(
        &output,
        1,
        "rejected: timestamp in the future",
        &[v1(&header)],
    );
}

#[test]
fn tolerance_flag_widens_the_window() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let now = (T + 900).to_string();
    let base = [
        "verify",
        "--provider",
        "bookable",
        "--secret",
        SECRET,
        "--now",
        &now,
        "--header",
        &header,
        "--body-file",
        &f.body,
    ];
    assert_exit(&BOOKHOOK.run(&base), 1);
    let mut wide = base.to_vec();
    wide.extend_from_slice(&["--tolerance", "1000"]);
    assert_exit(&BOOKHOOK.run(&wide), 0);
}

#[test]
fn missing_signature_header_exits_1() {
    let f = fixture();
    let output = verify_bookable(None, &f.body, T);
    assert_refused(
        &output,
        1,
        "rejected: missing x-samna-signature header",
        &[],
    );

    // Another header does not stand in for the signature.
    let output = verify_bookable(Some("X-Other: 1"), &f.body, T);
    assert_refused(&output, 1, "missing x-samna-signature header", &[]);
}

#[test]
fn missing_or_wrong_slotflow_token_exits_1() {
    let f = fixture();
    let token = "sf_token_DoNotLeakMe_0123";
    let base = [
        "verify",
        "--provider",
        "slotflow",
        "--secret",
        token,
        "--body-file",
        &f.body,
    ];
    let output = BOOKHOOK.run(&base);
    assert_refused(&output, 1, "rejected: missing token", &[token]);

    let mut wrong = base.to_vec();
    wrong.extend_from_slice(&["--url-query", "token=sf_token_someone_else_99"]);
    let output = BOOKHOOK.run(&wrong);
    assert_refused(&output, 1, "rejected: token mismatch", &[token]);
}

#[test]
fn malformed_signature_header_exits_2() {
    let f = fixture();
    for header in [
        "X-Samna-Signature: t=1747299612,v1=zz",
        "X-Samna-Signature: t=1747299612,v1=",
        "X-Samna-Signature: t=1747299612,v1=abcd",
        "X-Samna-Signature: v1=67af231e0e2d2f6d60011c232da48de4fdbab7845330136570943c9a3fdb62ca",
        "X-Samna-Signature: t=99999999999999999999,v1=67af231e0e2d2f6d60011c232da48de4fdbab7845330136570943c9a3fdb62ca",
        "X-Samna-Signature: garbage",
    ] {
        let output = verify_bookable(Some(header), &f.body, T);
        assert_refused(
            &output,
            2,
            "malformed delivery: malformed x-samna-signature header",
            &[],
        );
    }
}

#[test]
fn bad_header_syntax_exits_2_without_echoing_the_value() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let no_colon = header.replacen(": ", " ", 1);
    let output = verify_bookable(Some(&no_colon), &f.body, T);
    assert_refused(
        &output,
        2,
        "--header #1: expected `Name: value`",
        &[v1(&header)],
    );

    let bad_name = format!("X Samna: {}", v1(&header));
    let output = verify_bookable(Some(&bad_name), &f.body, T);
    assert_refused(
        &output,
        2,
        "--header #1: invalid header name",
        &[v1(&header)],
    );
}

#[test]
fn bad_secret_exits_2() {
    let f = fixture();
    let cases: [(&str, &[&str], &str); 4] = [
        // Standard Webhooks secrets are `whsec_` + base64.
        (
            "standard",
            &["--secret", "whsec_DoNotLeakMe_7f3a9c!!"],
            "secret #1 for standard is invalid",
        ),
        // Slotflow tokens are long and URL-safe.
        (
            "slotflow",
            &["--secret", "short"],
            "secret #1 for slotflow is invalid",
        ),
        // A stray comma leaves an empty secret, numbered from 1.
        (
            "slatis",
            &["--secret", "whsec_DoNotLeakMe_7f3a9c,,whsec_b"],
            "secret #2 for slatis is empty",
        ),
        ("slatis", &["--secret", ""], "no secret given for slatis"),
    ];
    for (provider, secret_args, reason) in cases {
        let mut args = vec!["verify", "--provider", provider];
        args.extend_from_slice(secret_args);
        args.extend_from_slice(&[
            "--header",
            "x-slatis-signature: sha256=00",
            "--body-file",
            &f.body,
        ]);
        let output = BOOKHOOK.run(&args);
        assert_refused(&output, 2, reason, &[]);
        assert!(
            !stderr(&output).contains("DoNotLeakMe"),
            "{}",
            stderr(&output)
        );
    }

    // Signing with a bad secret is refused the same way.
    let output = BOOKHOOK.run(&[
        "sign",
        "--provider",
        "standard",
        "--secret",
        "whsec_!!",
        "--body-file",
        &f.body,
    ]);
    assert_refused(&output, 2, "secret #1 for standard is invalid", &[]);
    let output = BOOKHOOK.run(&[
        "sign",
        "--provider",
        "slatis",
        "--secret",
        "",
        "--body-file",
        &f.body,
    ]);
    assert_refused(&output, 2, "secret #1 for slatis is empty", &[]);
    let output = BOOKHOOK.run(&[
        "sign",
        "--provider",
        "slatis",
        "--secret",
        "a,b",
        "--body-file",
        &f.body,
    ]);
    assert_refused(&output, 2, "not a comma-separated list", &[]);
}

#[test]
fn missing_body_file_exits_2() {
    let f = fixture();
    let header = bookable_header(&f.body, T);
    let missing = format!("{}.missing", f.body);
    let output = verify_bookable(Some(&header), &missing, T);
    assert_refused(&output, 2, "cannot read", &[v1(&header)]);

    let output = BOOKHOOK.run(&[
        "sign",
        "--provider",
        "slatis",
        "--secret",
        SECRET,
        "--body-file",
        &missing,
    ]);
    assert_refused(&output, 2, "cannot read", &[]);
}

#[test]
fn missing_secret_file_exits_2() {
    let f = fixture();
    for command in ["sign", "verify"] {
        let output = BOOKHOOK.run(&[
            command,
            "--provider",
            "slatis",
            "--secret-file",
            "/nonexistent/slatis.secret",
            "--body-file",
            &f.body,
        ]);
        assert_refused(&output, 2, "cannot read /nonexistent/slatis.secret", &[]);
    }
}

#[test]
fn usage_errors_exit_2() {
    let f = fixture();
    let cases: &[&[&str]] = &[
        &[],
        &["frobnicate"],
        &[
            "verify",
            "--provider",
            "stripe",
            "--secret",
            SECRET,
            "--body-file",
            &f.body,
        ],
        &["verify", "--provider", "slatis", "--secret", SECRET],
        &["verify", "--provider", "slatis", "--body-file", &f.body],
        &[
            "sign",
            "--provider",
            "slatis",
            "--secret",
            SECRET,
            "--secret-file",
            &f.body,
            "--body-file",
            &f.body,
        ],
        &[
            "verify",
            "--provider",
            "slatis",
            "--secret",
            SECRET,
            "--tolerance",
            "soon",
            "--body-file",
            &f.body,
        ],
        &[
            "verify",
            "--provider",
            "slatis",
            "--secret",
            SECRET,
            "--now",
            "yesterday",
            "--body-file",
            &f.body,
        ],
        &[
            "verify",
            "--provider",
            "bookable",
            "--secret",
            SECRET,
            "--now",
            "99999999999999",
            "--body-file",
            &f.body,
        ],
        &[
            "sign",
            "--provider",
            "slatis",
            "--secret-file",
            "-",
            "--body-file",
            "-",
        ],
        &[
            "send",
            "--provider",
            "slatis",
            "--secret",
            SECRET,
            "--url",
            "http://127.0.0.1:9/",
        ],
        &[
            "send",
            "--provider",
            "slatis",
            "--secret",
            SECRET,
            "--url",
            "not a url",
            "--event",
            "BOOKING_CREATED",
        ],
        &[
            "send",
            "--provider",
            "slatis",
            "--secret",
            SECRET,
            "--url",
            "ftp://127.0.0.1/",
            "--event",
            "BOOKING_CREATED",
        ],
    ];
    for args in cases {
        let output = BOOKHOOK.command(args).write_stdin("").output().unwrap();
        assert_exit(&output, 2);
        assert!(!output.stderr.is_empty(), "{args:?}: no reason given");
        assert!(
            !stderr(&output).contains(SECRET),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn help_exits_0_with_examples_for_each_subcommand() {
    for command in ["sign", "verify", "send"] {
        let output = BOOKHOOK.run(&[command, "--help"]);
        assert_exit(&output, 0);
        let help = String::from_utf8(output.stdout).unwrap();
        assert!(help.contains("Examples:"), "{command}: {help}");
        assert!(
            help.contains(&format!("bookhook {command} --provider")),
            "{command}: {help}"
        );
        assert!(help.contains("--secret-file"), "{command}: {help}");
    }
    let output = BOOKHOOK.run(&["--help"]);
    assert_exit(&output, 0);
    assert!(
        String::from_utf8(output.stdout)
            .unwrap()
            .contains("Exit codes:")
    );
}
