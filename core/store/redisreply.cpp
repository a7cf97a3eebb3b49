#include "store/redisreply.h"

#include <hiredis/hiredis.h>

namespace sluice::store {

RedisReply RedisReply::integer(std::int64_t value)
{
    RedisReply reply;
    reply.m_type = Type::Integer;
    reply.m_integer = value;
    return reply;
}

RedisReply RedisReply::string(QByteArray bytes)
{
    RedisReply reply;
    reply.m_type = Type::String;
    reply.m_bytes = std::move(bytes);
    return reply;
}

RedisReply RedisReply::status(QByteArray text)
{
    RedisReply reply;
    reply.m_type = Type::Status;
    reply.m_bytes = std::move(text);
    return reply;
}

RedisReply RedisReply::error(QByteArray message)
{
    RedisReply reply;
    reply.m_type = Type::Error;
    reply.m_bytes = std::move(message);
    return reply;
}

RedisReply RedisReply::array(std::vector<RedisReply> elements)
{
    RedisReply reply;
    reply.m_type = Type::Array;
    reply.m_elements = std::move(elements);
    return reply;
}

RedisReply RedisReply::fromHiredis(const redisReply *reply)
{
    if (!reply)
        return nil();
    const auto text = [reply] { return QByteArray(reply->str, qsizetype(reply->len)); };
    switch (reply->type) {
    case REDIS_REPLY_NIL: return nil();
    case REDIS_REPLY_INTEGER: return integer(reply->integer);
    case REDIS_REPLY_STRING: return string(text());
    case REDIS_REPLY_STATUS: return status(text());
    case REDIS_REPLY_ERROR: return error(text());
    case REDIS_REPLY_ARRAY: {
        std::vector<RedisReply> elements;
        elements.reserve(reply->elements);
        for (size_t index = 0; index < reply->elements; ++index)
            elements.push_back(fromHiredis(reply->element[index]));
        return array(std::move(elements));
    }
    }
    return error("unknown hiredis reply type " + QByteArray::number(reply->type));
}

const char *RedisReply::typeName(Type type)
{
    switch (type) {
    case Type::Nil: return "nil";
    case Type::Integer: return "integer";
    case Type::String: return "string";
    case Type::Status: return "status";
    case Type::Error: return "error";
    case Type::Array: return "array";
    }
    return "unknown";
}

} // namespace sluice::store
