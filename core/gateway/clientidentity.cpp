#include "gateway/clientidentity.h"

namespace sluice::gateway {

policy::Priority queuePriority(config::KeyPriority priority)
{
    switch (priority) {
    case config::KeyPriority::High: return policy::Priority::High;
    case config::KeyPriority::Normal: return policy::Priority::Normal;
    case config::KeyPriority::Low: return policy::Priority::Low;
    }
    return policy::Priority::Normal;
}

} // namespace sluice::gateway
