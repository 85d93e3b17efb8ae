#!/usr/bin/env bash
# Regenerates deliveries.json and standard_v1a.json with openssl, a route independent of
# bookhook: every signature in them was computed by the `command` recorded next to it. Run from
# this folder. The v1a key pairs are generated afresh on each run (`openssl genpkey`), so
# standard_v1a.json changes every time; deliveries.json does not.
set -euo pipefail

hmac_hex() { # secret, message on stdin -> hex
  openssl dgst -sha256 -hmac "$1" -r | cut -d' ' -f1
}
hmac_hexkey_b64() { # hex key, message on stdin -> base64
  openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -binary | openssl base64 -A
}

SLATIS_BODY='{
  "event": "BOOKING_CREATED",
  "timestamp": "2026-05-01T14:05:00.000Z",
  "webhook_id": "wh_01abc",
  "data": {
    "id": "bkg_01xyz",
    "status": "SCHEDULED",
    "start_time": "2026-05-01T14:00:00.000Z",
    "attendee": { "name": "Jane Smith", "email": "jane@example.com" }
  }
}'
SLATIS_SECRET='whsec_slatis_vector_secret_0001'

BOOKABLE_BODY='{
  "id": "a1b2c3d4-e5f6-7890-abcd-ef1234567890",
  "event_name": "booking_created",
  "timestamp": "2026-05-15T08:00:12Z",
  "context": {
    "booking": { "id": "f9955a9a-bb9e-450b-8e91-09a43f0e6cd6" },
    "bookable": { "id": "c3d4e5f6-a7b8-9012-cdef-345678901234" },
    "user": { "id": "e992bfc1-0336-42c5-bd0a-4f4804a9fd24" }
  }
}'
BOOKABLE_SECRET='wh_sec_2f1d3a8b6c4e0f9a7d2b1c8e5f3a9b6d2c7e1f4a8b3d6c9e0f5a7b1d8e2c4f6'
BOOKABLE_T=1747299612

SK_BODY='{ "event": "booking.created", "timestamp": "2025-01-15T10:30:00Z", "data": { "id": 123, "event_type": "30-min-consultation", "date": "2025-01-20", "time": "14:00", "duration": 30, "invitee": { "name": "Jane Smith", "email": "jane@example.com" }, "location": "Zoom", "meeting_link": "https://zoom.us/j/..." } }'
SK_SECRET='sk_whsec_vector_0002'

CALCOM_BODY='{"triggerEvent":"BOOKING_CREATED","createdAt":"2026-05-01T14:05:00.000Z","payload":{"uid":"bk_cal_1","title":"30 min","startTime":"2026-05-02T09:00:00Z","endTime":"2026-05-02T09:30:00Z","organizer":{"name":"Host Person","email":"host@example.com"},"attendees":[{"name":"Ada Lovelace","email":"ada@example.com","timeZone":"Europe/London"}]}}'
CALCOM_SECRET='calcom-vector-secret-0003'

CALENDLY_BODY='{"event":"invitee.created","created_at":"2026-05-01T14:05:00.000000Z","created_by":"https://api.calendly.com/users/AAAA","payload":{"email":"grace@example.com","name":"Grace Hopper","uri":"https://api.calendly.com/scheduled_events/EV1/invitees/INV1","scheduled_event":{"uri":"https://api.calendly.com/scheduled_events/EV1","name":"Intro call","start_time":"2026-05-03T15:00:00.000000Z","end_time":"2026-05-03T15:30:00.000000Z"}}}'
CALENDLY_SECRET='calendly-signing-key-0004'
CALENDLY_T=1777644300

# The published Standard Webhooks vector (standard-webhooks spec test suite).
STD_BODY='{"test": 2432232314}'
STD_SECRET='whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
STD_ID='msg_p5jXN8AQM9LWM0D4loKWxJek'
STD_T=1614265330
STD_KEY_HEX=$(printf '%s' "${STD_SECRET#whsec_}" | openssl base64 -d -A | od -An -tx1 | tr -d ' \n')

