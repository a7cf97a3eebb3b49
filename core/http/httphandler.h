#pragma once

#include "http/httprequest.h"

#include <functional>
#include <memory>

namespace sluice::http {

class HttpResponder;

// Called once per complete request, on the thread of the connection it arrived on.
// With more than one server thread it runs on several threads at once, so it must be
// thread-safe. It must not block: answer through the responder now or later (from
// that same thread), and keep the responder alive until then. Dropping the last
// reference without an answer makes the server answer 500 (see HttpResponder).
using HttpHandler = std::function<void(HttpRequest request, std::shared_ptr<HttpResponder> responder)>;

} // namespace sluice::http
