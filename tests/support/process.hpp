#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace shoal::testing {

// A child process started by a test (an agent, etcd), with its stdout readable line by line.
// The destructor kills it, so a failing test leaves nothing running.
class ChildProcess {
public:
    ChildProcess() = default;
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        Kill(SIGKILL);
        CloseStdout();
    }

    // argv[0] is the program's path. stderr goes to `stderr_path` (or is inherited if empty).
    void Start(const std::vector<std::string>& argv, const std::string& stderr_path = {}) {
        Kill(SIGKILL);
        CloseStdout();
        int out[2];
        if (pipe(out) != 0) throw std::runtime_error("pipe failed");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_addclose(&actions, out[0]);
        if (!stderr_path.empty()) {
            posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, stderr_path.c_str(),
                                             O_WRONLY | O_CREAT | O_APPEND, 0644);
        }
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        const int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, args.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        close(out[1]);
        if (rc != 0) {
            close(out[0]);
            pid_ = -1;
            throw std::runtime_error("posix_spawn " + argv[0] + " failed");
        }
        stdout_fd_ = out[0];
    }

    bool Running() const { return pid_ > 0; }
    pid_t Pid() const { return pid_; }

    // The next stdout line, or nullopt at EOF or after `timeout`.
    std::optional<std::string> ReadLine(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            if (stdout_fd_ < 0) return std::nullopt;
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return std::nullopt;
            pollfd p{stdout_fd_, POLLIN, 0};
            if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
            char chunk[4096];
            const ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
            if (n <= 0) {
                close(stdout_fd_);
                stdout_fd_ = -1;
                continue;
            }
            buffer_.append(chunk, static_cast<std::size_t>(n));
        }
    }

    // Reads lines until one equals `line`; the lines before it, or nullopt.
    std::optional<std::vector<std::string>> ReadUntil(const std::string& line, std::chrono::milliseconds timeout) {
        std::vector<std::string> seen;
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (auto l = ReadLine(std::chrono::duration_cast<std::chrono::milliseconds>(
                   deadline - std::chrono::steady_clock::now()))) {
            if (*l == line) return seen;
            seen.push_back(*l);
        }
        return std::nullopt;
    }

    // Sends `sig` and reaps the child (SIGKILL cannot be ignored, so this always ends). What the
    // child printed before stays readable until EOF.
    void Kill(int sig) {
        if (pid_ <= 0) return;
        ::kill(pid_, sig);
        int status = 0;
        if (sig == SIGKILL) {
            waitpid(pid_, &status, 0);
        } else {
            // Graceful: give it a while, then force.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (waitpid(pid_, &status, WNOHANG) == 0) {
                if (std::chrono::steady_clock::now() > deadline) {
                    ::kill(pid_, SIGKILL);
                    waitpid(pid_, &status, 0);
                    break;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
        }
        exit_status_ = status;
        pid_ = -1;
    }
    int ExitStatus() const { return exit_status_; }

private:
    void CloseStdout() {
        if (stdout_fd_ >= 0) close(stdout_fd_);
        stdout_fd_ = -1;
        buffer_.clear();
    }

    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string buffer_;
    int exit_status_ = 0;
};

// A port on 127.0.0.1 that nothing listens on now, drawn from below the kernel's ephemeral range
// (net.ipv4.ip_local_port_range, 32768 up by default): a port the kernel hands out itself could be
// taken by any outgoing connection before the test's process binds it, and tests running beside
// this one open thousands of them (e2e_hostile_clients).
inline std::uint16_t FreePort() {
    static std::uint32_t state =
        static_cast<std::uint32_t>(getpid()) * 2654435761u ^ static_cast<std::uint32_t>(time(nullptr));
    for (int attempt = 0; attempt < 1000; ++attempt) {
        state = state * 1664525u + 1013904223u;  // test-only spread of picks, not a secret
        const auto port = static_cast<std::uint16_t>(20000 + (state >> 8) % 12000);
        const int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) throw std::runtime_error("socket failed");
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(port);
        const bool bound = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        close(fd);
        if (bound) return port;
    }
    throw std::runtime_error("no free port in 20000-31999");
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
public:
    explicit TempDir(const std::string& prefix) {
        std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& Path() const { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace shoal::testing
