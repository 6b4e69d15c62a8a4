#include "hub/hugging_face.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "hub/download.h"
#include "hub/locations.h"

namespace pipelang::hub {

namespace fs = std::filesystem;

std::string huggingFaceEndpoint() {
    const char* endpoint = std::getenv("HF_ENDPOINT");
    return endpoint && *endpoint ? endpoint : "https://huggingface.co";
}

namespace {

bool has(const std::vector<std::string>& listed, const std::string& name) {
    return std::find(listed.begin(), listed.end(), name) != listed.end();
}

std::string readText(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The shards a `*.index.json` names in its weight_map.
std::vector<std::string> shardsOf(const fs::path& index) {
    auto json = nlohmann::json::parse(readText(index), nullptr, false);
    if (json.is_discarded() || !json.contains("weight_map") || !json["weight_map"].is_object())
        throw std::runtime_error("`" + index.string() + "` is not a weights index (no `weight_map`)");
    std::set<std::string> shards;
    for (const auto& [_, file] : json["weight_map"].items())
        if (file.is_string()) shards.insert(file.get<std::string>());
    static const std::regex plain(R"(^[A-Za-z0-9_.-]+$)");
    for (const auto& s : shards)
        if (!std::regex_match(s, plain) || s.find("..") != std::string::npos)
            throw std::runtime_error("`" + index.string() + "` names a shard `" + s + "` that is not a file name");
    return {shards.begin(), shards.end()};
}

}  // namespace

std::vector<std::string> filesToFetch(const std::vector<std::string>& listed, const std::string& repo) {
    std::vector<std::string> files;
    for (const char* name : {"config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                             "vocab.txt", "vocab.json", "merges.txt"})
        if (has(listed, name)) files.push_back(name);
    // One format of weights, the safest first.
    for (const char* name :
         {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"})
        if (has(listed, name)) {
            files.push_back(name);
            return files;
        }
    throw std::runtime_error("the Hub lists no weights pipe reads for `" + repo +
                             "` (model.safetensors, pytorch_model.bin or a sharded index of either)");
}

HubFetched fetchFromHub(const HubFetch& request) {
    std::string endpoint = request.endpoint;
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    const fs::path repo = huggingFaceRepo(request.repo);
    std::error_code ec;
    fs::create_directories(repo, ec);

    // What the revision is (its commit) and which files it has, with the
    // SHA-256 of each large (LFS) file, to check the download against.
    fs::path listing = repo / "pipe-fetch-listing.json";
    fs::remove(listing, ec);
    fs::remove(fs::path(listing.string() + ".partial"), ec);
    download({endpoint + "/api/models/" + request.repo + "/revision/" + request.revision + "?blobs=true", listing, "",
              nullptr});
    auto json = nlohmann::json::parse(readText(listing), nullptr, false);
    fs::remove(listing, ec);
    if (json.is_discarded() || !json.contains("sha") || !json["sha"].is_string() || !json.contains("siblings") ||
        !json["siblings"].is_array())
        throw std::runtime_error("the Hub's answer about `" + request.repo +
                                 "` is not a model's listing; check the name (org/name) and the endpoint");
    HubFetched done;
    done.commit = json["sha"].get<std::string>();
    static const std::regex commitPattern(R"(^[0-9a-f]{40}$)");
    if (!std::regex_match(done.commit, commitPattern))
        throw std::runtime_error("the Hub gave `" + request.repo + "` a commit `" + done.commit +
                                 "` that is not one; check the endpoint");
    std::vector<std::string> listed;
    std::map<std::string, std::string> sha256;
    for (const auto& s : json["siblings"]) {
        if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
        std::string name = s["rfilename"].get<std::string>();
        listed.push_back(name);
        if (s.contains("lfs") && s["lfs"].is_object() && s["lfs"].contains("sha256") && s["lfs"]["sha256"].is_string())
            sha256[name] = s["lfs"]["sha256"].get<std::string>();
    }
    done.snapshot = repo / "snapshots" / done.commit;

    auto get = [&](const std::string& file) {
        fs::path dest = done.snapshot / file;
        if (fs::exists(dest, ec)) {
            done.had.push_back(file);
            return;
        }
        Download d{endpoint + "/" + request.repo + "/resolve/" + done.commit + "/" + file, dest,
                   sha256.count(file) ? sha256[file] : "", nullptr, "the Hub's listing"};
        if (request.progress) d.progress = [&](uint64_t now, uint64_t total) { request.progress(file, now, total); };
        done.bytes += download(d).bytes;
        done.files.push_back(file);
    };
    for (const auto& file : filesToFetch(listed, request.repo)) {
        get(file);
        if (file.ends_with(".index.json"))
            for (const auto& shard : shardsOf(done.snapshot / file)) get(shard);
    }
    fs::create_directories(repo / "refs", ec);
    std::ofstream(repo / "refs" / request.revision) << done.commit;
    if (!std::ifstream(repo / "refs" / request.revision))
        throw std::runtime_error("cannot write `" + (repo / "refs" / request.revision).string() + "`");
    return done;
}

}  // namespace pipelang::hub
