// LoadGenerator against real servers on 127.0.0.1 (the simulated provider, the gateway
// harness), its pacing schedule on a manual clock, its histogram and its options parser.
#include <QTest>

#include "gateway/demosetup.h"
#include "gateway/loadgenerator.h"
#include "gateway/loadoptions.h"
#include "gateway/loadpacer.h"
#include "gateway/loadreport.h"
#include "gateway/simulatorserver.h"
#include "gatewayharness.h"
#include "policy/clock.h"

#include <QJsonObject>
#include <QTcpServer>

#include <memory>
#include <optional>

using namespace sluice;
using namespace sluice::gateway;
using namespace std::chrono_literals;

Q_DECLARE_METATYPE(ProviderKind)

namespace {

constexpr int kTimeoutMs = 30'000; // only guards against hangs

// Instant answers: no time to first token, 1 output token.
SimulatorServerOptions instantSimulator()
{
    SimulatorServerOptions options;
    options.simulator.timeToFirstTokenMilliseconds = {Distribution::Shape::Fixed, 0, 0};
    options.simulator.perTokenLatencyMilliseconds = {Distribution::Shape::Fixed, 0, 0};
    options.simulator.tokensPerSecond = 0;
    options.simulator.outputTokens = {Distribution::Shape::Fixed, 1, 0};
    return options;
}

std::unique_ptr<SimulatorServer> startSimulator(SimulatorServerOptions options)
{
    auto server = std::make_unique<SimulatorServer>(std::move(options));
    if (!server->listen())
        return nullptr;
    return server;
}

LoadOptions quickLoad(const QString &baseUrl)
{
    LoadOptions options;
    options.url = QUrl(baseUrl);
    options.users = 4;
    options.thinkTimeMs = {Distribution::Shape::Normal, 0, 0};
    options.promptTokens = {Distribution::Shape::Normal, 20, 5};
    options.maxTokens = {Distribution::Shape::Normal, 16, 0};
    options.timeoutMs = 10'000;
    options.seed = 7;
    return options;
}

// Runs `generator` to its end; the stats it finished with.
std::optional<LoadStats> runToEnd(LoadGenerator &generator)
{
    std::optional<LoadStats> result;
    int finishedCount = 0;
    QObject::connect(&generator, &LoadGenerator::finished, &generator, [&](const LoadStats &stats) {
        result = stats;
        ++finishedCount;
    });
    generator.start();
    if (!QTest::qWaitFor([&] { return result.has_value(); }, kTimeoutMs))
        return std::nullopt;
    QTest::qWait(50); // a second finished() would arrive by now
    return finishedCount == 1 ? result : std::nullopt;
}

bool balanced(const LoadStats &stats)
{
    quint64 statusSum = 0;
    for (const auto &[status, count] : stats.statusCounts)
        statusSum += count;
    quint64 errorSum = 0;
    for (const auto &[kind, count] : stats.transportErrors)
        errorSum += count;
    return stats.sent == stats.completed + stats.failed + stats.aborted + stats.inFlight && statusSum == stats.completed
           && errorSum == stats.failed;
}

quint16 refusedPort()
{
    QTcpServer probe;
    probe.listen(QHostAddress::LocalHost, 0);
    return probe.serverPort(); // closed when probe goes
}

} // namespace

class TestLoadGenerator : public QObject {
    Q_OBJECT

private slots:
    void parsesOptions();
    void parseErrorsNameTheOption_data();
    void parseErrorsNameTheOption();
    void endpointUrlAppendsProtocolPath_data();
    void endpointUrlAppendsProtocolPath();

    void pacerPlansStartsFromTheAnchor();
    void pacerDoesNotDriftWhenLate();
    void pacerSkipsSlotsBeyondMaxLag();
    void pacerRateChangeReanchors();
    void histogramQuantiles();

    void requestCapSendsExactly_data();
    void requestCapSendsExactly();
    void streamsRecordTimeToFirstToken_data();
    void streamsRecordTimeToFirstToken();
    void repeatedPromptsHitTheGatewayCache();
    void rateLimitedAnswersAreCounted();
    void refusedPortGivesTransportErrors();
    void unreachableUrlGivesUpOnItsOwn();
    void liveSetUsersChangesConcurrency();
    void stopLetsRequestsInFlightFinish();
    void durationEndsTheRun();
    void rateCapsTheStarts();
    void statsUpdatedWhileRunning();
    void reportJsonHasTheDocumentedShape();
};

