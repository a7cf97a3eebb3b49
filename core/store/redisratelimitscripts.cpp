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

} // namespace

QByteArray gcraRateLimitScript()
{
    return QByteArray::fromRawData(kGcraScript, sizeof(kGcraScript) - 1);
}

} // namespace sluice::store
