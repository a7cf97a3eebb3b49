#include "gateway/loadgenerator.h"

#include "gateway/simulatedtext.h"
#include "gateway/sseparser.h"
#include "gateway/tokenusage.h"
#include "http/upstreamcall.h"
#include "http/upstreamclient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>

#include <algorithm>
#include <climits>
#include <cmath>

namespace sluice::gateway {

namespace {

using policy::MonoTime;

constexpr int kMaxUsers = 10'000;
constexpr int kStatsIntervalMs = 250;
// Above this, a non-stream body is not kept (its usage is then unknown); the simulator
// and real providers answer far below it.
constexpr qsizetype kMaxBufferedBodyBytes = 8 * 1024 * 1024;
// The repeat pool does not depend on the seed, so every generator (several load
// drivers, several processes) repeats the same requests and a shared cache can hit.
constexpr quint64 kPoolSeed = 0x5E1CE9001ULL;
constexpr qsizetype kBytesPerPromptToken = 4;

policy::Nanoseconds fromMilliseconds(double milliseconds)
{
    return policy::Nanoseconds(static_cast<qint64>(std::llround(std::max(0.0, milliseconds) * 1e6)));
}

double secondsBetween(MonoTime from, MonoTime to)
{
    return std::chrono::duration<double>(to - from).count();
}

bool isConnectFailure(http::UpstreamErrorKind kind)
{
    return kind == http::UpstreamErrorKind::ConnectionRefused || kind == http::UpstreamErrorKind::HostNotFound
           || kind == http::UpstreamErrorKind::ConnectTimeout;
}

double clampedShare(double share)
{
    return std::isfinite(share) ? std::clamp(share, 0.0, 1.0) : 0.0;
}

} // namespace

struct LoadGenerator::User {
    int id = 0;
    QByteArray apiKey;
    bool busy = false;
    bool retiring = false; // leaves once its request is done
    bool ready = false;    // in m_ready
    std::optional<std::multimap<MonoTime, int>::iterator> wakeup;
    std::shared_ptr<http::UpstreamCall> call;
};

struct LoadGenerator::Exchange {
    explicit Exchange(ProviderKind kind) : usage(kind) {}

