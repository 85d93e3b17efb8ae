//! [`RedisStore`]: one store shared by several replicas (feature `redis`).

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, Value};

use crate::ReplayKey;
use crate::store::{ReplayStore, Reserve, StoreError, StoreFuture, Token};

/// How long one command may take before the store is considered unavailable (`503`), by
/// default: a loopback or same-zone Redis answers in well under a millisecond.
pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);

/// Releases a reservation only if it is still the caller's: a plain `DEL` could remove the
/// reservation another replica made after this one's lease ran out.
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0";

/// A [`ReplayStore`] in Redis (≥ 7.0), for several replicas.
///
/// - reserve: `SET <key> pending:<token> NX PX <lease> GET` — atomic; the old value says
///   whether the key was free, in flight (`pending:…`) or committed (`done`);
/// - commit: `SET <key> done PX <window>`;
/// - release: a compare-and-delete script (only the caller's own reservation).
///
/// Keys are `<prefix><provider>:<id|body>:<sha256 hex>`. Every Redis error, refused
/// connection or timeout is a [`StoreError::Unavailable`] (`503`): a delivery is never let
/// through unguarded. The connection is re-established in the background by redis-rs's
/// `ConnectionManager` once Redis is back.
#[derive(Clone)]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    tokens: std::sync::Arc<TokenSource>,
    release: Script,
}

/// Connecting to Redis failed at start-up.
#[derive(Debug, thiserror::Error)]
#[error("cannot connect to the replay store: {0}")]
pub struct RedisConfigError(#[source] redis::RedisError);

/// Tokens unique across replicas: a random 64-bit base per process plus a counter.
struct TokenSource {
    base: u64,
    next: std::sync::atomic::AtomicU64,
}

impl TokenSource {
    fn new() -> Self {
        // A failure of the OS random source leaves the base at 0: tokens then are unique
        // within the process only, which still never releases another request's key of the
        // same process, and another replica's only if both counters meet on one key.
        let base = getrandom::u64().unwrap_or(0);
        TokenSource {
            base,
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn next(&self) -> Token {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Token(self.base.wrapping_add(n))
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`), with keys under `bookhook:replay:` and a
    /// response timeout of [`DEFAULT_RESPONSE_TIMEOUT`].
    ///
    /// # Errors
    ///
    /// The URL is invalid or Redis cannot be reached now.
    pub async fn connect(url: &str) -> Result<Self, RedisConfigError> {
        Self::connect_with(url, "bookhook:replay:", DEFAULT_RESPONSE_TIMEOUT).await
    }

    /// As [`connect`](Self::connect), with the key prefix and response timeout given.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    pub async fn connect_with(
        url: &str,
        prefix: &str,
        response_timeout: Duration,
    ) -> Result<Self, RedisConfigError> {
        let client = redis::Client::open(url).map_err(RedisConfigError)?;
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(response_timeout))
            .set_connection_timeout(Some(response_timeout))
            // Reconnect attempts happen in the background; a command meanwhile fails at
            // once (503) instead of waiting for them.
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let connection = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(RedisConfigError)?;
        Ok(RedisStore {
            connection,
            prefix: prefix.to_owned(),
            tokens: std::sync::Arc::new(TokenSource::new()),
            release: Script::new(RELEASE),
        })
    }

    fn redis_key(&self, key: &ReplayKey) -> String {
        let mut text = self.prefix.clone();
        text.push_str(&key.to_text());
        text
    }
}

fn unavailable(err: redis::RedisError) -> StoreError {
    StoreError::Unavailable(Box::new(err))
}

fn millis(d: Duration) -> u64 {
    // Redis refuses a zero expiry; a sub-millisecond window rounds up to 1 ms.
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl ReplayStore for RedisStore {
    fn reserve(&self, key: ReplayKey, lease: Duration) -> StoreFuture<Reserve> {
        let mut connection = self.connection.clone();
        let redis_key = self.redis_key(&key);
        let token = self.tokens.next();
        Box::pin(async move {
            let old: Value = redis::cmd("SET")
                .arg(&redis_key)
                .arg(format!("pending:{}", token.0))
                .arg("NX")
                .arg("PX")
                .arg(millis(lease))
                .arg("GET")
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            match old {
                Value::Nil => Ok(Reserve::Reserved(token)),
                Value::BulkString(bytes) if bytes == b"done" => Ok(Reserve::Committed),
                _ => Ok(Reserve::InFlight),
            }
        })
    }

    fn commit(&self, key: ReplayKey, _token: Token, window: Duration) -> StoreFuture<()> {
        let mut connection = self.connection.clone();
        let redis_key = self.redis_key(&key);
        Box::pin(async move {
            redis::cmd("SET")
                .arg(&redis_key)
                .arg("done")
                .arg("PX")
                .arg(millis(window))
                .query_async::<()>(&mut connection)
                .await
                .map_err(unavailable)
        })
    }

    fn release(&self, key: ReplayKey, token: Token) -> StoreFuture<()> {
        let mut connection = self.connection.clone();
        let redis_key = self.redis_key(&key);
        let script = self.release.clone();
        Box::pin(async move {
            script
                .key(&redis_key)
                .arg(format!("pending:{}", token.0))
                .invoke_async::<i64>(&mut connection)
                .await
                .map(drop)
                .map_err(unavailable)
        })
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The URL may hold a password: it is not kept, so it cannot be printed.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}
