#pragma once

#include "config/configerror.h"
#include "config/gatewayconfig.h"

namespace sluice::config {

// Every problem with a configuration built in code (loadConfig() runs this
// too), grouped by section in document order; empty if it is valid. Checks the ranges in
// gatewayconfig.h and these rules:
//  - names match [a-z0-9_-]{1,64} and are unique per list; key hashes are
//    64 lowercase hex and unique; at least one listener, none twice;
//  - addresses are IP literals; base_url is http(s) without credentials,
//    query or fragment; api_key_env / token_env are variable names (a key
//    pasted there is refused without echoing it); at most one key source;
//  - every upstream lists a model; an alias targets one of its upstream's
//    models and does not shadow one; a name means the same model on every
//    upstream that serves it;
//  - model names and globs in allowed_models, rules, model TTLs and bypass
//    lists are served by some upstream; routes are knownRoutes();
//  - a rate-limit rule limits something, has a scope without repeats and
//    refers to existing key ids; burst needs gcra and requests_per_minute;
//  - max_entry_bytes ≤ max_bytes, base_delay_ms ≤ max_delay_ms, connect and
//    first-byte timeouts ≤ total_ms; retry statuses 400..599, once each;
//  - the admin API needs a token unless it listens on loopback, and does not
//    share a port with a listener;
//  - redis: address is a host name or an IP literal, key_namespace matches
//    [a-z0-9_-]{1,64}, password_env is a variable name, at most one of
//    password_env, password_file (the error is on password_file);
//  - postgres: connection_string_env is a variable name, at most one of
//    connection_string_env, connection_string_file (the error is on the
//    file), and one of them when enabled; batch_size ≤ buffer_records.
// Reentrant.
ConfigErrors validate(const GatewayConfig &config);

// For loadConfig(): validate() without what would only echo a reading error
// (a field that could not be read keeps its default): rules about fields
// within a path in readErrors, and rules that compare with such a field or
// refer into a list that was not read in full (served models, key ids).
ConfigErrors validateAfterRead(const GatewayConfig &config, const ConfigErrors &readErrors);

} // namespace sluice::config
