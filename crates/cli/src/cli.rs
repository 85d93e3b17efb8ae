//! The command line, as clap types. Parsing only: `commands` does the work.

use std::fmt;
use std::path::PathBuf;

use bookhook_verify::{DEFAULT_TOLERANCE, Provider};
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (verify: the delivery is authentic; send: the receiver answered 2xx)
  1  rejected: missing, mismatched, stale or future signature or token
     (send: the receiver answered anything but 2xx)
  2  malformed signature header, bad secret, unreadable file, bad arguments,
     or (send) no answer from the receiver

Secrets are never printed on stderr. Prefer --secret-file to keep them out of shell history.";

const SIGN_EXAMPLES: &str = "\
Examples:
  # Headers for a Slatis delivery of body.json
  bookhook sign --provider slatis --secret whsec_abc123 --body-file body.json

  # A Bookable delivery sent at a fixed time, the secret read from a file
  bookhook sign --provider bookable --secret-file bookable.secret \\
      --timestamp 1747299612 --body-file body.json

  # Standard Webhooks, with a chosen webhook-id, body from stdin
  printf '{\"type\":\"booking.created\"}' | bookhook sign --provider standard \\
      --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --id msg_1 --body-file -

  # Standard Webhooks v1a (ed25519) from a whsk_ secret key (see `bookhook keygen`); a
  # comma-separated list signs with each (e.g. whsec_…,whsk_… while rotating)
  bookhook sign --provider standard --secret-file sender.whsk --body-file body.json

  # Sign, then POST with curl: `-H @file` reads headers from a file, and
  # --data-binary sends the body byte for byte, exactly as signed
  bookhook sign --provider slatis --secret-file slatis.secret --body-file body.json > headers.txt
  curl -sS -H @headers.txt -H 'Content-Type: application/json' --data-binary @body.json \\
      http://127.0.0.1:8080/webhooks/slatis

Output: one `Name: value` line per header; for Slotflow, which signs nothing, the query
string `token=...` to append to the URL.";

const VERIFY_EXAMPLES: &str = "\
Examples:
  # A Cal.com delivery saved as body.json
  bookhook verify --provider calcom --secret my-calcom-secret \\
      --header 'X-Cal-Signature-256: 5e1b...' --body-file body.json

  # During a rotation: either secret is accepted, the output says which matched
  bookhook verify --provider slatis --secret whsec_new,whsec_old \\
      --header 'x-slatis-signature: sha256=27ea...' --body-file body.json
  ok (secret #2)

  # A recorded Bookable delivery, checked as of the moment it was received
  bookhook verify --provider bookable --secret-file bookable.secret --now 1747299672 \\
      --header 'X-Samna-Signature: t=1747299612,v1=67af...' --body-file body.json

  # Standard Webhooks v1a: the receiver holds only the sender's whpk_ public key; whsec_
  # secrets and whpk_ keys can be mixed in one list
  bookhook verify --provider standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw,whpk_1SiA…= \\
      -H 'webhook-id: msg_1' -H 'webhook-timestamp: 1747299612' \\
      -H 'webhook-signature: v1a,hnO3…' --body-file body.json --now 1747299612
  ok (secret #2, ed25519)

  # Slotflow's token is in the URL
  bookhook verify --provider slotflow --secret sf_token_0123456789abcdef \\
      --url-query 'token=sf_token_0123456789abcdef' --body-file body.json

Output on success: `ok (secret #N)` (secrets are numbered from 1 in the order given, across
flags, commas and lines of --secret-file; `ok (secret #N, ed25519)` when a Standard Webhooks
whpk_ public key verified a v1a signature), then `timestamp:`, `delivery-id:` and
`event-type:` lines when the delivery carries them. On failure the reason goes to stderr.";

const KEYGEN_EXAMPLES: &str = "\
Examples:
  # A Standard Webhooks HMAC secret (v1), for both the sender and the receiver
  bookhook keygen --provider standard
  whsec_…

  # An ed25519 key pair (v1a): the secret key for the sender, the public key for the receiver
  bookhook keygen --provider standard --asymmetric
  secret-key: whsk_…
  public-key: whpk_…

Keys come from the operating system's random source. Store the secret (or secret key) as you
would a password; the public key may be published. Other providers issue their own secrets.";

const SEND_EXAMPLES: &str = "\
Examples:
  # A realistic Slatis BOOKING_CREATED to a local receiver
  bookhook send --provider slatis --secret whsec_abc123 --event BOOKING_CREATED \\
      --url http://127.0.0.1:8080/webhooks/slatis

  # Your own body; for Slotflow the token is appended to the URL's query
  bookhook send --provider slotflow --secret-file slotflow.token --body-file body.json \\
      --url http://127.0.0.1:8080/webhooks/slotflow

  # A stale delivery, to check that the receiver refuses it
  bookhook send --provider calendly --secret-file calendly.key --event invitee.created \\
      --timestamp 1700000000 --url http://127.0.0.1:8080/webhooks/calendly

An unknown --event lists the provider's sample events. The request times out after 10 s and
does not follow redirects. Prints the status line and the response body.";

const LISTEN_EXAMPLES: &str = "\
Examples:
  # Receive Cal.com deliveries on http://127.0.0.1:4000/webhooks/calcom and pass the
  # verified ones to the service being developed
  bookhook listen --provider calcom --secret-file calcom.secret \\
      --forward http://127.0.0.1:8080/webhooks/calcom

  # Try it from another shell
  bookhook send --provider calcom --secret-file calcom.secret --event BOOKING_CREATED \\
      --url http://127.0.0.1:4000/webhooks/calcom

Output: one line per delivery on stdout:
  <time> <provider> <event type or -> verified secret=#N [ed25519] -> <status>
  <time> <provider> - refused <status> <cause> (<reason>)
Refusals are answered with the rejection table (401, 400, 413, 408, ...). A verified
delivery is forwarded with its method, headers (except Host and hop-by-hop ones), query and
body unchanged, and answered with the forward's status and body (502 if it cannot be
reached); without --forward it is answered 200. The event type of a refused delivery is
never read (its body is not trusted). Ctrl-C or SIGTERM stops cleanly.";

/// Sign, verify and send booking-platform webhooks
/// (Slatis, Slotflow, Bookable, SchedulingKit, Cal.com, Calendly, Standard Webhooks).
#[derive(Debug, Parser)]
#[command(name = "bookhook", version, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the headers a provider would send with a body
    #[command(after_help = SIGN_EXAMPLES)]
    Sign(SignArgs),
    /// Check a delivery's signature (or token) and timestamp
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// Sign a body and POST it to a URL, as the provider would
    #[command(after_help = SEND_EXAMPLES)]
    Send(SendArgs),
    /// Print a fresh secret (or key pair) for a provider whose secrets you create yourself
    #[command(after_help = KEYGEN_EXAMPLES)]
    Keygen(KeygenArgs),
    /// Receive deliveries locally: verify each, print one line, forward the verified ones
    #[command(after_help = LISTEN_EXAMPLES)]
    Listen(ListenArgs),
}

