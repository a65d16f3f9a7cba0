//! [`RedisLimiter`]: one rate-limit budget for every replica of a robot.

use std::fmt;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::Redis;
use crate::Result;
use crate::client::{CallClass, Permit, RateLimiter, RateLimits, Settlement, Window};

/// Admits a call when it fits in every window (and no pause runs), taking its place in each;
/// else answers how many microseconds until the first place frees up. Times are Redis's, so
/// every replica reads one clock. Numbers go back to Redis through `%.0f`: Lua would print
/// microsecond timestamps in exponent form.
static ADMIT: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        local function n(x) return string.format('%.0f', x) end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local hold = tonumber(ARGV[2])
        local windows = {
            {KEYS[1], tonumber(ARGV[3]), tonumber(ARGV[4])},
            {KEYS[2], tonumber(ARGV[5]), tonumber(ARGV[6])},
        }
        local wait = 0
        local paused = tonumber(redis.call('GET', KEYS[3]) or '0')
        if paused > now then wait = paused - now end
        for _, w in ipairs(windows) do
            local key, limit, period = w[1], w[2], w[3]
            if period > 0 then
                redis.call('ZREMRANGEBYSCORE', key, '-inf', n(now))
                local used = redis.call('ZCARD', key)
                if used >= limit then
                    local left = period
                    local entry = redis.call('ZRANGE', key, used - limit, used - limit, 'WITHSCORES')
                    if entry[2] then left = tonumber(entry[2]) - now end
                    if left > wait then wait = left end
                end
            end
        end
        if wait > 0 then return wait end
        for _, w in ipairs(windows) do
            if w[3] > 0 then
                redis.call('ZADD', w[1], n(now + hold + w[3]), ARGV[1])
                redis.call('PEXPIRE', w[1], n(math.ceil((hold + w[3]) / 1000) + 1000))
            end
        end
        return 0
        ",
    )
});

/// Settles a call: a sent one keeps its place for one period from now, an unsent one gives
/// it back.
static SETTLE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        local function n(x) return string.format('%.0f', x) end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        for i, key in ipairs(KEYS) do
            local period = tonumber(ARGV[2 + i])
            if period > 0 then
                if ARGV[2] == '1' then
                    redis.call('ZADD', key, n(now + period), ARGV[1])
                    local keep = math.ceil(period / 1000) + 1000
                    if redis.call('PTTL', key) < keep then redis.call('PEXPIRE', key, n(keep)) end
                else
                    redis.call('ZREM', key, ARGV[1])
                end
            end
        end
        return 0
        ",
    )
});

/// Holds every call back until `wait` microseconds from now, unless a longer pause runs.
static PAUSE: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local wait = tonumber(ARGV[1])
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < now + wait then
            redis.call('SET', KEYS[1], string.format('%.0f', now + wait),
                'PX', string.format('%.0f', math.ceil(wait / 1000) + 1))
        end
        return 0
        ",
    )
});

/// A [`RateLimiter`] in Redis: one budget for every replica of a robot, as Lag counts its
/// limits per robot.
///
/// It keeps the same exact sliding windows as the in-memory
/// [`MemoryLimiter`](crate::client::MemoryLimiter), shared: each window is a sorted set
/// (`{prefix}:limiter:requests`, `{prefix}:limiter:messages`) of the calls inside it, scored
/// by when each leaves the window. A Lua script admits a call atomically when it fits in every
/// window its class counts against, timed by Redis's clock so that the replicas' clocks do not
/// matter. As with the in-memory limiter, a call in flight holds its place until it is
/// settled, and a sent call then keeps it for one period from its answer; a call whose
/// replica died before settling it gives its place back after the
/// [hold](Self::in_flight_hold) plus one period. A 429's `Retry-After`
/// [pauses](RateLimiter::pause) every replica.
///
/// A waiting call asks again when the first place frees up, and at least every
/// twentieth of the shortest window (calls settled by other replicas cannot wake it sooner).
/// Within one process, calls of one class are admitted in arrival order.
///
/// Every replica must pace under the same [`RateLimits`].
///
/// ```no_run
/// use std::sync::Arc;
/// use lag_bot::client::{Client, RateLimits};
/// use lag_bot::redis::{Redis, RedisConfig, RedisLimiter};
///
/// # fn build() -> lag_bot::Result<Client> {
/// let redis = Redis::open(RedisConfig::new("redis://127.0.0.1/")?.prefix("lag-bot:demo"))?;
/// let client = Client::builder("lag_robot_abcd1234_secret")
///     .rate_limiter(Arc::new(RedisLimiter::new(redis, RateLimits::lag())))
///     .build()?;
/// # Ok(client)
/// # }
/// ```
#[derive(Clone)]
pub struct RedisLimiter {
    shared: Arc<Shared>,
    hold: Duration,
}

struct Shared {
    redis: Redis,
    limits: RateLimits,
    /// Admits this process's calls of each class in arrival order.
    request_gate: tokio::sync::Mutex<()>,
    message_gate: tokio::sync::Mutex<()>,
    /// Woken when one of this process's calls is settled, which can free a place early.
    changed: Notify,
    /// Names this limiter's calls apart from other replicas'.
    tag: u64,
    next: AtomicU64,
}

impl RedisLimiter {
    /// How long a call in flight holds its place at most by default, beyond its window's
    /// period, when its replica never settles it.
    pub const DEFAULT_IN_FLIGHT_HOLD: Duration = Duration::from_secs(120);

