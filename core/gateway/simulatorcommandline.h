#pragma once

#include "gateway/simulatorserver.h"
#include "policy/result.h"

#include <QString>
#include <QStringList>

namespace sluice::gateway {

// `sluice-gateway simulate --listen HOST:PORT [options]`: `arguments` are the words
// after "simulate" (no program name). Options take their value as the next word or
// after '=' (--rpm 60, --rpm=60); each may be given once. Unset options keep the
// defaults of SimulatorServerOptions / SimulatorOptions, except that MEAN without
// ,SPREAD sets the spread to 0.
//
//   --listen HOST:PORT          required; HOST an IP address or "localhost", IPv6 in
//                               brackets ([::1]:8080); PORT 0..65535, 0 picks a free one
//   --seed N                    --threads N (1..256)
//   --tokens-per-second X       --ttft-ms MEAN[,SPREAD]   --output-tokens MEAN[,SPREAD]
//   --ttft-shape fixed|uniform|normal|lognormal
//   --rpm N  --tpm N            the emulated quota per minute, 0 unlimited
//   --models a,b,c              the models served (default: any)
//   --api-key KEY | --api-key-env VAR   the key clients must send
//   --rate-limited P --server-error P --overloaded P --timeout P
//   --connection-reset P --truncated-stream P   fault probabilities in [0, 1]
//   --retry-after-seconds N
//
// The error is one line naming the option and quoting the value, e.g.
// `--rpm: expected a whole number >= 0, got "abc"`; options that are each valid but
// not together end with SimulatorOptions::validationError(). Reads the environment
// for --api-key-env; otherwise pure. Thread-safe.
Result<SimulatorServerOptions, QString> parseSimulatorArguments(const QStringList &arguments);

// The help text for `sluice-gateway simulate`: a usage line and one line per option.
QString simulatorUsage();

} // namespace sluice::gateway
