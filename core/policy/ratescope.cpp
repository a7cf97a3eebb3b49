#include "policy/ratescope.h"

namespace sluice::policy {

namespace {

void appendEscaped(std::string &out, std::string_view value)
{
    for (const char c : value) {
        switch (c) {
        case '%': out += "%25"; break;
        case '=': out += "%3D"; break;
        case '|': out += "%7C"; break;
        default: out += c; break;
        }
    }
}

void appendField(std::string &out, bool &first, char tag, std::string_view value)
{
    if (!first)
        out += '|';
    first = false;
    out += tag;
    out += '=';
    appendEscaped(out, value);
}

} // namespace

void appendRateKey(std::string &out, RateScope scopes, const RequestIdentity &identity)
{
    if (scopes == RateScope::None) {
        out += '*';
        return;
    }
    bool first = true;
    if (hasScope(scopes, RateScope::ApiKey))
        appendField(out, first, 'k', identity.apiKey);
    if (hasScope(scopes, RateScope::Ip))
        appendField(out, first, 'i', identity.ip);
    if (hasScope(scopes, RateScope::Route))
        appendField(out, first, 'r', identity.route);
    if (hasScope(scopes, RateScope::Model))
        appendField(out, first, 'm', identity.model);
}

std::string composeRateKey(RateScope scopes, const RequestIdentity &identity)
{
    std::string key;
    key.reserve(8 + identity.apiKey.size() + identity.ip.size() + identity.route.size() + identity.model.size());
    appendRateKey(key, scopes, identity);
    return key;
}

} // namespace sluice::policy
