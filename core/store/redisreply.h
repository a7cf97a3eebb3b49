#pragma once

#include <QByteArray>

#include <cstdint>
#include <vector>

struct redisReply;

namespace sluice::store {

// One Redis answer as a value: nil, integer, bulk string, status ("OK", "PONG"), error
// (nested in an array, e.g. in EXEC or a script's table; a top-level error answer is
// delivered as a StoreError instead, see RedisSession) or an array of answers.
// Copies are cheap for scalars (implicitly shared bytes); arrays copy their elements.
class RedisReply {
public:
    enum class Type { Nil, Integer, String, Status, Error, Array };

    RedisReply() = default; // Nil

    static RedisReply nil() { return {}; }
    static RedisReply integer(std::int64_t value);
    static RedisReply string(QByteArray bytes);
    static RedisReply status(QByteArray text);
    static RedisReply error(QByteArray message);
    static RedisReply array(std::vector<RedisReply> elements);

    // The one place a hiredis reply becomes a RedisReply (deep copy; hiredis keeps
    // ownership of `reply`). A null pointer gives Nil; a type hiredis 0.14 does not know
    // gives an Error element saying so.
    static RedisReply fromHiredis(const redisReply *reply);

    Type type() const { return m_type; }
    bool isNil() const { return m_type == Type::Nil; }
    bool isInteger() const { return m_type == Type::Integer; }
    bool isString() const { return m_type == Type::String; }
    bool isStatus() const { return m_type == Type::Status; }
    bool isError() const { return m_type == Type::Error; }
    bool isArray() const { return m_type == Type::Array; }

    // 0 unless isInteger().
    std::int64_t toInteger() const { return m_integer; }
    // The bytes of a String, the text of a Status or the message of an Error; empty otherwise.
    const QByteArray &bytes() const { return m_bytes; }
    // The elements of an Array; empty otherwise.
    const std::vector<RedisReply> &elements() const { return m_elements; }

    // "nil", "integer", "string", "status", "error", "array": for messages.
    static const char *typeName(Type type);

    friend bool operator==(const RedisReply &, const RedisReply &) = default;

private:
    Type m_type = Type::Nil;
    std::int64_t m_integer = 0;
    QByteArray m_bytes;
    // A std::vector, not a QList: QList's constrained operator== would make the type's
    // own equality recursive for QMetaType (queued signals, QVariant).
    std::vector<RedisReply> m_elements;
};

} // namespace sluice::store