slatis=$(printf '%s' "$SLATIS_BODY" | hmac_hex "$SLATIS_SECRET")
bookable=$(printf '%s.%s' "$BOOKABLE_T" "$BOOKABLE_BODY" | hmac_hex "$BOOKABLE_SECRET")
sk=$(printf '%s' "$SK_BODY" | hmac_hex "$SK_SECRET")
calcom=$(printf '%s' "$CALCOM_BODY" | hmac_hex "$CALCOM_SECRET")
calendly=$(printf '%s.%s' "$CALENDLY_T" "$CALENDLY_BODY" | hmac_hex "$CALENDLY_SECRET")
std=$(printf '%s.%s.%s' "$STD_ID" "$STD_T" "$STD_BODY" | hmac_hexkey_b64 "$STD_KEY_HEX")

jq -n \
  --arg slatis_body "$SLATIS_BODY" --arg slatis_secret "$SLATIS_SECRET" --arg slatis "$slatis" \
  --arg bookable_body "$BOOKABLE_BODY" --arg bookable_secret "$BOOKABLE_SECRET" --arg bookable "$bookable" --argjson bookable_t "$BOOKABLE_T" \
  --arg sk_body "$SK_BODY" --arg sk_secret "$SK_SECRET" --arg sk "$sk" \
  --arg calcom_body "$CALCOM_BODY" --arg calcom_secret "$CALCOM_SECRET" --arg calcom "$calcom" \
  --arg calendly_body "$CALENDLY_BODY" --arg calendly_secret "$CALENDLY_SECRET" --arg calendly "$calendly" --argjson calendly_t "$CALENDLY_T" \
  --arg std_body "$STD_BODY" --arg std_secret "$STD_SECRET" --arg std "$std" --arg std_id "$STD_ID" --argjson std_t "$STD_T" \
'{
  comment: "Valid deliveries for every scheme. Signatures computed with openssl by tests/vectors/generate.sh, never by bookhook; `command` shows how. `now` is the instant to verify at.",
  deliveries: [
    { name: "slatis seed payload", provider: "slatis", secret: $slatis_secret, body: $slatis_body, now: null,
      headers: [["x-slatis-signature", ("sha256=" + $slatis)]],
      command: "printf %s \"$body\" | openssl dgst -sha256 -hmac \"$secret\"" },
    { name: "bookable seed envelope with the seed secret", provider: "bookable", secret: $bookable_secret, body: $bookable_body, now: ($bookable_t + 60),
      headers: [["X-Samna-Signature", ("t=" + ($bookable_t|tostring) + ",v1=" + $bookable)]],
      command: "printf %s.%s \"$t\" \"$body\" | openssl dgst -sha256 -hmac \"$secret\"" },
    { name: "schedulingkit seed payload", provider: "schedulingkit", secret: $sk_secret, body: $sk_body, now: null,
      headers: [["X-Webhook-Signature", $sk], ["X-Webhook-Event", "booking.created"], ["X-Webhook-Delivery-Id", "dlv_0001"]],
      expect_delivery_id: "dlv_0001", expect_event_type: "booking.created",
      command: "printf %s \"$body\" | openssl dgst -sha256 -hmac \"$secret\"" },
    { name: "schedulingkit with sha256= prefix", provider: "schedulingkit", secret: $sk_secret, body: $sk_body, now: null,
      headers: [["x-webhook-signature", ("sha256=" + $sk)]],
      command: "printf %s \"$body\" | openssl dgst -sha256 -hmac \"$secret\"" },
    { name: "cal.com booking created", provider: "calcom", secret: $calcom_secret, body: $calcom_body, now: null,
      headers: [["X-Cal-Signature-256", $calcom]],
      command: "printf %s \"$body\" | openssl dgst -sha256 -hmac \"$secret\"" },
    { name: "calendly invitee created", provider: "calendly", secret: $calendly_secret, body: $calendly_body, now: ($calendly_t - 30),
      headers: [["Calendly-Webhook-Signature", ("t=" + ($calendly_t|tostring) + ",v1=" + $calendly)]],
      command: "printf %s.%s \"$t\" \"$body\" | openssl dgst -sha256 -hmac \"$secret\"" },
    { name: "standard webhooks published vector", provider: "standard", secret: $std_secret, body: $std_body, now: $std_t,
      headers: [["webhook-id", $std_id], ["webhook-timestamp", ($std_t|tostring)], ["webhook-signature", ("v1," + $std)]],
      expect_delivery_id: $std_id,
      published_signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
      command: "printf %s.%s.%s \"$id\" \"$t\" \"$body\" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(base64 -d <<< ${secret#whsec_} | xxd -p -c0) -binary | base64" },
    { name: "slotflow token", provider: "slotflow", secret: "sf_token_0123456789abcdef", body: "{\"event\":\"booking.confirmed\",\"data\":{\"id\":\"b9e4\"}}", now: null,
      query: "token=sf_token_0123456789abcdef", headers: [],
      command: "none: Slotflow is unsigned, the token is compared" }
  ]
}' > deliveries.json
echo "wrote deliveries.json"

