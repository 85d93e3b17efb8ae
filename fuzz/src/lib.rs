//! The harness shared by bookhook's fuzz targets.
//!
//! A fuzz input is a [`Delivery`]: headers and a query string assembled from [`Piece`]s, and a
//! body, optionally on top of the provider's real signed headers (so that mutations of a
//! valid delivery, not only of nothing, are explored). Pieces are arbitrary bytes, words of the schemes' grammar (`t=`, `v1=`, `v1,`,
//! `sha256=`, `token=`, separators), timestamps in tricky forms, and — so that the fuzzer can
//! reach the accepting paths at all — the *real* signature of the body under one of the
//! configured secrets (or an attacker's), possibly mangled. [`Delivery::check`] runs the
//! verifier and asserts the properties that must hold for every input:
//!
//! 1. it never panics (libFuzzer reports a panic as a crash);
//! 2. it never accepts without the secret: an accepted request carries, in its signature
//!    header(s), the exact tag that the matched configured secret produces over the signed
//!    string the verifier reports (timestamp, id, body) — or, for Slotflow, a `token=` pair
//!    equal to the matched configured token — and a timestamp within the tolerance;
//! 3. a refusal is 400 or 401 (never 500: every fuzzed verifier is configured), and neither
//!    its `Display` nor its `Debug` contains a secret or a real tag;
//! 4. `http::HeaderMap` and a raw list of header pairs give the same answer whenever the
//!    pairs are valid HTTP header values.

pub mod mixed;

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bookhook_testkit::clock::verifier_at;
use bookhook_testkit::secrets::SECRETS;
use bookhook_testkit::signing::{self, SIGNATURE_HEADER};
use bookhook_verify::{Provider, SignParams, Signer, Verified, Verifier, VerifyError};
use http::{HeaderMap, HeaderName, HeaderValue};

/// The verifiers' fixed "now".
pub const NOW: i64 = 1_780_000_000;

/// The default tolerance, in seconds.
const TOLERANCE: i64 = 300;

/// The longest value one header may be rendered to: above the verifier's 8 KiB cap and the
/// 64 KiB a hostile client might send, so both sides of the cap are reached, yet small enough
/// that one run stays fast.
const MAX_RENDERED: usize = 72 * 1024;

/// Every header name a scheme reads, lowercase.
pub const NAMES: [&str; 9] = [
    "x-slatis-signature",
    "x-samna-signature",
    "x-webhook-signature",
    "x-webhook-event",
    "x-webhook-delivery-id",
    "x-cal-signature-256",
    "calendly-webhook-signature",
    "webhook-id",
    "webhook-timestamp",
];

/// Standard Webhooks' signature header (kept apart from [`NAMES`] so the list above stays the
/// "metadata" of the other schemes too).
const STANDARD_SIGNATURE: &str = "webhook-signature";

/// Which secret a piece is signed with.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Key {
    /// The first configured secret.
    Current,
    /// The second configured secret (rotation).
    Old,
    /// A secret the verifier does not know.
    Attacker,
}

impl Key {
    const ALL: [Key; 3] = [Key::Current, Key::Old, Key::Attacker];

    fn index(self) -> usize {
        self as usize
    }
}

/// How a real tag is written out.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Encoding {
    /// Lowercase hex (Slatis, SchedulingKit, Cal.com, Bookable, Calendly).
    Hex,
    /// Uppercase hex.
    HexUpper,
    /// Padded standard base64 (Standard Webhooks).
    Base64,
    /// Whatever the provider itself sends.
    Native,
}

/// A change to a real tag (or token) before it is sent.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Mangle {
    /// Sent as is.
    None,
    /// Cut to this many characters.
    Truncate(u8),
    /// One bit of the encoded text flipped.
    FlipBit(u16),
    /// One more character.
    Append(u8),
}

/// A timestamp as text.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Time {
    /// The timestamp the real tags sign.
    Signed,
    /// The same with a leading zero (a different signed string).
    LeadingZero,
    /// The same, negated.
    Negative,
    /// The same with a `+`.
    Plus,
    /// `99999999999999999999`: does not fit in an i64.
    Overflow,
    /// `i64::MAX`.
    Max,
    /// `i64::MIN`.
    Min,
    /// Any i64.
    Any(i64),
}

/// A word of one of the schemes' grammars.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Word {
    /// `,`
    Comma,
    /// ` `
    Space,
    /// `\t`
    Tab,
    /// `=`
    Equals,
    /// `&`
    Ampersand,
    /// `t=`
    T,
    /// `v1=`
    V1,
    /// `v0=`
    V0,
    /// `v1,`
    V1Comma,
    /// `v1a,`
    V1a,
    /// `sha256=`
    Sha256,
    /// `token=`
    Token,
}

