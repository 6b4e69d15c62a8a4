// `pipe fetch NAME`: downloads pretrained weights into the cache PyTorch
// keeps them in, so that `weights = "NAME"` finds them and so does PyTorch.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/common.h"
#include "hub/download.h"
#include "hub/locations.h"

namespace pipelang::cli {

namespace {

std::string megabytes(uint64_t bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f MB", double(bytes) / 1e6);
    return text;
}

// "fetching NAME: 12.3 MB of 44.8 MB (27%)", redrawn at most ten times a second on a terminal.
std::function<void(uint64_t, uint64_t)> progressLine(const std::string& name) {
    if (!::isatty(STDERR_FILENO)) return nullptr;
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [name, last](uint64_t now, uint64_t total) {
        auto t = std::chrono::steady_clock::now();
        if (t - *last < std::chrono::milliseconds(100) && now != total) return;
        *last = t;
        std::string of = total ? " of " + megabytes(total) + " (" + std::to_string(now * 100 / total) + "%)" : "";
        std::fprintf(stderr, "\rfetching %s: %s%s   ", name.c_str(), megabytes(now).c_str(), of.c_str());
        std::fflush(stderr);
    };
}

}  // namespace

int fetch(const std::vector<std::string>& args) {
    CLI::App app{
        "Download pretrained weights into the cache PyTorch keeps them in ($TORCH_HOME/hub/checkpoints, by "
        "default ~/.cache/torch/hub/checkpoints), where `weights = \"NAME\"` finds them. NAME is a torchvision "
        "file name such as resnet18-f37072fd.pth; its digits are the start of the file's SHA-256, which is "
        "checked. An interrupted download resumes when run again."};
    std::string name, mirror = hub::kTorchvisionUrl;
    app.add_option("name", name, "the file name, e.g. resnet18-f37072fd.pth")->required();
    app.add_option("--mirror", mirror, "download from this address instead of torchvision's (the same file names)");
    if (int code = parseArgs(app, "fetch", args); code >= 0) return code;

    auto hash = hub::torchHubHash(name);
    if (!hash) {
        std::fprintf(
            stderr,
            "pipe fetch: `%s` is not a name pipe can fetch: it fetches torchvision's weights by their file "
            "names, such as resnet18-f37072fd.pth (torchvision's documentation lists each model's)%s\n",
            name.c_str(),
            name.find('/') != std::string::npos ? "; Hugging Face models (org/name) are not fetched by pipe yet" : "");
        return kBadInput;
    }
    std::filesystem::path dest = hub::torchCheckpoints() / name;
    std::error_code ec;
    if (std::filesystem::exists(dest, ec)) {
        std::printf("%s is already in the cache: %s\n", name.c_str(), dest.c_str());
        return kOk;
    }
    if (!mirror.empty() && mirror.back() != '/') mirror += '/';
    hub::Download request{mirror + name, dest, *hash, progressLine(name)};
    try {
        hub::Downloaded done = hub::download(request);
        if (request.progress) std::fputc('\n', stderr);
        std::string resumed = done.resumedFrom ? ", resumed after " + megabytes(done.resumedFrom) : "";
        std::printf("fetched %s (%s%s, sha256 %s…) into %s\n", name.c_str(), megabytes(done.bytes).c_str(),
                    resumed.c_str(), done.sha256.substr(0, 16).c_str(), dest.c_str());
        return kOk;
    } catch (const std::exception& e) {
        if (request.progress) std::fputc('\n', stderr);
        std::fprintf(stderr, "pipe fetch: %s\n", e.what());
        return kFailed;
    }
}

}  // namespace pipelang::cli