void TestLoadGenerator::parsesOptions()
{
    qputenv("SLUICE_TEST_LOAD_KEY", "sk-from-env");
    auto parsed = parseLoadArguments({"--url", "http://127.0.0.1:8080", "--protocol=anthropic", "--models", "a,b,a",
                                      "--users", "50", "--think-ms", "0", "--rate=20", "--duration", "2.5",
                                      "--requests", "100", "--repeat-share", "1", "--stream-share=0",
                                      "--prompt-tokens", "300,10", "--max-tokens", "64", "--timeout-ms", "1500",
                                      "--seed", "9", "--json", "--report-every", "0.5", "--api-key", "k1",
                                      "--api-key=k2"});
    QVERIFY2(parsed.ok(), parsed.ok() ? "" : qPrintable(parsed.error()));
    const LoadOptions &options = *parsed;
    QCOMPARE(options.url, QUrl("http://127.0.0.1:8080"));
    QCOMPARE(options.protocol, ProviderKind::Anthropic);
    QCOMPARE(options.models, QStringList({"a", "b"}));
    QCOMPARE(options.users, 50);
    QCOMPARE(options.thinkTimeMs.mean, 0.0);
    QCOMPARE(options.requestsPerSecond, 20.0);
    QCOMPARE(options.durationSeconds, 2.5);
    QCOMPARE(options.maxRequests, quint64(100));
    QCOMPARE(options.repeatShare, 1.0);
    QCOMPARE(options.streamShare, 0.0);
    QCOMPARE(options.promptTokens.mean, 300.0);
    QCOMPARE(options.promptTokens.spread, 10.0);
    QCOMPARE(options.maxTokens.mean, 64.0);
    QCOMPARE(options.maxTokens.spread, 0.0); // MEAN alone: no spread
    QCOMPARE(options.timeoutMs, 1500);
    QCOMPARE(options.seed, std::optional<quint64>(9));
    QVERIFY(options.json);
    QCOMPARE(options.reportEverySeconds, 0.5);
    QCOMPARE(options.apiKeys, QList<QByteArray>({"k1", "k2"}));

    auto defaults = parseLoadArguments({"--url=http://localhost:1", "--api-key-env", "SLUICE_TEST_LOAD_KEY"});
    QVERIFY(defaults.ok());
    QCOMPARE(defaults->users, 10);
    QCOMPARE(defaults->thinkTimeMs.mean, 1000.0);
    QCOMPARE(defaults->thinkTimeMs.spread, 500.0);
    QCOMPARE(defaults->repeatShare, 0.2);
    QCOMPARE(defaults->streamShare, 0.5);
    QCOMPARE(defaults->timeoutMs, 60000);
    QCOMPARE(defaults->effectiveModels(), QStringList{"gpt-4o-mini"});
    QCOMPARE(defaults->apiKeys, QList<QByteArray>{"sk-from-env"});
    QVERIFY(!defaults->json);
    QVERIFY(!defaults->seed);
}

