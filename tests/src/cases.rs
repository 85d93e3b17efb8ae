//! One list of HTTP cases that every adapter must answer the same way (the rejection table
//! of the project design). Each adapter's test turns a [`Case`] into a request for its own
//! framework, serves it with [`Case::verifier`] protecting a route whose handler answers
//! `200 ok:<event type>` for a typed event, and asserts [`Case::status`] and [`Case::reason`].

use bookhook_testkit::clock::now;
use bookhook_verify::{ByProvider, Provider, SignParams, Signer, Verifier};

/// The body limit the adapters are configured with in these cases (small, so that the
/// at-limit and over-limit cases stay cheap).
pub const LIMIT: usize = 4096;

/// Providers the table covers: one per scheme family (hex body, `t=,v1=`, URL token,
/// Standard Webhooks).
pub const PROVIDERS: [Provider; 4] = [
    Provider::Slatis,
    Provider::Bookable,
    Provider::Slotflow,
    Provider::StandardWebhooks,
];

/// A request an adapter must answer with `status`.
#[derive(Debug, Clone)]
pub struct Case {
    /// What the case checks, for failure messages.
    pub name: String,
    /// The route's provider.
    pub provider: Provider,
    /// The route's verifier (a misconfigured one for the 500 case).
    pub verifier: Verifier,
    /// The query string, without `?`.
    pub query: Option<String>,
    /// Request headers.
    pub headers: Vec<(String, String)>,
    /// Request body.
    pub body: Vec<u8>,
    /// Send the body in several chunks without a `content-length` (chunked transfer).
    pub chunked: bool,
    /// The status the adapter must answer with.
    pub status: u16,
    /// Text the response body must contain: the short reason for rejections, `ok:<event>`
    /// for accepted deliveries.
    pub reason: &'static str,
}

use bookhook_testkit::secrets::secret;
use bookhook_testkit::secrets::{
    HMAC_SECRET_EQUAL_TO_PUBLIC_KEY_A, HMAC_SECRET_EQUAL_TO_SEED_B, PUBLIC_KEY_A, SECRET_KEY_A,
    SECRET_KEY_B, SECRETS,
};
use bookhook_testkit::signing::sign;
use bookhook_testkit::signing::{SignedParts, sign_with};

/// A verifier for `provider` with [`secret`] and the system clock. A Standard Webhooks route
/// also holds [`PUBLIC_KEY_A`], as during a sender's move from `v1` to `v1a`: every `v1` row
/// must come out as with the HMAC secret alone, and the `v1a` rows run on the same route (so
/// a test may serve a provider's whole table with this one verifier).
pub fn verifier(provider: Provider) -> Verifier {
    PUBLIC_KEYS
        .get(provider)
        .iter()
        .fold(
            Verifier::builder(provider).secret(secret(provider)),
            |b, key| b.secret(key),
        )
        .build()
        .expect("test secrets are valid")
}

/// The public keys a route of each provider holds beside its secret: a Standard Webhooks
/// route also holds [`PUBLIC_KEY_A`].
const PUBLIC_KEYS: ByProvider<&[&str]> = ByProvider {
    slatis: &[],
    slotflow: &[],
    bookable: &[],
    schedulingkit: &[],
    calcom: &[],
    calendly: &[],
    standard: &[PUBLIC_KEY_A],
};

