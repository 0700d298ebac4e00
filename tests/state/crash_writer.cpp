// state_crash_writer <db>: puts k000000, k000001, ... into a SqliteKvStore until killed, printing
// "acked <n>" (n puts acknowledged so far) and flushing stdout after each acknowledged Put.
// crash_test.cpp SIGKILLs it mid-write and checks that every acknowledged key survived.
#include <sys/prctl.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <csignal>
#include <cstdio>

#include "crash_value.hpp"
#include "state/kv_store.hpp"

namespace {

constexpr int kMaxKeys = 1'000'000;  // a bound in case nobody kills us

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: state_crash_writer <db>\n");
        return 2;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    boost::asio::io_context io;
    shoal::state::StoreConfig config;
    config.backend = "sqlite";
    config.path = argv[1];
    auto store = shoal::state::OpenKvStore(config, io.get_executor());
    if (!store) {
        std::fprintf(stderr, "open: %s\n", store.error().message.c_str());
        return 1;
    }
    auto& kv = **store;
    auto fut = boost::asio::co_spawn(
        io,
        [&kv]() -> boost::asio::awaitable<int> {
            for (int i = 0; i < kMaxKeys; ++i) {
                auto r = co_await kv.Put(shoal::state::testing::CrashKey(i), shoal::state::testing::CrashValue(i));
                if (!r) {
                    std::fprintf(stderr, "put %d: %s\n", i, r.error().message.c_str());
                    co_return 1;
                }
                std::printf("acked %d\n", i + 1);
                std::fflush(stdout);
            }
            co_return 0;
        },
        boost::asio::use_future);
    io.run();
    return fut.get();
}