void TestLoadGenerator::parseErrorsNameTheOption_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("error");
    const QString url = QStringLiteral("--url=http://127.0.0.1:1");
    QTest::newRow("no url") << QStringList{"--users", "3"} << "--url URL is required";
    QTest::newRow("bad url") << QStringList{"--url", "ftp://x"} << "--url: expected an http:// or https:// URL";
    QTest::newRow("not a url") << QStringList{"--url", "127.0.0.1:8080"} << "got \"127.0.0.1:8080\"";
    QTest::newRow("protocol") << QStringList{url, "--protocol", "gemini"} << "--protocol: expected openai or anthropic, got \"gemini\"";
    QTest::newRow("users text") << QStringList{url, "--users", "x"} << "--users: expected a whole number from 1 to 10000, got \"x\"";
    QTest::newRow("users zero") << QStringList{url, "--users=0"} << "--users: expected a whole number from 1 to 10000, got \"0\"";
    QTest::newRow("rate negative") << QStringList{url, "--rate", "-1"} << "--rate: expected a number >= 0, got \"-1\"";
    QTest::newRow("share above 1") << QStringList{url, "--repeat-share", "1.5"}
                                   << "--repeat-share: expected a probability from 0 to 1, got \"1.5\"";
    QTest::newRow("stream share") << QStringList{url, "--stream-share=abc"}
                                  << "--stream-share: expected a probability from 0 to 1, got \"abc\"";
    QTest::newRow("think spread") << QStringList{url, "--think-ms", "100,-5"}
                                  << "--think-ms: expected MEAN[,SPREAD] with numbers >= 0, got \"100,-5\"";
    QTest::newRow("prompt tokens") << QStringList{url, "--prompt-tokens", "1,2,3"}
                                   << "--prompt-tokens: expected MEAN[,SPREAD] with numbers >= 0, got \"1,2,3\"";
    QTest::newRow("timeout zero") << QStringList{url, "--timeout-ms", "0"} << "--timeout-ms: expected a whole number of milliseconds >= 1, got \"0\"";
    QTest::newRow("requests") << QStringList{url, "--requests", "1e3"} << "--requests: expected a whole number >= 0, got \"1e3\"";
    QTest::newRow("missing value") << QStringList{url, "--users"} << "--users: missing value";
    QTest::newRow("value is an option") << QStringList{url, "--users", "--json"} << "--users: missing value";
    QTest::newRow("twice") << QStringList{url, "--users", "1", "--users", "2"} << "--users: given more than once";
    QTest::newRow("json value") << QStringList{url, "--json=yes"} << "--json: takes no value, got \"yes\"";
    QTest::newRow("unknown") << QStringList{url, "--color", "red"} << "unknown option \"--color\"";
    QTest::newRow("positional") << QStringList{url, "extra"} << "unexpected argument \"extra\"";
    QTest::newRow("empty model") << QStringList{url, "--models", "a,,b"} << "--models: expected comma-separated model names, got \"a,,b\"";
    QTest::newRow("env unset") << QStringList{url, "--api-key-env", "SLUICE_TEST_SURELY_UNSET_VAR"}
                               << "--api-key-env: environment variable \"SLUICE_TEST_SURELY_UNSET_VAR\" is not set or empty";
    QTest::newRow("key and env") << QStringList{url, "--api-key", "a", "--api-key-env", "PATH"}
                                 << "--api-key, --api-key-env: use one of them";
}

void TestLoadGenerator::parseErrorsNameTheOption()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, error);
    const auto parsed = parseLoadArguments(arguments);
    QVERIFY(!parsed.ok());
    QVERIFY2(parsed.error().contains(error), qPrintable(parsed.error()));
    QVERIFY(!parsed.error().contains(QLatin1Char('\n')));
}

void TestLoadGenerator::endpointUrlAppendsProtocolPath_data()
{
    QTest::addColumn<QString>("url");
    QTest::addColumn<ProviderKind>("protocol");
    QTest::addColumn<QString>("endpoint");
    QTest::newRow("bare") << "http://127.0.0.1:8080" << ProviderKind::OpenAI << "http://127.0.0.1:8080/v1/chat/completions";
    QTest::newRow("slash") << "http://h:1/" << ProviderKind::Anthropic << "http://h:1/v1/messages";
    QTest::newRow("v1 base") << "http://h:1/v1/" << ProviderKind::OpenAI << "http://h:1/v1/chat/completions";
    QTest::newRow("prefix") << "https://h/api" << ProviderKind::Anthropic << "https://h/api/v1/messages";
}

void TestLoadGenerator::endpointUrlAppendsProtocolPath()
{
    QFETCH(QString, url);
    QFETCH(ProviderKind, protocol);
    QFETCH(QString, endpoint);
    LoadOptions options;
    options.url = QUrl(url);
    options.protocol = protocol;
    QCOMPARE(options.endpointUrl().toString(), endpoint);
}