impl Word {
    fn text(self) -> &'static [u8] {
        match self {
            Word::Comma => b",",
            Word::Space => b" ",
            Word::Tab => b"\t",
            Word::Equals => b"=",
            Word::Ampersand => b"&",
            Word::T => b"t=",
            Word::V1 => b"v1=",
            Word::V0 => b"v0=",
            Word::V1Comma => b"v1,",
            Word::V1a => b"v1a,",
            Word::Sha256 => b"sha256=",
            Word::Token => b"token=",
        }
    }
}

/// One piece of a header value or query string.
#[derive(Debug, Clone, Arbitrary)]
pub enum Piece {
    /// Any bytes: non-ASCII, NUL, CR, LF included.
    Bytes(Vec<u8>),
    /// A word of the grammar.
    Word(Word),
    /// The real signature of this delivery (or Slotflow's token) under `key`.
    Tag {
        /// The secret.
        key: Key,
        /// How it is written.
        encoding: Encoding,
        /// What is changed before sending.
        mangle: Mangle,
    },
    /// A timestamp.
    Time(Time),
    /// The delivery id the real tags sign (Standard Webhooks).
    Id,
    /// `piece` written `times` times (thousands of entries, 64 KiB headers).
    Repeat {
        /// What to repeat.
        piece: Box<Piece>,
        /// How often.
        times: u16,
    },
}

/// A header name.
#[derive(Debug, Clone, Arbitrary)]
pub enum Name {
    /// One the schemes read, by index into [`NAMES`] and `webhook-signature`.
    Known(u8),
    /// The same, in upper case.
    Upper(u8),
    /// Any other name.
    Other(String),
}

impl Name {
    fn render(&self) -> String {
        let known = |i: u8| {
            let i = usize::from(i) % (NAMES.len() + 1);
            NAMES.get(i).copied().unwrap_or(STANDARD_SIGNATURE)
        };
        match self {
            Name::Known(i) => known(*i).to_owned(),
            Name::Upper(i) => known(*i).to_ascii_uppercase(),
            Name::Other(s) => s.clone(),
        }
    }
}

/// When the real tags are signed, relative to [`NOW`].
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Skew {
    /// Within the 300 s tolerance (`v % 601 - 300` seconds), so timestamped schemes reach
    /// the MAC comparison.
    Within(u16),
    /// Anywhere in ±9 hours.
    Any(i16),
}

/// What the request starts from before the fuzzed headers and query are applied.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum Base {
    /// Nothing: only the fuzzed headers and query.
    Nothing,
    /// The provider's real headers (and query) signed with `Key`, then the fuzzed headers
    /// appended (duplicates, extra entries) and the fuzzed query after the real one.
    Signed(Key),
    /// The provider's real headers signed with `Key`, each fuzzed header replacing the real
    /// ones of the same name, and the fuzzed query (if any) replacing the real one.
    Replaced(Key),
}

/// One fuzzed delivery.
#[derive(Debug, Clone, Arbitrary)]
pub struct Delivery {
    /// When the real tags are signed.
    pub skew: Skew,
    /// What the request starts from.
    pub base: Base,
    /// The `webhook-id` the real tags sign.
    pub id: String,
    /// The headers, in order; a name may repeat.
    pub headers: Vec<(Name, Vec<Piece>)>,
    /// The query string, if any.
    pub query: Option<Vec<Piece>>,
    /// The raw body.
    pub body: Vec<u8>,
}

/// Headers as an ordered list of raw pairs: lets any bytes reach the verifier, as a server
/// that does not validate header values would pass them.
pub use bookhook_testkit::headers::Pairs;

/// The secrets of `provider` (the test kit's): two configured (current, old) and the
/// attacker's.
pub fn secrets(provider: Provider) -> [&'static str; 3] {
    let s = SECRETS.get(provider);
    [s.current, s.previous, s.unrelated[0]]
}

/// The configured verifier of `provider` (current and old secret, clock at [`NOW`]), built
/// once per process.
pub fn verifier(provider: Provider) -> &'static Verifier {
    static VERIFIERS: OnceLock<Vec<Verifier>> = OnceLock::new();
    let all = VERIFIERS.get_or_init(|| {
        Provider::ALL
            .iter()
            .map(|&p| {
                let [current, old, _] = secrets(p);
                verifier_at(p, &[current, old], NOW)
            })
            .collect()
    });
    let i = Provider::ALL
        .iter()
        .position(|&p| p == provider)
        .expect("every provider is in ALL");
    &all[i]
}

/// The 32-byte tag `provider` sends for `body` signed at `unix` with `id` under `secret`, or
/// for Slotflow the token itself.
fn real_tag(provider: Provider, secret: &str, body: &[u8], unix: i64, id: &str) -> Vec<u8> {
    signing::real_tag(provider, secret, body, &SignParams::at(unix).id(id))
}

