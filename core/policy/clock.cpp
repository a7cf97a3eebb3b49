#include "policy/clock.h"

namespace sluice::policy {

MonoTime SteadyClock::now() const
{
    return std::chrono::duration_cast<MonoTime>(std::chrono::steady_clock::now().time_since_epoch());
}

} // namespace sluice::policy