// --rate 50 --requests 100: start k is planned at anchor + k * 20 ms, never earlier.
void TestLoadGenerator::pacerPlansStartsFromTheAnchor()
{
    policy::ManualClock clock(policy::MonoTime(5s));
    LoadPacer pacer(50);
    pacer.start(clock.now());
    const policy::MonoTime anchor = clock.now();
    for (quint64 k = 0; k < 100; ++k) {
        const policy::MonoTime planned = anchor + k * 20ms;
        QCOMPARE(LoadPacer::plannedStartTime(anchor, 50, k), planned);
        QCOMPARE(pacer.nextStartTime(), std::optional<policy::MonoTime>(planned));
        if (planned > clock.now()) {
            clock.set(planned - 1ns);
            QVERIFY(!pacer.tryAcquire(clock.now()));
        }
        clock.set(planned);
        QVERIFY(pacer.tryAcquire(clock.now()));
    }
    QCOMPARE(pacer.granted(), quint64(100));
    QCOMPARE(pacer.skippedSlots(), quint64(0));
    // The 100 starts span 99 intervals: 1.98 s.
    QCOMPARE(clock.now() - anchor, policy::Nanoseconds(1980ms));

    // A non-integral interval (3 per second) is still exact at every slot.
    QCOMPARE(LoadPacer::plannedStartTime(anchor, 3, 3), anchor + 1s);
    QCOMPARE(LoadPacer::plannedStartTime(anchor, 3, 300), anchor + 100s);
    QCOMPARE(LoadPacer::plannedStartTime(anchor, 3, 1), anchor + 333'333'333ns);
}

// Every acquire 7 ms late (a slow timer): the schedule does not move, so after a second
// exactly 50 starts were taken, not 1000 / 27.
void TestLoadGenerator::pacerDoesNotDriftWhenLate()
{
    policy::ManualClock clock;
    LoadPacer pacer(50);
    pacer.start(clock.now());
    quint64 taken = 0;
    while (clock.now() < policy::MonoTime(1s)) {
        const policy::MonoTime due = *pacer.nextStartTime();
        clock.set(std::max(clock.now(), due + 7ms));
        if (clock.now() >= policy::MonoTime(1s))
            break;
        QVERIFY(pacer.tryAcquire(clock.now()));
        ++taken;
    }
    QCOMPARE(taken, quint64(50));
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(1s));

    // No user free for 300 ms (within maxLag): the due slots are taken at once after.
    clock.set(policy::MonoTime(1300ms));
    int burst = 0;
    while (pacer.tryAcquire(clock.now()))
        ++burst;
    QCOMPARE(burst, 16); // slots at 1.00, 1.02, ..., 1.30 s
    QCOMPARE(pacer.skippedSlots(), quint64(0));
}

void TestLoadGenerator::pacerSkipsSlotsBeyondMaxLag()
{
    policy::ManualClock clock;
    LoadPacer pacer(10, 1s);
    pacer.start(clock.now());
    clock.set(policy::MonoTime(5s));
    int burst = 0;
    while (pacer.tryAcquire(clock.now()))
        ++burst;
    // Slots at 4.0 .. 5.0 s are within a second: 11 of them; the 40 before are skipped.
    QCOMPARE(burst, 11);
    QCOMPARE(pacer.skippedSlots(), quint64(40));
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(5100ms));

    LoadPacer unlimited(0);
    unlimited.start(clock.now());
    QVERIFY(!unlimited.isLimited());
    QVERIFY(!unlimited.nextStartTime());
    for (int i = 0; i < 1000; ++i)
        QVERIFY(unlimited.tryAcquire(clock.now()));
}

void TestLoadGenerator::pacerRateChangeReanchors()
{
    policy::ManualClock clock;
    LoadPacer pacer(10);
    pacer.start(clock.now());
    QVERIFY(pacer.tryAcquire(clock.now())); // slot at 0
    clock.set(policy::MonoTime(50ms));
    // Faster: one new interval (10 ms) after the last start is already past: at once.
    pacer.setRate(100, clock.now());
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(50ms));
    QVERIFY(pacer.tryAcquire(clock.now()));
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(60ms));
    // Slower: one new interval after the last start (at 50 ms).
    pacer.setRate(2, clock.now());
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(550ms));
    QVERIFY(!pacer.tryAcquire(policy::MonoTime(549ms)));
    QVERIFY(pacer.tryAcquire(policy::MonoTime(550ms)));
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(1050ms));
    // The same rate again changes nothing.
    pacer.setRate(2, policy::MonoTime(700ms));
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(1050ms));
    // Unlimited and back.
    pacer.setRate(0, policy::MonoTime(800ms));
    QVERIFY(pacer.tryAcquire(policy::MonoTime(800ms)));
    pacer.setRate(4, policy::MonoTime(810ms));
    QCOMPARE(*pacer.nextStartTime(), policy::MonoTime(1050ms));
}

