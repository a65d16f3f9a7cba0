//! [`RedisCooldowns`]: cooldowns that hold on every replica.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;

use super::Redis;
use super::dedup::millis;
use crate::Result;
use crate::command::CooldownStore;

/// Starts the cooldown when none runs, else answers the milliseconds left, in one step.
static TRY_START: LazyLock<::redis::Script> = LazyLock::new(|| {
    ::redis::Script::new(
        r"
        if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
            return -1
        end
        return redis.call('PTTL', KEYS[1])
        ",
    )
});

/// A [`CooldownStore`] in Redis, shared by every replica of a robot: a cooldown is a key
/// `{prefix}:cooldown:{key}` set with `NX PX {period}`, and the time left is its `PTTL`, read
/// in the same script so that the answer is atomic.
///
/// Cooldowns run on Redis's clock, not the robot's: the test kit's simulated time does not
/// move them.
///
/// ```no_run
/// use std::time::Duration;
/// use lag_bot::command::CooldownStore;
/// use lag_bot::redis::{Redis, RedisConfig, RedisCooldowns};
///
/// # async fn run() -> lag_bot::Result<()> {
/// let redis = Redis::open(RedisConfig::new("redis://127.0.0.1/")?.prefix("lag-bot:demo"))?;
/// let cooldowns = RedisCooldowns::new(redis);
/// let minute = Duration::from_secs(60);
/// assert_eq!(cooldowns.try_start("roll user u_1", minute).await?, None);
/// assert!(cooldowns.try_start("roll user u_1", minute).await?.is_some());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RedisCooldowns {
    redis: Redis,
}

impl RedisCooldowns {
    /// A store on `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }
}

#[async_trait]
impl CooldownStore for RedisCooldowns {
    async fn try_start(&self, key: &str, period: Duration) -> Result<Option<Duration>> {
        if period.is_zero() {
            return Ok(None);
        }
        let mut connection = self.redis.connection().await?;
        let left: i64 = TRY_START
            .key(self.redis.key(&format!("cooldown:{key}")))
            .arg(millis(period))
            .invoke_async(&mut connection)
            .await
            .map_err(|err| self.redis.error("cooldown", err))?;
        Ok(match u64::try_from(left) {
            // -1: started now. (-2, a key gone between the two calls, cannot happen in a script.)
            Err(_) => None,
            Ok(left) => Some(Duration::from_millis(left.max(1))),
        })
    }
}
