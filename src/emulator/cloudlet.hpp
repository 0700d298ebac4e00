#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "emulator/core/cloudlet_config.hpp"

namespace shoal::emulator {

class FakeCompute;
class Gate;

// One embedded OpenStack cloudlet: Keystone, Glance, Nova, Placement and a fake compute
// behind one HTTP port, in the devstack path layout (/identity, /image, /compute/v2.1,
// /placement). An object, not a process: many cloudlets can share one io_context.
class Cloudlet {
public:
    Cloudlet(boost::asio::any_io_executor executor, CloudletConfig config);
    ~Cloudlet();
    Cloudlet(const Cloudlet&) = delete;
    Cloudlet& operator=(const Cloudlet&) = delete;

    // Opens the state, bootstraps the services and starts listening. Returns the port.
    Result<std::uint16_t> Start();
    // Graceful stop: no new requests, in-flight ones finish, timers cancelled.
    boost::asio::awaitable<void> Stop();

    const CloudletConfig& Config() const;
    std::uint16_t Port() const;
    std::string BaseUrl() const;  // http://127.0.0.1:PORT
    std::string AuthUrl() const;  // http://127.0.0.1:PORT/identity/v3
    // `export OS_...=...` lines with the cloudlet's admin credentials, one per line.
    std::string AdminOpenrc() const;

    // Moves the clock Keystone reads (after Start): tokens issued meanwhile carry that time.
    void SkewClock(std::chrono::microseconds skew);

    FakeCompute& Compute();
    Gate& ApiGate();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace shoal::emulator
