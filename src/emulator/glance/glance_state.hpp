#pragma once

// The emulated Glance's state and request handlers, split over glance_service.cpp (metadata)
// and glance_data.cpp (image data and imports).

#include <map>
#include <memory>
#include <string>

#include "emulator/glance/glance_internal.hpp"
#include "emulator/glance/glance_service.hpp"

namespace shoal::emulator {

struct GlanceService::State : std::enable_shared_from_this<GlanceService::State> {
    explicit State(ServiceContext& c) : ctx(c) {}

    ServiceContext& ctx;
    std::map<std::string, glance::ImageRecord, std::less<>> images;

    // Files under data_dir/images.
    std::string DataPath(std::string_view id) const;
    std::string StagePath(std::string_view id) const;
    std::string ImportPath(std::string_view id, std::string_view task_id) const;
    void RemoveFile(const std::string& path) const;

    void Save(const glance::ImageRecord& image);
    void Forget(std::string_view id);

    static bool CanSee(const TokenInfo& who, const glance::ImageRecord& image);
    static bool CanModify(const TokenInfo& who, const glance::ImageRecord& image);
    // The image if `who` may see it; Glance's 404 otherwise.
    Result<glance::ImageRecord*> Lookup(const TokenInfo& who, std::string_view id);

    // Metadata (glance_service.cpp).
    Result<http::Response> CreateImage(http::Request& req);
    Result<http::Response> ListImages(http::Request& req);
    Result<http::Response> ShowImage(http::Request& req);
    Result<http::Response> UpdateImage(http::Request& req);
    Result<http::Response> DeleteImage(http::Request& req);
    Result<http::Response> ImageAction(http::Request& req, bool deactivate);
    Result<http::Response> AddTag(http::Request& req);
    Result<http::Response> DeleteTag(http::Request& req);
    Result<http::Response> ListMembers(http::Request& req);
    Result<http::Response> CreateMember(http::Request& req);
    Result<http::Response> ShowMember(http::Request& req);
    Result<http::Response> UpdateMember(http::Request& req);
    Result<http::Response> DeleteMember(http::Request& req);
    Result<http::Response> ListTasks(http::Request& req);

    // Data (glance_data.cpp). Async handlers hold the state weakly: it may go away meanwhile.
    static boost::asio::awaitable<Result<http::Response>> UploadData(std::weak_ptr<State> weak, http::Request& req);
    Result<http::Response> DownloadData(http::Request& req);
    Result<http::Response> StageData(http::Request& req);
    Result<http::Response> ImportImage(http::Request& req);
    // Brings images that were mid-upload or mid-import when the process stopped to Glance's
    // "failed" state, and restarts nothing.
    void RecoverInterrupted();
};

}  // namespace shoal::emulator
