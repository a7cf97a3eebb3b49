// Request parsing throughput of the HTTP server's parsing layer (libhttp-parser plus
// limits, header collection and target splitting), without sockets.
#include <benchmark/benchmark.h>

#include <QByteArray>

#include "http/httprequestparser.h"

using sluice::http::HttpRequestParser;

namespace {

QByteArray chatCompletionRequest(qsizetype bodyBytes)
{
    QByteArray body = R"({"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":")";
    body += QByteArray(std::max<qsizetype>(bodyBytes - body.size() - 4, 0), 'a');
    body += R"("}]})";
    return "POST /v1/chat/completions HTTP/1.1\r\n"
           "Host: gateway.internal:8080\r\n"
           "User-Agent: OpenAI/Python 1.51.0\r\n"
           "Accept: application/json\r\n"
           "Accept-Encoding: gzip, deflate\r\n"
           "Authorization: Bearer sk-proj-0123456789abcdef0123456789abcdef0123456789abcdef\r\n"
           "Content-Type: application/json\r\n"
           "X-Stainless-Lang: python\r\n"
           "X-Stainless-Package-Version: 1.51.0\r\n"
           "X-Request-Id: 5f0c6a8e-2c1b-4d7e-9a43-1f6e8b0c2d3a\r\n"
           "Content-Length: "
           + QByteArray::number(body.size()) + "\r\n\r\n" + body;
}

QByteArray chunked(const QByteArray &request, qsizetype chunkBytes)
{
    const qsizetype split = request.indexOf("\r\n\r\n") + 4;
    QByteArray head = request.left(split);
    head.replace(QByteArray("Content-Length: ") + QByteArray::number(request.size() - split),
                 "Transfer-Encoding: chunked");
    const QByteArray body = request.mid(split);
    QByteArray wire = head;
    for (qsizetype offset = 0; offset < body.size(); offset += chunkBytes) {
        const QByteArray piece = body.mid(offset, chunkBytes);
        wire += QByteArray::number(piece.size(), 16) + "\r\n" + piece + "\r\n";
    }
    return wire + "0\r\n\r\n";
}

// Parses `wire` (one or more requests) completely, the way a connection does.
int parseAll(HttpRequestParser &parser, const QByteArray &wire)
{
    int requests = 0;
    qsizetype offset = 0;
    while (offset < wire.size()) {
        const auto step = parser.feed(QByteArrayView(wire).sliced(offset));
        offset += step.consumedBytes;
        if (step.event == HttpRequestParser::Event::RequestComplete) {
            benchmark::DoNotOptimize(parser.takeRequest());
            ++requests;
        } else if (step.event == HttpRequestParser::Event::Error) {
            return -1;
        }
    }
    return requests;
}

void run(benchmark::State &state, const QByteArray &wire, int expectedRequests)
{
    for (auto _ : state) {
        HttpRequestParser parser;
        if (parseAll(parser, wire) != expectedRequests) {
            state.SkipWithError("parse failed");
            break;
        }
    }
    state.SetBytesProcessed(state.iterations() * wire.size());
    state.SetItemsProcessed(state.iterations() * expectedRequests);
}

// One chat-completions POST per connection; body size from the argument.
void BM_ParseChatRequest(benchmark::State &state)
{
    run(state, chatCompletionRequest(state.range(0)), 1);
}
BENCHMARK(BM_ParseChatRequest)->Arg(256)->Arg(4 * 1024)->Arg(256 * 1024);

// The same body sent chunked in 1 KiB chunks.
void BM_ParseChunkedChatRequest(benchmark::State &state)
{
    run(state, chunked(chatCompletionRequest(state.range(0)), 1024), 1);
}
BENCHMARK(BM_ParseChunkedChatRequest)->Arg(4 * 1024)->Arg(256 * 1024);

// 16 small GETs pipelined on one kept-alive connection: per-request overhead.
void BM_ParsePipelinedGets(benchmark::State &state)
{
    QByteArray wire;
    for (int index = 0; index < 16; ++index)
        wire += "GET /v1/models?limit=" + QByteArray::number(index) + " HTTP/1.1\r\nHost: gateway\r\n"
                "Authorization: Bearer sk-test\r\nAccept: */*\r\n\r\n";
    run(state, wire, 16);
}
BENCHMARK(BM_ParsePipelinedGets);

// The request arriving in TCP-segment-sized pieces (1448 bytes), each fed as it comes.
void BM_ParseSegmentedChatRequest(benchmark::State &state)
{
    const QByteArray wire = chatCompletionRequest(state.range(0));
    constexpr qsizetype kSegmentBytes = 1448;
    for (auto _ : state) {
        HttpRequestParser parser;
        int requests = 0;
        QByteArray pending;
        for (qsizetype offset = 0; offset < wire.size(); offset += kSegmentBytes) {
            pending += QByteArrayView(wire).sliced(offset, std::min(kSegmentBytes, wire.size() - offset));
            qsizetype consumed = 0;
            for (;;) {
                const auto step = parser.feed(QByteArrayView(pending).sliced(consumed));
                consumed += step.consumedBytes;
                if (step.event == HttpRequestParser::Event::RequestComplete) {
                    benchmark::DoNotOptimize(parser.takeRequest());
                    ++requests;
                }
                if (step.event == HttpRequestParser::Event::NeedMoreData || consumed == pending.size())
                    break;
            }
            pending.remove(0, consumed);
        }
        if (requests != 1) {
            state.SkipWithError("parse failed");
            break;
        }
    }
    state.SetBytesProcessed(state.iterations() * wire.size());
}
BENCHMARK(BM_ParseSegmentedChatRequest)->Arg(4 * 1024)->Arg(256 * 1024);

} // namespace
