#include "gateway/tokenestimate.h"

#include <algorithm>

namespace sluice::gateway {

namespace {

qint64 textTokens(const QString &text)
{
    const qint64 bytes = text.toUtf8().size();
    return (bytes + TokenEstimateRules::bytesPerToken - 1) / TokenEstimateRules::bytesPerToken;
}

} // namespace

qint64 estimateInputTokens(const ChatRequest &request)
{
    qint64 tokens = TokenEstimateRules::tokensPerRequest + textTokens(request.toolsJson);
    if (!request.system.isEmpty())
        tokens += TokenEstimateRules::tokensPerMessage + textTokens(request.system);
    for (const ChatMessage &message : request.messages) {
        tokens += TokenEstimateRules::tokensPerMessage + textTokens(message.text)
                  + TokenEstimateRules::tokensPerAttachment * message.attachmentCount;
    }
    return tokens;
}

qint64 reservedOutputTokens(const ChatRequest &request)
{
    return request.maxOutputTokens.value_or(TokenEstimateRules::defaultMaxOutputTokens)
           * std::max(1, request.choiceCount);
}

qint64 estimateReservationTokens(const ChatRequest &request)
{
    return estimateInputTokens(request) + reservedOutputTokens(request);
}

} // namespace sluice::gateway
