#pragma once

#include "policy/result.h"

#include <QObject>
#include <QString>

#include <functional>
#include <optional>

namespace sluice::models {

struct SecretError {
    enum class Kind {
        NotFound,     // no secret under that key
        AccessDenied, // the user refused, or the keychain is locked
        Unavailable,  // no secret service on this machine (headless box, no D-Bus)
        Other,
    };
    Kind kind = Kind::Other;
    QString message; // from the backend, for the user
};

// Where the console keeps secrets (admin tokens, passwords): keys are
// "<profile name>/<field>" (ProfileStore's choice), values are text.
//
// Asynchronous: every call returns at once and its callback runs exactly once, later,
// from the event loop of `context`'s thread — never from inside the call — and only
// while `context` lives (it is dropped silently if `context` is destroyed first).
// `context` must not be null. Operations on one store complete in the order they were
// started.
//
// Thread affinity: the thread that created the store (the GUI thread).
class SecretStore {
public:
    using ReadCallback = std::function<void(Result<QString, SecretError>)>;
    // nullopt: done.
    using WriteCallback = std::function<void(std::optional<SecretError>)>;

    virtual ~SecretStore() = default;

    // NotFound when nothing is stored under `key`.
    virtual void read(const QString &key, QObject *context, ReadCallback done) = 0;
    // Creates or replaces.
    virtual void write(const QString &key, const QString &secret, QObject *context, WriteCallback done) = 0;
    // Removing a key that holds nothing succeeds.
    virtual void remove(const QString &key, QObject *context, WriteCallback done) = 0;
};

} // namespace sluice::models