void TestLoadGenerator::histogramQuantiles()
{
    LatencyHistogram histogram;
    QCOMPARE(histogram.quantileSeconds(0.5), 0.0);
    for (int ms = 1; ms <= 1000; ++ms)
        histogram.record(std::chrono::milliseconds(ms));
    QCOMPARE(histogram.count(), quint64(1000));
    const auto near = [](double actual, double expected) { return std::abs(actual - expected) <= expected * 0.016; };
    QVERIFY2(near(histogram.quantileSeconds(0.50), 0.500), qPrintable(QString::number(histogram.quantileSeconds(0.5))));
    QVERIFY(near(histogram.quantileSeconds(0.95), 0.950));
    QVERIFY(near(histogram.quantileSeconds(0.99), 0.990));
    QCOMPARE(histogram.quantileSeconds(1.0), 1.0); // clamped to the exact maximum
    QVERIFY(near(histogram.quantileSeconds(0.0), 0.001));

    LatencyHistogram exact;
    for (int us = 0; us < 10; ++us)
        exact.record(std::chrono::microseconds(us));
    QCOMPARE(exact.quantileSeconds(0.5), 4e-6); // below 64 µs every value has its own bucket
    LatencyHistogram huge;
    huge.record(std::chrono::hours(24 * 365));
    QVERIFY(huge.quantileSeconds(0.5) > 1e6); // clamped to the top bucket, not lost
}

void TestLoadGenerator::requestCapSendsExactly_data()
{
    QTest::addColumn<ProviderKind>("protocol");
    QTest::addColumn<int>("users");
    QTest::addColumn<int>("requests");
    QTest::newRow("openai 4 users") << ProviderKind::OpenAI << 4 << 25;
    QTest::newRow("anthropic 3 users") << ProviderKind::Anthropic << 3 << 20;
    QTest::newRow("more users than requests") << ProviderKind::OpenAI << 12 << 5;
}

void TestLoadGenerator::requestCapSendsExactly()
{
    QFETCH(ProviderKind, protocol);
    QFETCH(int, users);
    QFETCH(int, requests);
    auto simulator = startSimulator(instantSimulator());
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.protocol = protocol;
    options.users = users;
    options.maxRequests = quint64(requests);
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QCOMPARE(stats->sent, quint64(requests));
    QCOMPARE(stats->completed, quint64(requests));
    QCOMPARE(stats->statusCount(200), quint64(requests));
    QCOMPARE(stats->failed, quint64(0));
    QCOMPARE(stats->inFlight, quint64(0));
    QVERIFY(balanced(*stats));
    QVERIFY(stats->reachedServer);
    QVERIFY(!stats->running);
    QCOMPARE(stats->latencySeconds.count, quint64(requests));
    QVERIFY(stats->inputTokens >= qint64(requests) * 5);
    QCOMPARE(stats->outputTokens, qint64(requests)); // one token per answer
    // The server saw exactly as many chat requests, all answered.
    QCOMPARE(simulator->stats().chatRequests, quint64(requests));
    QCOMPARE(simulator->stats().faultCount(SimulatedFault::None), quint64(requests));
    QVERIFY(!generator.isRunning());
}

void TestLoadGenerator::streamsRecordTimeToFirstToken_data()
{
    QTest::addColumn<ProviderKind>("protocol");
    QTest::newRow("openai") << ProviderKind::OpenAI;
    QTest::newRow("anthropic") << ProviderKind::Anthropic;
}

