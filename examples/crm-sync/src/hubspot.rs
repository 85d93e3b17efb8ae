//! The HubSpot client: one call, batch upsert of contacts by email.
//!
//! `POST {base}/crm/v3/objects/contacts/batch/upsert` with
//! `{"inputs":[{"idProperty":"email","id":"<email>","properties":{"email":..,"firstname":..,"lastname":..}}]}`
//! and `Authorization: Bearer <token>`. HubSpot creates the contact when no contact has
//! that email and updates it otherwise, so sending the same input twice has the effect of
//! sending it once.
//!
//! Answers are sorted into four [`Outcome`]s: delivered (2xx), retry later (429, 5xx,
//! 408, connection errors and timeouts, with `Retry-After` when given), the token refused
//! (401, 403: nothing about the rows, so the worker pauses) and refused for good (any
//! other status). HubSpot's error message is kept, truncated, with the token cut out should
//! HubSpot ever echo it.

use std::fmt;
use std::time::Duration;

use http::header::{AUTHORIZATION, HeaderValue, RETRY_AFTER};
use serde::Serialize;

/// The most inputs HubSpot accepts in one batch call.
pub const MAX_BATCH: usize = 100;

/// The longest `Retry-After` honoured; a larger value is clamped to it.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The HubSpot private-app token. `Debug` and `Display` never show it.
#[derive(Clone)]
pub struct HubSpotToken(String);

impl HubSpotToken {
    /// Wraps a token as read from `HUBSPOT_TOKEN`.
    pub fn new(token: impl Into<String>) -> Self {
        HubSpotToken(token.into())
    }
}

impl fmt::Debug for HubSpotToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HubSpotToken(REDACTED)")
    }
}

/// One contact to upsert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpsertInput {
    /// The email: the upsert key, and the `email` property.
    pub email: String,
    /// `firstname`, left out of the properties when `None` (HubSpot then keeps its value).
    pub firstname: Option<String>,
    /// `lastname`, left out when `None`.
    pub lastname: Option<String>,
}

/// What a batch call came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// HubSpot accepted the batch.
    Delivered {
        /// The 2xx status.
        status: u16,
    },
    /// Worth retrying: 429, 5xx, 408, or no answer (connection error, timeout).
    Retry {
        /// The status, if HubSpot answered.
        status: Option<u16>,
        /// The delay HubSpot asked for (`Retry-After` in seconds), clamped to
        /// [`MAX_RETRY_AFTER`].
        retry_after: Option<Duration>,
        /// A short reason for the logs and the inbox.
        reason: String,
    },
    /// 401 or 403: the token is expired, revoked or lacks a scope. Says nothing about the
    /// rows: the worker pauses and keeps them pending.
    Unauthorized {
        /// The status.
        status: u16,
        /// A short reason: the status and HubSpot's `message`, truncated.
        reason: String,
    },
    /// Refused for good (e.g. 400 validation): retrying cannot help.
    Rejected {
        /// The status.
        status: u16,
        /// A short reason: the status and HubSpot's `message`, truncated.
        reason: String,
    },
}

/// A HubSpot API client for the contacts batch upsert.
#[derive(Clone)]
pub struct HubSpot {
    http: reqwest::Client,
    endpoint: reqwest::Url,
    authorization: HeaderValue,
    token: HubSpotToken,
}

impl fmt::Debug for HubSpot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpot")
            .field("endpoint", &self.endpoint.as_str())
            .field("authorization", &"REDACTED")
            .finish()
    }
}