/// The booking-created body and event type name of each provider in [`PROVIDERS`] (`None`
/// for the others, which the table does not cover).
const BOOKING_CREATED: ByProvider<Option<(&str, &str)>> = ByProvider {
    slatis: Some((
        "BOOKING_CREATED",
        r#"{"event":"BOOKING_CREATED","timestamp":"2026-05-01T14:05:00.000Z","webhook_id":"wh_01abc","data":{"id":"bkg_01xyz","status":"SCHEDULED","start_time":"2026-05-01T14:00:00.000Z","attendee":{"name":"Jane Smith","email":"jane@example.com"}}}"#,
    )),
    bookable: Some((
        "booking_created",
        r#"{"id":"a1b2c3d4-e5f6-7890-abcd-ef1234567890","event_name":"booking_created","timestamp":"2026-05-15T08:00:12Z","context":{"booking":{"id":"f9955a9a-bb9e-450b-8e91-09a43f0e6cd6"},"bookable":{"id":"c3d4e5f6"},"user":{"id":"e992bfc1"}}}"#,
    )),
    slotflow: Some((
        "booking.confirmed",
        r#"{"event":"booking.confirmed","created_at":"2026-03-10T14:05:00.000Z","data":{"id":"b9e4f2a1-3c5d-4e6f-8a9b-0c1d2e3f4a5b","human_id":"f47ac10b","starts_at":"2026-03-10T14:00:00.000Z","ends_at":"2026-03-10T14:30:00.000Z","duration_minutes":30,"attendee_name":"Alex Rivera","attendee_email":"alex@startup.io","status":"confirmed","metadata":{"lead_id":"lead_8294"}}}"#,
    )),
    schedulingkit: None,
    calcom: None,
    calendly: None,
    standard: Some((
        "booking.created",
        r#"{"type":"booking.created","timestamp":"2026-05-01T14:05:00Z","data":{"id":"bk_std_1","attendee":{"name":"Ada Lovelace","email":"ada@example.com"}}}"#,
    )),
};

/// A booking-created body of `provider`, with its event type name.
///
/// # Panics
///
/// For a provider outside [`PROVIDERS`].
pub fn booking_created(provider: Provider) -> (&'static str, String) {
    let (event, body) = BOOKING_CREATED
        .get(provider)
        .unwrap_or_else(|| panic!("{provider} is not in the table"));
    (event, body.to_owned())
}

/// A body of `provider` whose event type no crate knows.
pub fn unknown_event(provider: Provider) -> (&'static str, String) {
    let (known, body) = booking_created(provider);
    let unknown = "ROOM_REPAINTED";
    (unknown, body.replacen(known, unknown, 1))
}

/// Pads a JSON object body with spaces before its closing brace to exactly `len` bytes.
pub fn pad_to(body: &str, len: usize) -> String {
    let mut padded = body.strip_suffix('}').unwrap_or(body).to_owned();
    while padded.len() + 1 < len {
        padded.push(' ');
    }
    padded.push('}');
    padded
}

/// A valid delivery of `provider` (its booking-created body padded with spaces to `len`
/// bytes), signed now, expected to be accepted.
pub fn padded(provider: Provider, len: usize, chunked: bool) -> Case {
    let (event, body) = booking_created(provider);
    let body = pad_to(&body, len).into_bytes();
    let (headers, query) = sign(provider, secret(provider), &body, now());
    Case {
        name: format!("{provider}: valid, {len} bytes, chunked: {chunked}"),
        provider,
        verifier: verifier(provider),
        query,
        headers,
        body,
        chunked,
        status: 200,
        reason: Box::leak(format!("ok:{event}").into_boxed_str()),
    }
}

/// The whole table for every provider in [`PROVIDERS`].
pub fn all() -> Vec<Case> {
    PROVIDERS.into_iter().flat_map(for_provider).collect()
}

