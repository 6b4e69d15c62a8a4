// `pipe fetch NAME`: downloads pretrained weights into the cache PyTorch
// keeps them in, or a Hugging Face model into Hugging Face's, so that
// `weights = "NAME"` finds them and so do PyTorch and transformers.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "cli/common.h"
#include "hub/download.h"
#include "hub/hugging_face.h"
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

// org/name from the Hub into Hugging Face's cache.
int fetchModel(const std::string& repo, const std::string& endpoint) {
    hub::HubFetch request;
    request.repo = repo;
    request.endpoint = endpoint.empty() ? hub::huggingFaceEndpoint() : endpoint;
    if (::isatty(STDERR_FILENO)) {
        auto bar = std::make_shared<std::function<void(uint64_t, uint64_t)>>();
        auto current = std::make_shared<std::string>();
        request.progress = [bar, current, repo](const std::string& file, uint64_t now, uint64_t total) {
            if (*current != file) {
                if (!current->empty()) std::fputc('\n', stderr);
                *current = file;
                *bar = progressLine(repo + "/" + file);
            }
            (*bar)(now, total);
        };
    }
    try {
        hub::HubFetched done = hub::fetchFromHub(request);
        if (request.progress) std::fputc('\n', stderr);
        std::string files;
        for (const auto& f : done.files) files += (files.empty() ? "" : ", ") + f;
        if (done.files.empty())
            std::printf("%s is already in the cache: %s\n", repo.c_str(), done.snapshot.c_str());
        else
            std::printf("fetched %s at %s (%s: %s) into %s\n", repo.c_str(), done.commit.substr(0, 12).c_str(),
                        megabytes(done.bytes).c_str(), files.c_str(), done.snapshot.c_str());
        return kOk;
    } catch (const std::exception& e) {
        if (request.progress) std::fputc('\n', stderr);
        std::fprintf(stderr, "pipe fetch: %s\n", e.what());
        return kFailed;
    }
}

}  // namespace

int fetch(const std::vector<std::string>& args) {
    CLI::App app{
        "Download pretrained weights into the cache PyTorch keeps them in ($TORCH_HOME/hub/checkpoints, by "
        "default ~/.cache/torch/hub/checkpoints), or a Hugging Face model into Hugging Face's cache ($HF_HOME/hub, "
        "by default ~/.cache/huggingface/hub), where `weights = \"NAME\"` finds them. NAME is a torchvision "
        "file name such as resnet18-f37072fd.pth, whose digits are the start of the file's SHA-256, or a model's "
        "org/name such as distilbert/distilbert-base-uncased, whose config, tokenizer and weights are fetched and "
        "checked against the Hub's SHA-256. An interrupted download resumes when run again."};
    std::string name, mirror;
    app.add_option("name", name, "a torchvision file name (resnet18-f37072fd.pth) or a Hugging Face org/name")
        ->required();
    app.add_option("--mirror", mirror,
                   "download from this address instead (torchvision's file names; or a Hugging Face endpoint, "
                   "as HF_ENDPOINT)");
    if (int code = parseArgs(app, "fetch", args); code >= 0) return code;
    if (hub::isRepoName(name)) return fetchModel(name, mirror);
    if (mirror.empty()) mirror = hub::kTorchvisionUrl;

    auto hash = hub::torchHubHash(name);
    if (!hash) {
        std::fprintf(stderr,
                     "pipe fetch: `%s` is not a name pipe can fetch: it fetches torchvision's weights by their file "
                     "names, such as resnet18-f37072fd.pth (torchvision's documentation lists each model's), and "
                     "Hugging Face models by their org/name\n",
                     name.c_str());
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
