#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "process.hpp"

namespace shoal::testing {

// A throw-away single-member etcd (/usr/bin/etcd) on 127.0.0.1 for the state tests. Its data
// directory is on /dev/shm when there is one (tmpfs: etcd's fsync per write costs nothing, which
// keeps the 2000-key test fast; durability across an etcd crash is etcd's, not under test).
class EtcdServer {
public:
    EtcdServer() = default;
    ~EtcdServer() { Stop(); }
    EtcdServer(const EtcdServer&) = delete;
    EtcdServer& operator=(const EtcdServer&) = delete;

    // Starts etcd and polls until /health answers true. Retries with fresh ports if etcd dies at
    // start (a port taken between choosing and binding). Throws std::runtime_error on failure.
    void Start();
    // SIGTERM, then SIGKILL if it has not exited after 10 s; removes the data directory.
    void Stop();

    bool Running() const { return pid_ > 0; }
    std::uint16_t ClientPort() const { return client_port_; }
    std::string Endpoint() const { return "http://127.0.0.1:" + std::to_string(client_port_); }

private:
    bool Healthy() const;
    std::string Log() const;

    pid_t pid_ = -1;
    std::uint16_t client_port_ = 0;
    std::filesystem::path dir_;
};

// The etcd shared by every etcd test in this process: started by the first test that asks for it,
// stopped when the test program ends (a gtest Environment). Under ctest (one process per test)
// only the etcd tests pay for a start.
EtcdServer& SharedEtcd();

}  // namespace shoal::testing