/// The table for one provider.
pub fn for_provider(p: Provider) -> Vec<Case> {
    let (event, body) = booking_created(p);
    let mut cases = Vec::new();
    let mut case = |name: &str,
                    verifier: Verifier,
                    signed_as: Option<(&str, i64)>,
                    body: String,
                    status: u16,
                    reason: &'static str| {
        let (headers, query) = match signed_as {
            Some((secret, at)) => sign(p, secret, body.as_bytes(), at),
            None => (Vec::new(), None),
        };
        cases.push(Case {
            name: format!("{p}: {name}"),
            provider: p,
            verifier,
            query,
            headers,
            body: body.into_bytes(),
            chunked: false,
            status,
            reason,
        });
    };
    let s = secret(p);
    let t = now();
    let ok: &'static str = Box::leak(format!("ok:{event}").into_boxed_str());
    case("valid", verifier(p), Some((s, t)), body.clone(), 200, ok);
    let (unknown, unknown_body) = unknown_event(p);
    let ok_unknown: &'static str = Box::leak(format!("ok:{unknown}").into_boxed_str());
    case(
        "unknown event reaches the handler",
        verifier(p),
        Some((s, t)),
        unknown_body,
        200,
        ok_unknown,
    );
    let missing = if p == Provider::Slotflow {
        "missing token"
    } else {
        "missing"
    };
    case("unsigned", verifier(p), None, body.clone(), 401, missing);
    let wrong_secret = SECRETS.get(p).unrelated[0];
    let mismatch = if p == Provider::Slotflow {
        "token mismatch"
    } else {
        "signature mismatch"
    };
    case(
        "wrong secret",
        verifier(p),
        Some((wrong_secret, t)),
        body.clone(),
        401,
        mismatch,
    );
    case(
        "no secret configured",
        Verifier::unconfigured(p),
        Some((s, t)),
        body.clone(),
        500,
        "no secret configured",
    );
    case(
        "signed but not JSON",
        verifier(p),
        Some((s, t)),
        "not json".into(),
        400,
        "invalid JSON",
    );
    case(
        "body at the limit",
        verifier(p),
        Some((s, t)),
        pad_to(&body, LIMIT),
        200,
        ok,
    );
    case(
        "body one byte over the limit",
        verifier(p),
        Some((s, t)),
        pad_to(&body, LIMIT + 1),
        413,
        "payload too large",
    );
    // 30 s beyond the 300 s tolerance, so these cases hold however long a test waits between
    // building the table and serving it (the exact edge is tested in bookhook-verify, on a
    // fixed clock).
    if p.signs_timestamp() {
        case(
            "stale",
            verifier(p),
            Some((s, t - 330)),
            body.clone(),
            401,
            "timestamp too old",
        );
        case(
            "future",
            verifier(p),
            Some((s, t + 330)),
            body.clone(),
            401,
            "timestamp in the future",
        );
    }
    // A tampered body under a valid signature.
    let mut tampered = body.clone().into_bytes();
    let (headers, query) = sign(p, s, &tampered, t);
    tampered[5] ^= 1;
    let tamper_status = if p == Provider::Slotflow { 200 } else { 401 };
    cases.push(Case {
        name: format!("{p}: tampered body"),
        provider: p,
        verifier: verifier(p),
        query,
        headers: headers.clone(),
        body: tampered,
        chunked: false,
        // Slotflow is unsigned: a changed body with the right token passes verification, and
        // then fails JSON parsing only if the change broke the JSON. Byte 5 of `{"event"` is in
        // the key name, so the JSON stays valid but the envelope misses `event`: 400.
        status: if tamper_status == 200 { 400 } else { 401 },
        reason: if tamper_status == 200 {
            "invalid JSON"
        } else {
            "signature mismatch"
        },
    });
    // Malformed: an empty signature (or an empty token).
    let mut empty = sign(p, s, body.as_bytes(), t);
    let empty_signature = ByProvider {
        slatis: Some("sha256=".to_owned()),
        // Slotflow signs nothing: its empty value is the token's.
        slotflow: None,
        bookable: Some(format!("t={t},v1=")),
        schedulingkit: Some(String::new()),
        calcom: Some(String::new()),
        calendly: Some(format!("t={t},v1=")),
        standard: Some("v1,".to_owned()),
    };
    match empty_signature.get(p) {
        None => empty.1 = Some("token=".into()),
        Some(value) => {
            let sig = empty
                .0
                .iter_mut()
                .find(|(n, _)| n.to_ascii_lowercase().contains("signature"))
                .expect("signed schemes send a signature header");
            sig.1 = value.clone();
        }
    }
    cases.push(Case {
        name: format!("{p}: empty signature"),
        provider: p,
        verifier: verifier(p),
        query: empty.1,
        headers: empty.0,
        body: body.clone().into_bytes(),
        chunked: false,
        status: 400,
        reason: "malformed",
    });
    // The same valid delivery sent chunked.
    let (headers, query) = sign(p, s, body.as_bytes(), t);
    cases.push(Case {
        name: format!("{p}: valid, chunked"),
        provider: p,
        verifier: verifier(p),
        query,
        headers,
        body: body.clone().into_bytes(),
        chunked: true,
        status: 200,
        reason: ok,
    });
    if p == Provider::StandardWebhooks {
        cases.extend(v1a(&body, t, ok));
    }
    cases
}

/// A Standard Webhooks verifier with these secrets and public keys, in order.
fn standard_verifier(secrets: &[&str]) -> Verifier {
    secrets
        .iter()
        .fold(Verifier::builder(Provider::StandardWebhooks), |b, s| {
            b.secret(s)
        })
        .build()
        .expect("test keys are valid")
}

