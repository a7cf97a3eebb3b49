#include <QFile>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include "config/pricetableloader.h"

using sluice::config::loadPriceTable;
using sluice::config::loadPriceTableFile;
using sluice::config::PriceTableResult;

namespace {

// A valid table whose one model, "gpt-4o", has the given body.
QByteArray tableWithModel(const QByteArray &modelBody)
{
    return R"({"as_of": "2025-08-15", "currency": "USD", "models": {"gpt-4o": )" + modelBody + "}}";
}

QStringList errorsOf(const PriceTableResult &result)
{
    QStringList errors;
    if (!result.ok()) {
        for (const std::string &error : result.error())
            errors << QString::fromStdString(error);
    }
    return errors;
}

} // namespace

class TestPriceTable : public QObject {
    Q_OBJECT
private slots:
    void defaultTableLoads()
    {
        const PriceTableResult table = sluice::config::defaultPriceTable();
        QCOMPARE(errorsOf(table), QStringList());
        QVERIFY(QRegularExpression(QStringLiteral("^20[0-9]{2}-[01][0-9]-[0-3][0-9]$"))
                    .match(QString::fromStdString(table->asOf))
                    .hasMatch());
        QCOMPARE(table->currency, std::string("USD"));
        QVERIFY(QString::fromStdString(table->source).contains(QLatin1String("contract prices")));
    }

    void defaultTableIsPlausible()
    {
        const PriceTableResult table = sluice::config::defaultPriceTable();
        QVERIFY(table.ok());
        QVERIFY(table->models.size() >= 20);
        for (const auto &[name, price] : table->models) {
            const QByteArray what = QByteArray::fromStdString(name);
            QVERIFY2(price.inputPerMTokUsd > 0.0, what.constData());
            QVERIFY2(price.outputPerMTokUsd >= price.inputPerMTokUsd, what.constData());
            QVERIFY2(price.effectiveCachedInputPerMTokUsd() <= price.inputPerMTokUsd, what.constData());
            QVERIFY2(price.effectiveCacheWritePerMTokUsd() >= price.inputPerMTokUsd, what.constData());
            QCOMPARE(price.perRequestUsd, 0.0);
        }
    }

    void defaultTableHasProviderFamilies_data()
    {
        QTest::addColumn<QString>("modelName");
        QTest::addColumn<QString>("expectedKey");

        QTest::newRow("gpt-4o dated") << "gpt-4o-2024-08-06" << "gpt-4o";
        QTest::newRow("gpt-4o-mini dated") << "gpt-4o-mini-2024-07-18" << "gpt-4o-mini";
        QTest::newRow("gpt-4.1") << "gpt-4.1-2025-04-14" << "gpt-4.1";
        QTest::newRow("gpt-4.1-mini") << "gpt-4.1-mini-2025-04-14" << "gpt-4.1-mini";
        QTest::newRow("gpt-4.1-nano") << "gpt-4.1-nano" << "gpt-4.1-nano";
        QTest::newRow("o3") << "o3-2025-04-16" << "o3";
        QTest::newRow("o4-mini") << "o4-mini-2025-04-16" << "o4-mini";
        QTest::newRow("o1") << "o1-2024-12-17" << "o1";
        QTest::newRow("gpt-3.5-turbo") << "gpt-3.5-turbo-0125" << "gpt-3.5-turbo";
        QTest::newRow("claude-opus-4") << "claude-opus-4-20250514" << "claude-opus-4";
        QTest::newRow("claude-opus-4-1") << "claude-opus-4-1-20250805" << "claude-opus-4";
        QTest::newRow("claude-sonnet-4") << "claude-sonnet-4-20250514" << "claude-sonnet-4";
        QTest::newRow("claude-3-7-sonnet") << "claude-3-7-sonnet-20250219" << "claude-3-7-sonnet";
        QTest::newRow("claude-3-5-sonnet") << "claude-3-5-sonnet-20241022" << "claude-3-5-sonnet";
        QTest::newRow("claude-3-5-haiku") << "claude-3-5-haiku-20241022" << "claude-3-5-haiku";
        QTest::newRow("claude-3-haiku") << "claude-3-haiku-20240307" << "claude-3-haiku";
        QTest::newRow("gemini-2.5-pro") << "gemini-2.5-pro" << "gemini-2.5-pro";
        QTest::newRow("gemini-2.5-flash preview") << "gemini-2.5-flash-preview-05-20" << "gemini-2.5-flash";
        QTest::newRow("gemini-2.0-flash") << "gemini-2.0-flash-001" << "gemini-2.0-flash";
        QTest::newRow("gemini-1.5-pro") << "gemini-1.5-pro-002" << "gemini-1.5-pro";
        QTest::newRow("gemini-1.5-flash") << "gemini-1.5-flash-002" << "gemini-1.5-flash";
    }

