//! `bookhook listen`: the receiving twin of `send`, for local development (like
//! `stripe listen`, without a tunnel).
//!
//! The server is `bookhook-axum`'s `VerifyLayer` around one route, so a delivery is refused
//! exactly as a service using the adapter would refuse it (same rejection table, body limit
//! and timeout). An outer middleware prints one line per refusal from the cause the layer
//! puts in the response; the handler prints one line per verified delivery and forwards it.
//! Lines go through a channel to the main thread, which owns stdout.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use bookhook_axum::{VerifiedBody, VerifyLayer};
use bookhook_events::BookingEvent;
use bookhook_verify::{KeyKind, Provider, RejectionCause, Verified, Verifier};
use reqwest::Url;
use reqwest::redirect::Policy;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::mpsc;

use super::write_err;
use crate::cli::ListenArgs;
use crate::error::CliError;

/// How long a forward may take, connection to the last byte of the answer.
const FORWARD_TIMEOUT: Duration = Duration::from_secs(30);
/// The most of a forward's answer passed back (the service under development's reply).
const FORWARD_ANSWER_LIMIT: usize = 1024 * 1024;

/// What every request handler shares.
struct Listen {
    provider: Provider,
    forward: Option<Url>,
    client: reqwest::Client,
    print_body: bool,
    lines: mpsc::UnboundedSender<String>,
}

pub(super) fn run(args: &ListenArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let verifier = build_verifier(args)?;
    let forward = args.forward.as_deref().map(parse_forward).transpose()?;
    let path = match &args.path {
        Some(path) if path.starts_with('/') => path.clone(),
        Some(_) => return Err(CliError::Usage("--path must start with `/`".into())),
        None => format!("/webhooks/{}", args.provider),
    };
    let client = reqwest::Client::builder()
        .timeout(FORWARD_TIMEOUT)
        // Forward to exactly the URL given, as a provider would post to it.
        .redirect(Policy::none())
        .build()
        .map_err(CliError::Request)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|source| CliError::Usage(format!("cannot start the server: {source}")))?;
    let (lines, mut received) = mpsc::unbounded_channel();
    let state = Arc::new(Listen {
        provider: args.provider,
        forward,
        client,
        print_body: args.print_body,
        lines,
    });
    let app = Router::new()
        .route(&path, any(on_verified).layer(VerifyLayer::new(verifier)))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            print_refusals,
        ))
        .with_state(state);
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .map_err(|err| CliError::Usage(format!("cannot listen on {}: {err}", args.addr)))?;
        let local = listener.local_addr().map_err(write_err)?;
        announce(local, &path, args);
        let mut server = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(stop_signal())
                .await
        });
        // Print lines as they come until the server has stopped, then what is left.
        let served = loop {
            tokio::select! {
                Some(line) = received.recv() => print(out, &line)?,
                served = &mut server => break served,
            }
        };
        while let Ok(line) = received.try_recv() {
            print(out, &line)?;
        }
        match served {
            Ok(Ok(())) => {
                eprintln!("bookhook listen: stopped");
                Ok(())
            }
            Ok(Err(err)) => Err(CliError::Usage(format!("the server failed: {err}"))),
            Err(err) => Err(CliError::Usage(format!("the server failed: {err}"))),
        }
    })
}

fn print(out: &mut dyn Write, line: &str) -> Result<(), CliError> {
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(write_err)
}

/// The start-up line, on stderr (stdout holds only delivery lines).
fn announce(local: SocketAddr, path: &str, args: &ListenArgs) {
    match &args.forward {
        Some(_) => eprintln!(
            "bookhook listen: {} deliveries, verified ones forwarded, on http://{local}{path}",
            args.provider
        ),
        None => eprintln!(
            "bookhook listen: {} deliveries on http://{local}{path}",
            args.provider
        ),
    }
}

fn build_verifier(args: &ListenArgs) -> Result<Verifier, CliError> {
    let mut builder =
        Verifier::builder(args.provider).tolerance(Duration::from_secs(args.tolerance));
    for list in args.secrets.read_lists()? {
        builder = builder.secrets(&list);
    }
    builder.build().map_err(CliError::Secret)
}

fn parse_forward(text: &str) -> Result<Url, CliError> {
    // The parse error never repeats the URL, which may hold credentials.
    let url =
        Url::parse(text).map_err(|err| CliError::Usage(format!("invalid --forward: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(CliError::Usage(
            "invalid --forward: expected an http or https URL".into(),
        ));
    }
    Ok(url)
}