    /// A limiter on `redis` pacing under `limits` (every replica must use the same limits).
    pub fn new(redis: Redis, limits: RateLimits) -> Self {
        Self {
            shared: Arc::new(Shared {
                redis,
                limits,
                request_gate: tokio::sync::Mutex::new(()),
                message_gate: tokio::sync::Mutex::new(()),
                changed: Notify::new(),
                tag: rand::random(),
                next: AtomicU64::new(0),
            }),
            hold: Self::DEFAULT_IN_FLIGHT_HOLD,
        }
    }

    /// How long a call in flight may hold its place, beyond its window's period, when its
    /// replica dies before settling it (default two minutes: longer than any attempt of the
    /// client, whose default timeout is 30 s). A call that is still in flight after it loses its
    /// place no longer counts against the windows.
    pub fn in_flight_hold(mut self, hold: Duration) -> Self {
        self.hold = hold;
        self
    }

    /// The limits calls are paced under.
    pub fn limits(&self) -> &RateLimits {
        &self.shared.limits
    }
}

/// The windows a call counts against: the request window, and the message window for a send.
#[derive(Clone, Copy)]
struct Counted {
    requests: Option<Window>,
    messages: Option<Window>,
}

impl Shared {
    fn keys(&self) -> [String; 2] {
        [
            self.redis.key("limiter:requests"),
            self.redis.key("limiter:messages"),
        ]
    }

    /// The longest a waiting call sleeps before asking again.
    fn poll(&self) -> Duration {
        [self.limits.requests, self.limits.messages]
            .into_iter()
            .flatten()
            .map(|w| w.period / 20)
            .min()
            .unwrap_or(Duration::from_millis(50))
            .clamp(Duration::from_millis(1), Duration::from_millis(500))
    }

    async fn acquire(&self, class: CallClass, hold: Duration) -> Result<(String, Counted)> {
        let counted = Counted {
            requests: self.limits.requests,
            messages: self.limits.messages.filter(|_| class == CallClass::Message),
        };
        let gate = if counted.messages.is_some() {
            &self.message_gate
        } else {
            &self.request_gate
        };
        let _turn = gate.lock().await;
        let member = format!(
            "{:016x}:{}",
            self.tag,
            self.next.fetch_add(1, Ordering::Relaxed)
        );
        let [requests, messages] = self.keys();
        loop {
            let mut changed = pin!(self.changed.notified());
            changed.as_mut().enable();
            let mut connection = self.redis.connection().await?;
            let wait: u64 = ADMIT
                .key(&requests)
                .key(&messages)
                .key(self.redis.key("limiter:pause"))
                .arg(&member)
                .arg(micros(hold))
                .arg(counted.requests.map_or(0, |w| w.limit))
                .arg(counted.requests.map_or(0, |w| micros(w.period)))
                .arg(counted.messages.map_or(0, |w| w.limit))
                .arg(counted.messages.map_or(0, |w| micros(w.period)))
                .invoke_async(&mut connection)
                .await
                .map_err(|err| self.redis.error("rate limiter", err))?;
            if wait == 0 {
                return Ok((member, counted));
            }
            let sleep = Duration::from_micros(wait).min(self.poll());
            tokio::select! {
                () = tokio::time::sleep(sleep) => {}
                () = changed => {}
            }
        }
    }

    async fn settle(&self, member: String, counted: Counted, settlement: Settlement) {
        let [requests, messages] = self.keys();
        let settled = async {
            let mut connection = self.redis.connection().await?;
            SETTLE
                .key(&requests)
                .key(&messages)
                .arg(&member)
                .arg(u8::from(settlement == Settlement::Sent))
                .arg(counted.requests.map_or(0, |w| micros(w.period)))
                .arg(counted.messages.map_or(0, |w| micros(w.period)))
                .invoke_async::<()>(&mut connection)
                .await
                .map_err(|err| self.redis.error("rate limiter", err))
        };
        if let Err(error) = settled.await {
            tracing::warn!(%error, "could not settle a call in the shared rate limiter; its place frees up when its hold ends");
        }
        self.changed.notify_waiters();
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn acquire(&self, class: CallClass) -> Result<Permit> {
        let (member, counted) = self.shared.acquire(class, self.hold).await?;
        let shared = Arc::clone(&self.shared);
        Ok(Permit::new(
            move |settlement| match tokio::runtime::Handle::try_current() {
                Ok(runtime) => {
                    runtime.spawn(async move { shared.settle(member, counted, settlement).await });
                }
                Err(_) => tracing::warn!(
                    "a shared rate-limit permit was settled outside a Tokio runtime; its place frees up when its hold ends"
                ),
            },
        ))
    }

    async fn pause(&self, wait: Duration) -> Result<()> {
        let mut connection = self.shared.redis.connection().await?;
        PAUSE
            .key(self.shared.redis.key("limiter:pause"))
            .arg(micros(wait.min(FOREVER)))
            .invoke_async::<()>(&mut connection)
            .await
            .map_err(|err| self.shared.redis.error("rate limiter pause", err))
    }
}

/// The longest pause kept (a huge `Retry-After` under a policy that waits out anything).
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX)
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("redis", &self.shared.redis)
            .field("limits", &self.shared.limits)
            .field("in_flight_hold", &self.hold)
            .finish_non_exhaustive()
    }
}