    int userId = 0;
    MonoTime startedAt{0};
    int status = 0;
    bool cacheHit = false;
    bool eventStream = false;
    bool streamError = false;
    bool done = false;
    std::optional<MonoTime> firstContentAt;
    SseParser parser;
    StreamUsageAccumulator usage;
    QByteArray body;
    bool bodyTooLarge = false;
};

LoadGenerator::LoadGenerator(LoadOptions options, QObject *parent)
    : LoadGenerator(std::move(options), m_steadyClock, parent)
{
}

LoadGenerator::LoadGenerator(LoadOptions options, const policy::Clock &clock, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_clock(clock)
    , m_random(m_options.seed ? *m_options.seed : QRandomGenerator::system()->generate64())
    , m_runId(QRandomGenerator::system()->generate64())
    , m_pacer(m_options.requestsPerSecond)
{
    http::UpstreamClientOptions clientOptions;
    clientOptions.maxIdleConnectionsPerOrigin = kMaxUsers;
    m_client = std::make_unique<http::UpstreamClient>(clientOptions);
    m_endpoint = m_options.endpointUrl();
    m_counters.users = std::clamp(m_options.users, 0, kMaxUsers);

    m_tickTimer.setSingleShot(true);
    m_tickTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_tickTimer, &QTimer::timeout, this, &LoadGenerator::onTick);
    m_statsTimer.setInterval(kStatsIntervalMs);
    connect(&m_statsTimer, &QTimer::timeout, this, &LoadGenerator::emitStats);
    m_durationTimer.setSingleShot(true);
    m_durationTimer.setTimerType(Qt::PreciseTimer);
    connect(&m_durationTimer, &QTimer::timeout, this, [this] { endSending(); });
}

LoadGenerator::~LoadGenerator()
{
    // Cancels the calls without callbacks before the users and exchanges go.
    m_client.reset();
}

void LoadGenerator::start()
{
    if (m_state != State::Idle)
        return;
    const MonoTime now = m_clock.now();
    {
        std::lock_guard lock(m_statsMutex);
        m_startedAt = now;
        m_startedStats = true;
        m_counters.running = true;
    }
    if (!m_options.validationError().isEmpty()) {
        m_state = State::Running;
        endSending();
        return;
    }
    m_state = State::Running;
    m_pacer.start(now);
    if (m_options.durationSeconds > 0) {
        m_deadline = now + fromMilliseconds(m_options.durationSeconds * 1000.0);
        m_durationTimer.start(int(std::min(std::ceil(m_options.durationSeconds * 1000.0), double(INT_MAX))));
    }
    rebuildPool();
    addUsers(std::clamp(m_options.users, 0, kMaxUsers), true);
    m_statsTimer.start();
    dispatchReady(now);
    armTick(now);
}

void LoadGenerator::stop()
{
    if (m_state == State::Idle) {
        m_state = State::Running;
        std::lock_guard lock(m_statsMutex);
        m_startedAt = m_clock.now();
        m_startedStats = true;
    }
    endSending();
}

void LoadGenerator::abort()
{
    stop();
    for (auto &[id, user] : m_users) {
        if (user->busy && user->call) {
            user->call->cancel();
            user->call.reset();
            user->busy = false;
            std::lock_guard lock(m_statsMutex);
            ++m_counters.aborted;
            --m_counters.inFlight;
        }
    }
    maybeFinish();
}

void LoadGenerator::endSending()
{
    if (m_state != State::Running)
        return;
    m_state = State::Stopping;
    m_tickTimer.stop();
    m_durationTimer.stop();
    m_wakeups.clear();
    m_ready.clear();
    for (auto &[id, user] : m_users) {
        user->wakeup.reset();
        user->ready = false;
    }
    {
        std::lock_guard lock(m_statsMutex);
        m_sendingEndedAt = m_clock.now();
    }
    maybeFinish();
}

void LoadGenerator::maybeFinish()
{
    if (m_state != State::Stopping || m_finishQueued)
        return;
    {
        std::lock_guard lock(m_statsMutex);
        if (m_counters.inFlight != 0)
            return;
    }
    m_finishQueued = true;
    // From the event loop: never inside stop() or a call's callback.
    QTimer::singleShot(0, this, [this] {
        m_state = State::Finished;
        m_statsTimer.stop();
        {
            std::lock_guard lock(m_statsMutex);
            m_finishedAt = m_clock.now();
            m_counters.running = false;
        }
        emit finished(stats());
    });
}

void LoadGenerator::emitStats()
{
    emit statsUpdated(stats());
}

LoadStats LoadGenerator::stats() const
{
    const MonoTime now = m_clock.now();
    std::lock_guard lock(m_statsMutex);
    return snapshotLocked(now);
}

LoadStats LoadGenerator::snapshotLocked(MonoTime now) const
{
    LoadStats snapshot = m_counters;
    snapshot.latencySeconds = LoadQuantiles::of(m_latency);
    snapshot.ttftSeconds = LoadQuantiles::of(m_ttft);
    if (!m_startedStats)
        return snapshot;
    snapshot.elapsedSeconds = std::max(0.0, secondsBetween(m_startedAt, m_finishedAt.value_or(now)));
    const double sendingSeconds = std::max(0.0, secondsBetween(m_startedAt, m_sendingEndedAt.value_or(now)));
    snapshot.requestsPerSecond = sendingSeconds > 0 ? double(snapshot.sent) / sendingSeconds : 0.0;
    snapshot.completedPerSecond = snapshot.elapsedSeconds > 0 ? double(snapshot.completed) / snapshot.elapsedSeconds : 0.0;
    return snapshot;
}

// --- users ---------------------------------------------------------------------------

void LoadGenerator::addUsers(int count, bool staggered)
{
    const MonoTime now = m_clock.now();
    for (int i = 0; i < count; ++i) {
        auto user = std::make_unique<User>();
        user->id = m_nextUserId++;
        if (!m_options.apiKeys.isEmpty())
            user->apiKey = m_options.apiKeys.at(user->id % m_options.apiKeys.size());
        const int id = user->id;
        m_users.emplace(id, std::move(user));
        ++m_targetUsers;
        const double delayMs = staggered ? m_random.uniform() * m_options.thinkTimeMs.mean : 0.0;
        scheduleUser(id, now + fromMilliseconds(delayMs));
    }
    std::lock_guard lock(m_statsMutex);
    m_counters.users = m_targetUsers;
}

void LoadGenerator::removeUsers(int count)
{
    // Idle ones first (newest first), then the busy ones retire after their answer.
    for (auto it = m_users.rbegin(); it != m_users.rend() && count > 0;) {
        User &user = *it->second;
        if (user.busy || user.retiring) {
            ++it;
            continue;
        }
        if (user.wakeup)
            m_wakeups.erase(*user.wakeup);
        if (user.ready)
            m_ready.erase(std::find(m_ready.begin(), m_ready.end(), user.id));
        it = std::make_reverse_iterator(m_users.erase(std::next(it).base()));
        --m_targetUsers;
        --count;
    }
    for (auto it = m_users.rbegin(); it != m_users.rend() && count > 0; ++it) {
        if (it->second->retiring)
            continue;
        it->second->retiring = true;
        --m_targetUsers;
        --count;
    }
    std::lock_guard lock(m_statsMutex);
    m_counters.users = m_targetUsers;
}

void LoadGenerator::setUsers(int users)
{
    users = std::clamp(users, 0, kMaxUsers);
    m_options.users = users;
    if (m_state == State::Idle) {
        std::lock_guard lock(m_statsMutex);
        m_counters.users = users;
        return;
    }
    if (m_state != State::Running) {
        // Nothing sends any more; only keep the count the stats report.
        m_targetUsers = users;
        std::lock_guard lock(m_statsMutex);
        m_counters.users = users;
        return;
    }
    if (users < m_targetUsers) {
        removeUsers(m_targetUsers - users);
    } else if (users > m_targetUsers) {
        int missing = users - m_targetUsers;
        // Busy users about to retire stay instead.
        for (auto &[id, user] : m_users) {
            if (missing == 0)
                break;
            if (user->retiring) {
                user->retiring = false;
                ++m_targetUsers;
                --missing;
            }
        }
        addUsers(missing, true);
    }
    const MonoTime now = m_clock.now();
    dispatchReady(now);
    armTick(now);
}

void LoadGenerator::scheduleUser(int userId, MonoTime wakeAt)
{
    User &user = *m_users.at(userId);
    if (wakeAt <= m_clock.now()) {
        user.ready = true;
        m_ready.push_back(userId);
    } else {
        user.wakeup = m_wakeups.emplace(wakeAt, userId);
    }
}

void LoadGenerator::onTick()
{
    const MonoTime now = m_clock.now();
    while (!m_wakeups.empty() && m_wakeups.begin()->first <= now) {
        const int id = m_wakeups.begin()->second;
        m_wakeups.erase(m_wakeups.begin());
        User &user = *m_users.at(id);
        user.wakeup.reset();
        user.ready = true;
        m_ready.push_back(id);
    }
    dispatchReady(now);
    armTick(now);
}

bool LoadGenerator::maySend(MonoTime now) const
{
    if (m_state != State::Running)
        return false;
    if (m_deadline && now >= *m_deadline)
        return false;
    if (m_deadline && m_pacer.isLimited() && *m_pacer.nextStartTime() >= *m_deadline)
        return false;
    return true;
}

void LoadGenerator::dispatchReady(MonoTime now)
{
    if (m_state == State::Running && m_deadline && now >= *m_deadline) {
        endSending();
        return;
    }
    while (!m_ready.empty() && maySend(now)) {
        if (!m_pacer.tryAcquire(now))
            break;
        const int id = m_ready.front();
        m_ready.pop_front();
        m_users.at(id)->ready = false;
        send(id, now);
    }
    std::lock_guard lock(m_statsMutex);
    m_counters.skippedRateSlots = m_pacer.skippedSlots();
}

void LoadGenerator::armTick(MonoTime now)
{
    if (m_state != State::Running) {
        m_tickTimer.stop();
        return;
    }
    std::optional<MonoTime> next;
    if (!m_wakeups.empty())
        next = m_wakeups.begin()->first;
    if (!m_ready.empty()) {
        if (const std::optional<MonoTime> slot = m_pacer.nextStartTime())
            next = next ? std::min(*next, *slot) : *slot;
    }
    if (!next) {
        m_tickTimer.stop();
        return;
    }
    const auto waitNs = std::max<qint64>(0, (*next - now).count());
    // Rounded up: a timer that fires before the slot is due would only re-arm.
    const qint64 waitMs = (waitNs + 999'999) / 1'000'000;
    m_tickTimer.start(int(std::min<qint64>(waitMs, INT_MAX)));
}

// --- requests ------------------------------------------------------------------------

qint64 LoadGenerator::drawTokens(const Distribution &distribution)
{
    return std::max<qint64>(1, std::llround(m_random.sample(distribution)));
}

QString LoadGenerator::promptText(SimulatorRandom &random, qint64 tokens) const
{
    const qsizetype targetBytes = qsizetype(std::min<qint64>(tokens, 1'000'000)) * kBytesPerPromptToken;
    // Filler words average more than 4 bytes, so `tokens` words are enough to cut from.
    QString text = simulatedAnswerText(random, std::max<qint64>(1, tokens));
    if (text.size() > targetBytes) {
        const qsizetype space = text.lastIndexOf(QLatin1Char(' '), targetBytes);
        text.truncate(space > 0 ? space : targetBytes);
    }
    return text;
}

void LoadGenerator::rebuildPool()
{
    const QStringList models = m_options.effectiveModels();
    m_pool.clear();
    for (int i = 0; i < loadRepeatPoolSize; ++i) {
        SimulatorRandom random(SimulatorRandom::mix(kPoolSeed, quint64(i)));
        PoolEntry entry;
        entry.model = models.at(i % models.size());
        entry.maxTokens = std::max<qint64>(1, std::llround(random.sample(m_options.maxTokens)));
        const qint64 tokens = std::max<qint64>(1, std::llround(random.sample(m_options.promptTokens)));
        entry.prompt = QStringLiteral("Popular question %1: ").arg(i) + promptText(random, tokens);
        m_pool.push_back(std::move(entry));
    }
}

QByteArray LoadGenerator::buildBody(const QString &model, const QString &prompt, qint64 maxTokens, bool stream) const
{
    QJsonObject body{{QStringLiteral("model"), model}, {QStringLiteral("max_tokens"), maxTokens}};
    body.insert(QStringLiteral("messages"),
                QJsonArray{QJsonObject{{QStringLiteral("role"), QStringLiteral("user")}, {QStringLiteral("content"), prompt}}});
    if (stream) {
        body.insert(QStringLiteral("stream"), true);
        if (m_options.protocol == ProviderKind::OpenAI)
            body.insert(QStringLiteral("stream_options"), QJsonObject{{QStringLiteral("include_usage"), true}});
    }
    return QJsonDocument(body).toJson(QJsonDocument::Compact);
}

void LoadGenerator::send(int userId, MonoTime now)
{
    User &user = *m_users.at(userId);
    const bool stream = m_random.uniform() < m_options.streamShare;
    QByteArray body;
    if (!m_pool.empty() && m_random.uniform() < m_options.repeatShare) {
        const PoolEntry &entry = m_pool.at(std::size_t(m_random.below(qint64(m_pool.size()))));
        body = buildBody(entry.model, entry.prompt, entry.maxTokens, stream);
    } else {
        const QStringList models = m_options.effectiveModels();
        const QString model = models.at(qsizetype(m_random.below(models.size())));
        const qint64 promptTokens = drawTokens(m_options.promptTokens);
        const qint64 maxTokens = drawTokens(m_options.maxTokens);
        const QString prompt = QStringLiteral("Request %1-%2: ").arg(m_runId, 16, 16, QLatin1Char('0')).arg(++m_unique)
                               + promptText(m_random, promptTokens);
        body = buildBody(model, prompt, maxTokens, stream);
    }

    http::UpstreamRequest request;
    request.url = m_endpoint;
    request.method = "POST";
    request.headers.set("content-type", "application/json");
    request.headers.set("accept", stream ? "text/event-stream" : "application/json");
    if (m_options.protocol == ProviderKind::Anthropic) {
        request.headers.set("anthropic-version", "2023-06-01");
        if (!user.apiKey.isEmpty())
            request.headers.set("x-api-key", user.apiKey);
    } else if (!user.apiKey.isEmpty()) {
        request.headers.set("authorization", "Bearer " + user.apiKey);
    }
    request.body = std::move(body);
    const std::chrono::milliseconds timeout(m_options.timeoutMs);
    request.timeouts.connect = std::min(timeout, std::chrono::milliseconds(10'000));
    request.timeouts.firstByte = timeout;
    request.timeouts.idle = timeout;
    request.timeouts.total = timeout;

    auto exchange = std::make_shared<Exchange>(m_options.protocol);
    exchange->userId = userId;
    exchange->startedAt = now;
    user.busy = true;
    {
        std::lock_guard lock(m_statsMutex);
        ++m_counters.sent;
        ++m_counters.inFlight;
    }

    // The client belongs to this object and drops its callbacks when destroyed, so
    // capturing `this` is safe.
    http::UpstreamCallbacks callbacks;
    callbacks.onHead = [this, exchange](const http::UpstreamResponseHead &head) {
        const bool cacheHit = head.headers.value("x-sluice-cache").compare("hit", Qt::CaseInsensitive) == 0;
        const bool eventStream = head.headers.value("content-type").trimmed().toLower().startsWith("text/event-stream");
        onHead(exchange, head.status, cacheHit, eventStream);
    };
    callbacks.onBody = [this, exchange](const QByteArray &bytes) { onBody(exchange, bytes); };
    callbacks.onComplete = [this, exchange] { onComplete(exchange); };
    callbacks.onError = [this, exchange](const http::UpstreamError &error) {
        onError(exchange, http::upstreamErrorKindName(error.kind), isConnectFailure(error.kind));
    };
    user.call = m_client->start(std::move(request), std::move(callbacks));

    bool capReached = false;
    {
        std::lock_guard lock(m_statsMutex);
        capReached = m_options.maxRequests > 0 && m_counters.sent >= m_options.maxRequests;
    }
    if (capReached)
        endSending();
}

void LoadGenerator::onHead(const std::shared_ptr<Exchange> &exchange, int status, bool cacheHit, bool eventStream)
{
    exchange->status = status;
    exchange->cacheHit = cacheHit;
    exchange->eventStream = eventStream;
    m_consecutiveConnectFailures = 0;
    std::lock_guard lock(m_statsMutex);
    m_counters.reachedServer = true;
}

void LoadGenerator::onBody(const std::shared_ptr<Exchange> &exchange, const QByteArray &bytes)
{
    if (!exchange->eventStream) {
        if (exchange->body.size() + bytes.size() > kMaxBufferedBodyBytes)
            exchange->bodyTooLarge = true;
        else
            exchange->body += bytes;
        return;
    }
    const QList<SseEvent> events = exchange->parser.feed(bytes);
    for (const SseEvent &event : events) {
        if (event.data == "[DONE]")
            continue;
        const QJsonObject data = QJsonDocument::fromJson(event.data).object();
        if (event.event == "error" || data.contains(QStringLiteral("error"))) {
            exchange->streamError = true;
            continue;
        }
        exchange->usage.addEventObject(event.event, data);
        if (exchange->firstContentAt)
            continue;
        bool content = false;
        if (m_options.protocol == ProviderKind::Anthropic) {
            content = event.event == "content_block_delta";
        } else {
            const QJsonObject delta =
                data.value(QStringLiteral("choices")).toArray().at(0).toObject().value(QStringLiteral("delta")).toObject();
            const QJsonValue text = delta.value(QStringLiteral("content"));
            content = (text.isString() && !text.toString().isEmpty()) || delta.contains(QStringLiteral("tool_calls"));
        }
        if (content)
            exchange->firstContentAt = m_clock.now();
    }
}

void LoadGenerator::onComplete(const std::shared_ptr<Exchange> &exchange)
{
    const MonoTime now = m_clock.now();
    std::optional<policy::TokenUsage> usage;
    if (exchange->eventStream) {
        usage = exchange->usage.usage();
    } else if (!exchange->bodyTooLarge) {
        usage = usageFromResponse(m_options.protocol, QJsonDocument::fromJson(exchange->body).object());
    }
    {
        std::lock_guard lock(m_statsMutex);
        ++m_counters.completed;
        ++m_counters.statusCounts[exchange->status];
        if (exchange->cacheHit)
            ++m_counters.cacheHits;
        if (exchange->streamError)
            ++m_counters.streamErrors;
        if (usage) {
            m_counters.inputTokens += usage->promptTokens();
            m_counters.outputTokens += usage->outputTokens;
        }
        m_latency.record(now - exchange->startedAt);
        if (exchange->firstContentAt)
            m_ttft.record(*exchange->firstContentAt - exchange->startedAt);
    }
    requestDone(exchange);
}

void LoadGenerator::onError(const std::shared_ptr<Exchange> &exchange, const QString &kind, bool connectFailure)
{
    bool unreachable = false;
    {
        std::lock_guard lock(m_statsMutex);
        ++m_counters.failed;
        ++m_counters.transportErrors[kind];
        if (connectFailure && !m_counters.reachedServer) {
            ++m_consecutiveConnectFailures;
            unreachable = m_options.unreachableAttemptsLimit > 0
                          && m_consecutiveConnectFailures >= m_options.unreachableAttemptsLimit;
            if (unreachable)
                m_counters.gaveUp = true;
        }
    }
    if (unreachable)
        endSending(); // first, so that this user does not send again
    requestDone(exchange);
}

void LoadGenerator::requestDone(const std::shared_ptr<Exchange> &exchange)
{
    if (exchange->done)
        return;
    exchange->done = true;
    {
        std::lock_guard lock(m_statsMutex);
        --m_counters.inFlight;
    }
    const auto it = m_users.find(exchange->userId);
    if (it != m_users.end()) {
        User &user = *it->second;
        user.busy = false;
        user.call.reset();
        if (user.retiring) {
            m_users.erase(it);
        } else if (m_state == State::Running) {
            const MonoTime now = m_clock.now();
            scheduleUser(user.id, now + fromMilliseconds(m_random.sample(m_options.thinkTimeMs)));
            dispatchReady(now);
            armTick(now);
        }
    }
    maybeFinish();
}

// --- live settings -------------------------------------------------------------------

void LoadGenerator::setRequestsPerSecond(double requestsPerSecond)
{
    m_options.requestsPerSecond = std::isfinite(requestsPerSecond) ? std::max(0.0, requestsPerSecond) : 0.0;
    const MonoTime now = m_clock.now();
    m_pacer.setRate(m_options.requestsPerSecond, now);
    if (m_state == State::Running) {
        dispatchReady(now);
        armTick(now);
    }
}

void LoadGenerator::setThinkTimeMs(Distribution thinkTimeMs)
{
    thinkTimeMs.mean = std::isfinite(thinkTimeMs.mean) ? std::max(0.0, thinkTimeMs.mean) : 0.0;
    thinkTimeMs.spread = std::isfinite(thinkTimeMs.spread) ? std::max(0.0, thinkTimeMs.spread) : 0.0;
    m_options.thinkTimeMs = thinkTimeMs;
    if (m_state != State::Running)
        return;
    // Thinking users wake at their old time or after a new draw, whichever comes first,
    // so a shorter think time takes effect at once.
    const MonoTime now = m_clock.now();
    std::vector<std::pair<int, MonoTime>> earlier;
    for (const auto &[wakeAt, id] : m_wakeups) {
        const MonoTime redrawn = now + fromMilliseconds(m_random.sample(thinkTimeMs));
        if (redrawn < wakeAt)
            earlier.emplace_back(id, redrawn);
    }
    for (const auto &[id, wakeAt] : earlier) {
        User &user = *m_users.at(id);
        m_wakeups.erase(*user.wakeup);
        user.wakeup.reset();
        scheduleUser(id, wakeAt);
    }
    dispatchReady(now);
    armTick(now);
}

void LoadGenerator::setRepeatShare(double share)
{
    m_options.repeatShare = clampedShare(share);
}

void LoadGenerator::setStreamShare(double share)
{
    m_options.streamShare = clampedShare(share);
}

void LoadGenerator::setPromptTokens(Distribution promptTokens)
{
    promptTokens.mean = std::isfinite(promptTokens.mean) ? std::max(0.0, promptTokens.mean) : 0.0;
    promptTokens.spread = std::isfinite(promptTokens.spread) ? std::max(0.0, promptTokens.spread) : 0.0;
    m_options.promptTokens = promptTokens;
    rebuildPool();
}

void LoadGenerator::setMaxTokens(Distribution maxTokens)
{
    maxTokens.mean = std::isfinite(maxTokens.mean) ? std::max(0.0, maxTokens.mean) : 0.0;
    maxTokens.spread = std::isfinite(maxTokens.spread) ? std::max(0.0, maxTokens.spread) : 0.0;
    m_options.maxTokens = maxTokens;
    rebuildPool();
}

void LoadGenerator::setModels(const QStringList &models)
{
    QStringList cleaned;
    for (const QString &model : models) {
        const QString name = model.trimmed();
        if (!name.isEmpty() && !cleaned.contains(name))
            cleaned.append(name);
    }
    m_options.models = cleaned;
    rebuildPool();
}

} // namespace sluice::gateway