# --- Standard Webhooks v1a (ed25519) -------------------------------------------------------
# Keys from `openssl genpkey -algorithm ed25519`, signatures from `openssl pkeyutl -sign
# -rawin` (pure Ed25519 over the raw `<id>.<t>.<body>`), each checked with `openssl pkeyutl
# -verify` before it is written. whsk_ = base64(32-byte seed ‖ 32-byte public key), whpk_ =
# base64(public key), as the Standard Webhooks reference server encodes them.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# An Ed25519 PKCS#8 DER is a fixed 16-byte header and the 32-byte seed; the SubjectPublicKeyInfo
# DER a fixed 12-byte header and the 32-byte public key.
PKCS8_PREFIX_HEX=302e020100300506032b657004220420
seed_b64() { openssl pkey -in "$1" -outform DER | tail -c 32 | openssl base64 -A; }
pub_b64() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | openssl base64 -A; }
keypair_b64() { { openssl pkey -in "$1" -outform DER | tail -c 32; openssl pkey -in "$1" -pubout -outform DER | tail -c 32; } | openssl base64 -A; }
pem_from_whsk() { # whsk_ key, out.pem: the seed back into a PEM openssl can sign with
  { printf '%s' "$PKCS8_PREFIX_HEX" | xxd -r -p; printf '%s' "${1#whsk_}" | openssl base64 -d -A | head -c 32; } \
    | openssl pkey -inform DER -out "$2"
}
ed25519_sign() { # key.pem, id, t, body -> base64 signature, verified by openssl
  printf '%s.%s.%s' "$2" "$3" "$4" > "$tmp/msg"
  openssl pkeyutl -sign -inkey "$1" -rawin -in "$tmp/msg" -out "$tmp/sig"
  openssl pkey -in "$1" -pubout -out "$tmp/pub.pem"
  openssl pkeyutl -verify -pubin -inkey "$tmp/pub.pem" -rawin -in "$tmp/msg" -sigfile "$tmp/sig" > /dev/null
  openssl base64 -A -in "$tmp/sig"
}

# The published vector (Standard Webhooks reference server's tests), re-signed by openssl from
# the published secret key: ed25519 is deterministic, so openssl must print the same signature.
PUB_SK='whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=='
PUB_PK='whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4='
PUB_SIG='hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=='
pem_from_whsk "$PUB_SK" "$tmp/published.pem"
test "whpk_$(pub_b64 "$tmp/published.pem")" = "$PUB_PK"
published=$(ed25519_sign "$tmp/published.pem" "$STD_ID" "$STD_T" "$STD_BODY")
test "$published" = "$PUB_SIG"

openssl genpkey -algorithm ed25519 -out "$tmp/a.pem"
openssl genpkey -algorithm ed25519 -out "$tmp/b.pem"
A_SK="whsk_$(keypair_b64 "$tmp/a.pem")"; A_PK="whpk_$(pub_b64 "$tmp/a.pem")"
B_SK="whsk_$(keypair_b64 "$tmp/b.pem")"; B_PK="whpk_$(pub_b64 "$tmp/b.pem")"

