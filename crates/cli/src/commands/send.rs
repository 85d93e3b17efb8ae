//! `bookhook send`: sign a body as the provider would and POST it.

use std::io::Write;
use std::time::Duration;

use bookhook_events::samples;
use bookhook_verify::Provider;
use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue};
use reqwest::Url;
use reqwest::redirect::Policy;

use super::{sign_params, signer, write_err};
use crate::cli::{Payload, SendArgs};
use crate::error::CliError;
use crate::input;

/// How long the whole request may take, connection to last byte of the answer.
const TIMEOUT: Duration = Duration::from_secs(10);

pub(super) fn run(args: &SendArgs, out: &mut dyn Write) -> Result<(), CliError> {
    input::check_one_stdin(
        args.payload.body_file.as_deref(),
        args.secret.secret_file.as_deref(),
    )?;
    let signer = signer(args.provider, &args.secret)?;
    let mut url = parse_url(&args.url)?;
    let body = payload(args.provider, &args.payload)?;
    let event_type = args.event_type.as_deref().or(args.payload.event.as_deref());
    let params = sign_params(args.timestamp, args.id.as_deref(), event_type);
    let signed = signer.sign(&body, &params);
    if let Some(query) = signed.query() {
        append_query(&mut url, query);
    }
    let mut headers = signed.header_map();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("bookhook/", env!("CARGO_PKG_VERSION"))),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| CliError::Usage(format!("cannot start the HTTP client: {source}")))?;
    runtime.block_on(post(url, headers, body, out))
}

fn parse_url(text: &str) -> Result<Url, CliError> {
    // The parse error never repeats the URL, which may hold credentials.
    let url = Url::parse(text).map_err(|err| CliError::Usage(format!("invalid --url: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(CliError::Usage(
            "invalid --url: expected an http or https URL".into(),
        ));
    }
    Ok(url)
}

/// Adds `query` (Slotflow's `token=...`) after whatever query the URL already has.
fn append_query(url: &mut Url, query: &str) {
    let joined = match url.query() {
        Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
        _ => query.to_owned(),
    };
    url.set_query(Some(&joined));
}

/// The body to send: the file's bytes, or the provider's sample for `--event`.
fn payload(provider: Provider, payload: &Payload) -> Result<Vec<u8>, CliError> {
    match (&payload.body_file, &payload.event) {
        (Some(path), _) => input::read_bytes(path),
        (None, Some(name)) => sample(provider, name).map(|body| body.as_bytes().to_vec()),
        // clap's group makes one of the two required.
        (None, None) => Err(CliError::Usage("give --body-file or --event".into())),
    }
}

fn sample(provider: Provider, name: &str) -> Result<&'static str, CliError> {
    samples::for_event(provider, name).ok_or_else(|| {
        let known: Vec<&str> = samples::event_names(provider).collect();
        CliError::Usage(format!(
            "no sample for {provider} event `{name}`; known events: {}",
            known.join(", ")
        ))
    })
}

async fn post(
    url: Url,
    headers: HeaderMap,
    body: Vec<u8>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        // A provider posts to the URL it was given; following a redirect would hide a
        // misconfigured route (and turn the POST into a GET).
        .redirect(Policy::none())
        .build()
        .map_err(CliError::Request)?;
    let response = client
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(CliError::Request)?;
    let status = response.status();
    writeln!(out, "{:?} {status}", response.version()).map_err(write_err)?;
    let answer = response.bytes().await.map_err(CliError::Request)?;
    out.write_all(&answer).map_err(write_err)?;
    if !answer.is_empty() && !answer.ends_with(b"\n") {
        writeln!(out).map_err(write_err)?;
    }
    if status.is_success() {
        Ok(())
    } else {
        Err(CliError::Status(status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_appended_to_an_existing_query() {
        let mut url = Url::parse("http://127.0.0.1:8080/webhooks/slotflow?tenant=7").unwrap();
        append_query(&mut url, "token=abc");
        assert_eq!(url.query(), Some("tenant=7&token=abc"));

        let mut url = Url::parse("http://127.0.0.1:8080/webhooks/slotflow").unwrap();
        append_query(&mut url, "token=abc");
        assert_eq!(url.query(), Some("token=abc"));
    }

    #[test]
    fn every_provider_has_samples() {
        for provider in Provider::ALL {
            for name in samples::event_names(provider) {
                assert!(sample(provider, name).is_ok(), "{provider} {name}");
            }
        }
    }

    #[test]
    fn unknown_event_lists_the_known_ones() {
        let err = sample(Provider::Calendly, "invitee.exploded").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("invitee.created"), "{text}");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn only_http_urls_are_accepted() {
        assert!(parse_url("ftp://example.com/x").is_err());
        assert!(parse_url("not a url").is_err());
        assert!(parse_url("https://example.com/webhooks/slatis").is_ok());
    }
}
