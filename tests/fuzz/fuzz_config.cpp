#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <QByteArray>

#include "config/configdiff.h"
#include "config/configloader.h"
#include "config/configvalidator.h"
#include "config/configwriter.h"

// Feeds arbitrary bytes to loadConfig(). Besides not crashing, it checks the
// promises the rest of Sluice relies on: every error has a path and a reason;
// an accepted config is valid, saves canonically (save, load, save gives the
// same bytes and the same config), hashes stably, and diffs empty with itself.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace sluice::config;
    const QByteArray json = QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size));
    const ConfigResult loaded = loadConfig(json);
    if (!loaded) {
        if (loaded.error().empty())
            std::abort();
        for (const ConfigError &error : loaded.error()) {
            if (error.path.isEmpty() || error.reason.isEmpty())
                std::abort();
        }
        return 0;
    }
    if (!validate(*loaded).empty())
        std::abort();
    const QByteArray saved = saveConfig(*loaded);
    const ConfigResult reloaded = loadConfig(saved);
    if (!reloaded || !(*reloaded == *loaded) || saveConfig(*reloaded) != saved)
        std::abort();
    if (contentHash(*reloaded) != contentHash(*loaded) || !diffConfigs(*loaded, *reloaded).empty())
        std::abort();
    return 0;
}
