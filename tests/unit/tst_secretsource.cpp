#include <QTest>

#include <QFile>
#include <QTemporaryDir>

#include "config/secretsource.h"

using namespace sluice::config;

class TestSecretSource : public QObject {
    Q_OBJECT

private slots:
    void neitherSourceIsAnEmptySecret()
    {
        const auto secret = readSecret({});
        QVERIFY(bool(secret));
        QVERIFY(secret->isEmpty());
    }

    void readsAndTrimsTheVariable()
    {
        qputenv("SLUICE_TEST_SECRET", "  s3cret\n");
        const auto secret = readSecret({QStringLiteral("SLUICE_TEST_SECRET"), QStringLiteral("x.key_env"), {}, {}});
        QVERIFY(bool(secret));
        QCOMPARE(*secret, QByteArray("s3cret"));
    }

    void unsetOrEmptyVariableNamesTheField()
    {
        qunsetenv("SLUICE_TEST_SECRET_UNSET");
        const auto unset = readSecret({QStringLiteral("SLUICE_TEST_SECRET_UNSET"), QStringLiteral("x.key_env"), {}, {}});
        QVERIFY(!unset);
        QCOMPARE(unset.error(), QStringLiteral("x.key_env: environment variable SLUICE_TEST_SECRET_UNSET is not set or empty"));
        qputenv("SLUICE_TEST_SECRET_BLANK", "  ");
        QVERIFY(!readSecret({QStringLiteral("SLUICE_TEST_SECRET_BLANK"), QStringLiteral("x.key_env"), {}, {}}));
    }

    void readsTheFileAndReportsItsProblems()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("key"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("file-secret\n");
        file.close();
        const auto secret = readSecret({{}, {}, path, QStringLiteral("x.key_file")});
        QVERIFY(bool(secret));
        QCOMPARE(*secret, QByteArray("file-secret"));

        const QString missing = dir.filePath(QStringLiteral("absent"));
        const auto absent = readSecret({{}, {}, missing, QStringLiteral("x.key_file")});
        QVERIFY(!absent);
        QVERIFY2(absent.error().startsWith(QStringLiteral("x.key_file: cannot read ") + missing + QStringLiteral(": ")),
                 qPrintable(absent.error()));

        QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
        file.write(" \n");
        file.close();
        const auto empty = readSecret({{}, {}, path, QStringLiteral("x.key_file")});
        QVERIFY(!empty);
        QCOMPARE(empty.error(), QStringLiteral("x.key_file: %1 is empty").arg(path));
    }
};

QTEST_GUILESS_MAIN(TestSecretSource)
#include "tst_secretsource.moc"
