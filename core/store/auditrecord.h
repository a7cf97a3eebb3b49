#pragma once

#include <QByteArray>
#include <QDateTime>
#include <QString>

#include <cstdint>
#include <variant>

namespace sluice::store {

// A configuration version as it went into service: a row of `config_versions`. Plain
// data; handed to UsageWriter::submitConfigVersion().
//
// One version number is one row, whoever writes it first: every instance that runs the
// version submits it (the one that applied it, and those that adopted it from Redis).
struct ConfigVersionRecord {
    std::int64_t version = 0;
    QDateTime appliedAt;   // invalid = the time of submit(); stored as UTC
    QString who;           // ApplyOrigin::who: "admin-token", "startup", "redis", ...
    QString comment;       // X-Sluice-Comment, or empty
    QByteArray configJson; // the whole configuration, compact JSON object (config::toJson)
    // True on the instance where the version was made (an admin PUT/PATCH, a reload): its
    // who, comment and applied_at replace those of a row an adopting instance wrote first.
    // False (startup, adopted): an existing row is left as it is.
    bool originatedHere = false;
};

// One administrative action: a row of `audit`. Plain data; handed to
// UsageWriter::submitAudit().
struct AuditEvent {
    QDateTime timestamp; // invalid = the time of submit(); stored as UTC
    QString who;
    QString fromAddress; // the client address as the gateway saw it; empty if not from the network
    QString action;      // "config.apply", "config.adopt", "cache.flush", ...
    QByteArray diffJson; // what changed, as JSON text; empty = NULL
    // Unique per event, so a batch retried after a commit whose outcome was unknown does
    // not log the event twice (audit.event_id). Empty = a random UUID assigned by submit().
    QString eventId;
};

// What the writer's audit buffer holds.
using AuditItem = std::variant<ConfigVersionRecord, AuditEvent>;

} // namespace sluice::store
