// SPDX-License-Identifier: Apache-2.0
// libsystemd's sd-journal reader, loaded with dlopen when `bridle audit` first reads a
// journal. Linking it would make every start of bridle (one per request) load libsystemd and
// the five libraries behind it (libgcrypt, liblzma, libzstd, liblz4, libcap): about 3 MiB
// resident and a millisecond, for a reader the forced command never uses. (bridle writes its
// records with journald's native protocol itself: journald.cpp.)
#pragma once

#include <systemd/sd-journal.h>

#include "common/result.hpp"

namespace bridle::audit {

struct SdJournalApi {
    decltype(&sd_journal_open) open;
    decltype(&sd_journal_open_directory) open_directory;
    decltype(&sd_journal_open_files) open_files;
    decltype(&sd_journal_close) close;
    decltype(&sd_journal_set_data_threshold) set_data_threshold;
    decltype(&sd_journal_add_match) add_match;
    decltype(&sd_journal_seek_head) seek_head;
    decltype(&sd_journal_seek_realtime_usec) seek_realtime_usec;
    decltype(&sd_journal_next) next;
    decltype(&sd_journal_get_realtime_usec) get_realtime_usec;
    decltype(&sd_journal_restart_data) restart_data;
    decltype(&sd_journal_enumerate_data) enumerate_data;
    decltype(&sd_journal_wait) wait;
};

// The functions of libsystemd.so.0, loaded on the first call; an error that names what could
// not be loaded otherwise (the same error on every later call).
Result<const SdJournalApi*> sd_journal_api();

}  // namespace bridle::audit
