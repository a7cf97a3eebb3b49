#pragma once

namespace sluice::config {
}
