#pragma once

namespace sluice::metrics {
}