void TestLoadGenerator::streamsRecordTimeToFirstToken()
{
    QFETCH(ProviderKind, protocol);
    SimulatorServerOptions simulatorOptions = instantSimulator();
    simulatorOptions.simulator.outputTokens = {Distribution::Shape::Fixed, 5, 0};
    auto simulator = startSimulator(simulatorOptions);
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.protocol = protocol;
    options.streamShare = 1;
    options.maxRequests = 10;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QCOMPARE(stats->statusCount(200), quint64(10));
    QCOMPARE(stats->ttftSeconds.count, quint64(10));
    QVERIFY(stats->ttftSeconds.p50 <= stats->latencySeconds.max);
    // Usage read from the streams (OpenAI: stream_options.include_usage).
    QCOMPARE(stats->outputTokens, qint64(50));
    QVERIFY(stats->inputTokens > 0);
    QCOMPARE(stats->streamErrors, quint64(0));

    // No streams: no TTFT samples.
    LoadOptions plain = options;
    plain.streamShare = 0;
    LoadGenerator plainGenerator(plain);
    const auto plainStats = runToEnd(plainGenerator);
    QVERIFY(plainStats);
    QCOMPARE(plainStats->ttftSeconds.count, quint64(0));
    QCOMPARE(plainStats->outputTokens, qint64(50));
}

void TestLoadGenerator::repeatedPromptsHitTheGatewayCache()
{
    test::GatewayHarness harness;
    QVERIFY2(harness.startError.isEmpty(), qPrintable(harness.startError));
    LoadOptions options = quickLoad(QStringLiteral("http://127.0.0.1:%1").arg(harness.port));
    options.apiKeys = {gateway::kDemoClientKey};
    options.models = {QStringLiteral("gpt-4o-mini"), QStringLiteral("gpt-4o")};
    options.repeatShare = 1;
    options.streamShare = 0;
    options.users = 2;
    options.maxRequests = 60;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QCOMPARE(stats->statusCount(200), quint64(60));
    // 16 distinct requests at most: at least 44 answers come from the cache.
    QVERIFY2(stats->cacheHits >= 44, qPrintable(QString::number(stats->cacheHits)));
    QVERIFY(harness.simulator->stats().chatRequests <= quint64(loadRepeatPoolSize));

    // Unique prompts never hit.
    LoadOptions unique = options;
    unique.repeatShare = 0;
    unique.maxRequests = 20;
    LoadGenerator uniqueGenerator(unique);
    const auto uniqueStats = runToEnd(uniqueGenerator);
    QVERIFY(uniqueStats);
    QCOMPARE(uniqueStats->statusCount(200), quint64(20));
    QCOMPARE(uniqueStats->cacheHits, quint64(0));
}

void TestLoadGenerator::rateLimitedAnswersAreCounted()
{
    SimulatorServerOptions simulatorOptions = instantSimulator();
    simulatorOptions.simulator.faults.rateLimited = 1;
    auto simulator = startSimulator(simulatorOptions);
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.maxRequests = 12;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QCOMPARE(stats->sent, quint64(12));
    QCOMPARE(stats->completed, quint64(12));
    QCOMPARE(stats->statusCount(429), quint64(12));
    QCOMPARE(stats->statusCount(200), quint64(0));
    QCOMPARE(stats->outputTokens, qint64(0));
    QVERIFY(stats->reachedServer);
    QVERIFY(balanced(*stats));
}

void TestLoadGenerator::refusedPortGivesTransportErrors()
{
    LoadOptions options = quickLoad(QStringLiteral("http://127.0.0.1:%1").arg(refusedPort()));
    options.users = 2;
    options.maxRequests = 3;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QCOMPARE(stats->sent, quint64(3));
    QCOMPARE(stats->failed, quint64(3));
    QCOMPARE(stats->completed, quint64(0));
    QCOMPARE(stats->transportErrorCount(QStringLiteral("connection_refused")), quint64(3));
    QVERIFY(!stats->reachedServer);
    QVERIFY(!stats->gaveUp);
    QVERIFY(balanced(*stats));
}

// No cap, no duration: the generator still ends by itself when nothing answers.
void TestLoadGenerator::unreachableUrlGivesUpOnItsOwn()
{
    LoadOptions options = quickLoad(QStringLiteral("http://127.0.0.1:%1").arg(refusedPort()));
    options.users = 1;
    options.unreachableAttemptsLimit = 5;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QVERIFY(stats->gaveUp);
    QCOMPARE(stats->failed, quint64(5));
    QCOMPARE(stats->sent, quint64(5));
    QVERIFY(!stats->reachedServer);
}