/// The header that carries `provider`'s signature (empty for Slotflow, which has none).
pub fn signature_header(provider: Provider) -> &'static str {
    SIGNATURE_HEADER.get(provider).unwrap_or("")
}

fn encode(provider: Provider, tag: &[u8], encoding: Encoding) -> Vec<u8> {
    if provider == Provider::Slotflow {
        return tag.to_vec();
    }
    match encoding {
        Encoding::Hex => hex::encode(tag).into_bytes(),
        Encoding::HexUpper => hex::encode_upper(tag).into_bytes(),
        Encoding::Base64 => STANDARD.encode(tag).into_bytes(),
        Encoding::Native if provider == Provider::StandardWebhooks => {
            STANDARD.encode(tag).into_bytes()
        }
        Encoding::Native => hex::encode(tag).into_bytes(),
    }
}

/// What pieces are rendered against.
struct Context<'a> {
    provider: Provider,
    unix: i64,
    id: &'a str,
    /// The real tag (or token) of each [`Key`].
    tags: [Vec<u8>; 3],
}

impl Context<'_> {
    fn render(&self, pieces: &[Piece]) -> Vec<u8> {
        let mut out = Vec::new();
        for piece in pieces {
            self.render_one(piece, &mut out);
            if out.len() > MAX_RENDERED {
                out.truncate(MAX_RENDERED);
                break;
            }
        }
        out
    }

    fn render_one(&self, piece: &Piece, out: &mut Vec<u8>) {
        match piece {
            Piece::Bytes(b) => out.extend_from_slice(b),
            Piece::Word(w) => out.extend_from_slice(w.text()),
            Piece::Tag {
                key,
                encoding,
                mangle,
            } => {
                let mut text = encode(self.provider, &self.tags[key.index()], *encoding);
                match *mangle {
                    Mangle::None => {}
                    Mangle::Truncate(n) => text.truncate(usize::from(n)),
                    Mangle::FlipBit(bit) => {
                        let bit = usize::from(bit) % (text.len() * 8).max(1);
                        if let Some(b) = text.get_mut(bit / 8) {
                            *b ^= 1 << (bit % 8);
                        }
                    }
                    Mangle::Append(c) => text.push(c),
                }
                out.extend_from_slice(&text);
            }
            Piece::Time(t) => {
                let text = match *t {
                    Time::Signed => self.unix.to_string(),
                    Time::LeadingZero => format!("0{}", self.unix),
                    Time::Negative => format!("-{}", self.unix),
                    Time::Plus => format!("+{}", self.unix),
                    Time::Overflow => "99999999999999999999".to_owned(),
                    Time::Max => i64::MAX.to_string(),
                    Time::Min => i64::MIN.to_string(),
                    Time::Any(n) => n.to_string(),
                };
                out.extend_from_slice(text.as_bytes());
            }
            Piece::Id => out.extend_from_slice(self.id.as_bytes()),
            Piece::Repeat { piece, times } => {
                // Rendered once and copied: nested repeats of nothing cost nothing, and the
                // work is bounded by the output's cap, not by the product of the counts.
                let mut once = Vec::new();
                self.render_one(piece, &mut once);
                if once.is_empty() {
                    return;
                }
                for _ in 0..*times {
                    out.extend_from_slice(&once);
                    if out.len() > MAX_RENDERED {
                        return;
                    }
                }
            }
        }
    }
}

