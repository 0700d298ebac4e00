#pragma once
// Internal to the http module (includes Beast).

#include <boost/beast/http/file_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>

namespace shoal::http::detail {

// Beast's file_body, sending in 256 KiB pieces instead of its fixed 4 KiB: an image of 1 MiB
// went out in 256 socket writes and was read in as many, which made image copies between
// cloudlets cost about 150 ms of CPU per MiB (measured, docs/benchmarks.md). Receiving uses
// file_body's reader (the parser hands it 64 KiB at a time).
struct BigFileBody {
    using value_type = boost::beast::http::file_body::value_type;
    using reader = boost::beast::http::file_body::reader;

    static std::uint64_t size(const value_type& body) { return body.size(); }

    class writer {
    public:
        using const_buffers_type = boost::asio::const_buffer;
        static constexpr std::size_t kChunk = 256 * 1024;

        template <bool isRequest, class Fields>
        writer(boost::beast::http::header<isRequest, Fields>&, value_type& body)
            : body_(body), remain_(body.size()), buf_(new char[kChunk]) {}

        void init(boost::beast::error_code& ec) { ec = {}; }

        boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
            const auto amount = static_cast<std::size_t>(std::min<std::uint64_t>(remain_, kChunk));
            if (amount == 0) {
                ec = {};
                return boost::none;
            }
            const auto n = body_.file().read(buf_.get(), amount, ec);
            if (ec) return boost::none;
            if (n == 0) {
                ec = boost::beast::http::error::short_read;
                return boost::none;
            }
            remain_ -= n;
            return std::make_pair(const_buffers_type(buf_.get(), n), remain_ > 0);
        }

    private:
        value_type& body_;
        std::uint64_t remain_;
        std::unique_ptr<char[]> buf_;
    };
};

}  // namespace shoal::http::detail
