// SPDX-License-Identifier: Apache-2.0
// Guardrails per key (src/guard/): the sliding minute, the UTC day, the counter files' text,
// and the store on disk: counts shared through the files, slots held by flock and freed when
// their holder dies by SIGKILL, damaged counters refused.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "guard/guard.hpp"

namespace bridle::guard {
namespace {

constexpr std::int64_t kNoon = 20'000 * kDayMs + 12 * 3'600'000;  // a day's noon, UTC

TEST(GuardMinute, SlidingWindow) {
    struct Case {
        const char* name;
        std::vector<std::int64_t> times;
        std::uint64_t limit;
        std::int64_t retry;  // 0: admitted
        std::size_t kept;    // times left after the check
    };
    const std::vector<Case> cases = {
        {"empty", {}, 1, 0, 0},
        {"under", {kNoon - 1000}, 2, 0, 1},
        {"at the limit", {kNoon - 50'000, kNoon - 1000}, 2, 10'000, 2},
        {"a minute old is gone", {kNoon - 60'000, kNoon - 1000}, 2, 0, 1},
        {"oldest of the last N", {kNoon - 59'000, kNoon - 30'000, kNoon - 1000}, 2, 30'000, 3},
        {"limit 1", {kNoon - 59'999}, 1, 1, 1},
        {"clock stepped back", {kNoon + 5000}, 1, 65'000, 1},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        std::vector<std::int64_t> times = c.times;
        const std::optional<Over> over = check_minute(times, kNoon, c.limit);
        EXPECT_EQ(over ? over->retry_after_ms : 0, c.retry);
        if (over) {
            EXPECT_EQ(over->limit, "requests_per_minute");
        }
        EXPECT_EQ(times.size(), c.kept);
    }
}

TEST(GuardDay, CountsPerUtcDay) {
    DayCount day{20'000, 5};
    const std::optional<Over> over = check_day(day, kNoon, 5);
    ASSERT_TRUE(over);
    EXPECT_EQ(over->retry_after_ms, 12 * 3'600'000);  // until midnight UTC
    EXPECT_FALSE(check_day(day, kNoon, 6));
    DayCount yesterday{19'999, 5};
    EXPECT_FALSE(check_day(yesterday, kNoon, 5));
    EXPECT_EQ(yesterday.day, 20'000);
    EXPECT_EQ(yesterday.count, 0u);
}

TEST(GuardFiles, TextRoundTripsAndRefusesOthers) {
    EXPECT_EQ(parse_times(format_times({1, 2, 30})), (std::vector<std::int64_t>{1, 2, 30}));
    EXPECT_EQ(parse_times("")->size(), 0u);
    for (const char* bad : {"1", "1\n2", "x\n", "-1\n", "2\n1\n", "1 \n", "\n"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(parse_times(bad));
    }
    const std::optional<DayCount> day = parse_day(format_day({20'000, 7}));
    ASSERT_TRUE(day);
    EXPECT_EQ(day->day, 20'000);
    EXPECT_EQ(day->count, 7u);
    EXPECT_EQ(parse_day("")->count, 0u);
    for (const char* bad : {"1", "1 2", "a 2\n", "1 b\n", "1 -2\n", " 2\n"}) {
        SCOPED_TRACE(bad);
        EXPECT_FALSE(parse_day(bad));
    }
}

TEST(GuardRetry, RoundsUp) {
    EXPECT_EQ(retry_text(1), "1 s");
    EXPECT_EQ(retry_text(12'000), "12 s");
    EXPECT_EQ(retry_text(12'001), "13 s");
    EXPECT_EQ(retry_text(60'000), "60 s");  // a minute's wait reads in seconds
    EXPECT_EQ(retry_text(200'000), "3 min 20 s");
    EXPECT_EQ(retry_text(3'600'000), "1 h 0 min");
    EXPECT_EQ(retry_text(3'600'001), "1 h 1 min");
}

class GuardStore : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = testing::TempDir() + "/guard-" + std::to_string(::getpid()) + "-" +
               testing::UnitTest::GetInstance()->current_test_info()->name();
        std::filesystem::remove_all(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    Admission admit_ok(const policy::Guardrail& g, std::int64_t now) {
        Result<Admission> a = admit(dir_, g, now);
        EXPECT_TRUE(a.ok()) << (a.ok() ? "" : a.error().message);
        return a.ok() ? std::move(a.value()) : Admission{};
    }
    std::string dir_;
};

TEST_F(GuardStore, RateIsSharedThroughTheFiles) {
    policy::Guardrail g;
    g.per_minute = 3;
    for (int i = 0; i < 3; ++i) EXPECT_FALSE(admit_ok(g, kNoon + i * 1000).over);
    const Admission over = admit_ok(g, kNoon + 10'000);
    ASSERT_TRUE(over.over);
    EXPECT_EQ(over.over->retry_after_ms, 50'000);
    // A refused request counts nowhere: the next minute admits three again.
    EXPECT_FALSE(admit_ok(g, kNoon + 60'000).over);
    EXPECT_TRUE(admit_ok(g, kNoon + 60'500).over);
    struct stat st {};
    ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
}

TEST_F(GuardStore, DailyQuota) {
    policy::Guardrail g;
    g.per_day = 2;
    EXPECT_FALSE(admit_ok(g, kNoon).over);
    EXPECT_FALSE(admit_ok(g, kNoon + 1).over);
    const Admission over = admit_ok(g, kNoon + 2);
    ASSERT_TRUE(over.over);
    EXPECT_EQ(over.over->limit, "requests_per_day");
    EXPECT_FALSE(admit_ok(g, kNoon + kDayMs).over);
}

TEST_F(GuardStore, SlotsAreHeldUntilClosed) {
    policy::Guardrail g;
    g.concurrent = 2;
    Admission first = admit_ok(g, kNoon), second = admit_ok(g, kNoon);
    EXPECT_GE(first.slot.get(), 0);
    EXPECT_GE(second.slot.get(), 0);
    const Admission third = admit_ok(g, kNoon);
    ASSERT_TRUE(third.over);
    EXPECT_EQ(third.over->limit, "concurrent");
    EXPECT_LT(third.slot.get(), 0);
    first.slot.reset();
    EXPECT_FALSE(admit_ok(g, kNoon).over);
}

TEST_F(GuardStore, SigkilledHolderFreesItsSlot) {
    policy::Guardrail g;
    g.concurrent = 1;
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        Result<Admission> a = admit(dir_, g, kNoon);
        const char c = a.ok() && !a.value().over ? 'y' : 'n';
        (void)!::write(ready[1], &c, 1);
        ::pause();
        ::_exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ::close(ready[0]);
    EXPECT_EQ(c, 'y');
    EXPECT_TRUE(admit_ok(g, kNoon).over);  // the child holds the one slot
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_FALSE(admit_ok(g, kNoon).over);
}

TEST_F(GuardStore, DamagedCountersFailClosed) {
    policy::Guardrail g;
    g.per_minute = 5;
    EXPECT_FALSE(admit_ok(g, kNoon).over);
    std::ofstream(dir_ + "/minute", std::ios::trunc) << "garbage\n";
    const Result<Admission> a = admit(dir_, g, kNoon);
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().message.find("not a counter bridle wrote"), std::string::npos);
}

TEST_F(GuardStore, RefusesADirectoryOthersCanEnter) {
    ASSERT_EQ(::mkdir(dir_.c_str(), 0755), 0);
    policy::Guardrail g;
    g.concurrent = 1;
    const Result<Admission> a = admit(dir_, g, kNoon);
    ASSERT_FALSE(a.ok());
    EXPECT_NE(a.error().message.find("not a private directory"), std::string::npos);
}

TEST_F(GuardStore, RefusesASymlinkedDirectory) {
    const std::string real = dir_ + "-real";
    ASSERT_EQ(::mkdir(real.c_str(), 0700), 0);
    ASSERT_EQ(::symlink(real.c_str(), dir_.c_str()), 0);
    policy::Guardrail g;
    g.concurrent = 1;
    const Result<Admission> a = admit(dir_, g, kNoon);
    EXPECT_FALSE(a.ok());
    std::filesystem::remove_all(real);
}

}  // namespace
}  // namespace bridle::guard