/// Standard Webhooks `v1a` (ed25519) rows: the route holds the HMAC secret and
/// [`PUBLIC_KEY_A`] ([`verifier`]) unless a row says otherwise; the rows that say otherwise
/// have the same status on that route too.
fn v1a(body: &str, t: i64, ok: &'static str) -> Vec<Case> {
    let p = Provider::StandardWebhooks;
    let hmac = secret(p);
    let mixed = || verifier(p);
    // Signed with every secret of the comma-separated `signers`, in order, into one header.
    let signed = |signers: &str, body: &[u8], at: i64| {
        sign_with(
            &Signer::from_list(p, signers).expect("test keys are valid"),
            body,
            &SignParams::at(at).id("msg_case_1"),
        )
    };
    let row = |name: &str,
               verifier: Verifier,
               (headers, query): SignedParts,
               body: Vec<u8>,
               status: u16,
               reason: &'static str| Case {
        name: format!("{p}: v1a: {name}"),
        provider: p,
        verifier,
        query,
        headers,
        body,
        chunked: false,
        status,
        reason,
    };
    let bytes = body.as_bytes();
    let mut tampered = bytes.to_vec();
    tampered[5] ^= 1;
    let mut malformed = signed(SECRET_KEY_A, bytes, t);
    for (name, value) in &mut malformed.0 {
        if name == "webhook-signature" {
            // A v1a entry that is not 64 bytes, beside a valid one: malformed, as for v1.
            value.push_str(" v1a,AAAA");
        }
    }
    vec![
        row(
            "valid",
            mixed(),
            signed(SECRET_KEY_A, bytes, t),
            bytes.to_vec(),
            200,
            ok,
        ),
        row(
            "valid, the public key is the only key",
            standard_verifier(&[PUBLIC_KEY_A]),
            signed(SECRET_KEY_A, bytes, t),
            bytes.to_vec(),
            200,
            ok,
        ),
        row(
            "tampered body",
            mixed(),
            signed(SECRET_KEY_A, bytes, t),
            tampered,
            401,
            "signature mismatch",
        ),
        row(
            "wrong key",
            mixed(),
            signed(SECRET_KEY_B, bytes, t),
            bytes.to_vec(),
            401,
            "signature mismatch",
        ),
        row(
            "stale",
            mixed(),
            signed(SECRET_KEY_A, bytes, t - 330),
            bytes.to_vec(),
            401,
            "timestamp too old",
        ),
        row(
            "malformed entry beside a valid one",
            mixed(),
            malformed,
            bytes.to_vec(),
            400,
            "malformed",
        ),
        row(
            "mixed header, the v1 entry matches",
            mixed(),
            signed(&format!("{hmac},{SECRET_KEY_B}"), bytes, t),
            bytes.to_vec(),
            200,
            ok,
        ),
        row(
            "mixed header, the v1a entry matches",
            mixed(),
            signed(
                &format!("{HMAC_SECRET_EQUAL_TO_SEED_B},{SECRET_KEY_A}"),
                bytes,
                t,
            ),
            bytes.to_vec(),
            200,
            ok,
        ),
        row(
            "mixed header, neither entry matches",
            mixed(),
            signed(
                &format!("{HMAC_SECRET_EQUAL_TO_SEED_B},{SECRET_KEY_B}"),
                bytes,
                t,
            ),
            bytes.to_vec(),
            401,
            "signature mismatch",
        ),
        // Key kinds crossed: the bytes of one kind of key used as the other kind.
        row(
            "key kinds crossed: v1 keyed with the route's public key",
            standard_verifier(&[PUBLIC_KEY_A]),
            signed(HMAC_SECRET_EQUAL_TO_PUBLIC_KEY_A, bytes, t),
            bytes.to_vec(),
            401,
            "signature mismatch",
        ),
        row(
            "key kinds crossed: v1a from a seed equal to the route's HMAC secret",
            standard_verifier(&[HMAC_SECRET_EQUAL_TO_SEED_B]),
            signed(SECRET_KEY_B, bytes, t),
            bytes.to_vec(),
            401,
            "signature mismatch",
        ),
    ]
}
