#!/usr/bin/env bash
# Regenerates deliveries.json with openssl, a route independent of bookhook: every signature
# in the file was computed by the `command` recorded next to it. Run from this folder.
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