    void defaultTableHasProviderFamilies()
    {
        QFETCH(QString, modelName);
        QFETCH(QString, expectedKey);
        const PriceTableResult table = sluice::config::defaultPriceTable();
        QVERIFY(table.ok());
        const auto match = table->find(modelName.toStdString());
        QVERIFY(match.has_value());
        QCOMPARE(QString::fromStdString(std::string(match->key)), expectedKey);
    }

    void defaultTableHasAnthropicCacheWritePrices()
    {
        const PriceTableResult table = sluice::config::defaultPriceTable();
        QVERIFY(table.ok());
        const auto sonnet = table->find("claude-sonnet-4-20250514");
        QVERIFY(sonnet.has_value());
        QCOMPARE(sonnet->price.effectiveCacheWritePerMTokUsd(), sonnet->price.inputPerMTokUsd * 1.25);
        QCOMPARE(sonnet->price.effectiveCachedInputPerMTokUsd(), sonnet->price.inputPerMTokUsd * 0.1);
    }

    void loadsEveryField()
    {
        const PriceTableResult table = loadPriceTable(R"({
            "as_of": "2025-01-31",
            "currency": "USD",
            "source": "contract 42",
            "models": {
                "full": {"input_per_mtok": 3, "output_per_mtok": 15, "cached_input_per_mtok": 0.3,
                         "cache_write_per_mtok": 3.75, "per_request_usd": 0.01},
                "minimal": {"input_per_mtok": 0, "output_per_mtok": 0.5}
            }
        })");
        QCOMPARE(errorsOf(table), QStringList());
        QCOMPARE(table->asOf, std::string("2025-01-31"));
        QCOMPARE(table->source, std::string("contract 42"));
        QCOMPARE(table->models.size(), std::size_t{2});

        const sluice::policy::ModelPrice &full = table->models.at("full");
        QCOMPARE(full.inputPerMTokUsd, 3.0);
        QCOMPARE(full.outputPerMTokUsd, 15.0);
        QCOMPARE(full.cachedInputPerMTokUsd, std::optional<double>(0.3));
        QCOMPARE(full.cacheWritePerMTokUsd, std::optional<double>(3.75));
        QCOMPARE(full.perRequestUsd, 0.01);