/// Ctrl-C, or SIGTERM on Unix.
async fn stop_signal() {
    let ctrl_c = async {
        // Without a handler there is nothing to wait for but the other signal.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}

fn now() -> String {
    let now = OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&Rfc3339)
        .unwrap_or_else(|_| now.unix_timestamp().to_string())
}

/// Prints the line of a request the layer refused (its response carries the cause). The
/// body of a refused request is never read: it is not trusted, so no event type is shown.
async fn print_refusals(
    State(listen): State<Arc<Listen>>,
    request: Request,
    next: Next,
) -> Response {
    let response = next.run(request).await;
    let Some(cause) = response.extensions().get::<RejectionCause>().copied() else {
        return response;
    };
    let (parts, body) = response.into_parts();
    // The layer's reasons are a few words.
    let reason = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let _ = listen.lines.send(format!(
        "{} {} - refused {} {} ({})",
        now(),
        listen.provider,
        parts.status.as_u16(),
        cause,
        String::from_utf8_lossy(&reason).trim()
    ));
    Response::from_parts(parts, Body::from(reason))
}

/// A verified delivery: print its line, then forward it (or answer 200).
async fn on_verified(
    State(listen): State<Arc<Listen>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    VerifiedBody {
        bytes, verified, ..
    }: VerifiedBody,
) -> Response {
    let event = event_type(listen.provider, &verified, &bytes);
    let secret = match verified.key_kind() {
        KeyKind::Ed25519 => format!("secret=#{} ed25519", verified.secret_index() + 1),
        _ => format!("secret=#{}", verified.secret_index() + 1),
    };
    let head = format!("{} {} {event} verified {secret}", now(), listen.provider);
    let (response, outcome) = match &listen.forward {
        None => (StatusCode::OK.into_response(), "200".to_owned()),
        Some(url) => forward(&listen, url, method, &uri, &headers, bytes.clone()).await,
    };
    let _ = listen.lines.send(format!("{head} -> {outcome}"));
    if listen.print_body {
        let _ = listen
            .lines
            .send(String::from_utf8_lossy(&bytes).into_owned());
    }
    response
}

/// The event type from the signed body; else the header the provider sent (SchedulingKit's,
/// unsigned, but the delivery is verified and the line is only informative); else `-`.
fn event_type(provider: Provider, verified: &Verified, body: &[u8]) -> String {
    match BookingEvent::parse(provider, body) {
        Ok(event) => event.event_type,
        Err(_) => verified.event_type().unwrap_or("-").to_owned(),
    }
}

/// Headers that describe the connection rather than the delivery (RFC 9110 §7.6.1, plus
/// `host`, which names the listener): not forwarded; the client sets its own.
fn forwarded(name: &HeaderName) -> bool {
    !matches!(
        name.as_str(),
        "host"
            | "connection"
            | "keep-alive"
            | "proxy-connection"
            | "te"
            | "trailer"
            | "transfer-encoding"
            | "upgrade"
            | "content-length"
    )
}

/// Sends the delivery on unchanged; answers with the forward's status and body, or 502.
async fn forward(
    listen: &Listen,
    url: &Url,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> (Response, String) {
    let mut url = url.clone();
    // The delivery's own query (Slotflow's token) goes along.
    if let Some(query) = uri.query() {
        let joined = match url.query() {
            Some(existing) if !existing.is_empty() => format!("{existing}&{query}"),
            _ => query.to_owned(),
        };
        url.set_query(Some(&joined));
    }
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        if forwarded(name) {
            out.append(name.clone(), value.clone());
        }
    }
    let sent = listen
        .client
        .request(method, url)
        .headers(out)
        .body(body)
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(err) => return bad_gateway(err),
    };
    let status = answer.status();
    let content_type = answer.headers().get(header::CONTENT_TYPE).cloned();
    let bytes = match answer.bytes().await {
        Ok(bytes) if bytes.len() <= FORWARD_ANSWER_LIMIT => bytes,
        Ok(_) => Bytes::new(),
        Err(err) => return bad_gateway(err),
    };
    let mut response = (status, bytes).into_response();
    if let Some(content_type) = content_type {
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    (response, format!("forwarded {}", status.as_u16()))
}

fn bad_gateway(err: reqwest::Error) -> (Response, String) {
    // Without the URL: it may hold credentials (a Slotflow token in the query).
    let err = err.without_url();
    let text = format!("forward failed: {err}");
    let response = (
        StatusCode::BAD_GATEWAY,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        text.clone(),
    )
        .into_response();
    (response, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_headers_are_not_forwarded_and_delivery_headers_are() {
        for name in ["host", "connection", "transfer-encoding", "content-length"] {
            assert!(!forwarded(&HeaderName::from_static(name)), "{name}");
        }
        for name in [
            "x-cal-signature-256",
            "webhook-id",
            "content-type",
            "user-agent",
        ] {
            assert!(forwarded(&HeaderName::from_static(name)), "{name}");
        }
    }

    #[test]
    fn forward_must_be_http() {
        assert!(parse_forward("ftp://example.com/").is_err());
        assert!(parse_forward("http://127.0.0.1:8080/webhooks/calcom").is_ok());
    }
}