/// `bookhook listen`.
#[derive(Debug, Args)]
pub(crate) struct ListenArgs {
    /// The platform whose scheme to verify
    #[arg(long, value_parser = provider_parser())]
    pub(crate) provider: Provider,
    #[command(flatten)]
    pub(crate) secrets: ActiveSecrets,
    /// How far the signed timestamp may be from now, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TOLERANCE.as_secs())]
    pub(crate) tolerance: u64,
    /// The address to listen on (port 0 picks a free port, printed on stderr)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:4000")]
    pub(crate) addr: std::net::SocketAddr,
    /// The path deliveries are posted to [default: /webhooks/<provider>]
    #[arg(long, value_name = "PATH")]
    pub(crate) path: Option<String>,
    /// Forward each verified delivery, unchanged, to this URL and answer with its status
    #[arg(long, value_name = "URL")]
    pub(crate) forward: Option<String>,
    /// Also print each verified body (never a refused one) after its line
    #[arg(long)]
    pub(crate) print_body: bool,
}

/// `bookhook keygen`.
#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// The platform whose key format to use (only `standard`: the others issue their secrets)
    #[arg(long, value_parser = provider_parser())]
    pub(crate) provider: Provider,
    /// An ed25519 key pair for `v1a` signatures (a `whsk_` secret key for the sender and a
    /// `whpk_` public key for the receiver) instead of a `whsec_` HMAC secret
    #[arg(long)]
    pub(crate) asymmetric: bool,
}

/// `bookhook sign`.
#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The platform whose scheme to use
    #[arg(long, value_parser = provider_parser())]
    pub(crate) provider: Provider,
    #[command(flatten)]
    pub(crate) secret: OneSecret,
    /// Unix time (seconds) the delivery is sent at [default: now]
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub(crate) timestamp: Option<i64>,
    /// Delivery id (Standard Webhooks `webhook-id`, SchedulingKit `X-Webhook-Delivery-Id`)
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,
    /// Event type header (SchedulingKit `X-Webhook-Event`)
    #[arg(long, value_name = "TYPE")]
    pub(crate) event_type: Option<String>,
    /// The body to sign, byte for byte; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: PathBuf,
}

