#include "store/redissession.h"

#include "store/rediserror.h"

#include <QHostAddress>
#include <QHostInfo>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
// hiredis' own adapter: a QObject with Q_OBJECT, so its header is listed in the target's
// sources for AUTOMOC (core/store/CMakeLists.txt). Included in this file only, and its
// moc output at the end of it.
#include <hiredis/adapters/qt.h>

#include <algorithm>
#include <iterator>
#include <vector>

namespace sluice::store {

namespace {

using Clock = std::chrono::steady_clock;

RedisSession *sessionOf(const redisAsyncContext *context)
{
    return static_cast<RedisSession *>(context->data);
}

QString describeArgs(const QList<QByteArray> &args)
{
    return args.isEmpty() ? QString() : QString::fromUtf8(args.first()).toUpper();
}

// The privdata of subscription commands: command ids start at 1, so hiredis' calls for
// pushes (it keeps the SUBSCRIBE's callback per channel and calls it for every message)
// are told apart from answers to commands.
constexpr std::uintptr_t kPushId = 0;

// Commands whose answers hiredis does not hand back one per command: SUBSCRIBE's come
// per channel and keep coming, UNSUBSCRIBE registers no callback at all, MONITOR
// answers forever.
bool isSubscriptionCommand(const QByteArray &name)
{
    static const char *const names[] = {"subscribe",  "psubscribe",  "ssubscribe", "unsubscribe",
                                        "punsubscribe", "sunsubscribe", "monitor"};
    return std::any_of(std::begin(names), std::end(names),
                       [&name](const char *candidate) { return name.compare(candidate, Qt::CaseInsensitive) == 0; });
}

} // namespace

RedisSession::RedisSession(RedisSessionOptions options, QObject *parent)
    : QObject(parent), m_options(std::move(options)), m_random(std::random_device{}())
{
    m_connectTimer.setSingleShot(true);
    m_commandTimer.setSingleShot(true);
    m_commandTimer.setTimerType(Qt::PreciseTimer);
    m_reconnectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this, [this] {
        failAttempt({StoreErrorKind::Timeout, QStringLiteral("not ready within %1 ms (%2)")
                                                  .arg(m_options.connectTimeout.count())
                                                  .arg(stateName(m_state))});
    });
    connect(&m_commandTimer, &QTimer::timeout, this, &RedisSession::expireCommands);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        if (m_open && m_state == State::Disconnected)
            startAttempt();
    });
}

RedisSession::~RedisSession()
{
    ++m_generation;
    m_open = false;
    if (m_lookupId >= 0)
        QHostInfo::abortHostLookup(m_lookupId);
    // Inside one of this context's reply callbacks, redisAsyncFree() only marks it and
    // hiredis frees it once the callback returns; releaseContext() has already cut every
    // hook back to this object.
    releaseContext(false);
    m_pending.clear();
}

QString RedisSession::stateName(State state)
{
    switch (state) {
    case State::Disconnected: return QStringLiteral("disconnected");
    case State::Resolving: return QStringLiteral("resolving");
    case State::Connecting: return QStringLiteral("connecting");
    case State::Authenticating: return QStringLiteral("authenticating");
    case State::Selecting: return QStringLiteral("selecting");
    case State::Ready: return QStringLiteral("ready");
    }
    return {};
}

void RedisSession::open()
{
    if (m_open)
        return;
    m_open = true;
    m_failedAttempts = 0;
    startAttempt();
}

void RedisSession::close()
{
    if (!m_open)
        return;
    m_open = false;
    m_reconnectTimer.stop();
    dropConnection({StoreErrorKind::Cancelled, QStringLiteral("the session was closed")}, std::nullopt, false);
}