impl Delivery {
    /// Runs `provider`'s configured verifier on this delivery and asserts the properties in
    /// the crate docs. Panics (a libFuzzer crash) when one does not hold; otherwise returns
    /// the verifier's answer (for `examples/corpus_stats.rs`).
    pub fn check(&self, provider: Provider) -> Result<Verified, VerifyError> {
        let [current, old, attacker] = secrets(provider);
        let unix = match self.skew {
            Skew::Within(v) => NOW + i64::from(v % 601) - 300,
            Skew::Any(v) => NOW + i64::from(v),
        };
        let tags =
            [current, old, attacker].map(|s| real_tag(provider, s, &self.body, unix, &self.id));
        let cx = Context {
            provider,
            unix,
            id: &self.id,
            tags,
        };
        let fuzzed: Vec<(String, Vec<u8>)> = self
            .headers
            .iter()
            .map(|(name, pieces)| (name.render(), cx.render(pieces)))
            .collect();
        let fuzzed_query = self
            .query
            .as_ref()
            .map(|pieces| String::from_utf8_lossy(&cx.render(pieces)).into_owned());
        let (pairs, query) = match self.base {
            Base::Nothing => (Pairs(fuzzed), fuzzed_query),
            Base::Signed(key) | Base::Replaced(key) => {
                let signed = Signer::new(provider, secrets(provider)[key.index()])
                    .expect("fuzz secrets are valid")
                    .sign(
                        &self.body,
                        &SignParams::at(unix)
                            .id(&self.id)
                            .event_type("booking.created"),
                    );
                let mut pairs: Vec<(String, Vec<u8>)> = signed
                    .headers()
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.clone().into_bytes()))
                    .collect();
                let real_query = signed.query().map(str::to_owned);
                if matches!(self.base, Base::Replaced(_)) {
                    for (name, _) in &fuzzed {
                        pairs.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                    }
                    (
                        Pairs(pairs.into_iter().chain(fuzzed).collect()),
                        fuzzed_query.or(real_query),
                    )
                } else {
                    let query = match (real_query, fuzzed_query) {
                        (Some(real), Some(more)) => Some(format!("{real}&{more}")),
                        (real, more) => real.or(more),
                    };
                    (Pairs(pairs.into_iter().chain(fuzzed).collect()), query)
                }
            }
        };
        let verifier = verifier(provider);
        let result = verifier.verify_with_query(query.as_deref(), &pairs, &self.body);

        // 4. The http::HeaderMap implementation agrees whenever the pairs fit in one.
        if let Some(map) = header_map(&pairs) {
            let via_map = verifier.verify_with_query(query.as_deref(), &map, &self.body);
            assert_eq!(result, via_map, "HeaderMap and raw pairs disagree");
        }

        match &result {
            Ok(verified) => accepted_only_with_the_secret(
                provider,
                verified,
                &pairs,
                query.as_deref(),
                &self.body,
            ),
            Err(err) => refusal_is_safe(provider, err, &cx),
        }
        result
    }
}

/// The pairs as an `http::HeaderMap`, or `None` if one of them is not a valid header.
fn header_map(pairs: &Pairs) -> Option<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in &pairs.0 {
        let name = HeaderName::from_bytes(name.as_bytes()).ok()?;
        let value = HeaderValue::from_bytes(value).ok()?;
        map.append(name, value);
    }
    Some(map)
}

/// Property 2.
fn accepted_only_with_the_secret(
    provider: Provider,
    verified: &Verified,
    pairs: &Pairs,
    query: Option<&str>,
    body: &[u8],
) {
    assert_eq!(verified.provider(), provider);
    let index = verified.secret_index();
    assert!(
        index < 2,
        "matched secret #{index}, only two are configured"
    );
    let secret = secrets(provider)[index];

    if provider == Provider::Slotflow {
        let token_pair = format!("token={secret}");
        let sent = query
            .unwrap_or("")
            .split('&')
            .any(|pair| pair == token_pair);
        assert!(
            sent,
            "Slotflow accepted without the configured token: {query:?}"
        );
        return;
    }

    let unix = match verified.timestamp() {
        Some(at) => {
            let unix = at.unix_timestamp();
            assert!(
                (unix - NOW).abs() <= TOLERANCE,
                "accepted a timestamp {unix} outside the tolerance"
            );
            unix
        }
        None => {
            assert!(
                !provider.signs_timestamp(),
                "{provider} accepted without a timestamp"
            );
            NOW
        }
    };
    let id = verified.delivery_id().unwrap_or("");
    let tag = real_tag(provider, secret, body, unix, id);
    let name = signature_header(provider);
    let sent: Vec<u8> = pairs
        .0
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.iter().copied().chain([b'\n']))
        .collect();
    let found = if provider == Provider::StandardWebhooks {
        contains(&sent, STANDARD.encode(&tag).as_bytes())
    } else {
        contains(&sent.to_ascii_lowercase(), hex::encode(&tag).as_bytes())
    };
    assert!(
        found,
        "{provider} accepted (secret #{index}, t={unix}, id={id:?}) without the real tag in {name}: {:?}",
        String::from_utf8_lossy(&sent)
    );
}

/// Property 3.
fn refusal_is_safe(provider: Provider, err: &VerifyError, cx: &Context<'_>) {
    let status = err.status().as_u16();
    assert!(
        status == 400 || status == 401,
        "{provider}: {err:?} answers {status}"
    );
    let texts = [err.to_string(), format!("{err:?}")];
    for text in &texts {
        for secret in secrets(provider) {
            assert!(
                !text.contains(secret),
                "{provider}: error text {text:?} contains a secret"
            );
        }
        if provider != Provider::Slotflow {
            for key in Key::ALL {
                let tag = &cx.tags[key.index()];
                for needle in [hex::encode(tag), STANDARD.encode(tag)] {
                    assert!(
                        !text.contains(&needle),
                        "{provider}: error text {text:?} contains a tag"
                    );
                }
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// The providers, by a fuzzed index.
pub fn provider(i: u8, among: &[Provider]) -> Provider {
    among[usize::from(i) % among.len()]
}