/// `bookhook verify`.
#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The platform whose scheme to use
    #[arg(long, value_parser = provider_parser())]
    pub(crate) provider: Provider,
    #[command(flatten)]
    pub(crate) secrets: ActiveSecrets,
    /// How far the signed timestamp may be from now, in seconds
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_TOLERANCE.as_secs())]
    pub(crate) tolerance: u64,
    /// Verify as of this Unix time (seconds) instead of the system clock, e.g. to check
    /// a recorded delivery
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub(crate) now: Option<i64>,
    /// A received header, `Name: value`; repeat for several (or for a repeated header)
    #[arg(
        long = "header",
        short = 'H',
        value_name = "NAME: VALUE",
        allow_hyphen_values = true
    )]
    pub(crate) headers: Vec<String>,
    /// The request's query string (`token=...`, with or without `?`, or the whole URL);
    /// Slotflow's token is there
    #[arg(long, value_name = "QUERY")]
    pub(crate) url_query: Option<String>,
    /// The received body, byte for byte; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: PathBuf,
}

/// `bookhook send`.
#[derive(Debug, Args)]
pub(crate) struct SendArgs {
    /// The platform whose scheme to use
    #[arg(long, value_parser = provider_parser())]
    pub(crate) provider: Provider,
    #[command(flatten)]
    pub(crate) secret: OneSecret,
    /// Where to POST the delivery (http or https)
    #[arg(long, value_name = "URL")]
    pub(crate) url: String,
    #[command(flatten)]
    pub(crate) payload: Payload,
    /// Unix time (seconds) the delivery is sent at [default: now]
    #[arg(long, value_name = "UNIX", allow_negative_numbers = true)]
    pub(crate) timestamp: Option<i64>,
    /// Delivery id (Standard Webhooks `webhook-id`, SchedulingKit `X-Webhook-Delivery-Id`)
    #[arg(long, value_name = "ID")]
    pub(crate) id: Option<String>,
    /// Event type header (SchedulingKit `X-Webhook-Event`) [default: the --event name]
    #[arg(long, value_name = "TYPE")]
    pub(crate) event_type: Option<String>,
}

/// The body `send` posts.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct Payload {
    /// The body to send, byte for byte; `-` reads standard input
    #[arg(long, value_name = "FILE")]
    pub(crate) body_file: Option<PathBuf>,
    /// Send the provider's sample payload for this event (e.g. BOOKING_CREATED for Slatis,
    /// invitee.created for Calendly); an unknown name lists the known ones
    #[arg(long, value_name = "NAME")]
    pub(crate) event: Option<String>,
}

/// The one secret to sign with.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct OneSecret {
    /// The provider's signing secret (Slotflow: the URL token; Standard Webhooks: a `whsec_`
    /// secret for v1, a `whsk_` secret key for v1a, or a comma-separated list of them)
    #[arg(long, value_name = "SECRET", allow_hyphen_values = true)]
    pub(crate) secret: Option<Secret>,
    /// Read the secret from this file (one line; `-` reads standard input), so that it
    /// stays out of shell history and `ps`
    #[arg(long, value_name = "FILE")]
    pub(crate) secret_file: Option<PathBuf>,
}

/// The active secrets to verify with.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct ActiveSecrets {
    /// An active secret (Slotflow: an accepted URL token; Standard Webhooks: a `whsec_`
    /// secret or a `whpk_` public key); repeat it, or give a comma-separated list, to accept
    /// several during a rotation
    #[arg(long, value_name = "SECRET", allow_hyphen_values = true)]
    pub(crate) secret: Vec<Secret>,
    /// Read the active secrets from this file: one per line (or comma-separated), blank
    /// lines ignored; `-` reads standard input. Keeps secrets out of shell history and `ps`
    #[arg(long, value_name = "FILE")]
    pub(crate) secret_file: Option<PathBuf>,
}

/// A secret given on the command line. `Debug` is redacted.
#[derive(Clone)]
pub(crate) struct Secret(String);

impl Secret {
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret(secret)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(REDACTED)")
    }
}

/// Accepts exactly the names of `Provider::ALL`, and lists them in `--help` and errors.
fn provider_parser() -> impl TypedValueParser<Value = Provider> {
    PossibleValuesParser::new(Provider::ALL.map(Provider::as_str))
        .try_map(|name| name.parse::<Provider>())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let cli = Cli::try_parse_from([
            "bookhook",
            "sign",
            "--provider",
            "slatis",
            "--secret",
            "whsec_hunter2",
            "--body-file",
            "-",
        ])
        .unwrap();
        let debug = format!("{cli:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
    }

    #[test]
    fn every_provider_name_is_accepted() {
        for provider in Provider::ALL {
            let cli = Cli::try_parse_from([
                "bookhook",
                "verify",
                "--provider",
                provider.as_str(),
                "--secret",
                "s",
                "--body-file",
                "-",
            ])
            .unwrap();
            let Command::Verify(args) = cli.command else {
                panic!("not verify")
            };
            assert_eq!(args.provider, provider);
        }
    }
}