void TestLoadGenerator::liveSetUsersChangesConcurrency()
{
    // Answers take 400 ms: with no think time, every user is almost always in flight.
    SimulatorServerOptions simulatorOptions = instantSimulator();
    simulatorOptions.simulator.timeToFirstTokenMilliseconds = {Distribution::Shape::Fixed, 400, 0};
    auto simulator = startSimulator(simulatorOptions);
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.users = 2;
    LoadGenerator generator(options);
    std::optional<LoadStats> finalStats;
    quint64 maxInFlight = 0;
    connect(&generator, &LoadGenerator::statsUpdated, this,
            [&](const LoadStats &stats) { maxInFlight = std::max(maxInFlight, stats.inFlight); });
    connect(&generator, &LoadGenerator::finished, this, [&](const LoadStats &stats) { finalStats = stats; });
    generator.start();
    QTRY_COMPARE_WITH_TIMEOUT(generator.stats().inFlight, quint64(2), kTimeoutMs);
    QTRY_VERIFY_WITH_TIMEOUT(generator.stats().completed >= 4, kTimeoutMs);
    QCOMPARE(maxInFlight <= 2, true);
    QCOMPARE(simulator->stats().inFlight <= 2, true);

    generator.setUsers(6);
    QCOMPARE(generator.stats().users, 6);
    QTRY_COMPARE_WITH_TIMEOUT(generator.stats().inFlight, quint64(6), kTimeoutMs);
    QTRY_COMPARE_WITH_TIMEOUT(simulator->stats().inFlight, quint64(6), kTimeoutMs);

    // Fewer: busy users leave after their answer.
    generator.setUsers(1);
    QCOMPARE(generator.stats().users, 1);
    QTRY_COMPARE_WITH_TIMEOUT(simulator->stats().inFlight, quint64(1), kTimeoutMs);
    maxInFlight = 0;
    QTest::qWait(900);
    QVERIFY(generator.stats().inFlight <= 1);
    QVERIFY(maxInFlight <= 1);

    generator.abort();
    QTRY_VERIFY_WITH_TIMEOUT(finalStats.has_value(), kTimeoutMs);
    QVERIFY(balanced(*finalStats));
    QCOMPARE(finalStats->inFlight, quint64(0));
    QVERIFY(finalStats->aborted <= 1);
    QCOMPARE(finalStats->failed, quint64(0));
}

void TestLoadGenerator::stopLetsRequestsInFlightFinish()
{
    SimulatorServerOptions simulatorOptions = instantSimulator();
    simulatorOptions.simulator.timeToFirstTokenMilliseconds = {Distribution::Shape::Fixed, 300, 0};
    auto simulator = startSimulator(simulatorOptions);
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.users = 3;
    LoadGenerator generator(options);
    std::optional<LoadStats> finalStats;
    int finishedCount = 0;
    connect(&generator, &LoadGenerator::finished, this, [&](const LoadStats &stats) {
        finalStats = stats;
        ++finishedCount;
    });
    generator.start();
    QTRY_COMPARE_WITH_TIMEOUT(generator.stats().inFlight, quint64(3), kTimeoutMs);
    generator.stop();
    QVERIFY(!generator.isSending());
    const quint64 sentAtStop = generator.stats().sent;
    QVERIFY(!finalStats); // not from inside stop(), and not before the answers
    QTRY_VERIFY_WITH_TIMEOUT(finalStats.has_value(), kTimeoutMs);
    QCOMPARE(finalStats->sent, sentAtStop);
    QCOMPARE(finalStats->completed, sentAtStop);
    QCOMPARE(finalStats->aborted, quint64(0));
    QCOMPARE(finalStats->statusCount(200), sentAtStop);
    generator.stop(); // again: nothing more
    generator.start(); // a generator runs once
    QTest::qWait(100);
    QCOMPARE(finishedCount, 1);
    QCOMPARE(generator.stats().sent, sentAtStop);
}

void TestLoadGenerator::durationEndsTheRun()
{
    auto simulator = startSimulator(instantSimulator());
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.users = 2;
    options.thinkTimeMs = {Distribution::Shape::Normal, 20, 5};
    options.durationSeconds = 0.3;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QVERIFY(stats->sent > 0);
    QCOMPARE(stats->completed, stats->sent);
    QVERIFY(stats->elapsedSeconds >= 0.29);
    QVERIFY(stats->requestsPerSecond > 0);
}