void RedisSession::command(QList<QByteArray> args, QObject *context, Callback callback)
{
    Pending pending;
    pending.context = context ? context : this;
    pending.callback = std::move(callback);
    if (m_state != State::Ready || !m_context) {
        deliverLater(std::move(pending), {StoreErrorKind::NotConnected,
                                          QStringLiteral("%1 not sent: the session is %2")
                                              .arg(describeArgs(args), stateName(m_state))});
        return;
    }
    if (args.isEmpty()) {
        deliverLater(std::move(pending), {StoreErrorKind::Protocol, QStringLiteral("empty command")});
        return;
    }
    if (isSubscriptionCommand(args.first())) {
        deliverLater(std::move(pending), {StoreErrorKind::Protocol,
                                          QStringLiteral("%1 is not available through command(): use subscribe()")
                                              .arg(describeArgs(args))});
        return;
    }
    if (m_subscribeMode) {
        deliverLater(std::move(pending), {StoreErrorKind::Protocol,
                                          QStringLiteral("%1 not sent: the connection is in subscribe mode")
                                              .arg(describeArgs(args))});
        return;
    }
    if (!send(args, pending))
        deliverLater(std::move(pending), {StoreErrorKind::NotConnected,
                                          QStringLiteral("%1 not sent: the connection is closing")
                                              .arg(describeArgs(args))});
}

bool RedisSession::send(const QList<QByteArray> &args, const Pending &pending)
{
    if (!m_context)
        return false;
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(args.size()));
    lengths.reserve(size_t(args.size()));
    for (const QByteArray &arg : args) {
        argv.push_back(arg.constData());
        lengths.push_back(size_t(arg.size()));
    }
    const std::uint64_t id = m_nextId++;
    // The id, not a pointer, travels through hiredis: an answer whose command has timed
    // out (or whose session is gone) finds nothing and is discarded.
    if (redisAsyncCommandArgv(m_context, &RedisSession::onHiredisReply, reinterpret_cast<void *>(std::uintptr_t(id)),
                              int(argv.size()), argv.data(), lengths.data())
        != REDIS_OK)
        return false;
    Pending sent = pending;
    sent.sentAt = Clock::now();
    sent.deadline = m_options.commandTimeout.count() > 0 ? sent.sentAt + m_options.commandTimeout
                                                          : Clock::time_point::max();
    const bool wasEmpty = m_pending.empty();
    m_pending.emplace(id, std::move(sent));
    ++m_stats.commandsSent;
    if (wasEmpty)
        armCommandTimer();
    return true;
}

bool RedisSession::subscribe(const QList<QByteArray> &channels)
{
    if (m_state != State::Ready || !m_context || channels.isEmpty())
        return false;
    std::vector<const char *> argv{"SUBSCRIBE"};
    std::vector<size_t> lengths{9};
    for (const QByteArray &channel : channels) {
        argv.push_back(channel.constData());
        lengths.push_back(size_t(channel.size()));
    }
    if (redisAsyncCommandArgv(m_context, &RedisSession::onHiredisReply, reinterpret_cast<void *>(kPushId),
                              int(argv.size()), argv.data(), lengths.data())
        != REDIS_OK)
        return false;
    ++m_stats.commandsSent;
    m_subscribeMode = true;
    return true;
}

void RedisSession::startAttempt()
{
    ++m_generation;
    ++m_stats.connectAttempts;
    if (m_options.connectTimeout.count() > 0)
        m_connectTimer.start(m_options.connectTimeout);
    if (QHostAddress literal; literal.setAddress(m_options.host)) {
        connectTo(literal.toString());
        return;
    }
    QPointer<RedisSession> self(this);
    setState(State::Resolving);
    if (!self || m_state != State::Resolving)
        return;
    const quint64 generation = m_generation;
    m_lookupId = QHostInfo::lookupHost(m_options.host, this, [this, generation](const QHostInfo &info) {
        if (generation != m_generation)
            return;
        m_lookupId = -1;
        const QList<QHostAddress> addresses = info.addresses();
        if (info.error() != QHostInfo::NoError || addresses.isEmpty()) {
            failAttempt({StoreErrorKind::Refused,
                         QStringLiteral("cannot resolve %1: %2").arg(m_options.host, info.errorString())});
            return;
        }
        // IPv4 first: a server bound to 127.0.0.1 is not reachable at ::1.
        const auto v4 = std::find_if(addresses.begin(), addresses.end(), [](const QHostAddress &address) {
            return address.protocol() == QAbstractSocket::IPv4Protocol;
        });
        connectTo((v4 != addresses.end() ? *v4 : addresses.first()).toString());
    });
}

