#include "etcd_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

namespace shoal::testing {
namespace {

std::filesystem::path MakeTempDir() {
    std::filesystem::path base = "/dev/shm";
    if (access(base.c_str(), W_OK) != 0) base = std::filesystem::temp_directory_path();
    std::string pattern = (base / "shoal-state-etcd-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

class EtcdEnvironment : public ::testing::Environment {
public:
    void TearDown() override { SharedEtcd().Stop(); }
};

[[maybe_unused]] auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new EtcdEnvironment);

}  // namespace

void EtcdServer::Start() {
    if (Running()) return;
    for (int attempt = 0; attempt < 3; ++attempt) {
        dir_ = MakeTempDir();
        client_port_ = FreePort();
        std::uint16_t peer_port = FreePort();
        while (peer_port == client_port_) peer_port = FreePort();
        std::string client = "http://127.0.0.1:" + std::to_string(client_port_);
        std::string peer = "http://127.0.0.1:" + std::to_string(peer_port);
        std::vector<std::string> args = {"/usr/bin/etcd",
                                         "--name",
                                         "t",
                                         "--data-dir",
                                         (dir_ / "data").string(),
                                         "--listen-client-urls",
                                         client,
                                         "--advertise-client-urls",
                                         client,
                                         "--listen-peer-urls",
                                         peer,
                                         "--initial-advertise-peer-urls",
                                         peer,
                                         "--initial-cluster",
                                         "t=" + peer,
                                         "--log-level",
                                         "error"};
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        std::string log = (dir_ / "etcd.log").string();

        pid_t parent = getpid();
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            // Child: only async-signal-safe calls until exec. Dies with the test process.
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent) _exit(127);
            int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, STDOUT_FILENO);
                dup2(fd, STDERR_FILENO);
                close(fd);
            }
            execv(argv[0], argv.data());
            _exit(127);
        }

        // Poll /health; never a fixed sleep (ASan on 2 slow cores makes start-up times vary).
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        bool died = false;
        while (std::chrono::steady_clock::now() < deadline) {
            if (Healthy()) return;
            int status = 0;
            if (waitpid(pid_, &status, WNOHANG) == pid_) {
                died = true;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::string why = died ? "exited at start" : "did not become healthy within 60 s";
        std::string text = Log();
        if (died) pid_ = -1;
        Stop();
        if (!died) throw std::runtime_error(std::string("etcd ").append(why).append(":\n").append(text));
        std::fprintf(stderr, "etcd %s (attempt %d), retrying:\n%s\n", why.c_str(), attempt + 1, text.c_str());
    }
    throw std::runtime_error("etcd would not start");
}

void EtcdServer::Stop() {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        pid_ = -1;
    }
    if (!dir_.empty()) {
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
        dir_.clear();
    }
}

bool EtcdServer::Healthy() const {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(client_port_);
    bool ok = false;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        std::string request = "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
            std::string response;
            char buf[1024];
            ssize_t n;
            while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<std::size_t>(n));
            ok = response.find(R"("health":"true")") != std::string::npos;
        }
    }
    close(fd);
    return ok;
}

std::string EtcdServer::Log() const {
    std::ifstream in(dir_ / "etcd.log");
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

EtcdServer& SharedEtcd() {
    static EtcdServer server;
    return server;
}

}  // namespace shoal::testing