V_BODY='{"type":"booking.created","timestamp":"2026-05-01T14:05:00Z","data":{"attendee":{"name":"Jane Smith","email":"jane@example.com"},"start_time":"2026-05-02T09:00:00Z"}}'
V_ID='msg_2xQ7ZbN3kHc8sVd1pLmW4tRy9aE'
V_T=1777644300
a_sig=$(ed25519_sign "$tmp/a.pem" "$V_ID" "$V_T" "$V_BODY")
b_sig=$(ed25519_sign "$tmp/b.pem" "$V_ID" "$V_T" "$V_BODY")
a_empty=$(ed25519_sign "$tmp/a.pem" "msg_empty" "$V_T" "")
# The same delivery signed both ways, as a sender rotating from whsec_ to whsk_ sends it.
v_hmac=$(printf '%s.%s.%s' "$V_ID" "$V_T" "$V_BODY" | hmac_hexkey_b64 "$STD_KEY_HEX")

SIGN_CMD='printf %s.%s.%s "$id" "$t" "$body" > msg && openssl pkeyutl -sign -inkey key.pem -rawin -in msg | base64 -w0'
KEY_CMD='openssl genpkey -algorithm ed25519 -out key.pem; secret_key=whsk_$({ openssl pkey -in key.pem -outform DER | tail -c 32; openssl pkey -in key.pem -pubout -outform DER | tail -c 32; } | base64 -w0); public_key=whpk_$(openssl pkey -in key.pem -pubout -outform DER | tail -c 32 | base64 -w0)'
jq -n \
  --arg pub_sk "$PUB_SK" --arg pub_pk "$PUB_PK" --arg published "$published" \
  --arg std_body "$STD_BODY" --arg std_id "$STD_ID" --argjson std_t "$STD_T" --arg std_secret "$STD_SECRET" \
  --arg a_sk "$A_SK" --arg a_pk "$A_PK" --arg b_sk "$B_SK" --arg b_pk "$B_PK" \
  --arg a_sig "$a_sig" --arg b_sig "$b_sig" --arg a_empty "$a_empty" --arg v_hmac "$v_hmac" \
  --arg v_body "$V_BODY" --arg v_id "$V_ID" --argjson v_t "$V_T" \
  --arg sign_cmd "$SIGN_CMD" --arg key_cmd "$KEY_CMD" \
'{
  comment: "Standard Webhooks v1a (ed25519) deliveries. Keys from `openssl genpkey -algorithm ed25519`, signatures from `openssl pkeyutl -sign -rawin`, each verified by `openssl pkeyutl -verify` when written: tests/vectors/generate.sh, never bookhook. `hmac_secret` (where set) signed the `v1,` entry with `openssl dgst -sha256 -mac HMAC`. Verify at `timestamp`.",
  key_command: $key_cmd,
  vectors: [
    { name: "published vector, re-signed by openssl from the published secret key", secret_key: $pub_sk, public_key: $pub_pk,
      id: $std_id, timestamp: $std_t, body: $std_body, signature: ("v1a," + $published),
      published_signature: "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
      command: ("seed into PKCS#8: (xxd -r -p <<< 302e020100300506032b657004220420; base64 -d <<< ${secret_key#whsk_} | head -c 32) | openssl pkey -inform DER -out key.pem; " + $sign_cmd) },
    { name: "openssl key A, booking delivery", secret_key: $a_sk, public_key: $a_pk,
      id: $v_id, timestamp: $v_t, body: $v_body, signature: ("v1a," + $a_sig), command: $sign_cmd },
    { name: "openssl key B, same delivery", secret_key: $b_sk, public_key: $b_pk,
      id: $v_id, timestamp: $v_t, body: $v_body, signature: ("v1a," + $b_sig), command: $sign_cmd },
    { name: "openssl key A, empty body", secret_key: $a_sk, public_key: $a_pk,
      id: "msg_empty", timestamp: $v_t, body: "", signature: ("v1a," + $a_empty), command: $sign_cmd },
    { name: "rotation: v1 (HMAC) and v1a (key A) entries in one header", secret_key: $a_sk, public_key: $a_pk, hmac_secret: $std_secret,
      id: $v_id, timestamp: $v_t, body: $v_body, signature: ("v1," + $v_hmac + " v1a," + $a_sig),
      command: ("v1: printf %s.%s.%s \"$id\" \"$t\" \"$body\" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(base64 -d <<< ${hmac_secret#whsec_} | xxd -p -c0) -binary | base64; v1a: " + $sign_cmd) }
  ]
}' > standard_v1a.json
echo "wrote standard_v1a.json"
