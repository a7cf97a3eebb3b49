#include "store/redisadmission.h"

#include <QPointer>

#include <algorithm>

namespace sluice::store {

namespace {

// ARGV[1]: the number of checks n; then 5 values per check, in KEYS order: kind ('r'
//   rate, 't' tokens, 'p' lease), then
//   r/t: limit, period_ms, burst, cost        p: max_parallel, ttl_ms, lease_id, (unused)
// KEYS[n + 1], when present: a shared-cache entry. When it exists the request will be
//   answered from it: token checks are decided at cost 0 and leases are not taken.
// Returns {allowed 1|0, refused index (1-based, 0 when allowed), the cache entry or
//   false (nil), then per check allowed, remaining, reset_after_ms, retry_after_ms
//   (-1: never fits)}.
// The GCRA arithmetic and its sanitisation are gcraRateLimitScript()'s, so a rule means
// the same bucket under both; the lease arithmetic is leaseAcquireScript()'s.
constexpr char kAdmitScript[] = R"lua(
local MAX_US = 2305843009213693
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local checks = tonumber(ARGV[1]) or 0

local function ceil_ms(us)
  return math.ceil(us / 1000)
end

local cached = false
if #KEYS > checks then cached = redis.call('GET', KEYS[checks + 1]) end

local out = {1, 0, cached}
local writes = {}
for i = 1, checks do
  local base = 1 + (i - 1) * 5
  local kind = ARGV[base + 1]
  local allowed, remaining, reset_ms, retry_ms = 0, 0, 0, 0
  if kind == 'p' and cached then
    allowed = 1
  elseif kind == 'p' then
    local max_parallel = math.floor(tonumber(ARGV[base + 2]) or 0)
    local ttl_us = math.max(math.floor(tonumber(ARGV[base + 3]) or 1), 1) * 1000
    redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', string.format('%.0f', now))
    local held = redis.call('ZCARD', KEYS[i])
    if max_parallel < 1 then
      retry_ms = -1
    elseif held >= max_parallel then
      local earliest = redis.call('ZRANGE', KEYS[i], 0, 0, 'WITHSCORES')
      retry_ms = math.max(ceil_ms(tonumber(earliest[2]) - now), 1)
    else
      allowed = 1
      remaining = max_parallel - held - 1
      writes[#writes + 1] = {'p', KEYS[i], now + ttl_us, ARGV[base + 4]}
    end
  else
    local limit = math.max(math.floor(tonumber(ARGV[base + 2]) or 1), 1)
    local period_us = math.max(math.floor(tonumber(ARGV[base + 3]) or 1), 1) * 1000
    local burst = math.floor(tonumber(ARGV[base + 4]) or 0)
    if burst <= 0 then burst = limit end
    local cost = math.max(math.floor(tonumber(ARGV[base + 5]) or 0), 0)
    if kind == 't' and cached then cost = 0 end
    local interval = math.floor(period_us / limit)
    if interval * limit < period_us then interval = interval + 1 end
    interval = math.min(math.max(interval, 1), MAX_US)
    burst = math.min(math.max(burst, 1), math.floor(MAX_US / interval))
    local tolerance = burst * interval

    local tat = now
    local stored = tonumber(redis.call('GET', KEYS[i]) or '')
    if stored and stored > now then tat = stored end
    local described = tat
    if cost > burst then
      retry_ms = -1
    else
      local new_tat = tat + cost * interval
      local admit_at = new_tat - tolerance
      if admit_at <= now then
        allowed = 1
        described = new_tat
        if cost > 0 then writes[#writes + 1] = {'r', KEYS[i], new_tat} end
      else
        retry_ms = ceil_ms(admit_at - now)
      end
    end
    local owed = math.max(described - now, 0)
    if owed < tolerance then remaining = math.floor((tolerance - owed) / interval) end
    reset_ms = ceil_ms(owed)
  end
  if allowed == 0 and out[1] == 1 then
    out[1] = 0
    out[2] = i
  end
  out[#out + 1] = allowed
  out[#out + 1] = remaining
  out[#out + 1] = reset_ms
  out[#out + 1] = retry_ms
end

if out[1] == 1 then
  for _, w in ipairs(writes) do
    if w[1] == 'r' then
      redis.call('SET', w[2], string.format('%.0f', w[3]), 'PX', math.max(ceil_ms(w[3] - now), 1))
    else
      redis.call('ZADD', w[2], string.format('%.0f', w[3]), w[4])
      local latest = redis.call('ZRANGE', w[2], -1, -1, 'WITHSCORES')
      redis.call('PEXPIRE', w[2], math.max(ceil_ms(tonumber(latest[2]) - now), 1))
    end
  end
end
return out
)lua";

// ARGV: ARGV[1] the lease id, then 5 values per item, in KEYS order: kind ('t' tokens,
//   'p' lease), then t: limit, period_ms, burst, reserved, actual (p: unused).
// Tokens: tokenSettleScript()'s arithmetic (debt when above the reservation, refund
// when below, never beyond a full bucket). Lease: ZREM of the lease id.
// Returns the number of items settled.
constexpr char kSettleScript[] = R"lua(
local MAX_US = 2305843009213693
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local lease_id = ARGV[1]

for i = 1, #KEYS do
  local base = 1 + (i - 1) * 6
  if ARGV[base + 1] == 'p' then
    redis.call('ZREM', KEYS[i], lease_id)
  else
    local limit = math.max(math.floor(tonumber(ARGV[base + 2]) or 1), 1)
    local period_us = math.max(math.floor(tonumber(ARGV[base + 3]) or 1), 1) * 1000
    local reserved = math.max(math.floor(tonumber(ARGV[base + 5]) or 0), 0)
    local actual = math.max(math.floor(tonumber(ARGV[base + 6]) or 0), 0)
    local interval = math.floor(period_us / limit)
    if interval * limit < period_us then interval = interval + 1 end
    interval = math.min(math.max(interval, 1), MAX_US)

    local stored = tonumber(redis.call('GET', KEYS[i]) or '')
    local owed = 0
    if stored and stored > now then owed = stored - now end
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
        redis.call('SET', KEYS[i], string.format('%.0f', now + owed), 'PX', math.max(math.ceil(owed / 1000), 1))
      else
        redis.call('DEL', KEYS[i])
      end
    end
  end
end
return #KEYS
)lua";

constexpr std::size_t kValuesPerDecision = 4;
// allowed, refused index, cached value
constexpr std::size_t kHeaderValues = 3;
constexpr std::size_t kCachedValueIndex = 2;

std::int64_t wholeMillisecondsUp(policy::Nanoseconds duration)
{
    const std::int64_t ns = std::max<std::int64_t>(duration.count(), 1);
    return ns / 1'000'000 + (ns % 1'000'000 != 0);
}

void appendRule(QList<QByteArray> &args, const policy::RateRule &rule)
{
    args << QByteArray::number(std::max<std::int64_t>(rule.limit, 1))
         << QByteArray::number(wholeMillisecondsUp(rule.period))
         << QByteArray::number(std::max<std::int64_t>(rule.effectiveBurst(), 1));
}

StoreError malformed(const RedisReply &reply, std::size_t checks)
{
    return {StoreErrorKind::Protocol,
            QStringLiteral("admission script answered a %1, expected an array of %2 values")
                .arg(QLatin1String(RedisReply::typeName(reply.type())))
                .arg(kHeaderValues + kValuesPerDecision * checks)};
}

} // namespace

RedisAdmission::RedisAdmission() : m_admit(admitScript()), m_settle(settleScript()) {}

QByteArray RedisAdmission::admitScript()
{
    return QByteArray::fromRawData(kAdmitScript, sizeof(kAdmitScript) - 1);
}

QByteArray RedisAdmission::settleScript()
{
    return QByteArray::fromRawData(kSettleScript, sizeof(kSettleScript) - 1);
}

void RedisAdmission::admit(RedisSession &session, const std::vector<AdmissionCheck> &checks, const QByteArray &leaseId,
                           std::chrono::milliseconds leaseTtl, const QByteArray &cacheKey, QObject *context,
                           Callback callback) const
{
    if (checks.empty() && cacheKey.isEmpty()) {
        if (callback)
            callback(AdmissionVerdict{true, -1, {}, std::nullopt});
        return;
    }
    QList<QByteArray> keys;
    QList<QByteArray> args;
    keys.reserve(qsizetype(checks.size()) + 1);
    args.reserve(1 + qsizetype(checks.size()) * 5);
    args << QByteArray::number(qsizetype(checks.size()));
    for (const AdmissionCheck &check : checks) {
        keys << check.key;
        if (check.kind == AdmissionCheck::Kind::Lease) {
            args << QByteArrayLiteral("p") << QByteArray::number(check.maxParallel)
                 << QByteArray::number(std::max<std::int64_t>(leaseTtl.count(), 1)) << leaseId << QByteArray();
        } else {
            args << (check.kind == AdmissionCheck::Kind::Tokens ? QByteArrayLiteral("t") : QByteArrayLiteral("r"));
            appendRule(args, check.rule);
            args << QByteArray::number(std::max<std::int64_t>(check.cost, 0));
        }
    }
    if (!cacheKey.isEmpty())
        keys << cacheKey;
    m_admit.run(session, keys, args, context,
                [checks, callback = std::move(callback)](Result<RedisReply, StoreError> result) {
                    if (!callback)
                        return;
                    if (!result) {
                        callback(unexpected(std::move(result).error()));
                        return;
                    }
                    callback(verdictFromReply(*result, checks));
                });
}

void RedisAdmission::settle(RedisSession &session, const std::vector<AdmissionSettlement> &items,
                            const QByteArray &leaseId) const
{
    if (items.empty())
        return;
    QList<QByteArray> keys;
    QList<QByteArray> args;
    keys.reserve(qsizetype(items.size()));
    args.reserve(1 + qsizetype(items.size()) * 6);
    args << leaseId;
    for (const AdmissionSettlement &item : items) {
        keys << item.key;
        if (item.kind == AdmissionSettlement::Kind::Lease) {
            args << QByteArrayLiteral("p") << QByteArray() << QByteArray() << QByteArray() << QByteArray()
                 << QByteArray();
        } else {
            args << QByteArrayLiteral("t");
            appendRule(args, item.rule);
            args << QByteArray::number(item.reserved) << QByteArray::number(item.actual);
        }
    }
    m_settle.run(session, keys, args, nullptr, {});
}

void RedisAdmission::load(RedisSession &session) const
{
    m_admit.load(session, nullptr, {});
    m_settle.load(session, nullptr, {});
}

Result<AdmissionVerdict, StoreError> RedisAdmission::verdictFromReply(const RedisReply &reply,
                                                                      const std::vector<AdmissionCheck> &checks)
{
    const std::size_t expected = kHeaderValues + kValuesPerDecision * checks.size();
    if (!reply.isArray() || reply.elements().size() != expected)
        return unexpected(malformed(reply, checks.size()));
    for (std::size_t i = 0; i < expected; ++i) {
        const RedisReply &element = reply.elements()[i];
        const bool fits = i == kCachedValueIndex ? element.isNil() || element.isString() : element.isInteger();
        if (!fits)
            return unexpected(malformed(reply, checks.size()));
    }
    const auto value = [&reply](std::size_t index) { return reply.elements()[index].toInteger(); };
    AdmissionVerdict verdict;
    verdict.allowed = value(0) == 1;
    verdict.refusedIndex = verdict.allowed ? -1 : int(value(1)) - 1;
    if (!verdict.allowed && (verdict.refusedIndex < 0 || std::size_t(verdict.refusedIndex) >= checks.size()))
        return unexpected(malformed(reply, checks.size()));
    if (reply.elements()[kCachedValueIndex].isString())
        verdict.cachedValue = reply.elements()[kCachedValueIndex].bytes();
    verdict.decisions.reserve(checks.size());
    using std::chrono::milliseconds;
    for (std::size_t i = 0; i < checks.size(); ++i) {
        const std::size_t base = kHeaderValues + kValuesPerDecision * i;
        policy::RateLimitDecision decision;
        // Charged only when the whole admission was.
        decision.allowed = verdict.allowed && value(base) == 1;
        decision.limit = checks[i].kind == AdmissionCheck::Kind::Lease ? checks[i].maxParallel
                                                                        : std::max<std::int64_t>(checks[i].rule.limit, 1);
        decision.remaining = value(base + 1);
        decision.resetAfter = milliseconds(value(base + 2));
        if (value(base + 3) < 0) {
            decision.neverFits = true;
            decision.retryAfter = policy::kRetryNever;
        } else {
            decision.retryAfter = milliseconds(value(base + 3));
        }
        verdict.decisions.push_back(decision);
    }
    return verdict;
}

} // namespace sluice::store
