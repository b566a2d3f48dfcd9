// SPDX-License-Identifier: Apache-2.0
#include "audit/sd_journal_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace bridle::audit {
namespace {

// Fills `api` from `library`; false with `error` set when a symbol is missing.
template <typename Function>
bool resolve(void* library, const char* name, Function& slot, std::string& error) {
    void* symbol = ::dlsym(library, name);
    if (symbol == nullptr) {
        error = std::string("libsystemd.so.0 has no ") + name;
        return false;
    }
    slot = reinterpret_cast<Function>(symbol);
    return true;
}

}  // namespace

Result<const SdJournalApi*> sd_journal_api() {
    static std::once_flag once;
    static SdJournalApi api{};
    static std::string error;
    std::call_once(once, [] {
        // RTLD_LOCAL: its symbols serve only these pointers. Never closed: the process may
        // read the journal until it exits.
        void* library = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (library == nullptr) {
            const char* why = ::dlerror();
            error = std::string("cannot load libsystemd.so.0 to read the journal: ") +
                    (why != nullptr ? why : "unknown error") + " (install libsystemd0)";
            return;
        }
        const bool complete =
            resolve(library, "sd_journal_open", api.open, error) &&
            resolve(library, "sd_journal_open_directory", api.open_directory, error) &&
            resolve(library, "sd_journal_open_files", api.open_files, error) &&
            resolve(library, "sd_journal_close", api.close, error) &&
            resolve(library, "sd_journal_set_data_threshold", api.set_data_threshold, error) &&
            resolve(library, "sd_journal_add_match", api.add_match, error) &&
            resolve(library, "sd_journal_seek_head", api.seek_head, error) &&
            resolve(library, "sd_journal_seek_realtime_usec", api.seek_realtime_usec, error) &&
            resolve(library, "sd_journal_next", api.next, error) &&
            resolve(library, "sd_journal_get_realtime_usec", api.get_realtime_usec, error) &&
            resolve(library, "sd_journal_restart_data", api.restart_data, error) &&
            resolve(library, "sd_journal_enumerate_data", api.enumerate_data, error) &&
            resolve(library, "sd_journal_wait", api.wait, error);
        if (!complete) api = SdJournalApi{};
    });
    if (!error.empty()) return Error{error, ""};
    return &api;
}

}  // namespace bridle::audit
