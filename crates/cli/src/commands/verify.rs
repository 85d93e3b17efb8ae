//! `bookhook verify`: is this delivery authentic, and by which active secret?

use std::io::Write;
use std::time::Duration;

use bookhook_verify::time::OffsetDateTime;
use bookhook_verify::{FixedClock, KeyKind, Verified, Verifier};
use time::format_description::well_known::Rfc3339;

use super::write_err;
use crate::cli::VerifyArgs;
use crate::error::CliError;
use crate::input;

pub(super) fn run(args: &VerifyArgs, out: &mut dyn Write) -> Result<(), CliError> {
    input::check_one_stdin(Some(&args.body_file), args.secrets.secret_file.as_deref())?;
    let verifier = build_verifier(args)?;
    let headers = input::parse_headers(&args.headers)?;
    let query = args.url_query.as_deref().map(input::query_part);
    let body = input::read_bytes(&args.body_file)?;
    let verified = verifier
        .verify_with_query(query, &headers, &body)
        .map_err(CliError::Refused)?;
    write_verified(&verified, out).map_err(write_err)
}

fn build_verifier(args: &VerifyArgs) -> Result<Verifier, CliError> {
    let mut builder =
        Verifier::builder(args.provider).tolerance(Duration::from_secs(args.tolerance));
    for list in args.secrets.read_lists()? {
        builder = builder.secrets(&list);
    }
    if let Some(now) = args.now {
        let now = OffsetDateTime::from_unix_timestamp(now).map_err(|_| {
            CliError::Usage(format!("--now {now} is not a representable Unix time"))
        })?;
        builder = builder.clock(FixedClock::new(now));
    }
    builder.build().map_err(CliError::Secret)
}

/// `ok (secret #N)` (`, ed25519` when a public key verified it), then one `name: value` line
/// per fact the delivery carried.
fn write_verified(verified: &Verified, out: &mut dyn Write) -> std::io::Result<()> {
    let number = verified.secret_index() + 1;
    match verified.key_kind() {
        KeyKind::Ed25519 => writeln!(out, "ok (secret #{number}, ed25519)")?,
        _ => writeln!(out, "ok (secret #{number})")?,
    }
    if let Some(timestamp) = verified.timestamp() {
        let unix = timestamp.unix_timestamp();
        match timestamp.format(&Rfc3339) {
            Ok(text) => writeln!(out, "timestamp: {unix} ({text})")?,
            Err(_) => writeln!(out, "timestamp: {unix}")?,
        }
    }
    if let Some(id) = verified.delivery_id() {
        writeln!(out, "delivery-id: {id}")?;
    }
    if let Some(event_type) = verified.event_type() {
        writeln!(out, "event-type: {event_type}")?;
    }
    Ok(())
}