impl HubSpot {
    /// A client for `base_url` (e.g. `https://api.hubapi.com`) with a per-request
    /// `timeout` (connecting, sending and reading the answer).
    ///
    /// # Errors
    ///
    /// A message (never containing the token) if the URL is not http(s), the token is not
    /// a valid header value, or the TLS client cannot be built.
    pub fn new(base_url: &str, token: &HubSpotToken, timeout: Duration) -> Result<Self, String> {
        let base = reqwest::Url::parse(base_url.trim_end_matches('/'))
            .map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err("expected an http:// or https:// URL".to_owned());
        }
        let endpoint = reqwest::Url::parse(&format!(
            "{}/crm/v3/objects/contacts/batch/upsert",
            base.as_str().trim_end_matches('/')
        ))
        .map_err(|e| format!("not a URL: {e}"))?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", token.0))
            .map_err(|_| "the token holds characters not allowed in a header".to_owned())?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            // Never forward the bearer token to wherever a redirect points.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("crm-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(HubSpot {
            http,
            endpoint,
            authorization,
            token: token.clone(),
        })
    }

    /// The full URL batch calls go to.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Upserts `inputs` (at most [`MAX_BATCH`], no email twice) in one call.
    pub async fn upsert(&self, inputs: &[UpsertInput]) -> Outcome {
        let body = batch_body(inputs);
        let response = self
            .http
            .post(self.endpoint.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .json(&body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(err) => {
                return Outcome::Retry {
                    status: None,
                    retry_after: None,
                    reason: transport_reason(&err),
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(parse_retry_after);
        if response.status().is_success() {
            if status == 207 {
                // Multi-status: HubSpot took the batch but reports some inputs as errors.
                // The rows count as delivered (retrying cannot fix them); say so loudly.
                let text = response.text().await.unwrap_or_default();
                let errors = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("numErrors")?.as_u64());
                tracing::warn!(
                    inputs = inputs.len(),
                    errors,
                    "crm answered 207: some inputs were not applied"
                );
            }
            return Outcome::Delivered { status };
        }
        // The reason is informative only: a body that cannot be read does not change the
        // classification, which rests on the status.
        let text = response.text().await.unwrap_or_default();
        let reason = redact(error_reason(status, &text), &self.token);
        if status == 401 || status == 403 {
            Outcome::Unauthorized { status, reason }
        } else if status == 429 || status == 408 || response_is_server_error(status) {
            Outcome::Retry {
                status: Some(status),
                retry_after,
                reason,
            }
        } else {
            Outcome::Rejected { status, reason }
        }
    }
}

fn response_is_server_error(status: u16) -> bool {
    (500..600).contains(&status)
}

/// The JSON body HubSpot's batch upsert expects.
fn batch_body(inputs: &[UpsertInput]) -> Batch<'_> {
    Batch {
        inputs: inputs
            .iter()
            .map(|i| Input {
                id_property: "email",
                id: &i.email,
                properties: Properties {
                    email: &i.email,
                    firstname: i.firstname.as_deref(),
                    lastname: i.lastname.as_deref(),
                },
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct Batch<'a> {
    inputs: Vec<Input<'a>>,
}

#[derive(Serialize)]
struct Input<'a> {
    #[serde(rename = "idProperty")]
    id_property: &'static str,
    id: &'a str,
    properties: Properties<'a>,
}

#[derive(Serialize)]
struct Properties<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    firstname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lastname: Option<&'a str>,
}

/// `Retry-After` in delta-seconds (what HubSpot sends); an HTTP-date is ignored, and the
/// caller falls back to its own backoff.
fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let secs: u64 = value.to_str().ok()?.trim().parse().ok()?;
    Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// `HTTP 400: <HubSpot's message>`, at most 200 characters.
fn error_reason(status: u16, body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("message")?.as_str().map(str::to_owned));
    let reason = match message {
        Some(m) => format!("HTTP {status}: {m}"),
        None => format!("HTTP {status}"),
    };
    truncate(reason, 200)
}

/// `reason` with every occurrence of the token replaced.
fn redact(reason: String, token: &HubSpotToken) -> String {
    if token.0.is_empty() || !reason.contains(&token.0) {
        return reason;
    }
    reason.replace(&token.0, "[token]")
}

fn transport_reason(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    // reqwest's message names the URL (no token) and the cause.
    truncate(format!("{what}: {err}"), 200)
}

fn truncate(mut s: String, max_chars: usize) -> String {
    if let Some((cut, _)) = s.char_indices().nth(max_chars) {
        s.truncate(cut);
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_hubspots_documented_shape_and_omits_missing_names() {
        let inputs = [
            UpsertInput {
                email: "jane@example.com".into(),
                firstname: Some("Jane".into()),
                lastname: Some("Smith".into()),
            },
            UpsertInput {
                email: "cher@example.com".into(),
                firstname: Some("Cher".into()),
                lastname: None,
            },
        ];
        assert_eq!(
            serde_json::to_value(batch_body(&inputs)).unwrap(),
            serde_json::json!({"inputs": [
                {"idProperty": "email", "id": "jane@example.com",
                 "properties": {"email": "jane@example.com", "firstname": "Jane", "lastname": "Smith"}},
                {"idProperty": "email", "id": "cher@example.com",
                 "properties": {"email": "cher@example.com", "firstname": "Cher"}}
            ]})
        );
    }

    #[test]
    fn retry_after_seconds_are_read_and_clamped_dates_ignored() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(parse_retry_after(&v("1")), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(&v(" 30 ")), Some(Duration::from_secs(30)));
        assert_eq!(parse_retry_after(&v("99999999")), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after(&v("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(parse_retry_after(&v("-1")), None);
    }

    #[test]
    fn error_reason_uses_hubspots_message_and_is_short() {
        let body = r#"{"status":"error","message":"Property values were not valid","category":"VALIDATION_ERROR"}"#;
        assert_eq!(
            error_reason(400, body),
            "HTTP 400: Property values were not valid"
        );
        assert_eq!(error_reason(502, "<html>bad gateway</html>"), "HTTP 502");
        let long = format!(r#"{{"message":"{}"}}"#, "é".repeat(500));
        assert_eq!(error_reason(400, &long).chars().count(), 201);
    }

    #[test]
    fn a_reason_never_carries_the_token() {
        let token = HubSpotToken::new("pat-na1-secret-value");
        let reason = error_reason(401, r#"{"message":"token pat-na1-secret-value expired"}"#);
        assert_eq!(redact(reason, &token), "HTTP 401: token [token] expired");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = HubSpotToken::new("pat-na1-secret-value");
        assert!(!format!("{token:?}").contains("secret"));
        let client = HubSpot::new("http://127.0.0.1:9", &token, Duration::from_secs(1)).unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("secret"), "{dbg}");
        assert_eq!(
            client.endpoint(),
            "http://127.0.0.1:9/crm/v3/objects/contacts/batch/upsert"
        );
    }

    #[test]
    fn base_url_must_be_http() {
        let token = HubSpotToken::new("t");
        assert!(HubSpot::new("ftp://x", &token, Duration::from_secs(1)).is_err());
        assert!(HubSpot::new("not a url", &token, Duration::from_secs(1)).is_err());
        let c = HubSpot::new("https://api.hubapi.com/", &token, Duration::from_secs(1)).unwrap();
        assert_eq!(
            c.endpoint(),
            "https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert"
        );
    }
}
