// SPDX-License-Identifier: Apache-2.0
// os/ helpers on their own: read_to_end, which every bounded whole-file read of bridle's goes
// through (policy files, the policy cache, the approval store and signers, kept versions, the
// guardrails' counters, keys given to enroll). Files are memfds and pipes: nothing on disk.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cerrno>
#include <string>
#include <thread>

#include "os/fd.hpp"

namespace bridle::os {
namespace {

// A memory file holding `content`, its offset at the start.
UniqueFd memory_file(const std::string& content) {
    UniqueFd fd(::memfd_create("os-test", MFD_CLOEXEC));
    EXPECT_GE(fd.get(), 0);
    EXPECT_TRUE(write_all(fd.get(), content));
    EXPECT_EQ(::lseek(fd.get(), 0, SEEK_SET), 0);
    return fd;
}

std::string pattern(std::size_t size) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + i % 26);
    return s;
}

TEST(ReadToEnd, ReadsAWholeFileWhateverSizeWasExpected) {
    for (const std::size_t size : {0UL, 1UL, 4095UL, 4096UL, 4097UL, 300000UL}) {
        const std::string content = pattern(size);
        // Its size, less (a file that grew: procfs), more (one that shrank), and nothing.
        for (const std::size_t expected : {size, size / 2, size + 100, 0UL}) {
            UniqueFd fd = memory_file(content);
            std::string out = "left over";
            ASSERT_EQ(read_to_end(fd.get(), out, expected, 1 << 20), ReadEnd::kEnd)
                << size << " bytes, " << expected << " expected";
            EXPECT_EQ(out, content) << size << " bytes, " << expected << " expected";
        }
    }
}

TEST(ReadToEnd, TheLimitIsTheLargestFileRead) {
    for (const std::size_t limit : {0UL, 1UL, 100UL, 65536UL}) {
        for (const std::size_t expected : {0UL, limit, limit + 1}) {
            std::string out;
            UniqueFd at_limit = memory_file(pattern(limit));
            EXPECT_EQ(read_to_end(at_limit.get(), out, expected, limit), ReadEnd::kEnd);
            EXPECT_EQ(out.size(), limit);

            out = "left over";
            UniqueFd past = memory_file(pattern(limit + 1));
            EXPECT_EQ(read_to_end(past.get(), out, expected, limit), ReadEnd::kPastLimit)
                << limit << " limit, " << expected << " expected";
            EXPECT_TRUE(out.empty());
        }
    }
}

TEST(ReadToEnd, ReadsFromTheCurrentOffset) {
    UniqueFd fd = memory_file("header:body");
    ASSERT_EQ(::lseek(fd.get(), 7, SEEK_SET), 7);
    std::string out;
    ASSERT_EQ(read_to_end(fd.get(), out, 100, 100), ReadEnd::kEnd);
    EXPECT_EQ(out, "body");
}

TEST(ReadToEnd, ReadsAPipeWrittenInPiecesUntilItsWriterCloses) {
    UniqueFd read_end, write_end;
    ASSERT_TRUE(make_pipe(read_end, write_end));
    const std::string content = pattern(200000);  // more than a pipe holds: the writer blocks
    std::thread writer([&] {
        for (std::size_t at = 0; at < content.size(); at += 777) {
            ASSERT_TRUE(write_all(write_end.get(), std::string_view(content).substr(at, 777)));
        }
        write_end.reset();
    });
    std::string out;
    const ReadEnd end = read_to_end(read_end.get(), out, 10, 1 << 20);
    writer.join();
    EXPECT_EQ(end, ReadEnd::kEnd);
    EXPECT_EQ(out, content);
}

TEST(ReadToEnd, AFailedReadEmptiesTheOutputAndKeepsErrno) {
    const UniqueFd dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_GE(dir.get(), 0);
    std::string out = "left over";
    errno = 0;
    EXPECT_EQ(read_to_end(dir.get(), out, 10, 100), ReadEnd::kFailed);
    EXPECT_EQ(errno, EISDIR);
    EXPECT_TRUE(out.empty());

    errno = 0;
    EXPECT_EQ(read_to_end(-1, out, 10, 100), ReadEnd::kFailed);
    EXPECT_EQ(errno, EBADF);
}

}  // namespace
}  // namespace bridle::os
