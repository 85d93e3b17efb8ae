//! Who may use the admin page: the holder of `CRM_SYNC_ADMIN_TOKEN`.
//!
//! - **Bearer**: `Authorization: Bearer <token>` on any admin route (the only way into
//!   `/admin/api/…`). A browser never sends this header by itself, so such requests need no
//!   CSRF defence.
//! - **Session cookie**: the login form posts the token; on a match the service creates a
//!   random 256-bit session id and sets `crm_sync_admin=<id>; HttpOnly; SameSite=Strict;
//!   Path=/admin` (plus `Secure` when the request came over https, as told by
//!   `X-Forwarded-Proto: https` from a TLS-terminating proxy: the service itself speaks
//!   plain HTTP). The cookie never holds the token. Sessions live in memory for 12 hours
//!   (a restart logs everyone out); at most [`MAX_SESSIONS`] at once, the oldest dropped.
//! - **CSRF**: a cookie-authenticated POST must carry the session's own random CSRF token
//!   in a hidden form field (compared in constant time), and, when the browser sends an
//!   `Origin`, it must be this host. `SameSite=Strict` already keeps the cookie off
//!   cross-site requests; the token covers browsers or proxies that do not honour it.
//!
//! The token is compared in constant time over SHA-256 digests (fixed length: `subtle`'s
//! slice comparison returns early on a length mismatch). Session ids are looked up by their
//! SHA-256, so lookup timing says nothing about a valid id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::AdminToken;

/// The session cookie's name.
pub const COOKIE: &str = "crm_sync_admin";
/// How long a session lasts.
pub const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// The most sessions kept at once.
pub const MAX_SESSIONS: usize = 1024;

/// A logged-in browser.
#[derive(Debug, Clone)]
pub struct Session {
    /// The CSRF token its forms carry.
    pub csrf: String,
    expires: Instant,
    created: Instant,
}

/// How a request proved it holds the token.
#[derive(Debug, Clone)]
pub enum Access {
    /// `Authorization: Bearer`.
    Bearer,
    /// The session cookie.
    Cookie(Session),
}

/// The token's digest and the live sessions. `Debug` shows neither.
pub struct Admin {
    token: [u8; 32],
    sessions: Mutex<HashMap<[u8; 32], Session>>,
}

impl std::fmt::Debug for Admin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Admin(REDACTED)")
    }
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// 32 random bytes as hex, or `None` if the OS has no randomness to give.
fn random_hex() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(hex::encode(bytes))
}

impl Admin {
    /// Keeps only the digest of `token`.
    pub fn new(token: &AdminToken) -> Self {
        Admin {
            token: digest(token.expose().as_bytes()),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `candidate` is the token, in constant time.
    pub fn is_token(&self, candidate: &str) -> bool {
        digest(candidate.trim().as_bytes())
            .ct_eq(&self.token)
            .into()
    }

    /// A new session: `(cookie value, session)`, or `None` without randomness.
    pub fn login(&self) -> Option<(String, Session)> {
        let id = random_hex()?;
        let now = Instant::now();
        let session = Session {
            csrf: random_hex()?,
            expires: now + SESSION_LIFETIME,
            created: now,
        };
        let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(k, _)| *k)
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(digest(id.as_bytes()), session.clone());
        Some((id, session))
    }

    /// Ends the session of `headers`' cookie, if any.
    pub fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = cookie(headers) {
            let mut sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            sessions.remove(&digest(id.as_bytes()));
        }
    }

    /// How the request is authorized, if it is. `bearer_only` for the JSON API.
    pub fn access(&self, headers: &HeaderMap, bearer_only: bool) -> Option<Access> {
        if let Some(auth) = headers.get(header::AUTHORIZATION) {
            let token = auth.to_str().ok()?.strip_prefix("Bearer ")?;
            return self.is_token(token).then_some(Access::Bearer);
        }
        if bearer_only {
            return None;
        }
        let id = cookie(headers)?;
        let sessions = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
        let session = sessions.get(&digest(id.as_bytes()))?;
        (session.expires > Instant::now()).then(|| Access::Cookie(session.clone()))
    }
}

/// Whether a state-changing request may go ahead: bearer requests always; cookie requests
/// with the session's CSRF token and, if an `Origin` is sent, this host's.
pub fn csrf_ok(access: &Access, headers: &HeaderMap, form_csrf: Option<&str>) -> bool {
    let Access::Cookie(session) = access else {
        return true;
    };
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let origin = origin.to_str().ok();
        let same = match (origin, host) {
            (Some(o), Some(h)) => {
                o.strip_prefix("http://")
                    .or_else(|| o.strip_prefix("https://"))
                    == Some(h)
            }
            _ => false,
        };
        if !same {
            return false;
        }
    }
    let Some(given) = form_csrf else {
        return false;
    };
    digest(given.as_bytes())
        .ct_eq(&digest(session.csrf.as_bytes()))
        .into()
}

/// The session id in the `Cookie` header(s), if any.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == COOKIE).then(|| value.to_owned())
        })
}

/// The `Set-Cookie` value for a new session; `Secure` when the request came over https.
pub fn set_cookie(id: &str, headers: &HeaderMap) -> String {
    let secure = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age={}{}",
        SESSION_LIFETIME.as_secs(),
        if secure { "; Secure" } else { "" }
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn admin() -> Admin {
        Admin::new(&crate::config::test_admin_token(
            "correct-horse-battery-staple",
        ))
    }

    #[test]
    fn the_token_opens_bearer_and_cookie_access_and_nothing_else_does() {
        let a = admin();
        assert!(a.is_token("correct-horse-battery-staple"));
        assert!(!a.is_token("correct-horse-battery-stapl"));
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer wrong"),
        );
        assert!(a.access(&h, false).is_none());
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer correct-horse-battery-staple"),
        );
        assert!(matches!(a.access(&h, true), Some(Access::Bearer)));

        let (id, session) = a.login().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("x=1; {COOKIE}={id}")).unwrap(),
        );
        let access = a.access(&h, false).unwrap();
        assert!(a.access(&h, true).is_none(), "the API takes no cookie");
        assert!(csrf_ok(&access, &h, Some(&session.csrf)));
        assert!(!csrf_ok(&access, &h, Some("forged")));
        assert!(!csrf_ok(&access, &h, None));
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://evil.example"),
        );
        assert!(!csrf_ok(&access, &h, Some(&session.csrf)));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(csrf_ok(&access, &h, Some(&session.csrf)));
        a.logout(&h);
        assert!(a.access(&h, false).is_none());
        assert!(!format!("{a:?}").contains("correct"));
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_behind_https() {
        let mut h = HeaderMap::new();
        let c = set_cookie("abc", &h);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(set_cookie("abc", &h).ends_with("; Secure"));
    }
}
