#include "store/redisratelimitscripts.h"

namespace sluice::store {

namespace {

// One source for every rule (the rule travels in ARGV), so one cached script serves all.
constexpr char kGcraScript[] = R"lua(
local MAX_US = 2305843009213693
local limit = math.max(math.floor(tonumber(ARGV[1]) or 1), 1)
local period_us = math.max(math.floor(tonumber(ARGV[2]) or 1), 1) * 1000
local burst = math.floor(tonumber(ARGV[3]) or 0)
if burst <= 0 then burst = limit end
local cost = math.max(math.floor(tonumber(ARGV[4]) or 0), 0)

local interval = math.floor(period_us / limit)
if interval * limit < period_us then interval = interval + 1 end
interval = math.min(math.max(interval, 1), MAX_US)
burst = math.min(math.max(burst, 1), math.floor(MAX_US / interval))
local tolerance = burst * interval

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = now
local stored = tonumber(redis.call('GET', KEYS[1]) or '')
if stored and stored > now then tat = stored end

local function ceil_ms(us)
  return math.ceil(us / 1000)
end

local function describe(tat_after)
  local owed = math.max(tat_after - now, 0)
  local remaining = 0
  if owed < tolerance then remaining = math.floor((tolerance - owed) / interval) end
  return remaining, ceil_ms(owed)
end

if cost > burst then
  local remaining, reset_ms = describe(tat)
  return {0, remaining, reset_ms, -1}
end

local new_tat = tat + cost * interval
local admit_at = new_tat - tolerance
if admit_at <= now then
  if cost > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', ceil_ms(new_tat - now))
  end
  local remaining, reset_ms = describe(new_tat)
  return {1, remaining, reset_ms, 0}
end

local remaining, reset_ms = describe(tat)
return {0, remaining, reset_ms, ceil_ms(admit_at - now)}
)lua";

// Shares the GCRA script's sanitisation, so a rule means the same bucket in both.
constexpr char kTokenSettleScript[] = R"lua(
local MAX_US = 2305843009213693
local limit = math.max(math.floor(tonumber(ARGV[1]) or 1), 1)
local period_us = math.max(math.floor(tonumber(ARGV[2]) or 1), 1) * 1000
local burst = math.floor(tonumber(ARGV[3]) or 0)
if burst <= 0 then burst = limit end
local reserved = math.max(math.floor(tonumber(ARGV[4]) or 0), 0)
local actual = math.max(math.floor(tonumber(ARGV[5]) or 0), 0)

local interval = math.floor(period_us / limit)
if interval * limit < period_us then interval = interval + 1 end
interval = math.min(math.max(interval, 1), MAX_US)
burst = math.min(math.max(burst, 1), math.floor(MAX_US / interval))
local tolerance = burst * interval

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local stored = tonumber(redis.call('GET', KEYS[1]) or '')
local owed = 0
if stored and stored > now then owed = stored - now end

local function ceil_ms(us)
  return math.ceil(us / 1000)
end

local extra = actual - reserved
local changed = false
if extra > 0 then
  owed = math.min(owed + extra * interval, MAX_US)
  changed = true
elseif extra < 0 and owed > 0 then
  owed = math.max(owed + extra * interval, 0)
  changed = true
end
if changed then
  if owed > 0 then
    redis.call('SET', KEYS[1], string.format('%.0f', now + owed), 'PX', ceil_ms(owed))
  else
    redis.call('DEL', KEYS[1])
  end
end

local remaining = 0
if owed < tolerance then remaining = math.floor((tolerance - owed) / interval) end
if owed <= tolerance then
  return {1, remaining, ceil_ms(owed), 0}
end
return {0, remaining, ceil_ms(owed), ceil_ms(owed - tolerance)}
)lua";

constexpr char kLeaseAcquireScript[] = R"lua(
local max_parallel = math.floor(tonumber(ARGV[1]) or 0)
local ttl_us = math.max(math.floor(tonumber(ARGV[2]) or 1), 1) * 1000

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local function ceil_ms(us)
  return math.ceil(us / 1000)
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
local held = redis.call('ZCARD', KEYS[1])
if max_parallel < 1 then
  return {0, held, -1}
end
if held >= max_parallel then
  local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, held, math.max(ceil_ms(tonumber(earliest[2]) - now), 1)}
end

redis.call('ZADD', KEYS[1], string.format('%.0f', now + ttl_us), ARGV[3])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(ceil_ms(tonumber(latest[2]) - now), 1))
return {1, redis.call('ZCARD', KEYS[1]), 0}
)lua";

constexpr char kLeaseRenewScript[] = R"lua(
local ttl_us = math.max(math.floor(tonumber(ARGV[1]) or 1), 1) * 1000

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])

local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]) or '')
if not expiry then
  return 0
end
if expiry <= now then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 0
end
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + ttl_us), ARGV[2])
local latest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], math.max(math.ceil((tonumber(latest[2]) - now) / 1000), 1))
return 1
)lua";

constexpr char kLeaseCountScript[] = R"lua(
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
return redis.call('ZCOUNT', KEYS[1], '(' .. string.format('%.0f', now), '+inf')
)lua";

} // namespace

QByteArray gcraRateLimitScript()
{
    return QByteArray::fromRawData(kGcraScript, sizeof(kGcraScript) - 1);
}

QByteArray tokenSettleScript()
{
    return QByteArray::fromRawData(kTokenSettleScript, sizeof(kTokenSettleScript) - 1);
}

QByteArray leaseAcquireScript()
{
    return QByteArray::fromRawData(kLeaseAcquireScript, sizeof(kLeaseAcquireScript) - 1);
}

QByteArray leaseRenewScript()
{
    return QByteArray::fromRawData(kLeaseRenewScript, sizeof(kLeaseRenewScript) - 1);
}

QByteArray leaseCountScript()
{
    return QByteArray::fromRawData(kLeaseCountScript, sizeof(kLeaseCountScript) - 1);
}

} // namespace sluice::store