void RedisSession::connectTo(const QString &address)
{
    QPointer<RedisSession> self(this);
    setState(State::Connecting);
    if (!self || m_state != State::Connecting)
        return;
    // A literal address: hiredis' getaddrinfo() does not touch the network for it.
    redisAsyncContext *context = redisAsyncConnect(address.toUtf8().constData(), m_options.port);
    if (!context) {
        failAttempt({StoreErrorKind::NotConnected, QStringLiteral("hiredis could not allocate a context")});
        return;
    }
    if (context->err) {
        StoreError error = storeErrorFromHiredis(context->err, context->errstr);
        error.message = QStringLiteral("connect to %1:%2: %3").arg(address).arg(m_options.port).arg(error.message);
        redisAsyncFree(context); // nothing attached yet
        failAttempt(std::move(error));
        return;
    }
    m_context = context;
    context->data = this;
    redisEnableKeepAlive(&context->c);
    m_adapter = new RedisQtAdapter();
    m_adapter->setContext(context);
    // The connect callback arms the first write event, so the adapter is attached first.
    redisAsyncSetConnectCallback(context, &RedisSession::onHiredisConnect);
    redisAsyncSetDisconnectCallback(context, &RedisSession::onHiredisDisconnect);
}

void RedisSession::onHiredisConnect(const redisAsyncContext *context, int status)
{
    RedisSession *self = sessionOf(context);
    if (!self)
        return;
    if (status != REDIS_OK) {
        StoreError error = storeErrorFromHiredis(context->err, context->errstr);
        error.message = QStringLiteral("connect to %1:%2: %3")
                            .arg(self->m_options.host)
                            .arg(self->m_options.port)
                            .arg(error.message);
        // hiredis frees the context as soon as this returns.
        self->dropConnection(error, error, true);
        return;
    }
    // hiredis 0.14 runs this callback outside its in-callback guard and goes on using the
    // context after it returns, so nothing that could free the context (a command's
    // callback, a slot of stateChanged) may run from here: the handshake is queued.
    const quint64 generation = self->m_generation;
    QMetaObject::invokeMethod(
        self, [self, generation] { self->startHandshake(generation); }, Qt::QueuedConnection);
}

void RedisSession::onHiredisDisconnect(const redisAsyncContext *context, int status)
{
    RedisSession *self = sessionOf(context);
    if (!self)
        return;
    StoreError error = status == REDIS_OK ? StoreError{StoreErrorKind::NotConnected, QStringLiteral("disconnected")}
                                          : storeErrorFromHiredis(context->err, context->errstr);
    error.message = QStringLiteral("connection to %1:%2 lost: %3")
                        .arg(self->m_options.host)
                        .arg(self->m_options.port)
                        .arg(error.message);
    // hiredis frees the context as soon as this returns.
    self->dropConnection({StoreErrorKind::NotConnected, error.message}, error, true);
}

void RedisSession::onHiredisReply(redisAsyncContext *context, void *reply, void *privateData)
{
    RedisSession *self = sessionOf(context);
    // A null reply: the context is being freed; hiredis calls the disconnect callback
    // next, which fails every pending command at once.
    if (!self || !reply)
        return;
    if (std::uintptr_t(privateData) == kPushId)
        self->handlePush(*static_cast<const redisReply *>(reply));
    else
        self->handleReply(std::uintptr_t(privateData), *static_cast<const redisReply *>(reply));
}

void RedisSession::startHandshake(quint64 generation)
{
    if (generation != m_generation || !m_context)
        return;
    if (m_options.password.isEmpty()) {
        sendHandshakeSelect();
        return;
    }
    QPointer<RedisSession> self(this);
    setState(State::Authenticating);
    if (!self || generation != m_generation)
        return;
    QList<QByteArray> args{QByteArrayLiteral("AUTH")};
    if (!m_options.user.isEmpty())
        args.append(m_options.user.toUtf8());
    args.append(m_options.password.toUtf8());
    Pending pending;
    pending.context = this;
    pending.callback = [this, generation](Result<RedisReply, StoreError> result) {
        if (generation != m_generation)
            return;
        if (!result) {
            StoreError error = std::move(result).error();
            if (error.kind == StoreErrorKind::Server)
                error.kind = StoreErrorKind::Authentication; // e.g. AUTH without a password configured
            error.message = QStringLiteral("AUTH failed: ") + error.message;
            failAttempt(std::move(error));
            return;
        }
        sendHandshakeSelect();
    };
    if (!send(args, pending))
        failAttempt({StoreErrorKind::NotConnected, QStringLiteral("AUTH not sent: the connection is closing")});
}