        const sluice::policy::ModelPrice &minimal = table->models.at("minimal");
        QCOMPARE(minimal.inputPerMTokUsd, 0.0);
        QCOMPARE(minimal.outputPerMTokUsd, 0.5);
        QVERIFY(!minimal.cachedInputPerMTokUsd.has_value());
        QVERIFY(!minimal.cacheWritePerMTokUsd.has_value());
        QCOMPARE(minimal.perRequestUsd, 0.0);
    }

    void rejectsBadTables_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QStringList>("expectedErrors");

        QTest::newRow("negative price") << tableWithModel(R"({"input_per_mtok": -1, "output_per_mtok": 10})")
                                        << QStringList{R"(models["gpt-4o"].input_per_mtok: must be >= 0, got -1)"};
        QTest::newRow("negative fraction")
            << tableWithModel(R"({"input_per_mtok": 1, "output_per_mtok": 1, "per_request_usd": -0.25})")
            << QStringList{R"(models["gpt-4o"].per_request_usd: must be >= 0, got -0.25)"};
        QTest::newRow("price as string") << tableWithModel(R"({"input_per_mtok": 1, "output_per_mtok": "10"})")
                                         << QStringList{R"(models["gpt-4o"].output_per_mtok: must be a number, got string)"};
        QTest::newRow("null optional price")
            << tableWithModel(R"({"input_per_mtok": 1, "output_per_mtok": 1, "cached_input_per_mtok": null})")
            << QStringList{R"(models["gpt-4o"].cached_input_per_mtok: must be a number, got null)"};
        QTest::newRow("missing output") << tableWithModel(R"({"input_per_mtok": 1})")
                                        << QStringList{R"(models["gpt-4o"].output_per_mtok: required)"};
        QTest::newRow("misspelt field")
            << tableWithModel(R"({"input_per_mtk": 1, "output_per_mtok": 1})")
            << QStringList{R"(models["gpt-4o"].input_per_mtk: unknown field)",
                           R"(models["gpt-4o"].input_per_mtok: required)"};
        QTest::newRow("model not an object") << tableWithModel("2.5")
                                             << QStringList{R"(models["gpt-4o"]: must be an object, got number)"};
        QTest::newRow("every model reported")
            << QByteArray(R"({"as_of": "2025-08-15", "currency": "USD", "models": {
                   "a": {"input_per_mtok": -2, "output_per_mtok": 1},
                   "b": {"input_per_mtok": 1, "output_per_mtok": true}}})")
            << QStringList{R"(models["a"].input_per_mtok: must be >= 0, got -2)",
                           R"(models["b"].output_per_mtok: must be a number, got bool)"};
        QTest::newRow("empty model name")
            << QByteArray(R"({"as_of": "2025-08-15", "currency": "USD", "models": {"": {}}})")
            << QStringList{R"(models[""]: model name must be non-empty without surrounding spaces)"};
        QTest::newRow("quote in model name is escaped")
            << QByteArray("{\"as_of\": \"2025-08-15\", \"currency\": \"USD\", \"models\": {\"a\\\"b\": 1}}")
            << QStringList{"models[\"a\\\"b\"]: must be an object, got number"};
        QTest::newRow("unknown top-level field")
            << QByteArray(R"({"as_of": "2025-08-15", "currency": "USD", "modles": {}})")
            << QStringList{"modles: unknown field", "models: required"};
        QTest::newRow("missing as_of") << QByteArray(R"({"currency": "USD", "models": {"m": {"input_per_mtok": 1, "output_per_mtok": 1}}})")
                                       << QStringList{"as_of: required"};
        QTest::newRow("as_of not a date")
            << QByteArray(R"({"as_of": "2025-13-01", "currency": "USD", "models": {"m": {"input_per_mtok": 1, "output_per_mtok": 1}}})")
            << QStringList{R"(as_of: must be a date YYYY-MM-DD, got "2025-13-01")"};
        QTest::newRow("as_of a number")
            << QByteArray(R"({"as_of": 20250815, "currency": "USD", "models": {"m": {"input_per_mtok": 1, "output_per_mtok": 1}}})")
            << QStringList{"as_of: must be a string, got number"};
        QTest::newRow("other currency")
            << QByteArray(R"({"as_of": "2025-08-15", "currency": "EUR", "models": {"m": {"input_per_mtok": 1, "output_per_mtok": 1}}})")
            << QStringList{R"(currency: must be "USD", got "EUR")"};
        QTest::newRow("source not a string")
            << QByteArray(R"({"as_of": "2025-08-15", "currency": "USD", "source": false, "models": {"m": {"input_per_mtok": 1, "output_per_mtok": 1}}})")
            << QStringList{"source: must be a string, got bool"};
        QTest::newRow("models an array") << QByteArray(R"({"as_of": "2025-08-15", "currency": "USD", "models": []})")
                                         << QStringList{"models: must be an object, got array"};
        QTest::newRow("no models") << QByteArray(R"({"as_of": "2025-08-15", "currency": "USD", "models": {}})")
                                   << QStringList{"models: must contain at least one model"};
        QTest::newRow("document an array") << QByteArray("[1, 2]") << QStringList{"$: must be an object, got array"};
        QTest::newRow("everything wrong at once")
            << QByteArray(R"({"as_of": "soon", "currency": "usd", "models": {"m": {"input_per_mtok": -1}}})")
            << QStringList{R"(as_of: must be a date YYYY-MM-DD, got "soon")", R"(currency: must be "USD", got "usd")",
                           R"(models["m"].input_per_mtok: must be >= 0, got -1)",
                           R"(models["m"].output_per_mtok: required)"};
    }

    void rejectsBadTables()
    {
        QFETCH(QByteArray, json);
        QFETCH(QStringList, expectedErrors);
        const PriceTableResult table = loadPriceTable(json);
        QVERIFY(!table.ok());
        QCOMPARE(errorsOf(table), expectedErrors);
    }

    void reportsSyntaxErrorPosition_data()
    {
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("expectedError");

        // Qt reports the offset where it gave up, which may be just past the
        // offending character; the loader turns that offset into line:column.
        QTest::newRow("missing comma") << QByteArray("{\n  \"as_of\": \"x\"\n  \"currency\": \"USD\"\n}")
                                       << "line 3, column 4: unterminated object";
        QTest::newRow("trailing comma") << QByteArray("{\n  \"a\": 1,\n}")
                                        << "line 3, column 2: object is missing after a comma";
        QTest::newRow("unterminated array") << QByteArray("{\n  \"a\": [1, 2\n}")
                                            << "line 3, column 2: unterminated array";
        QTest::newRow("empty document") << QByteArray() << "line 1, column 1: illegal value";
        QTest::newRow("number out of range") << QByteArray(R"({"a": 1e999})") << "line 1, column 12: illegal number";
        QTest::newRow("trailing garbage") << QByteArray(R"({"a":1}{)")
                                          << "line 1, column 8: garbage at the end of the document";
        // "é" and "ü" are two bytes each in UTF-8 but one column each.
        QTest::newRow("columns count characters") << QByteArray("{\n  \"\xc3\xa9\": \"\xc3\xbc\" x}")
                                                  << "line 2, column 13: unterminated object";
    }

    void reportsSyntaxErrorPosition()
    {
        QFETCH(QByteArray, json);
        QFETCH(QString, expectedError);
        QCOMPARE(errorsOf(loadPriceTable(json)), QStringList{expectedError});
    }

    void loadsFile()
    {
        QTemporaryDir directory;
        QVERIFY(directory.isValid());
        const QString path = directory.filePath(QStringLiteral("prices.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(tableWithModel(R"({"input_per_mtok": 2.5, "output_per_mtok": 10})"));
        file.close();

        const PriceTableResult table = loadPriceTableFile(path);
        QCOMPARE(errorsOf(table), QStringList());
        QCOMPARE(table->models.at("gpt-4o").outputPerMTokUsd, 10.0);
    }

    void fileErrorsNameTheFile()
    {
        QTemporaryDir directory;
        QVERIFY(directory.isValid());
        const QString path = directory.filePath(QStringLiteral("bad.json"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(tableWithModel(R"({"input_per_mtok": -1, "output_per_mtok": 10})"));
        file.close();

        QCOMPARE(errorsOf(loadPriceTableFile(path)),
                 QStringList{path + QStringLiteral(R"(: models["gpt-4o"].input_per_mtok: must be >= 0, got -1)")});
    }

    void missingFileIsAnError()
    {
        QTemporaryDir directory;
        QVERIFY(directory.isValid());
        const QString path = directory.filePath(QStringLiteral("absent.json"));
        const QStringList errors = errorsOf(loadPriceTableFile(path));
        QCOMPARE(errors.size(), 1);
        QVERIFY2(errors.first().startsWith(path + QStringLiteral(": cannot read: ")), qPrintable(errors.first()));
    }
};

QTEST_APPLESS_MAIN(TestPriceTable)
#include "tst_pricetable.moc"