// --users 20 --think-ms 0 --rate 20 --duration 1: the slots due before the deadline are
// 0, 50, ..., 950 ms, so 20 starts at most, however fast the simulator answers; the lower
// bound only allows for a loaded machine.
void TestLoadGenerator::rateCapsTheStarts()
{
    auto simulator = startSimulator(instantSimulator());
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.users = 20;
    options.requestsPerSecond = 20;
    options.durationSeconds = 1;
    LoadGenerator generator(options);
    const auto stats = runToEnd(generator);
    QVERIFY(stats);
    QVERIFY2(stats->sent <= 20 && stats->sent >= 15, qPrintable(QString::number(stats->sent)));
    QCOMPARE(stats->completed, stats->sent);
    QCOMPARE(simulator->stats().chatRequests, stats->sent);
}

void TestLoadGenerator::statsUpdatedWhileRunning()
{
    SimulatorServerOptions simulatorOptions = instantSimulator();
    simulatorOptions.simulator.timeToFirstTokenMilliseconds = {Distribution::Shape::Fixed, 50, 0};
    auto simulator = startSimulator(simulatorOptions);
    QVERIFY(simulator);
    LoadOptions options = quickLoad(simulator->baseUrl());
    options.users = 2;
    LoadGenerator generator(options);
    QList<LoadStats> updates;
    connect(&generator, &LoadGenerator::statsUpdated, this, [&](const LoadStats &stats) { updates.append(stats); });
    generator.start();
    QTRY_VERIFY_WITH_TIMEOUT(updates.size() >= 3, kTimeoutMs);
    QVERIFY(updates.last().running);
    QVERIFY(updates.last().sent >= updates.first().sent);
    QCOMPARE(updates.last().users, 2);
    generator.abort();
    QTRY_VERIFY_WITH_TIMEOUT(!generator.isRunning(), kTimeoutMs);
    const qsizetype afterEnd = updates.size();
    QTest::qWait(600);
    QCOMPARE(updates.size(), afterEnd); // none once finished
}

void TestLoadGenerator::reportJsonHasTheDocumentedShape()
{
    LoadStats stats;
    stats.sent = 5;
    stats.completed = 4;
    stats.failed = 1;
    stats.statusCounts = {{200, 3}, {429, 1}};
    stats.transportErrors = {{QStringLiteral("connection_reset"), 1}};
    stats.cacheHits = 2;
    stats.inputTokens = 100;
    stats.outputTokens = 40;
    stats.elapsedSeconds = 2;
    stats.requestsPerSecond = 2.5;
    stats.latencySeconds = {4, 0.1, 0.2, 0.3, 0.3};
    const QJsonObject json = loadStatsJson(stats);
    QCOMPARE(json.value("sent").toInteger(), 5);
    QCOMPARE(json.value("completed").toInteger(), 4);
    QCOMPARE(json.value("status").toObject().value("200").toInteger(), 3);
    QCOMPARE(json.value("status").toObject().value("429").toInteger(), 1);
    QCOMPARE(json.value("transport_errors").toObject().value("connection_reset").toInteger(), 1);
    QCOMPARE(json.value("cache_hits").toInteger(), 2);
    QCOMPARE(json.value("duration_seconds").toDouble(), 2.0);
    QCOMPARE(json.value("requests_per_second").toDouble(), 2.5);
    QCOMPARE(json.value("latency_seconds").toObject().value("p95").toDouble(), 0.2);
    QVERIFY(json.value("ttft_seconds").toObject().contains("p50"));
    QCOMPARE(json.value("tokens").toObject().value("input").toInteger(), 100);
    QCOMPARE(json.value("tokens").toObject().value("output").toInteger(), 40);
    const QString text = formatLoadReport(stats);
    QVERIFY(text.contains("200: 3") && text.contains("429: 1") && text.contains("connection_reset 1"));
    QVERIFY(!formatLoadProgress(stats).contains(QLatin1Char('\n')));
}

QTEST_GUILESS_MAIN(TestLoadGenerator)
#include "tst_loadgenerator.moc"