void RedisSession::sendHandshakeSelect()
{
    if (m_options.db == 0) {
        becomeReady();
        return;
    }
    const quint64 generation = m_generation;
    QPointer<RedisSession> self(this);
    setState(State::Selecting);
    if (!self || generation != m_generation)
        return;
    Pending pending;
    pending.context = this;
    pending.callback = [this, generation](Result<RedisReply, StoreError> result) {
        if (generation != m_generation)
            return;
        if (!result) {
            StoreError error = std::move(result).error();
            error.message = QStringLiteral("SELECT %1 failed: %2").arg(m_options.db).arg(error.message);
            failAttempt(std::move(error));
            return;
        }
        becomeReady();
    };
    if (!send({QByteArrayLiteral("SELECT"), QByteArray::number(m_options.db)}, pending))
        failAttempt({StoreErrorKind::NotConnected, QStringLiteral("SELECT not sent: the connection is closing")});
}

void RedisSession::becomeReady()
{
    m_connectTimer.stop();
    m_failedAttempts = 0;
    if (m_wasReady)
        ++m_stats.reconnects;
    m_wasReady = true;
    setState(State::Ready);
}

void RedisSession::handleReply(std::uint64_t id, const redisReply &reply)
{
    const auto found = m_pending.find(id);
    if (found == m_pending.end())
        return; // timed out already: the late answer is dropped
    Pending pending = std::move(found->second);
    m_pending.erase(found);
    ++m_stats.repliesReceived;
    m_stats.roundTripTotal += Clock::now() - pending.sentAt;
    RedisReply value = RedisReply::fromHiredis(&reply);
    std::vector<Delivery> deliveries;
    if (value.isError()) {
        ++m_stats.commandErrors;
        deliveries.push_back({std::move(pending), unexpected(storeErrorFromServer(value.bytes()))});
    } else {
        deliveries.push_back({std::move(pending), std::move(value)});
    }
    deliver(std::move(deliveries));
}

void RedisSession::handlePush(const redisReply &reply)
{
    // Nothing may touch the session after the emit: a slot may have destroyed it.
    emit pushReceived(RedisReply::fromHiredis(&reply));
}

void RedisSession::failAttempt(StoreError error)
{
    dropConnection({StoreErrorKind::NotConnected, error.message}, error, false);
}

bool RedisSession::dropConnection(StoreError pendingError, std::optional<StoreError> failure,
                                  bool hiredisFreesContext)
{
    const bool attemptFailed = failure && m_state != State::Ready;
    ++m_generation;
    m_subscribeMode = false;
    m_connectTimer.stop();
    m_commandTimer.stop();
    if (m_lookupId >= 0) {
        QHostInfo::abortHostLookup(m_lookupId);
        m_lookupId = -1;
    }
    releaseContext(hiredisFreesContext);
    PendingMap pending = std::exchange(m_pending, {});
    if (failure) {
        m_lastError = *failure;
        if (attemptFailed)
            ++m_stats.connectFailures;
        scheduleReconnect();
    }

    // Everything below may run user code, which may destroy the session.
    QPointer<RedisSession> self(this);
    setState(State::Disconnected);
    if (!self)
        return false;
    if (failure) {
        emit connectionError(*failure);
        if (!self)
            return false;
    }
    std::vector<Delivery> deliveries;
    deliveries.reserve(pending.size());
    for (auto &entry : pending) {
        ++m_stats.commandErrors;
        deliveries.push_back({std::move(entry.second), unexpected(pendingError)});
    }
    return deliver(std::move(deliveries));
}

void RedisSession::releaseContext(bool hiredisFreesContext)
{
    redisAsyncContext *context = std::exchange(m_context, nullptr);
    RedisQtAdapter *adapter = std::exchange(m_adapter, nullptr);
    if (!context) {
        delete adapter;
        return;
    }
    // Cut every hook back to this session and its adapter while the context is alive:
    // hiredis may still call them while it frees the context (now, or after the callback
    // it is running returns). The adapter's cleanup deletes its socket notifiers; its
    // destructor writes to the context, so it goes before the context does.
    context->data = nullptr;
    context->onConnect = nullptr;
    context->onDisconnect = nullptr;
    if (context->ev.cleanup)
        context->ev.cleanup(context->ev.data);
    context->ev.data = nullptr;
    context->ev.addRead = nullptr;
    context->ev.delRead = nullptr;
    context->ev.addWrite = nullptr;
    context->ev.delWrite = nullptr;
    context->ev.cleanup = nullptr;
    delete adapter;
    if (!hiredisFreesContext)
        redisAsyncFree(context);
}

void RedisSession::scheduleReconnect()
{
    if (!m_open)
        return;
    using std::chrono::milliseconds;
    const milliseconds floor = std::max(m_options.reconnectMin, milliseconds(1));
    const milliseconds cap = std::max(m_options.reconnectMax, floor);
    milliseconds delay = floor;
    if (m_failedAttempts > 0) {
        const double grown = double(floor.count()) * double(std::uint64_t{1} << std::min(m_failedAttempts, 40));
        const qint64 ceiling = grown >= double(cap.count()) ? cap.count() : qint64(grown);
        std::uniform_int_distribution<qint64> draw(ceiling / 2, ceiling);
        delay = std::max(floor, milliseconds(draw(m_random)));
    }
    ++m_failedAttempts;
    m_reconnectTimer.start(delay);
}

void RedisSession::setState(State state)
{
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

void RedisSession::armCommandTimer()
{
    if (m_pending.empty()) {
        m_commandTimer.stop();
        return;
    }
    // Every command gets the same timeout and ids grow in sending order, so the first
    // pending command has the earliest deadline.
    const Clock::time_point deadline = m_pending.begin()->second.deadline;
    if (deadline == Clock::time_point::max()) {
        m_commandTimer.stop();
        return;
    }
    const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    m_commandTimer.start(std::max(remaining, std::chrono::milliseconds(0)));
}

void RedisSession::expireCommands()
{
    const Clock::time_point now = Clock::now();
    std::vector<Delivery> deliveries;
    while (!m_pending.empty() && m_pending.begin()->second.deadline <= now) {
        ++m_stats.commandTimeouts;
        ++m_stats.commandErrors;
        deliveries.push_back({std::move(m_pending.begin()->second),
                              unexpected(StoreError{StoreErrorKind::Timeout,
                                                    QStringLiteral("no answer within %1 ms")
                                                        .arg(m_options.commandTimeout.count())})});
        m_pending.erase(m_pending.begin());
    }
    armCommandTimer();
    deliver(std::move(deliveries));
}

void RedisSession::deliverLater(Pending pending, StoreError error)
{
    ++m_stats.commandErrors;
    QMetaObject::invokeMethod(
        this,
        [this, pending = std::move(pending), error = std::move(error)]() mutable {
            std::vector<Delivery> deliveries;
            deliveries.push_back({std::move(pending), unexpected(std::move(error))});
            deliver(std::move(deliveries));
        },
        Qt::QueuedConnection);
}

bool RedisSession::deliver(std::vector<Delivery> deliveries)
{
    QPointer<RedisSession> self(this);
    for (Delivery &delivery : deliveries) {
        if (!delivery.pending.context || !delivery.pending.callback)
            continue; // its context died: dropped
        delivery.pending.callback(std::move(delivery.result));
        if (!self)
            return false;
    }
    return true;
}

} // namespace sluice::store

// The adapter's moc output, compiled here, after the adapter header was included through
// the system include path (its hiredis headers are not -Wpedantic clean).
#include "adapters/moc_qt.cpp"
